"""Reads of shifts and attendance: lists, per-day planned vs actual, monthly summaries, KPIs.

Statuses that depend on the time (``absent``: a planned shift over with no clock-in) are
computed against ``now``, which the caller passes in (the node's clock), so reads agree with
the commands' idea of the time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.shifts import (
    AttendanceDayOut,
    AttendanceOut,
    AttendanceStatus,
    AttendanceSummaryOut,
    AttendanceTodayOut,
    ClockStatusOut,
    ShiftOut,
    ShiftStatus,
)
from schema.tables.base import UTCDateTime
from schema.tables.core import staff
from schema.tables.shifts import attendance_records, shifts
from server.domain.calendar import month_bounds, month_name
from server.errors import NotFound

_s = shifts
_a = attendance_records

# ---------------------------------------------------------------- shifts


def _shift_status(row: Any, now: datetime) -> ShiftStatus:
    if row.status == "planned" and row.ends_at <= now:
        return "absent"
    status: ShiftStatus = row.status
    return status


def shift_out(row: Any, now: datetime) -> ShiftOut:
    """A shift row joined with the staff roster, as the API shows it at ``now``."""
    return ShiftOut(
        shift_id=row.shift_id,
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        day=row.day,
        start_time=row.start_time,
        end_time=row.end_time,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        minutes=row.minutes,
        window=row.window_code,
        note=row.note,
        status=_shift_status(row, now),
        attendance_id=row.attendance_id,
        cancel_reason=row.cancel_reason,
        absence_reason=row.absence_reason,
        planned_by=row.planned_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _shift_select(store_id: str) -> sa.Select[Any]:
    return (
        sa.select(_s, staff.c.username, staff.c.display_name)
        .join(staff, sa.and_(staff.c.store_id == _s.c.store_id, staff.c.user_id == _s.c.user_id))
        .where(_s.c.store_id == store_id)
    )


def shift_row(conn: Connection, store_id: str, shift_id: UUID) -> Any:
    """The shift's row (with the staff member's names), or 404."""
    row = conn.execute(_shift_select(store_id).where(_s.c.shift_id == shift_id)).first()
    if row is None:
        raise NotFound(f"no shift {shift_id}")
    return row


def get_shift(conn: Connection, store_id: str, shift_id: UUID, now: datetime) -> ShiftOut:
    return shift_out(shift_row(conn, store_id, shift_id), now)


def list_shifts(
    store_id: str,
    *,
    now: datetime,
    date_from: date | None = None,
    date_to: date | None = None,
    user_id: UUID | None = None,
    window: str | None = None,
    status: ShiftStatus | None = None,
) -> sa.Select[Any]:
    """The shift list query, filtered and ordered by day, start, person; the API pages it."""
    q = _shift_select(store_id)
    if date_from is not None:
        q = q.where(_s.c.day >= date_from)
    if date_to is not None:
        q = q.where(_s.c.day <= date_to)
    if user_id is not None:
        q = q.where(_s.c.user_id == user_id)
    if window is not None:
        q = q.where(_s.c.window_code == window)
    if status == "absent":
        q = q.where(_s.c.status == "planned", _s.c.ends_at <= now)
    elif status == "planned":
        q = q.where(_s.c.status == "planned", _s.c.ends_at > now)
    elif status is not None:
        q = q.where(_s.c.status == status)
    return q.order_by(_s.c.day, _s.c.starts_at, staff.c.username, _s.c.shift_id)


# ---------------------------------------------------------------- attendance records


def attendance_out(row: Any) -> AttendanceOut:
    return AttendanceOut(
        attendance_id=row.attendance_id,
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        day=row.day,
        shift_id=row.shift_id,
        clock_in_at=row.clock_in_at,
        clock_out_at=row.clock_out_at,
        late_minutes=row.late_minutes,
        early_minutes=row.early_minutes,
        break_minutes=row.break_minutes,
        worked_minutes=row.worked_minutes,
        on_break=row.open_break_id is not None,
        late_reason=row.late_reason,
        early_reason=row.early_reason,
        clock_in_by=row.clock_in_by,
        clock_in_note=row.clock_in_note,
        clock_out_by=row.clock_out_by,
        clock_out_note=row.clock_out_note,
    )


def _attendance_select(store_id: str | sa.BindParameter[str]) -> sa.Select[Any]:
    return (
        sa.select(_a, staff.c.username, staff.c.display_name)
        .join(staff, sa.and_(staff.c.store_id == _a.c.store_id, staff.c.user_id == _a.c.user_id))
        .where(_a.c.store_id == store_id)
    )


_RECORDS = _attendance_select(sa.bindparam("store_id"))  # built once, for the write path
_RECORD_BY_ID = _RECORDS.where(_a.c.attendance_id == sa.bindparam("attendance_id"))
_OPEN_RECORD = _RECORDS.where(_a.c.user_id == sa.bindparam("user_id"), _a.c.clock_out_at.is_(None))


def get_attendance(conn: Connection, store_id: str, attendance_id: UUID) -> AttendanceOut:
    row = conn.execute(
        _RECORD_BY_ID, {"store_id": store_id, "attendance_id": attendance_id}
    ).first()
    if row is None:
        raise NotFound(f"no attendance record {attendance_id}")
    return attendance_out(row)


def open_record(conn: Connection, store_id: str, user_id: UUID) -> Any:
    """The person's attendance record with no clock-out yet, if they are clocked in."""
    return conn.execute(_OPEN_RECORD, {"store_id": store_id, "user_id": user_id}).first()


def clock_status(
    conn: Connection, store_id: str, user_id: UUID, day: date, now: datetime
) -> ClockStatusOut:
    """Whether the person is clocked in or on a break, and their shifts of ``day``."""
    rec = open_record(conn, store_id, user_id)
    rows = conn.execute(
        list_shifts(store_id, now=now, date_from=day, date_to=day, user_id=user_id)
    ).all()
    return ClockStatusOut(
        user_id=user_id,
        day=day,
        clocked_in=rec is not None,
        on_break=rec is not None and rec.open_break_id is not None,
        open_record=attendance_out(rec) if rec is not None else None,
        shifts_today=[shift_out(r, now) for r in rows],
    )


# ---------------------------------------------------------------- planned vs actual


_ACTUAL = (
    _a.c.attendance_id,
    _a.c.clock_in_at,
    _a.c.clock_out_at,
    _a.c.late_minutes,
    _a.c.early_minutes,
    _a.c.break_minutes,
    _a.c.worked_minutes,
    _a.c.open_break_id,
    _a.c.late_reason,
    _a.c.early_reason,
)
"""What happened: the attendance record's columns in the planned-vs-actual grid."""


def _day_rows(
    store_id: str, date_from: date | None, date_to: date | None, user_id: UUID | None
) -> sa.Subquery:
    """One row per planned (not cancelled) shift, with its record if any, plus one row per
    unplanned record: the planned-vs-actual grid both the day list and the summaries read."""
    join = sa.and_(_a.c.store_id == _s.c.store_id, _a.c.attendance_id == _s.c.attendance_id)
    planned = (
        sa.select(
            _s.c.day,
            _s.c.user_id,
            _s.c.shift_id,
            _s.c.window_code,
            _s.c.starts_at.label("planned_start"),
            _s.c.ends_at.label("planned_end"),
            _s.c.minutes.label("planned_minutes"),
            _s.c.absence_reason,
            *_ACTUAL,
        )
        .select_from(_s.outerjoin(_a, join))
        .where(_s.c.store_id == store_id, _s.c.status != "cancelled")
    )
    unplanned = sa.select(
        _a.c.day,
        _a.c.user_id,
        sa.cast(sa.null(), sa.Uuid).label("shift_id"),
        sa.cast(sa.null(), sa.String).label("window_code"),
        sa.cast(sa.null(), UTCDateTime).label("planned_start"),
        sa.cast(sa.null(), UTCDateTime).label("planned_end"),
        sa.literal(0).label("planned_minutes"),
        sa.cast(sa.null(), sa.Text).label("absence_reason"),
        *_ACTUAL,
    ).where(_a.c.store_id == store_id, _a.c.shift_id.is_(None))

    def narrowed(q: sa.Select[Any], table: sa.Table) -> sa.Select[Any]:
        if date_from is not None:
            q = q.where(table.c.day >= date_from)
        if date_to is not None:
            q = q.where(table.c.day <= date_to)
        if user_id is not None:
            q = q.where(table.c.user_id == user_id)
        return q

    return sa.union_all(narrowed(planned, _s), narrowed(unplanned, _a)).subquery("day_rows")


def _status(u: sa.Subquery, now: datetime) -> sa.ColumnElement[str]:
    c = u.c
    return sa.case(
        (sa.and_(c.attendance_id.is_(None), c.planned_end <= now), "absent"),
        (c.attendance_id.is_(None), "scheduled"),
        (c.shift_id.is_(None), "unplanned"),
        (sa.and_(c.late_minutes > 0, c.early_minutes > 0), "late_and_early_leave"),
        (c.late_minutes > 0, "late"),
        (c.early_minutes > 0, "early_leave"),
        else_="on_time",
    )


def list_attendance(
    store_id: str,
    *,
    now: datetime,
    date_from: date | None = None,
    date_to: date | None = None,
    user_id: UUID | None = None,
    status: AttendanceStatus | None = None,
) -> sa.Select[Any]:
    """Planned vs actual per shift (and per unplanned record), ordered by day and time."""
    u = _day_rows(store_id, date_from, date_to, user_id)
    status_col = _status(u, now)
    q = (
        sa.select(u, status_col.label("status"), staff.c.username, staff.c.display_name)
        .join(staff, sa.and_(staff.c.store_id == store_id, staff.c.user_id == u.c.user_id))
        .order_by(
            u.c.day,
            sa.func.coalesce(u.c.planned_start, u.c.clock_in_at),
            staff.c.username,
            u.c.shift_id,
            u.c.attendance_id,
        )
    )
    if status is not None:
        q = q.where(status_col == status)
    return q


def attendance_day_out(row: Any) -> AttendanceDayOut:
    closed = row.clock_out_at is not None
    return AttendanceDayOut(
        day=row.day,
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        status=row.status,
        shift_id=row.shift_id,
        window=row.window_code,
        planned_start=row.planned_start,
        planned_end=row.planned_end,
        planned_minutes=row.planned_minutes,
        attendance_id=row.attendance_id,
        clock_in_at=row.clock_in_at,
        clock_out_at=row.clock_out_at,
        late_minutes=row.late_minutes or 0,
        early_minutes=row.early_minutes or 0,
        break_minutes=row.break_minutes or 0,
        worked_minutes=(row.worked_minutes or 0) if closed else 0,
        clocked_in=row.attendance_id is not None and not closed,
        on_break=row.open_break_id is not None,
        late_reason=row.late_reason,
        early_reason=row.early_reason,
        absence_reason=row.absence_reason,
    )


# ---------------------------------------------------------------- aggregates


def _counts(u: sa.Subquery, now: datetime) -> list[sa.ColumnElement[Any]]:
    """The aggregate columns shared by the monthly summary and the day's KPI counts."""
    c = u.c

    def count_if(*conds: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*conds), 1), else_=0)), 0)

    def total(col: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(col), 0)

    planned = c.shift_id.is_not(None)
    attended = c.attendance_id.is_not(None)
    return [
        count_if(planned).label("planned_shifts"),
        count_if(planned, attended).label("attended_shifts"),
        total(c.planned_minutes).label("planned_minutes"),
        count_if(planned, attended, c.late_minutes == 0, c.early_minutes == 0).label("on_time"),
        count_if(c.late_minutes > 0).label("late_count"),
        total(c.late_minutes).label("late_minutes"),
        count_if(c.late_minutes > 0, c.late_reason.is_(None)).label("late_unexplained"),
        count_if(c.early_minutes > 0).label("early_count"),
        total(c.early_minutes).label("early_minutes"),
        count_if(planned, c.attendance_id.is_(None), c.planned_end <= now).label("absences"),
        count_if(c.shift_id.is_(None)).label("unplanned_count"),
        total(c.worked_minutes).label("worked_minutes"),
        count_if(attended, c.clock_out_at.is_(None)).label("working_now"),
    ]


def attendance_summary(
    store_id: str, *, month: date, now: datetime, user_id: UUID | None = None
) -> sa.Select[Any]:
    """Per-person totals of the month containing ``month``, ordered by user name."""
    first, last = month_bounds(month)
    u = _day_rows(store_id, first, last, user_id)
    return (
        sa.select(u.c.user_id, staff.c.username, staff.c.display_name, *_counts(u, now))
        .join(staff, sa.and_(staff.c.store_id == store_id, staff.c.user_id == u.c.user_id))
        .group_by(u.c.user_id, staff.c.username, staff.c.display_name)
        .order_by(staff.c.username, u.c.user_id)
    )


def summary_out(month: date, row: Any) -> AttendanceSummaryOut:
    return AttendanceSummaryOut(
        month=month_name(month),
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        planned_shifts=row.planned_shifts,
        attended_shifts=row.attended_shifts,
        planned_minutes=row.planned_minutes,
        late_count=row.late_count,
        late_minutes=row.late_minutes,
        late_unexplained=row.late_unexplained,
        early_count=row.early_count,
        early_minutes=row.early_minutes,
        absences=row.absences,
        unplanned_count=row.unplanned_count,
        worked_minutes=row.worked_minutes,
        worked_hours=round(row.worked_minutes / 60, 2),
    )


def attendance_today(
    conn: Connection, store_id: str, day: date, *, now: datetime | None = None
) -> AttendanceTodayOut:
    """Attendance counts of one store-local day, for the store KPIs (指标) and audits.

    ``now`` decides which planned shifts are already absent; it defaults to the wall clock,
    and for a past day any value after the day gives the final counts.
    """
    at = now or datetime.now(UTC)
    u = _day_rows(store_id, day, day, None)
    row = conn.execute(sa.select(*_counts(u, at))).one()
    return AttendanceTodayOut(
        day=day,
        planned=row.planned_shifts,
        clocked_in=row.attended_shifts,
        on_time=row.on_time,
        late=row.late_count,
        early_leave=row.early_count,
        absent=row.absences,
        unplanned=row.unplanned_count,
        working_now=row.working_now,
    )
