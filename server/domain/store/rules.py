"""The store's own rules: a known time zone, opening hours that open before they close."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.errors import ValidationFailed


def check_tz(tz: str) -> str:
    """Refuse a time zone name the system does not know."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {tz!r}", field="tz") from exc
    return tz


def check_hours(open_time: time, close_time: time) -> None:
    """Refuse opening hours that do not open before they close."""
    if open_time >= close_time:
        raise ValidationFailed("the hall must open before it closes", field="close_time")
