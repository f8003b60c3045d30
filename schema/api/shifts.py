"""REST types of shift planning (排班) and attendance (考勤).

Times of day (``start_time``, ``end_time``) are store-local wall-clock times written
``HH:MM:SS``; instants (``starts_at``, ``clock_in_at``, …) are UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from schema.api.common import Code, LocalTime, Text
from schema.events.shifts import ReasonKind

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
"""A required explanation (lateness, early leave, absence, acting for someone)."""

ShiftStatus = Literal["planned", "started", "completed", "cancelled", "absent"]
"""``planned`` not yet clocked in (and not yet over); ``started`` clocked in; ``completed``
clocked out; ``cancelled``; ``absent`` (旷工): planned, over, and nobody clocked in."""

AttendanceStatus = Literal[
    "scheduled", "absent", "on_time", "late", "early_leave", "late_and_early_leave", "unplanned"
]
"""Outcome of one planned shift or unplanned record, as known now: ``scheduled`` the shift has
not ended and nobody clocked in yet; ``absent`` (旷工) it ended with no clock-in; ``on_time``,
``late`` (迟到), ``early_leave`` (早退), ``late_and_early_leave`` once clocked in (early leave is
known at clock-out); ``unplanned`` work with no planned shift (计划外)."""

BATCH_MAX = 200
"""Most shifts in one bulk planning request: a week of a large hall's roster."""


# ---------------------------------------------------------------- shifts (排班)


class ShiftIn(msgspec.Struct, kw_only=True):
    """Plan one shift. The hall's staff hours bound it (see ``POST /api/v1/shifts``)."""

    user_id: UUID
    """An active staff member."""
    day: date
    """Store-local day; today or later (earlier only ``backdated``)."""
    start_time: LocalTime
    """Store-local start, not before the hall opens (no UTC offset)."""
    end_time: LocalTime
    """Store-local end, after the start and at most 30 minutes after the hall closes."""
    window: Code | None = None
    """Window code (窗口) the person staffs, e.g. ``A1``."""
    note: Text | None = None
    backdated: bool = False
    """Set ``true`` to plan a shift that has already started or ended (recording the roster
    afterwards, at most 7 days back); without it such a shift is refused (422
    ``shift_in_past``), since it would be absent or late the moment it is planned."""


class ShiftBatchIn(msgspec.Struct, kw_only=True):
    """Plan many shifts at once (a week for several people); all or nothing."""

    shifts: Annotated[list[ShiftIn], msgspec.Meta(min_length=1, max_length=BATCH_MAX)]


class ShiftChangeIn(msgspec.Struct, kw_only=True):
    """Change a planned shift; omitted fields keep their value, ``null`` clears window/note."""

    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
    window: Code | msgspec.UnsetType | None = msgspec.UNSET
    note: Text | msgspec.UnsetType | None = msgspec.UNSET


class ShiftCancelIn(msgspec.Struct, kw_only=True):
    reason: Text | None = None
    """Why the shift is cancelled (e.g. approved leave)."""


class ShiftSwapIn(msgspec.Struct, kw_only=True):
    """Swap two planned shifts of two different staff members (换班)."""

    first_shift_id: UUID
    second_shift_id: UUID
    reason: Text | None = None


class AbsenceReasonIn(msgspec.Struct, kw_only=True):
    reason: Reason
    """Why nobody clocked in for the shift (sick, emergency, …)."""


class ShiftOut(msgspec.Struct, kw_only=True):
    shift_id: UUID
    user_id: UUID
    username: str
    display_name: str
    day: date
    """Store-local day."""
    start_time: time
    """Store-local start."""
    end_time: time
    """Store-local end."""
    starts_at: datetime
    """Start as a UTC instant."""
    ends_at: datetime
    """End as a UTC instant."""
    minutes: int
    """Planned length in minutes."""
    window: str | None
    note: str | None
    status: ShiftStatus
    attendance_id: UUID | None
    """The attendance record that clocked in for this shift."""
    cancel_reason: str | None
    absence_reason: str | None
    planned_by: str
    created_at: datetime
    updated_at: datetime


class ShiftBatchOut(msgspec.Struct, kw_only=True):
    batch_id: UUID
    items: list[ShiftOut]


class ShiftSwapOut(msgspec.Struct, kw_only=True):
    first: ShiftOut
    """The first shift, now worked by the second shift's former owner."""
    second: ShiftOut
    """The second shift, now worked by the first shift's former owner."""


# ---------------------------------------------------------------- attendance (考勤)


class ClockActionIn(msgspec.Struct, kw_only=True):
    """Clock in or out, or start or end a break: for yourself, or (manager) for someone else.

    A manager acting for someone else, or recording a time afterwards with ``at``, must give a
    ``reason``.
    """

    user_id: UUID | None = None
    """Whom it is for; omitted means the logged-in staff member."""
    reason: Text | None = None
    """Why a manager does it on the person's behalf (forgot, tablet down, …)."""
    at: datetime | None = None
    """Manager only: when it really happened, if earlier than now (a forgotten clock-out)."""


class ReasonIn(msgspec.Struct, kw_only=True):
    """Explain lateness (迟到) or leaving early (早退) afterwards."""

    kind: ReasonKind
    reason: Reason


class AttendanceOut(msgspec.Struct, kw_only=True):
    """One clocked-in period (考勤记录): clock-in to clock-out, with its breaks."""

    attendance_id: UUID
    user_id: UUID
    username: str
    display_name: str
    day: date
    """Store-local day of the clock-in."""
    shift_id: UUID | None
    """The planned shift it works; null for unplanned work."""
    clock_in_at: datetime
    clock_out_at: datetime | None
    """Null while clocked in."""
    late_minutes: int
    early_minutes: int
    break_minutes: int
    worked_minutes: int | None
    """Clocked-in minutes minus breaks; null until clocked out."""
    on_break: bool
    late_reason: str | None
    early_reason: str | None
    clock_in_by: str
    clock_in_note: str | None
    """Why a manager clocked in for the person."""
    clock_out_by: str | None
    clock_out_note: str | None


class AttendanceDayOut(msgspec.Struct, kw_only=True):
    """Planned vs actual for one planned shift, or one unplanned attendance record."""

    day: date
    user_id: UUID
    username: str
    display_name: str
    status: AttendanceStatus
    shift_id: UUID | None
    window: str | None
    planned_start: datetime | None
    """UTC start of the planned shift; null for unplanned work."""
    planned_end: datetime | None
    planned_minutes: int
    attendance_id: UUID | None
    clock_in_at: datetime | None
    clock_out_at: datetime | None
    late_minutes: int
    early_minutes: int
    break_minutes: int
    worked_minutes: int
    """Closed records only: minutes clocked in minus breaks (0 while still clocked in)."""
    clocked_in: bool
    """Clocked in right now (no clock-out yet)."""
    on_break: bool
    late_reason: str | None
    early_reason: str | None
    absence_reason: str | None


class AttendanceSummaryOut(msgspec.Struct, kw_only=True):
    """One staff member's month (月度考勤汇总)."""

    month: str
    """``YYYY-MM``, store-local."""
    user_id: UUID
    username: str
    display_name: str
    planned_shifts: int
    """Shifts planned and not cancelled."""
    attended_shifts: int
    """Planned shifts clocked in for."""
    planned_minutes: int
    late_count: int
    late_minutes: int
    late_unexplained: int
    """Late clock-ins with no recorded reason."""
    early_count: int
    early_minutes: int
    absences: int
    """Planned shifts that ended with no clock-in (旷工)."""
    unplanned_count: int
    worked_minutes: int
    worked_hours: float
    """``worked_minutes`` / 60, rounded to 2 decimals."""


class ClockStatusOut(msgspec.Struct, kw_only=True):
    """Where a staff member stands now: clocked in or not, on break, today's shifts."""

    user_id: UUID
    day: date
    """The store-local day now."""
    clocked_in: bool
    on_break: bool
    open_record: AttendanceOut | None
    """The record being worked, if clocked in."""
    shifts_today: list[ShiftOut]


class AttendanceTodayOut(msgspec.Struct, kw_only=True, frozen=True):
    """Attendance counts of one store-day, for the store KPIs and the manager's dashboard.

    Counts are of planned (not cancelled) shifts, except ``unplanned`` (attendance records with
    no shift) and ``working_now`` (people clocked in at the moment).
    """

    day: date
    planned: int
    clocked_in: int
    """Planned shifts somebody clocked in for."""
    on_time: int
    late: int
    early_leave: int
    absent: int
    """Planned shifts over with no clock-in (旷工)."""
    unplanned: int
    working_now: int
