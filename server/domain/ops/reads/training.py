"""Reads of training sessions (培训): one session with everyone's attendance, lists, and the
monthly attendance per staff member that the training audit checks.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.ops import (
    MonthlyAttendanceOut,
    TrainingAttendanceOut,
    TrainingDetailOut,
    TrainingOut,
    TrainingStatus,
)
from schema.events.ops import TrainingKind
from schema.tables.core import staff
from schema.tables.ops import ops_training_attendance, ops_trainings
from server.domain.calendar import month_bounds, month_name
from server.errors import NotFound


def training_row(conn: Connection, store_id: str, session_id: UUID) -> Any:
    """The session's row with its attendance counts, or 404."""
    row = conn.execute(_sessions(store_id).where(ops_trainings.c.session_id == session_id)).first()
    if row is None:
        raise NotFound(f"no training session {session_id}")
    return row


def attendance_rows(conn: Connection, store_id: str, session_id: UUID) -> list[Any]:
    """The session's attendance rows with each member's names, by user name."""
    a = ops_training_attendance
    return list(
        conn.execute(
            sa.select(a, staff.c.username, staff.c.display_name)
            .join(staff, (staff.c.store_id == a.c.store_id) & (staff.c.user_id == a.c.user_id))
            .where(a.c.store_id == store_id, a.c.session_id == session_id)
            .order_by(staff.c.username)
        ).all()
    )


def _sessions(store_id: str) -> sa.Select[Any]:
    """Sessions with their attendance counts."""
    a = ops_training_attendance
    counts = (
        sa.select(
            a.c.session_id,
            sa.func.count().filter(a.c.invited).label("invited_count"),
            sa.func.count().filter(a.c.status == "present").label("present"),
            sa.func.count().filter(a.c.status == "absent").label("absent"),
            sa.func.count().filter(a.c.status == "excused").label("excused"),
        )
        .where(a.c.store_id == store_id)
        .group_by(a.c.session_id)
        .subquery()
    )
    t = ops_trainings
    return (
        sa.select(
            t,
            *(
                sa.func.coalesce(counts.c[name], 0).label(name)
                for name in ("invited_count", "present", "absent", "excused")
            ),
        )
        .outerjoin(counts, counts.c.session_id == t.c.session_id)
        .where(t.c.store_id == store_id)
    )


def _fields(r: Any) -> dict[str, Any]:
    return {
        name: getattr(r, name)
        for name in (
            "session_id",
            "topic",
            "kind",
            "day",
            "start_time",
            "duration_min",
            "trainer",
            "status",
            "planned_at",
            "planned_by",
            "completed_at",
            "cancelled_at",
            "cancel_reason",
            "invited_count",
            "present",
            "absent",
            "excused",
        )
    }


def training_out(r: Any) -> TrainingOut:
    return TrainingOut(**_fields(r))


def get_training(conn: Connection, store_id: str, session_id: UUID) -> TrainingDetailOut:
    """One session with everyone's attendance."""
    row = training_row(conn, store_id, session_id)
    attendance = [
        TrainingAttendanceOut(
            user_id=p.user_id,
            username=p.username,
            display_name=p.display_name,
            invited=p.invited,
            status=p.status,
            note=p.note,
            recorded_at=p.recorded_at,
            recorded_by=p.recorded_by,
        )
        for p in attendance_rows(conn, store_id, session_id)
    ]
    return TrainingDetailOut(**_fields(row), attendance=attendance)


def list_trainings(
    conn: Connection,
    store_id: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    kind: TrainingKind | None = None,
    status: TrainingStatus | None = None,
) -> sa.Select[Any]:
    """Sessions by day (newest first), filtered; the API layer pages it."""
    t = ops_trainings
    q = _sessions(store_id)
    if date_from is not None:
        q = q.where(t.c.day >= date_from)
    if date_to is not None:
        q = q.where(t.c.day <= date_to)
    if kind is not None:
        q = q.where(t.c.kind == kind)
    if status is not None:
        q = q.where(t.c.status == status)
    return q.order_by(t.c.day.desc(), t.c.start_time.desc(), t.c.session_id)


def monthly_attendance(
    conn: Connection,
    store_id: str,
    month: date,
    *,
    kind: TrainingKind | None = None,
    user_id: UUID | None = None,
) -> sa.Select[Any]:
    """Training attendance of each staff member in the month containing ``month`` (cancelled
    sessions left out).

    Every active staff member appears, with zeros when they had no training: that is what the
    "staff with no training this month" audit looks for. Former staff appear only for months
    they had sessions in.
    """
    first, last = month_bounds(month)
    a, t = ops_training_attendance, ops_trainings
    present = a.c.status == "present"
    agg = (
        sa.select(
            a.c.user_id,
            sa.func.count().label("sessions"),
            sa.func.count().filter(present).label("present"),
            sa.func.count().filter(a.c.status == "absent").label("absent"),
            sa.func.count().filter(a.c.status == "excused").label("excused"),
            sa.func.count().filter(a.c.status.is_(None)).label("unrecorded"),
            sa.func.sum(sa.case((present, t.c.duration_min), else_=0)).label("minutes_trained"),
        )
        .join(t, (t.c.store_id == a.c.store_id) & (t.c.session_id == a.c.session_id))
        .where(a.c.store_id == store_id, t.c.status != "cancelled")
        .where(t.c.day >= first, t.c.day <= last)
        .group_by(a.c.user_id)
    )
    if kind is not None:
        agg = agg.where(t.c.kind == kind)
    sub = agg.subquery()
    numbers = ("sessions", "present", "absent", "excused", "unrecorded", "minutes_trained")
    q = (
        sa.select(
            sa.literal(month_name(month)).label("month"),
            staff.c.user_id,
            staff.c.username,
            staff.c.display_name,
            staff.c.role,
            *(sa.func.coalesce(sub.c[n], 0).label(n) for n in numbers),
        )
        .outerjoin(sub, sub.c.user_id == staff.c.user_id)
        .where(staff.c.store_id == store_id, staff.c.active | sub.c.user_id.is_not(None))
    )
    if user_id is not None:
        q = q.where(staff.c.user_id == user_id)
    return q.order_by(staff.c.username)


def monthly_attendance_out(r: Any) -> MonthlyAttendanceOut:
    return MonthlyAttendanceOut(
        month=r.month,
        user_id=r.user_id,
        username=r.username,
        display_name=r.display_name,
        role=r.role,
        sessions=r.sessions,
        present=r.present,
        absent=r.absent,
        excused=r.excused,
        unrecorded=r.unrecorded,
        minutes_trained=r.minutes_trained,
    )
