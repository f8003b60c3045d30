"""Events of the shifts domain: shift planning (排班) and attendance (考勤).

A shift is planned for one staff member on one store-local day, from a start to an end time;
it can be changed, cancelled or swapped with another person's shift (换班) while nobody has
clocked in against it. Attendance is a series of clocked-in periods (考勤记录): clock in (签到),
breaks (休息), clock out (签退). Everything computed when the fact happened (the UTC instants
of a shift, lateness, early leave, worked and break minutes) travels in the event, so every
node folds the log into the same rows without knowing the store's time zone or rules.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from schema.api.common import LocalTime
from schema.events.base import Event, FreeText

ReasonKind = Literal["late", "early_leave"]
"""What a reason explains: lateness (迟到) or leaving early (早退)."""


class ShiftPlanned(Event, tag="shift.planned", frozen=True):
    """A manager planned a shift (排班) for a staff member."""

    shift_id: UUID
    """New id of the shift (UUIDv7)."""
    user_id: UUID
    """The staff member who works it (``staff.user_id``)."""
    day: date
    """Store-local calendar day of the shift."""
    start_time: LocalTime
    """Store-local wall-clock start, e.g. 08:00."""
    end_time: LocalTime
    """Store-local wall-clock end, after ``start_time`` on the same day."""
    starts_at: datetime
    """``day`` + ``start_time`` in the store's time zone, as a UTC instant."""
    ends_at: datetime
    """``day`` + ``end_time`` in the store's time zone, as a UTC instant."""
    window: str | None = None
    """Window code (窗口) the person staffs, if assigned."""
    note: FreeText | None = None
    """Free-text note from the manager."""
    batch_id: UUID | None = None
    """Set when the shift was planned in one bulk request with others (same id for all)."""


class ShiftChanged(Event, tag="shift.changed", frozen=True):
    """A planned shift's times, window or note changed. Carries the full new values."""

    shift_id: UUID
    """The shift changed."""
    start_time: LocalTime
    """New store-local start."""
    end_time: LocalTime
    """New store-local end."""
    starts_at: datetime
    """New start as a UTC instant."""
    ends_at: datetime
    """New end as a UTC instant."""
    window: str | None
    """New window code, or none."""
    note: FreeText | None
    """New note, or none."""


class ShiftCancelled(Event, tag="shift.cancelled", frozen=True):
    """A planned shift was cancelled (取消排班); it no longer counts as planned."""

    shift_id: UUID
    """The shift cancelled."""
    reason: FreeText | None = None
    """Why, e.g. approved leave."""


class ShiftsSwapped(Event, tag="shift.swapped", frozen=True):
    """Two planned shifts of two staff members changed hands (换班)."""

    first_shift_id: UUID
    """One of the two shifts."""
    first_user_id: UUID
    """Who works ``first_shift_id`` from now on (the former owner of the second shift)."""
    second_shift_id: UUID
    """The other shift."""
    second_user_id: UUID
    """Who works ``second_shift_id`` from now on (the former owner of the first shift)."""
    reason: FreeText | None = None
    """Why the swap was agreed."""


class ShiftAbsenceExplained(Event, tag="shift.absence_explained", frozen=True):
    """A reason was recorded for a planned shift nobody clocked in for (旷工 / 请假说明)."""

    shift_id: UUID
    """The shift nobody clocked in for."""
    reason: FreeText
    """Why (sick leave, emergency, …), from the person or a manager."""


class ClockedIn(Event, tag="clock.in", frozen=True):
    """A staff member clocked in (签到): opens an attendance record."""

    attendance_id: UUID
    """New id of the attendance record (UUIDv7)."""
    user_id: UUID
    """Who clocked in."""
    day: date
    """Store-local day of the clock-in; the record belongs to this day."""
    clocked_at: datetime
    """When the person arrived, UTC. Equals ``at`` unless a manager recorded it afterwards."""
    shift_id: UUID | None
    """The planned shift this period works, or none for unplanned work (计划外)."""
    late_minutes: int
    """Whole minutes after the shift start, when beyond the grace period; else 0."""
    on_behalf_reason: FreeText | None = None
    """Set when a manager clocked in for the person: why (forgot, tablet down, …)."""


class ClockedOut(Event, tag="clock.out", frozen=True):
    """A staff member clocked out (签退): closes their open attendance record."""

    attendance_id: UUID
    """The record closed."""
    user_id: UUID
    """Who clocked out."""
    shift_id: UUID | None
    """The shift of the record, as linked at clock-in."""
    clocked_at: datetime
    """When the person left, UTC."""
    early_minutes: int
    """Whole minutes before the shift end (早退); 0 if on time or unplanned."""
    break_minutes: int
    """Total break minutes of the record."""
    worked_minutes: int
    """Clocked-in minutes minus break minutes."""
    on_behalf_reason: FreeText | None = None
    """Set when a manager clocked out for the person: why."""


class BreakStarted(Event, tag="clock.break_started", frozen=True):
    """A clocked-in staff member started a break (休息)."""

    break_id: UUID
    """New id of the break (UUIDv7)."""
    attendance_id: UUID
    """The clocked-in record the break belongs to."""
    user_id: UUID
    """Who takes the break."""
    started_at: datetime
    """UTC start of the break."""
    on_behalf_reason: FreeText | None = None
    """Set when a manager started the break for the person: why."""


class BreakEnded(Event, tag="clock.break_ended", frozen=True):
    """A break ended (by the person, or implicitly when they clocked out during it)."""

    break_id: UUID
    """The break that ended."""
    attendance_id: UUID
    """The record the break belongs to."""
    user_id: UUID
    """Who took the break."""
    ended_at: datetime
    """UTC end of the break."""
    minutes: int
    """Whole minutes of this break."""
    total_break_minutes: int
    """Break minutes of the attendance record so far, this break included."""
    on_behalf_reason: FreeText | None = None
    """Set when a manager ended the break (or the clock-out) for the person: why."""


class AttendanceReasonRecorded(Event, tag="clock.reason_recorded", frozen=True):
    """A reason for lateness or early leave was recorded afterwards (the last one counts)."""

    attendance_id: UUID
    """The record explained."""
    kind: ReasonKind
    """Whether the reason explains the lateness or the early leave."""
    reason: FreeText
    """The explanation, free text."""


EVENTS: tuple[type[Event], ...] = (
    ShiftPlanned,
    ShiftChanged,
    ShiftCancelled,
    ShiftsSwapped,
    ShiftAbsenceExplained,
    ClockedIn,
    ClockedOut,
    BreakStarted,
    BreakEnded,
    AttendanceReasonRecorded,
)
