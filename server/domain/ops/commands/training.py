"""Training sessions (培训): planned with invited staff, attendance recorded per staff member,
then completed (or cancelled). Monthly attendance per staff member feeds the training audit.

    planned ──record attendance…──▶ planned ──complete──▶ completed
        └──cancel──▶ cancelled
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection
from uuid_utils.compat import uuid7

from schema.api.ops import (
    AttendanceEntryIn,
    MonthlyAttendanceOut,
    TrainingAttendanceOut,
    TrainingDetailOut,
    TrainingIn,
    TrainingOut,
    TrainingStatus,
)
from schema.events.ops import (
    TrainingAttendanceRecorded,
    TrainingCancelled,
    TrainingCompleted,
    TrainingKind,
    TrainingPlanned,
)
from schema.tables.core import staff
from schema.tables.ops import ops_training_attendance, ops_trainings
from server.domain.common import (
    blank_checked,
    known_staff,
    month_bounds,
    month_name,
    plausible_day,
    require_state,
    upsert,
)
from server.domain.context import Ctx
from server.domain.projection import projects
from server.errors import Conflict, Incomplete, NotFound, ValidationFailed

# ---------------------------------------------------------------- projectors


@projects(TrainingPlanned)
def _planned(conn: Connection, e: TrainingPlanned) -> None:
    conn.execute(
        ops_trainings.insert().values(
            store_id=e.store_id,
            session_id=e.session_id,
            topic=e.topic,
            kind=e.kind,
            day=e.day,
            start_time=e.start_time,
            duration_min=e.duration_min,
            trainer=e.trainer,
            status="planned",
            planned_at=e.at,
            planned_by=e.actor,
        )
    )
    if e.invited:
        conn.execute(
            ops_training_attendance.insert(),
            [
                {
                    "store_id": e.store_id,
                    "session_id": e.session_id,
                    "user_id": u,
                    "invited": True,
                    "status": None,
                    "note": "",
                    "recorded_at": None,
                    "recorded_by": None,
                }
                for u in e.invited
            ],
        )


@projects(TrainingAttendanceRecorded)
def _attendance(conn: Connection, e: TrainingAttendanceRecorded) -> None:
    # An invited member's row exists from planning; anyone else joined uninvited (walk-in),
    # which only the row's creation says.
    upsert(
        conn,
        ops_training_attendance,
        {
            "store_id": e.store_id,
            "session_id": e.session_id,
            "user_id": e.user_id,
            "invited": False,
            "status": e.status,
            "note": e.note,
            "recorded_at": e.at,
            "recorded_by": e.actor,
        },
        ["store_id", "session_id", "user_id"],
        insert_only=["invited"],
    )


@projects(TrainingCompleted)
def _completed(conn: Connection, e: TrainingCompleted) -> None:
    _set(conn, e.store_id, e.session_id, status="completed", completed_at=e.at)


@projects(TrainingCancelled)
def _cancelled(conn: Connection, e: TrainingCancelled) -> None:
    _set(
        conn,
        e.store_id,
        e.session_id,
        status="cancelled",
        cancelled_at=e.at,
        cancel_reason=e.reason,
    )


def _set(conn: Connection, store_id: str, session_id: UUID, **values: Any) -> None:
    t = ops_trainings
    conn.execute(
        t.update().where(t.c.store_id == store_id, t.c.session_id == session_id).values(**values)
    )


# ---------------------------------------------------------------- commands


def plan_training(ctx: Ctx, cmd: TrainingIn) -> TrainingDetailOut:
    """Plan a session and invite active staff members to it."""
    plausible_day(cmd.day, ctx.today, "day")
    invited = known_staff(ctx.conn, ctx.store_id, cmd.invited, field="invited", active=True)
    event = ctx.emit(
        TrainingPlanned,
        session_id=uuid7(),
        topic=blank_checked(cmd.topic, "topic"),
        kind=cmd.kind,
        day=cmd.day,
        start_time=cmd.start_time,
        duration_min=cmd.duration_min,
        trainer=blank_checked(cmd.trainer, "trainer"),
        invited=invited,
    )
    return get_training(ctx.conn, ctx.store_id, event.session_id)


def _planned_session(ctx: Ctx, session_id: UUID, action: str) -> Any:
    row = _row(ctx.conn, ctx.store_id, session_id)
    require_state(row.status, ["planned"], action, f"training session {row.topic}")
    return row


def _held(ctx: Ctx, row: Any, action: str) -> None:
    if row.day > ctx.today:
        raise Conflict(f"the session is on {row.day}; {action} on or after that day")


def record_attendance(
    ctx: Ctx, session_id: UUID, entries: list[AttendanceEntryIn]
) -> TrainingDetailOut:
    """Record present / absent / excused for some staff members (a later record replaces an
    earlier one until the session is completed)."""
    row = _planned_session(ctx, session_id, "record attendance of")
    _held(ctx, row, "record attendance")
    ids = [e.user_id for e in entries]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("a staff member appears twice", field="entries")
    known_staff(ctx.conn, ctx.store_id, ids, field="entries", active=False)
    for entry in entries:
        ctx.emit(
            TrainingAttendanceRecorded,
            session_id=session_id,
            user_id=entry.user_id,
            status=entry.status,
            note=entry.note.strip(),
        )
    return get_training(ctx.conn, ctx.store_id, session_id)


def complete_training(ctx: Ctx, session_id: UUID) -> TrainingDetailOut:
    """Close the session; refused while an invited member has no attendance recorded."""
    row = _planned_session(ctx, session_id, "complete")
    _held(ctx, row, "complete it")
    people = _attendance_rows(ctx.conn, ctx.store_id, session_id)
    missing = [p.username for p in people if p.status is None]
    if missing:
        raise Incomplete(
            f"no attendance recorded yet for: {', '.join(missing)}",
            missing=[str(p.user_id) for p in people if p.status is None],
        )
    ctx.emit(
        TrainingCompleted,
        session_id=session_id,
        present=sum(p.status == "present" for p in people),
        absent=sum(p.status == "absent" for p in people),
        excused=sum(p.status == "excused" for p in people),
    )
    return get_training(ctx.conn, ctx.store_id, session_id)


def cancel_training(ctx: Ctx, session_id: UUID, reason: str) -> TrainingDetailOut:
    """Call a planned session off."""
    _planned_session(ctx, session_id, "cancel")
    ctx.emit(TrainingCancelled, session_id=session_id, reason=blank_checked(reason, "reason"))
    return get_training(ctx.conn, ctx.store_id, session_id)


# ---------------------------------------------------------------- reads


def _row(conn: Connection, store_id: str, session_id: UUID) -> Any:
    row = conn.execute(_sessions(store_id).where(ops_trainings.c.session_id == session_id)).first()
    if row is None:
        raise NotFound(f"no training session {session_id}")
    return row


def _attendance_rows(conn: Connection, store_id: str, session_id: UUID) -> list[Any]:
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
    row = _row(conn, store_id, session_id)
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
        for p in _attendance_rows(conn, store_id, session_id)
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
