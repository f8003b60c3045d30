"""Shift and clock events → ``shifts``, ``attendance_records`` and ``attendance_breaks`` rows,
from the events' own fields only (loaded by the registry, ``server.domain.projection``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

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

# ---------------------------------------------------------------- shifts


@projects(ShiftPlanned)
def _planned(conn: Connection, e: ShiftPlanned) -> None:
    conn.execute(
        shifts.insert().values(
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
        )
    )


@projects(ShiftChanged)
def _changed(conn: Connection, e: ShiftChanged) -> None:
    conn.execute(
        shifts.update()
        .where(shifts.c.store_id == e.store_id, shifts.c.shift_id == e.shift_id)
        .values(
            start_time=e.start_time,
            end_time=e.end_time,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            minutes=whole_minutes(e.starts_at, e.ends_at),
            window_code=e.window,
            note=e.note,
            updated_at=e.at,
        )
    )


@projects(ShiftCancelled)
def _cancelled(conn: Connection, e: ShiftCancelled) -> None:
    conn.execute(
        shifts.update()
        .where(shifts.c.store_id == e.store_id, shifts.c.shift_id == e.shift_id)
        .values(status="cancelled", cancel_reason=e.reason, updated_at=e.at)
    )
    # A clock-in for a shift that is cancelled (a mistaken plan) stays as unplanned work:
    # lateness and early leave were judged against the plan, so they go with it.
    conn.execute(
        attendance_records.update()
        .where(
            attendance_records.c.store_id == e.store_id,
            attendance_records.c.shift_id == e.shift_id,
        )
        .values(shift_id=None, late_minutes=0, early_minutes=0)
    )


@projects(ShiftsSwapped)
def _swapped(conn: Connection, e: ShiftsSwapped) -> None:
    for shift_id, user_id in (
        (e.first_shift_id, e.first_user_id),
        (e.second_shift_id, e.second_user_id),
    ):
        conn.execute(
            shifts.update()
            .where(shifts.c.store_id == e.store_id, shifts.c.shift_id == shift_id)
            .values(user_id=user_id, updated_at=e.at)
        )


@projects(ShiftAbsenceExplained)
def _absence_explained(conn: Connection, e: ShiftAbsenceExplained) -> None:
    conn.execute(
        shifts.update()
        .where(shifts.c.store_id == e.store_id, shifts.c.shift_id == e.shift_id)
        .values(absence_reason=e.reason, updated_at=e.at)
    )


# ---------------------------------------------------------------- attendance

_a = attendance_records
_b = attendance_breaks


# Built once (see ``server.domain.sql``): INSERTs take their row as parameters, UPDATEs
# set the columns they are given besides their ``b_*`` WHERE parameters.
_INSERT_RECORD = _a.insert()
_UPDATE_RECORD = _a.update().where(
    _a.c.store_id == sa.bindparam("b_store_id"),
    _a.c.attendance_id == sa.bindparam("b_attendance_id"),
)
_UPDATE_SHIFT = shifts.update().where(
    shifts.c.store_id == sa.bindparam("b_store_id"),
    shifts.c.shift_id == sa.bindparam("b_shift_id"),
)


@projects(ClockedIn)
def _clocked_in(conn: Connection, e: ClockedIn) -> None:
    conn.execute(
        _INSERT_RECORD,
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
        conn.execute(
            _UPDATE_SHIFT,
            {
                "b_store_id": e.store_id,
                "b_shift_id": e.shift_id,
                "status": "started",
                "attendance_id": e.attendance_id,
                "updated_at": e.at,
            },
        )


@projects(ClockedOut)
def _clocked_out(conn: Connection, e: ClockedOut) -> None:
    conn.execute(
        _UPDATE_RECORD,
        {
            "b_store_id": e.store_id,
            "b_attendance_id": e.attendance_id,
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
        conn.execute(
            _UPDATE_SHIFT,
            {
                "b_store_id": e.store_id,
                "b_shift_id": e.shift_id,
                "status": "completed",
                "updated_at": e.at,
            },
        )


@projects(BreakStarted)
def _break_started(conn: Connection, e: BreakStarted) -> None:
    conn.execute(
        _b.insert().values(
            store_id=e.store_id,
            break_id=e.break_id,
            attendance_id=e.attendance_id,
            started_at=e.started_at,
            ended_at=None,
            minutes=None,
        )
    )
    conn.execute(
        _a.update()
        .where(_a.c.store_id == e.store_id, _a.c.attendance_id == e.attendance_id)
        .values(open_break_id=e.break_id)
    )


@projects(BreakEnded)
def _break_ended(conn: Connection, e: BreakEnded) -> None:
    conn.execute(
        _b.update()
        .where(_b.c.store_id == e.store_id, _b.c.break_id == e.break_id)
        .values(ended_at=e.ended_at, minutes=e.minutes)
    )
    conn.execute(
        _a.update()
        .where(_a.c.store_id == e.store_id, _a.c.attendance_id == e.attendance_id)
        .values(open_break_id=None, break_minutes=e.total_break_minutes)
    )


@projects(AttendanceReasonRecorded)
def _reason(conn: Connection, e: AttendanceReasonRecorded) -> None:
    column = "late_reason" if e.kind == "late" else "early_reason"
    conn.execute(
        _a.update()
        .where(_a.c.store_id == e.store_id, _a.c.attendance_id == e.attendance_id)
        .values({column: e.reason})
    )
