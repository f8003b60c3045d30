"""Shift planning commands (排班): plan, plan in bulk, change, cancel, swap, explain absence.

A shift's plan can change only while it is ``planned`` and not yet over: once somebody clocked
in for it, or it ended with nobody (absent), the plan is history that attendance refers to.

A shift is planned ahead: one whose start has passed (beyond the grace period) is refused
unless the manager says ``backdated`` (recording a roster afterwards, up to ``MAX_BACKDATE``
back). A mistaken plan can always be cancelled, even one that looks absent or that somebody
clocked in for: the hours they clocked stay, as unplanned work, and what was judged against
the plan (lateness, early leave, the absence) goes with it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from uuid_utils.compat import uuid7

from schema.api.shifts import (
    AbsenceReasonIn,
    ShiftBatchIn,
    ShiftBatchOut,
    ShiftCancelIn,
    ShiftChangeIn,
    ShiftIn,
    ShiftOut,
    ShiftSwapIn,
    ShiftSwapOut,
)
from schema.events.shifts import (
    ShiftAbsenceExplained,
    ShiftCancelled,
    ShiftChanged,
    ShiftPlanned,
    ShiftsSwapped,
)
from schema.tables.shifts import shifts
from server.domain.calendar import plausible_day
from server.domain.context import Ctx
from server.domain.guards import actor_staff, require_state, staff_member
from server.domain.shifts.reads import get_shift, shift_row
from server.domain.shifts.rules import GRACE_MINUTES, MAX_BACKDATE, latest_end, local_instant
from server.errors import Forbidden, ShiftInPast, ShiftOverlap, ValidationFailed

# ---------------------------------------------------------------- who acts


def require_self_or_manager(ctx: Ctx, user_id: UUID, what: str) -> None:
    """Only the person concerned or a manager may do ``what``."""
    actor = actor_staff(ctx.conn, ctx.store_id, ctx.actor)
    if actor is None or (actor.user_id != user_id and actor.role != "manager"):
        raise Forbidden(f"only the staff member or a manager may {what}")


# ---------------------------------------------------------------- validation


def _current_state(ctx: Ctx, row: Any) -> str:
    if row.status == "planned" and row.ends_at <= ctx.now:
        return "absent"
    state: str = row.status
    return state


def _what(row: Any) -> str:
    return f"{row.username}'s shift of {row.day.isoformat()} {row.start_time:%H:%M}"


def _require_planned(ctx: Ctx, row: Any, action: str) -> None:
    require_state(_current_state(ctx, row), ["planned"], action, _what(row))


def _check_times(ctx: Ctx, start: time, end: time, prefix: str) -> None:
    """Staff hours: from opening to 30 minutes after closing, end after start.

    Times are store-local wall-clock times: the request types refuse one with a UTC offset.
    """
    if end <= start:
        raise ValidationFailed("the shift must end after it starts", field=prefix + "end_time")
    opens, last = ctx.store.open_time, latest_end(ctx.store.close_time)
    if start < opens:
        raise ValidationFailed(
            f"a shift cannot start before the hall opens at {opens:%H:%M}",
            field=prefix + "start_time",
        )
    if end > last:
        raise ValidationFailed(
            f"a shift must end by {last:%H:%M} (30 minutes after the hall closes)",
            field=prefix + "end_time",
        )


def _check_no_overlap(
    ctx: Ctx,
    user_id: UUID,
    day: date,
    start: time,
    end: time,
    *,
    ignore: tuple[UUID, ...] = (),
    field: str = "start_time",
) -> None:
    """A person works at most one shift at a time: refuse one overlapping another that day."""
    q = sa.select(shifts).where(
        shifts.c.store_id == ctx.store_id,
        shifts.c.user_id == user_id,
        shifts.c.day == day,
        shifts.c.status != "cancelled",
        shifts.c.start_time < end,
        shifts.c.end_time > start,
    )
    if ignore:
        q = q.where(shifts.c.shift_id.not_in(ignore))
    clash = ctx.conn.execute(q.limit(1)).first()
    if clash is not None:
        raise ShiftOverlap(
            f"overlaps this person's shift {clash.start_time:%H:%M}–{clash.end_time:%H:%M} "
            f"on {day.isoformat()}",
            field=field,
            shift_id=str(clash.shift_id),
        )


# ---------------------------------------------------------------- commands


def plan_shift(
    ctx: Ctx, cmd: ShiftIn, *, batch_id: UUID | None = None, prefix: str = ""
) -> ShiftOut:
    """Plan one shift for an active staff member, within staff hours, starting from now (or,
    ``backdated``, one that has already started or ended)."""
    staff_member(ctx.conn, ctx.store_id, cmd.user_id, field=prefix + "user_id")
    plausible_day(cmd.day, ctx.today, prefix + "day")
    _check_times(ctx, cmd.start_time, cmd.end_time, prefix)
    zone = ctx.store.zone
    starts_at = local_instant(cmd.day, cmd.start_time, zone)
    _check_not_past(ctx, cmd, starts_at, prefix)
    _check_no_overlap(
        ctx, cmd.user_id, cmd.day, cmd.start_time, cmd.end_time, field=prefix + "start_time"
    )
    event = ctx.emit(
        ShiftPlanned,
        shift_id=uuid7(),
        user_id=cmd.user_id,
        day=cmd.day,
        start_time=cmd.start_time,
        end_time=cmd.end_time,
        starts_at=starts_at,
        ends_at=local_instant(cmd.day, cmd.end_time, zone),
        window=cmd.window,
        note=cmd.note,
        batch_id=batch_id,
    )
    return get_shift(ctx.conn, ctx.store_id, event.shift_id, ctx.now)


def _check_not_past(ctx: Ctx, cmd: ShiftIn, starts_at: datetime, prefix: str) -> None:
    """A shift whose start has passed would be ``absent`` (or late) the moment it is planned:
    only a manager's explicit ``backdated`` plan may do that, and only ``MAX_BACKDATE`` back."""
    field = prefix + ("day" if cmd.day < ctx.today else "start_time")
    if cmd.backdated:
        if starts_at < ctx.now - MAX_BACKDATE:
            raise ShiftInPast(
                f"a back-dated shift may start at most {MAX_BACKDATE.days} days ago", field=field
            )
        return
    if starts_at < ctx.now - timedelta(minutes=GRACE_MINUTES):
        raise ShiftInPast(
            f"the shift would start at {ctx.local(starts_at):%Y-%m-%d %H:%M}, which has passed "
            f"(it is {ctx.local(ctx.now):%Y-%m-%d %H:%M}); plan it from now, or send "
            '"backdated": true to record a shift afterwards',
            field=field,
        )


def plan_shifts(ctx: Ctx, cmd: ShiftBatchIn) -> ShiftBatchOut:
    """Plan many shifts in one go; any invalid one refuses the whole batch, naming it."""
    batch_id = uuid7()
    items = [
        plan_shift(ctx, item, batch_id=batch_id, prefix=f"shifts[{i}].")
        for i, item in enumerate(cmd.shifts)
    ]
    return ShiftBatchOut(batch_id=batch_id, items=items)


def change_shift(ctx: Ctx, shift_id: UUID, cmd: ShiftChangeIn) -> ShiftOut:
    """Move a planned shift's start or end, or change its window or note (same day)."""
    row = shift_row(ctx.conn, ctx.store_id, shift_id)
    _require_planned(ctx, row, "change")
    start = row.start_time if cmd.start_time is None else cmd.start_time
    end = row.end_time if cmd.end_time is None else cmd.end_time
    _check_times(ctx, start, end, "")
    _check_no_overlap(ctx, row.user_id, row.day, start, end, ignore=(shift_id,))
    zone = ctx.store.zone
    ctx.emit(
        ShiftChanged,
        shift_id=shift_id,
        start_time=start,
        end_time=end,
        starts_at=local_instant(row.day, start, zone),
        ends_at=local_instant(row.day, end, zone),
        window=row.window_code if cmd.window is msgspec.UNSET else cmd.window,
        note=row.note if cmd.note is msgspec.UNSET else cmd.note,
    )
    return get_shift(ctx.conn, ctx.store_id, shift_id, ctx.now)


def cancel_shift(ctx: Ctx, shift_id: UUID, cmd: ShiftCancelIn) -> ShiftOut:
    """Cancel a shift (取消排班), whenever it is: ahead, under way, over with nobody (absent)
    or worked. A clock-in for it stays, as unplanned work (see the module docstring)."""
    row = shift_row(ctx.conn, ctx.store_id, shift_id)
    require_state(row.status, ["planned", "started", "completed"], "cancel", _what(row))
    ctx.emit(ShiftCancelled, shift_id=shift_id, reason=cmd.reason)
    return get_shift(ctx.conn, ctx.store_id, shift_id, ctx.now)


def swap_shifts(ctx: Ctx, cmd: ShiftSwapIn) -> ShiftSwapOut:
    """Give each of two staff members the other's planned shift (换班)."""
    if cmd.first_shift_id == cmd.second_shift_id:
        raise ValidationFailed("swap two different shifts", field="second_shift_id")
    first = shift_row(ctx.conn, ctx.store_id, cmd.first_shift_id)
    second = shift_row(ctx.conn, ctx.store_id, cmd.second_shift_id)
    if first.user_id == second.user_id:
        raise ValidationFailed(
            "both shifts belong to the same person; change the shift instead",
            field="second_shift_id",
        )
    for row in (first, second):
        _require_planned(ctx, row, "swap")
    staff_member(ctx.conn, ctx.store_id, second.user_id, field="second_shift_id")
    staff_member(ctx.conn, ctx.store_id, first.user_id, field="first_shift_id")
    both = (first.shift_id, second.shift_id)
    # Each person takes the other's shift: it must fit around their remaining shifts.
    _check_no_overlap(
        ctx,
        second.user_id,
        first.day,
        first.start_time,
        first.end_time,
        ignore=both,
        field="first_shift_id",
    )
    _check_no_overlap(
        ctx,
        first.user_id,
        second.day,
        second.start_time,
        second.end_time,
        ignore=both,
        field="second_shift_id",
    )
    ctx.emit(
        ShiftsSwapped,
        first_shift_id=first.shift_id,
        first_user_id=second.user_id,
        second_shift_id=second.shift_id,
        second_user_id=first.user_id,
        reason=cmd.reason,
    )
    return ShiftSwapOut(
        first=get_shift(ctx.conn, ctx.store_id, first.shift_id, ctx.now),
        second=get_shift(ctx.conn, ctx.store_id, second.shift_id, ctx.now),
    )


def explain_absence(ctx: Ctx, shift_id: UUID, cmd: AbsenceReasonIn) -> ShiftOut:
    """Record why nobody clocked in for a shift that is over (the person or a manager)."""
    row = shift_row(ctx.conn, ctx.store_id, shift_id)
    require_self_or_manager(ctx, row.user_id, "explain an absence")
    require_state(
        _current_state(ctx, row),
        ["absent"],
        "explain an absence from",
        _what(row),
        hint="only a shift that ended with nobody clocked in can be explained",
    )
    ctx.emit(ShiftAbsenceExplained, shift_id=shift_id, reason=cmd.reason)
    return get_shift(ctx.conn, ctx.store_id, shift_id, ctx.now)
