"""Fire safety records: fire drills (消防演练) and fire inspections (防火检查).

Both are plain records of something that already happened; the audits check that one of each
exists every month, so the store-local day is what matters most.
"""

from __future__ import annotations

from datetime import date, datetime

from uuid_utils.compat import uuid7

from schema.api.ops import FireDrillIn, FireDrillOut, FireInspectionIn, FireInspectionOut
from schema.events.ops import FireDrillRecorded, FireInspectionRecorded
from server.domain.calendar import plausible_day, whole_minutes
from server.domain.context import Ctx
from server.domain.guards import blank_checked, known_staff
from server.domain.ops.reads.safety import get_fire_drill, get_fire_inspection
from server.errors import ValidationFailed


def _not_future(ctx: Ctx, day: date, what: str) -> None:
    if day > ctx.today:
        raise ValidationFailed(
            f"{what} on {day} has not happened yet (today is {ctx.today})", field="day"
        )
    plausible_day(day, ctx.today, "day")


def record_fire_drill(ctx: Ctx, cmd: FireDrillIn) -> FireDrillOut:
    """Record a fire drill that took place (today or earlier)."""
    _not_future(ctx, cmd.day, "a drill")
    if cmd.end_time <= cmd.start_time:
        raise ValidationFailed("the drill must end after it starts", field="end_time")
    participants = known_staff(
        ctx.conn, ctx.store_id, cmd.participants, field="participants", active=False
    )
    start = datetime.combine(cmd.day, cmd.start_time)
    end = datetime.combine(cmd.day, cmd.end_time)
    event = ctx.emit(
        FireDrillRecorded,
        drill_id=uuid7(),
        day=cmd.day,
        start_time=cmd.start_time,
        end_time=cmd.end_time,
        duration_min=whole_minutes(start, end),
        scenario=blank_checked(cmd.scenario, "scenario"),
        participants=participants,
        findings=cmd.findings.strip(),
        conducted_by=blank_checked(cmd.conducted_by, "conducted_by"),
    )
    return get_fire_drill(ctx.conn, ctx.store_id, event.drill_id)


def record_fire_inspection(ctx: Ctx, cmd: FireInspectionIn) -> FireInspectionOut:
    """Record a fire inspection; a failed one must say what was wrong."""
    _not_future(ctx, cmd.day, "an inspection")
    issues = [i.strip() for i in cmd.issues if i.strip()]
    if not cmd.passed and not issues:
        raise ValidationFailed("list the issues of a failed inspection", field="issues")
    event = ctx.emit(
        FireInspectionRecorded,
        inspection_id=uuid7(),
        day=cmd.day,
        inspector=blank_checked(cmd.inspector, "inspector"),
        passed=cmd.passed,
        issues=issues,
        note=cmd.note.strip(),
    )
    return get_fire_inspection(ctx.conn, ctx.store_id, event.inspection_id)
