"""Customer personal data: mask for display, hash for matching, redact from free text.

Phone numbers and ID numbers (个人信息, 令 24 号) are never stored or returned raw where the full
value is not needed. Every domain that takes one keeps two derived values instead:

- a **masked** display form (``138****5678``; ID numbers keep the first 6 and last 4), and
- a **keyed hash** for matching (HMAC-SHA256 over a normalised value), so "find this
  customer's complaints" works without the number being recoverable from the database or the
  synced log.

The hash key (pepper) must be the same across the whole chain, or a number hashed in one store
would not match in another or at HQ. Until a per-chain pepper comes from settings, it is read
from ``HALLSYNC_CONTACT_PEPPER``, with a development default (``DEV_PEPPER``) that deployments
must override. Callers may pass ``key=`` explicitly.

Nothing here logs; error messages never include the value they reject.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

PEPPER_ENV = "HALLSYNC_CONTACT_PEPPER"
"""Environment variable holding the chain-wide hash key for contact data."""

DEV_PEPPER = "hallsync-dev-contact-pepper"
"""Development default only (a placeholder until the per-chain pepper comes from settings)."""

_SEPARATORS = re.compile(r"[\s\-().]")
_PHONE_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=1\d{10}$)")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")

# In free text: an 18-character national ID, and a mobile number possibly written with a
# country prefix or split by spaces/dashes. Not inside longer digit runs (order numbers, IMEIs).
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})(?!\d)"
)


def pepper() -> bytes:
    """The hash key in force: ``HALLSYNC_CONTACT_PEPPER`` or the development default."""
    return os.environ.get(PEPPER_ENV, DEV_PEPPER).encode()


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


def hash_contact(value: str, key: bytes | None = None) -> str:
    """Keyed hash (HMAC-SHA256, hex) of a phone or ID number, for matching without storing it.

    The value is normalised first, so ``+86 138-1234-5678`` and ``13812345678`` match.
    """
    secret = pepper() if key is None else key
    return hmac.new(secret, normalize_contact(value).encode(), hashlib.sha256).hexdigest()


def redact_text(text: str) -> str:
    """Mask any ID or mobile number written into free text (a description, a note).

    Staff type what the customer says; this keeps a raw number out of the log and the sync.
    """
    text = _ID_IN_TEXT.sub(lambda m: m.group(1) + "********" + m.group(2).upper(), text)
    return _PHONE_IN_TEXT.sub(lambda m: m.group(1) + "****" + m.group(2), text)
