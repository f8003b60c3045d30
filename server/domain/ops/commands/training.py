"""Training sessions (培训): planned with invited staff, attendance recorded per staff member,
then completed (or cancelled). Monthly attendance per staff member feeds the training audit.

    planned ──record attendance…──▶ planned ──complete──▶ completed
        └──cancel──▶ cancelled
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from uuid_utils.compat import uuid7

from schema.api.ops import AttendanceEntryIn, TrainingDetailOut, TrainingIn
from schema.events.ops import (
    TrainingAttendanceRecorded,
    TrainingCancelled,
    TrainingCompleted,
    TrainingPlanned,
)
from server.domain.calendar import plausible_day
from server.domain.context import Ctx
from server.domain.guards import blank_checked, known_staff, require_state
from server.domain.ops.reads.training import attendance_rows, get_training, training_row
from server.errors import Conflict, Incomplete, ValidationFailed


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
    row = training_row(ctx.conn, ctx.store_id, session_id)
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
    people = attendance_rows(ctx.conn, ctx.store_id, session_id)
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
