"""Time and calendar helpers every domain shares: durations, the store's today, plausible days,
request instants, day ranges and months.

Instants are UTC; business days are store-local (``zoneinfo``, the store's time zone), so that
"which day is it" answers the same in every domain.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from server.domain.context import load_settings
from server.errors import ValidationFailed

# ---------------------------------------------------------------- time


def seconds_between(start: datetime, end: datetime) -> int:
    """Whole seconds from ``start`` to ``end``, negative when ``end`` is earlier."""
    return int((end - start).total_seconds())


def elapsed_seconds(since: datetime, until: datetime) -> int:
    """Whole seconds from ``since`` to ``until``, never negative (a clock stepping back
    counts 0): waits, service times, times to repair."""
    return max(0, seconds_between(since, until))


def whole_minutes(start: datetime, end: datetime) -> int:
    """Whole minutes from ``start`` to ``end``, rounded down (negative if ``end`` is earlier)."""
    return int((end - start).total_seconds() // 60)


def store_today(conn: Connection, store_id: str, now: datetime) -> date:
    """The store-local calendar day at ``now``: the day reads mean by "today".

    API routes pass the node's clock (``node(request).writer.clock()``), the one commands are
    stamped with, so a read's "today" agrees with the writes'.
    """
    return now.astimezone(load_settings(conn, store_id).zone).date()


PLAUSIBLE_DAYS = 366
"""How far from the store's today the day of something recorded or planned may lie (a shift, a
drill, an inspection, a training). A year either way covers any real plan or late record; a
date beyond is a typing error (a shift in 9999), and near year 1 or 9999 the instants derived
from it would not even exist."""


def plausible_day(day: date, today: date, field: str) -> date:
    """``day``, or a 422 naming ``field`` when it lies more than ``PLAUSIBLE_DAYS`` from
    ``today`` (the store-local day of the command)."""
    span = timedelta(days=PLAUSIBLE_DAYS)
    earliest, latest = today - span, today + span
    if not earliest <= day <= latest:
        raise ValidationFailed(
            f"{day.isoformat()} is more than a year from today ({today.isoformat()}): "
            f"give a day from {earliest.isoformat()} to {latest.isoformat()}",
            field=field,
        )
    return day


def request_instant(value: datetime, zone: ZoneInfo, field: str) -> datetime:
    """An instant a request gave, in UTC; without a UTC offset it is store-local wall time.

    One that has no UTC equivalent (``0001-01-01T00:00:00+14:00``,
    ``9999-12-31T23:59:59-12:00``: within hours of the calendar's ends) is a 422 naming
    ``field``; converting it would raise OverflowError, a 500."""
    try:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed(
            f"{value.isoformat()} is not a time this hall can book or record", field=field
        ) from None


# ---------------------------------------------------------------- date ranges and months

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def check_date_range(first: date | None, last: date | None) -> None:
    """Refuse a reversed ``from``/``to`` range of store-local days (both inclusive): 422
    naming ``query.from``. Every list endpoint with a day range calls this."""
    if first is not None and last is not None and first > last:
        raise ValidationFailed(
            f"from ({first.isoformat()}) is after to ({last.isoformat()})", field="query.from"
        )


def parse_month(value: str, field: str = "query.month") -> date:
    """The first day of a ``YYYY-MM`` month; 422 naming ``field`` for anything else
    (``0000-01``, ``2026-13``)."""
    m = _MONTH.fullmatch(value)
    if m is None or int(m[1]) < 1 or not 1 <= int(m[2]) <= 12:
        raise ValidationFailed(f"not a month: {value!r}; use YYYY-MM from 0001-01", field=field)
    return date(int(m[1]), int(m[2]), 1)


def month_name(day: date) -> str:
    """``YYYY-MM`` of the month containing ``day`` (zero-padded, whatever the year)."""
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of the month containing ``day`` (both inclusive)."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)
