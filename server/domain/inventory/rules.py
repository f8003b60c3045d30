"""The inventory's rules for serial numbers: which items carry one (IMEI for phones, ICCID for
SIM cards), what a valid one looks like, and how many one request may list.

Both kinds end in a Luhn check digit, so a mistyped or misread serial is refused at the tablet
instead of becoming a phantom unit in the books.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from schema.api.inventory import SerialKind
from server.errors import ValidationFailed

SERIALISABLE = ("phone", "sim")
"""Only phones (IMEI) and SIM cards (ICCID) have serials to track."""

MAX_SERIALS = 1000
"""Most serials one request may list, over all its lines."""

# Matched with ``fullmatch``: the whole value, so a trailing newline is refused too.
_IMEI = re.compile(r"[0-9]{15}")
_ICCID = re.compile(r"89[0-9]{17,18}")


def luhn_ok(digits: str) -> bool:
    """True when the last digit of ``digits`` is the Luhn check digit of the others."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def serial_kind_of(category: str, serialised: bool) -> SerialKind | None:
    """What identifies each unit of an item: IMEI for phones, ICCID for SIMs, else nothing."""
    if not serialised:
        return None
    return "imei" if category == "phone" else "iccid"


def check_serial(value: str, kind: SerialKind, field: str) -> str:
    """Refuse (422 naming ``field``) a serial that is not a well-formed IMEI or ICCID."""
    if kind == "imei":
        if not _IMEI.fullmatch(value):
            raise ValidationFailed(f"IMEI {value!r} must be exactly 15 digits", field=field)
        if not luhn_ok(value):
            raise ValidationFailed(f"IMEI {value!r} has a wrong check digit", field=field)
    else:
        if not _ICCID.fullmatch(value):
            raise ValidationFailed(
                f"ICCID {value!r} must be 19 or 20 digits starting with 89", field=field
            )
        if not luhn_ok(value):
            raise ValidationFailed(f"ICCID {value!r} has a wrong check digit", field=field)
    return value


def check_serials(values: Iterable[str], kind: SerialKind, field: str) -> list[str]:
    """Check each serial of a list and refuse the same serial twice."""
    seen: set[str] = set()
    out: list[str] = []
    for j, value in enumerate(values):
        check_serial(value, kind, f"{field}[{j}]")
        if value in seen:
            raise ValidationFailed(f"serial {value} is listed twice", field=f"{field}[{j}]")
        seen.add(value)
        out.append(value)
    return out
