"""Attendance commands (考勤): clock in (签到), clock out (签退), breaks (休息), reasons.

Staff clock themselves; a manager may act for someone (with a reason) and may record a time
afterwards (``at``, with a reason) when someone forgot. Lateness, early leave, break and worked
minutes are computed here, by the rules in ``server.domain.shifts.rules``, and travel in the
events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from uuid_utils.compat import uuid7

from schema.api.shifts import AttendanceOut, ClockActionIn, ReasonIn
from schema.events.shifts import (
    AttendanceReasonRecorded,
    BreakEnded,
    BreakStarted,
    ClockedIn,
    ClockedOut,
)
from schema.tables.shifts import attendance_breaks, attendance_records, shifts
from server.domain.calendar import whole_minutes
from server.domain.context import Ctx
from server.domain.guards import actor_staff, staff_member
from server.domain.shifts.commands.planning import require_self_or_manager
from server.domain.shifts.reads import get_attendance, open_record
from server.domain.shifts.rules import MAX_BACKDATE, early_minutes, late_minutes
from server.errors import Conflict, Forbidden, IllegalTransition, ValidationFailed

# Built once (see ``server.domain.sql``).
_a = attendance_records
_LAST_CLOCK_OUT = (
    sa.select(_a.c.clock_out_at)
    .where(_a.c.store_id == sa.bindparam("store_id"), _a.c.user_id == sa.bindparam("user_id"))
    .order_by(_a.c.clock_in_at.desc())
    .limit(1)
)
_NEXT_PLANNED_SHIFT = (
    sa.select(shifts.c.shift_id, shifts.c.starts_at)
    .where(
        shifts.c.store_id == sa.bindparam("store_id"),
        shifts.c.user_id == sa.bindparam("user_id"),
        shifts.c.day == sa.bindparam("day"),
        shifts.c.status == "planned",
        shifts.c.ends_at > sa.bindparam("at"),
    )
    .order_by(shifts.c.starts_at)
    .limit(1)
)
_SHIFT_END = sa.select(shifts.c.ends_at).where(
    shifts.c.store_id == sa.bindparam("store_id"), shifts.c.shift_id == sa.bindparam("shift_id")
)


def _acting(
    ctx: Ctx, user_id: UUID, cmd: ClockActionIn, *, closing: bool = False
) -> tuple[datetime, str | None]:
    """Check who may clock for ``user_id`` and when; the instant and the on-behalf reason.

    A staff member clocks for themselves at the current time. Acting for someone else, or
    giving an earlier time, is for managers, and needs a reason that goes into the event.
    Only active staff start anything; ``closing`` (a clock-out, a break's end) is also allowed
    for someone who left while clocked in, so a manager can close their record.
    """
    target = staff_member(ctx.conn, ctx.store_id, user_id, field="user_id", active=not closing)
    actor = actor_staff(ctx.conn, ctx.store_id, ctx.actor)
    on_behalf = actor is None or actor.user_id != target.user_id
    if not on_behalf and cmd.at is None:
        return ctx.now, None
    if actor is None or actor.role != "manager":
        raise Forbidden(
            "only a manager may clock for someone else or record an earlier time",
            role=None if actor is None else actor.role,
        )
    if cmd.reason is None or not cmd.reason.strip():
        raise ValidationFailed(
            "say why you clock for this person or record an earlier time", field="reason"
        )
    at = ctx.now
    if cmd.at is not None:
        if cmd.at.tzinfo is None:
            raise ValidationFailed("give the time with its UTC offset", field="at")
        if cmd.at > ctx.now:
            raise ValidationFailed("cannot record a time in the future", field="at")
        if cmd.at < ctx.now - MAX_BACKDATE:
            raise ValidationFailed(
                f"cannot record a time more than {MAX_BACKDATE.days} days back", field="at"
            )
        at = cmd.at
    return at, cmd.reason


def _open(ctx: Ctx, user_id: UUID) -> Any:
    record = open_record(ctx.conn, ctx.store_id, user_id)
    if record is None:
        raise IllegalTransition(
            f"{_name(ctx, user_id)} is clocked_out: not clocked in", state="clocked_out"
        )
    return record


def _name(ctx: Ctx, user_id: UUID) -> str:
    name: str = staff_member(
        ctx.conn, ctx.store_id, user_id, field="user_id", active=False
    ).username
    return name


def clock_in(ctx: Ctx, user_id: UUID, cmd: ClockActionIn) -> AttendanceOut:
    """Open an attendance record, linked to the person's next planned shift that day."""
    clocked_at, note = _acting(ctx, user_id, cmd)
    current = open_record(ctx.conn, ctx.store_id, user_id)
    if current is not None:
        raise IllegalTransition(
            f"{current.username} is clocked_in: already clocked in since "
            f"{ctx.local(current.clock_in_at):%Y-%m-%d %H:%M}; clock out first",
            state="clocked_in",
            attendance_id=str(current.attendance_id),
        )
    last = ctx.conn.execute(_LAST_CLOCK_OUT, {"store_id": ctx.store_id, "user_id": user_id}).first()
    if last is not None and last.clock_out_at > clocked_at:
        raise ValidationFailed("the clock-in must be after the person's last clock-out", field="at")
    day = ctx.local(clocked_at).date()
    # The person's earliest planned shift of the day that is not over yet; a shift already
    # clocked in for (started/completed) is no longer "planned", so it is not picked twice.
    shift = ctx.conn.execute(
        _NEXT_PLANNED_SHIFT,
        {"store_id": ctx.store_id, "user_id": user_id, "day": day, "at": clocked_at},
    ).first()
    event = ctx.emit(
        ClockedIn,
        attendance_id=uuid7(),
        user_id=user_id,
        day=day,
        clocked_at=clocked_at,
        shift_id=None if shift is None else shift.shift_id,
        late_minutes=0 if shift is None else late_minutes(shift.starts_at, clocked_at),
        on_behalf_reason=note,
    )
    return get_attendance(ctx.conn, ctx.store_id, event.attendance_id)


def _end_break(ctx: Ctx, record: Any, ended_at: datetime, note: str | None) -> int:
    """Close the record's open break at ``ended_at``; the record's new break total."""
    b = ctx.conn.execute(
        sa.select(attendance_breaks).where(
            attendance_breaks.c.store_id == ctx.store_id,
            attendance_breaks.c.break_id == record.open_break_id,
        )
    ).one()
    if ended_at < b.started_at:
        raise ValidationFailed("the break cannot end before it started", field="at")
    minutes = whole_minutes(b.started_at, ended_at)
    total: int = record.break_minutes + minutes
    ctx.emit(
        BreakEnded,
        break_id=b.break_id,
        attendance_id=record.attendance_id,
        user_id=record.user_id,
        ended_at=ended_at,
        minutes=minutes,
        total_break_minutes=total,
        on_behalf_reason=note,
    )
    return total


def clock_out(ctx: Ctx, user_id: UUID, cmd: ClockActionIn) -> AttendanceOut:
    """Close the person's open record; a break still running ends with it."""
    clocked_at, note = _acting(ctx, user_id, cmd, closing=True)
    record = _open(ctx, user_id)
    if clocked_at < record.clock_in_at:
        raise ValidationFailed("the clock-out cannot be before the clock-in", field="at")
    breaks: int = record.break_minutes
    if record.open_break_id is not None:
        breaks = _end_break(ctx, record, clocked_at, note)
    early = 0
    if record.shift_id is not None:
        # The shift cannot change once clocked in, so its end now is the end it had then.
        ends_at = ctx.conn.execute(
            _SHIFT_END, {"store_id": ctx.store_id, "shift_id": record.shift_id}
        ).scalar_one()
        early = early_minutes(ends_at, clocked_at)
    ctx.emit(
        ClockedOut,
        attendance_id=record.attendance_id,
        user_id=user_id,
        shift_id=record.shift_id,
        clocked_at=clocked_at,
        early_minutes=early,
        break_minutes=breaks,
        worked_minutes=max(whole_minutes(record.clock_in_at, clocked_at) - breaks, 0),
        on_behalf_reason=note,
    )
    return get_attendance(ctx.conn, ctx.store_id, record.attendance_id)


def start_break(ctx: Ctx, user_id: UUID, cmd: ClockActionIn) -> AttendanceOut:
    """Start a break (休息) within the person's clocked-in period."""
    started_at, note = _acting(ctx, user_id, cmd)
    record = _open(ctx, user_id)
    if record.open_break_id is not None:
        raise IllegalTransition(
            f"{record.username} is on_break: already on a break", state="on_break"
        )
    last_end = ctx.conn.execute(
        sa.select(sa.func.max(attendance_breaks.c.ended_at)).where(
            attendance_breaks.c.store_id == ctx.store_id,
            attendance_breaks.c.attendance_id == record.attendance_id,
        )
    ).scalar()
    if started_at < record.clock_in_at or (last_end is not None and started_at < last_end):
        raise ValidationFailed(
            "the break must start after the clock-in and any earlier break", field="at"
        )
    ctx.emit(
        BreakStarted,
        break_id=uuid7(),
        attendance_id=record.attendance_id,
        user_id=user_id,
        started_at=started_at,
        on_behalf_reason=note,
    )
    return get_attendance(ctx.conn, ctx.store_id, record.attendance_id)


def end_break(ctx: Ctx, user_id: UUID, cmd: ClockActionIn) -> AttendanceOut:
    """End the person's running break."""
    ended_at, note = _acting(ctx, user_id, cmd, closing=True)
    record = _open(ctx, user_id)
    if record.open_break_id is None:
        raise IllegalTransition(f"{record.username} is working: not on a break", state="working")
    _end_break(ctx, record, ended_at, note)
    return get_attendance(ctx.conn, ctx.store_id, record.attendance_id)


def record_reason(ctx: Ctx, attendance_id: UUID, cmd: ReasonIn) -> AttendanceOut:
    """Record why the person was late or left early (the person or a manager; last one wins)."""
    record = get_attendance(ctx.conn, ctx.store_id, attendance_id)
    require_self_or_manager(ctx, record.user_id, "explain this attendance record")
    if cmd.kind == "late" and record.late_minutes == 0:
        raise Conflict("this clock-in was not late; there is nothing to explain", field="kind")
    if cmd.kind == "early_leave" and record.early_minutes == 0:
        raise Conflict(
            "this record has no early leave (yet); there is nothing to explain", field="kind"
        )
    ctx.emit(
        AttendanceReasonRecorded, attendance_id=attendance_id, kind=cmd.kind, reason=cmd.reason
    )
    return get_attendance(ctx.conn, ctx.store_id, attendance_id)
