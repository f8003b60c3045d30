"""The attendance rules of a hall, in one place: staff hours, grace period, minute counting.

- **Staff hours** (员工工作时间): a shift starts no earlier than the hall opens
  (``store.open_time``, 8:00 by default) and ends no later than ``STAFF_AFTER_CLOSE`` (30
  minutes) after it closes (``store.close_time``, 20:00 → 20:30), on its own day.
- **Lateness** (迟到) is judged only against a *planned* shift: a clock-in more than
  ``GRACE_MINUTES`` whole minutes after the shift start is late, and the lateness counts from
  the shift start (clocking in at 08:07 for an 08:00 shift is 7 minutes late; 08:05:59 is on
  time). A clock-in with no planned shift is unplanned work and is never late: the roster, not
  the opening hours, says when someone was due.
- **Early leave** (早退) is the whole minutes between a clock-out and the end of the shift of
  its record; there is no grace period for leaving.
- **Absence** (旷工) is a planned shift that has ended with nobody clocked in for it; it is
  derived in reads, never recorded.
- One shift has at most one attendance record: a lunch pause is a break (休息), not a
  clock-out; clocking in again after clocking out of a shift is unplanned work.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.domain.calendar import whole_minutes

GRACE_MINUTES = 5
"""Whole minutes after a shift start that still count as on time."""

STAFF_AFTER_CLOSE = timedelta(minutes=30)
"""Staff may be planned until this long after the hall closes (closing the tills, tidying)."""

MAX_BACKDATE = timedelta(days=7)
"""How far back a manager may record a clock event afterwards (a forgotten clock-out)."""


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A store-local day and wall-clock time as a UTC instant."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def late_minutes(shift_start: datetime, clocked_at: datetime) -> int:
    """Minutes late for a shift, or 0 within the grace period (or early)."""
    minutes = whole_minutes(shift_start, clocked_at)
    return minutes if minutes > GRACE_MINUTES else 0


def early_minutes(shift_end: datetime, clocked_at: datetime) -> int:
    """Minutes left before the shift end, or 0 when leaving at or after it."""
    return max(whole_minutes(clocked_at, shift_end), 0)


def latest_end(close_time: time) -> time:
    """The latest a shift may end: closing time plus the staff margin, capped at midnight."""
    end = datetime.combine(date(2000, 1, 1), close_time) + STAFF_AFTER_CLOSE
    return end.time() if end.date() == date(2000, 1, 1) else time.max
