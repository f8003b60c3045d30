"""Customer personal data: mask for display, hash for matching, redact from free text.

Phone numbers and ID numbers (个人信息, 令 24 号) are never stored or returned raw where the full
value is not needed. Every domain that takes one keeps two derived values instead:

- a **masked** display form that shows no digit of a phone number (``***********``; ID numbers
  in free text keep the first 6 and last 4), and
- a slow keyed **token** for matching (``server.contact_hash``, with the arithmetic of what
  recovering a number from it costs), so "find this customer's complaints" works without the
  number being recoverable from the database, the key file or the synced log.

Nothing here logs; error messages never include the value they reject.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")
_PHONE_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=1\d{10}$)")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")

# In free text: an 18-character national ID, and a mobile number possibly written with a
# country prefix and with a space, dash or dot between any two digits. Not inside longer digit
# runs (order numbers, IMEIs). Legacy 15-digit IDs are not matched: they look like IMEIs, and
# every one of them expired by 2013.
_SEP = r"[\s.-]?"
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(
    rf"(?<![\d+])(?:(?:\+|00)?86{_SEP})?(1{_SEP}[3-9](?:{_SEP}\d){{9}})(?![\d])"
)
# Full-width digits and signs (what a Chinese IME types) read as their ASCII forms.
_FULL_WIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "＋": "+", "－": "-", "\u3000": " "}
)


def normalize_phone(raw: str) -> str:
    """A phone number as bare digits: separators and a ``+86``/``0086``/``86`` prefix removed."""
    digits = _SEPARATORS.sub("", raw)
    return _PHONE_PREFIX.sub("", digits)


def is_mobile(raw: str) -> bool:
    """Whether ``raw`` is a mainland-China mobile number (``1[3-9]`` + 9 digits) once normalised."""
    return _MOBILE.match(normalize_phone(raw)) is not None


def normalize_id_number(raw: str) -> str:
    """A national ID number without separators, with a check character ``x`` upper-cased."""
    return _SEPARATORS.sub("", raw).upper()


def is_id_number(raw: str) -> bool:
    """Whether ``raw`` has the shape of an 18-character resident ID number."""
    return _ID_NUMBER.match(normalize_id_number(raw)) is not None


def mask_phone(raw: str) -> str:
    """Display form of a phone number: no digit shown (``***********``).

    Every digit shown would divide the cost of recovering the number from its stored token by
    ten (``server.contact_hash``); staff recognise a returning customer by the token's match.
    """
    return "*" * len(normalize_phone(raw))


def mask_id_number(raw: str) -> str:
    """Display form of an ID number: first 6 and last 4 visible (``110101********1234``)."""
    value = normalize_id_number(raw)
    if len(value) < 15:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def normalize_contact(value: str) -> str:
    """The canonical form hashed for matching: phone numbers and ID numbers alike."""
    phone = normalize_phone(value)
    if _MOBILE.match(phone):
        return phone
    return normalize_id_number(value)


def redact_text(text: str) -> str:
    """Mask any ID or mobile number written into free text (a description, a note).

    Staff type what the customer says; this keeps a raw number out of the log and the sync.
    """
    if not any(c.isdigit() for c in text):
        return text
    text = text.translate(_FULL_WIDTH) if any("０" <= c <= "９" for c in text) else text
    text = _ID_IN_TEXT.sub(lambda m: m.group(1) + "********" + m.group(2).upper(), text)
    return _PHONE_IN_TEXT.sub(_mask_phone_match, text)


def _mask_phone_match(m: re.Match[str]) -> str:
    # No digit kept: beside the complaint's token, the 7 digits kept before made the number a
    # search of 10⁴ tokens (see server.contact_hash).
    return mask_phone(m.group(1))
