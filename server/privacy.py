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


# ---------------------------------------------------------------- free text
#
# Staff type what a customer says, the way they say it: ``139 8765 4321``, ``139-8765-4321``,
# ``(139)87654321``, ``+86 139…``, full-width digits from a Chinese IME, an ID number in groups
# (``110101 19900307 1235``). ``redact_text`` finds such numbers in any text and masks them.
#
# How: a *run* is a stretch of digit groups joined by short separators (spaces of any kind,
# dashes of any kind, ``_ / . \``, brackets; at most 3 of them between two groups). Inside a
# run, any consecutive groups whose digits together form a mainland mobile number (with an
# optional ``86``/``0086`` prefix) or an 18-character ID number are masked with
# ``mask_phone``/``mask_id_number``. A number is only ever made of *whole* groups, which is what
# keeps identifiers intact: a 15-digit IMEI, a 19–20-digit ICCID or a long order number written
# without separators is one group of the wrong length and is never touched, and dates, times
# and amounts (``2026-12-03``, ``13:45``, ``1380.00``) never add up to 11 digits starting
# ``1[3-9]``. Letters, ``:``, ``,`` and ``*`` end a run, so a masked number is never matched
# again (redaction is idempotent: a masked reference typed back in matches the stored one).
#
# Trade-offs, taken towards masking: eleven small numbers in a row that happen to read
# ``1[3-9]…`` (``1 3 5 7 9 2 4 6 8 0 1``) are masked; an IMEI written in groups whose tail groups
# read ``86`` + a mobile number would be masked too (serial fields are never free text, so this
# only touches an IMEI copied into a note). An 18-character ID must look like one (first digit
# 1–9, a birth date 18xx–20xx with month 01–12 and day 01–31 at characters 7–14), so an
# 18-digit order or delivery-note number is left alone, at the price of missing an ID number
# typed with a wrong birth date. Legacy 15-digit IDs are not matched: they look like IMEIs,
# and every one of them expired by 2013. Landline numbers are not personal data we mask.

_SPACES = "\\s\u200b-\u200d\u2060\ufeff"  # \s covers NBSP, U+3000 and the other wide spaces
_DASHES = (
    "\\-_/.\\\\·・"
    "\u2010-\u2015"  # hyphen, non-breaking hyphen, figure dash, en dash, em dash, bar
    "\u2212\u2e3a\u2e3b\u30fc\ufe58\ufe63\uff0d\uff0e\uff0f\uff3c\uff3f\uff65"
)
_OPEN = "(（[［【〔"
_CLOSE = ")）]］】〕"
_GAP = f"[{_SPACES}{_DASHES}{re.escape(_OPEN + _CLOSE)}]{{1,3}}"
_RUN = re.compile(f"[0-9]+(?:{_GAP}[0-9]+)*(?:[Xx](?![0-9]))?")
_GROUP = re.compile("[0-9]+[Xx]?")
_MOBILE_IN_TEXT = re.compile("(?:0086|86)?(1[3-9][0-9]{9})")
_ID_IN_TEXT = re.compile(
    "[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]"
)
_LONGEST = 18  # the longest number masked: an ID number


_WIDE_X = str.maketrans("Ｘｘ", "Xx")


def _ascii_digits(text: str) -> str:
    """``text`` with every decimal digit (full-width ``１``, Arabic-Indic, …) and a full-width
    ``Ｘ`` as ASCII, one character for one, so positions in the result are positions in
    ``text``."""
    folded = "".join(str(int(c)) if c.isdecimal() and not "0" <= c <= "9" else c for c in text)
    return folded.translate(_WIDE_X)


def redact_text(text: str) -> str:
    """Mask any ID or mobile number written into free text (a description, a note, a name).

    Staff type what the customer says; this keeps a raw number out of the log and the sync.
    Only the numbers change: the rest of the text, full-width characters included, is kept.
    """
    if not any(c.isdecimal() for c in text):
        return text
    plain = text if text.isascii() else _ascii_digits(text)
    out: list[str] = []
    done = 0
    for run in _RUN.finditer(plain):
        groups = list(_GROUP.finditer(plain, run.start(), run.end()))
        i = 0
        while i < len(groups):
            found = _number_at(plain, groups, i)
            if found is None:
                i += 1
                continue
            start, end, masked, i = found
            out += [text[done:start], masked]
            done = end
    out.append(text[done:])
    return "".join(out)


def _number_at(plain: str, groups: list[re.Match[str]], i: int) -> tuple[int, int, str, int] | None:
    """The longest number made of groups ``i``, ``i+1``, …: its span in the text, its masked
    form and the index of the group after it."""
    best: tuple[int, str, int] | None = None
    digits = ""
    for j in range(i, len(groups)):
        digits += groups[j].group().upper()
        # Only the last group of a run can end in x: as an ID's check character, or as the
        # first letter after a number (``13987654321x``, ``…1234x``), which is not masked.
        for value in (digits, digits[:-1]) if digits.endswith("X") else (digits,):
            end = groups[j].end() - (len(digits) - len(value))
            if _ID_IN_TEXT.fullmatch(value):
                best = (end, mask_id_number(value), j + 1)
                break
            if (phone := _MOBILE_IN_TEXT.fullmatch(value)) is not None:
                best = (end, mask_phone(phone.group(1)), j + 1)
                break
        if len(digits) > _LONGEST:
            break
    if best is None:
        return None
    start = groups[i].start()
    end, masked, after = best
    if start and plain[start - 1] in "+＋":
        start -= 1  # the + of +86 goes with the number
    if start and plain[start - 1] in _OPEN and any(c in _CLOSE for c in plain[start:end]):
        start -= 1  # (139)8765 4321, （+86）139…: the bracket around the prefix goes too
    return start, end, masked, after
