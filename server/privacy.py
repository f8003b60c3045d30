"""Customer personal data: mask for display, hash for matching, redact from free text.

Phone numbers and ID numbers (个人信息, 令 24 号) are never stored or returned raw where the full
value is not needed. Every domain that takes one keeps two derived values instead:

- a **masked** display form (``138****5678``; ID numbers keep the first 6 and last 4), and
- a **keyed hash** for matching (HMAC-SHA256 over a normalised value), so "find this
  customer's complaints" works without the number being recoverable from the database or the
  synced log.

The hash key must be the same across the whole chain, or a number hashed in one store would not
match in another or at HQ. It is node configuration, never a constant: a store node keeps it in
its database (set at ``store init`` from ``HALLSYNC_CONTACT_KEY``, later provisioned by central at
enrollment) and hands it to commands and reads explicitly.

Nothing here logs; error messages never include the value they reject.
"""

from __future__ import annotations

import hashlib
import hmac
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
    """Display form of a phone number: first 3 and last 4 digits, e.g. ``138****5678``.

    Anything too short to keep 7 digits visible safely is masked entirely.
    """
    phone = normalize_phone(raw)
    if len(phone) < 11:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


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


def hash_contact(value: str, key: bytes) -> str:
    """Keyed hash (HMAC-SHA256, hex) of a phone or ID number, for matching without storing it.

    The value is normalised first, so ``+86 138-1234-5678`` and ``13812345678`` match.
    """
    if len(key) < 16:
        raise ValueError("the contact hash key must be at least 16 bytes")
    return hmac.new(key, normalize_contact(value).encode(), hashlib.sha256).hexdigest()


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
    digits = re.sub(r"\D", "", m.group(1))
    return digits[:3] + "****" + digits[-4:]
