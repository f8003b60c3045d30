"""Shift and clock events → ``shifts``, ``attendance_records`` and ``attendance_breaks`` rows,
from the events' own fields only (loaded by the registry, ``server.domain.projection``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from schema.events.shifts import (
    AttendanceReasonRecorded,
    BreakEnded,
    BreakStarted,
    ClockedIn,
    ClockedOut,
    ShiftAbsenceExplained,
    ShiftCancelled,
    ShiftChanged,
    ShiftPlanned,
    ShiftsSwapped,
)
from schema.tables.shifts import attendance_breaks, attendance_records, shifts
from server.domain.calendar import whole_minutes
from server.domain.projection import projects
from server.domain.rows import Rows

# ---------------------------------------------------------------- shifts


def _shift_key(store_id: str, shift_id: UUID) -> dict[str, Any]:
    return {"store_id": store_id, "shift_id": shift_id}


def _record_key(store_id: str, attendance_id: UUID) -> dict[str, Any]:
    return {"store_id": store_id, "attendance_id": attendance_id}


@projects(ShiftPlanned)
def _planned(rows: Rows, e: ShiftPlanned) -> None:
    rows.insert(
        shifts,
        dict(
            store_id=e.store_id,
            shift_id=e.shift_id,
            user_id=e.user_id,
            day=e.day,
            start_time=e.start_time,
            end_time=e.end_time,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            minutes=whole_minutes(e.starts_at, e.ends_at),
            window_code=e.window,
            note=e.note,
            status="planned",
            attendance_id=None,
            batch_id=e.batch_id,
            planned_by=e.actor,
            created_at=e.at,
            updated_at=e.at,
        ),
    )


@projects(ShiftChanged)
def _changed(rows: Rows, e: ShiftChanged) -> None:
    rows.update(
        shifts,
        _shift_key(e.store_id, e.shift_id),
        set=dict(
            start_time=e.start_time,
            end_time=e.end_time,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            minutes=whole_minutes(e.starts_at, e.ends_at),
            window_code=e.window,
            note=e.note,
            updated_at=e.at,
        ),
    )


@projects(ShiftCancelled, reads=lambda e: [(shifts, _shift_key(e.store_id, e.shift_id))])
def _cancelled(rows: Rows, e: ShiftCancelled) -> None:
    key = _shift_key(e.store_id, e.shift_id)
    shift = rows.get(shifts, key)
    rows.update(
        shifts, key, set={"status": "cancelled", "cancel_reason": e.reason, "updated_at": e.at}
    )
    # A clock-in for a shift that is cancelled (a mistaken plan) stays as unplanned work:
    # lateness and early leave were judged against the plan, so they go with it. A shift has
    # at most one clock-in (only a planned shift takes one, and it is then started), the one
    # the shift names.
    if shift is not None and shift["attendance_id"] is not None:
        rows.update(
            attendance_records,
            _record_key(e.store_id, shift["attendance_id"]),
            set={"shift_id": None, "late_minutes": 0, "early_minutes": 0},
        )


@projects(ShiftsSwapped)
def _swapped(rows: Rows, e: ShiftsSwapped) -> None:
    for shift_id, user_id in (
        (e.first_shift_id, e.first_user_id),
        (e.second_shift_id, e.second_user_id),
    ):
        rows.update(
            shifts, _shift_key(e.store_id, shift_id), set={"user_id": user_id, "updated_at": e.at}
        )


@projects(ShiftAbsenceExplained)
def _absence_explained(rows: Rows, e: ShiftAbsenceExplained) -> None:
    rows.update(
        shifts,
        _shift_key(e.store_id, e.shift_id),
        set={"absence_reason": e.reason, "updated_at": e.at},
    )


# ---------------------------------------------------------------- attendance


@projects(ClockedIn)
def _clocked_in(rows: Rows, e: ClockedIn) -> None:
    rows.insert(
        attendance_records,
        dict(
            store_id=e.store_id,
            attendance_id=e.attendance_id,
            user_id=e.user_id,
            day=e.day,
            shift_id=e.shift_id,
            clock_in_at=e.clocked_at,
            clock_out_at=None,
            late_minutes=e.late_minutes,
            early_minutes=0,
            break_minutes=0,
            worked_minutes=None,
            open_break_id=None,
            clock_in_by=e.actor,
            clock_in_note=e.on_behalf_reason,
        ),
    )
    if e.shift_id is not None:
        rows.update(
            shifts,
            _shift_key(e.store_id, e.shift_id),
            set={"status": "started", "attendance_id": e.attendance_id, "updated_at": e.at},
        )


@projects(ClockedOut)
def _clocked_out(rows: Rows, e: ClockedOut) -> None:
    rows.update(
        attendance_records,
        _record_key(e.store_id, e.attendance_id),
        set={
            "clock_out_at": e.clocked_at,
            "early_minutes": e.early_minutes,
            "break_minutes": e.break_minutes,
            "worked_minutes": e.worked_minutes,
            "open_break_id": None,
            "clock_out_by": e.actor,
            "clock_out_note": e.on_behalf_reason,
        },
    )
    if e.shift_id is not None:
        rows.update(
            shifts,
            _shift_key(e.store_id, e.shift_id),
            set={"status": "completed", "updated_at": e.at},
        )


@projects(BreakStarted)
def _break_started(rows: Rows, e: BreakStarted) -> None:
    rows.insert(
        attendance_breaks,
        dict(
            store_id=e.store_id,
            break_id=e.break_id,
            attendance_id=e.attendance_id,
            started_at=e.started_at,
            ended_at=None,
            minutes=None,
        ),
    )
    rows.update(
        attendance_records,
        _record_key(e.store_id, e.attendance_id),
        set={"open_break_id": e.break_id},
    )


@projects(BreakEnded)
def _break_ended(rows: Rows, e: BreakEnded) -> None:
    rows.update(
        attendance_breaks,
        {"store_id": e.store_id, "break_id": e.break_id},
        set={"ended_at": e.ended_at, "minutes": e.minutes},
    )
    rows.update(
        attendance_records,
        _record_key(e.store_id, e.attendance_id),
        set={"open_break_id": None, "break_minutes": e.total_break_minutes},
    )


@projects(AttendanceReasonRecorded)
def _reason(rows: Rows, e: AttendanceReasonRecorded) -> None:
    column = "late_reason" if e.kind == "late" else "early_reason"
    rows.update(
        attendance_records, _record_key(e.store_id, e.attendance_id), set={column: e.reason}
    )
