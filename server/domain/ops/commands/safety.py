"""Fire safety records: fire drills (消防演练) and fire inspections (防火检查).

Both are plain records of something that already happened; the audits check that one of each
exists every month, so the store-local day is what matters most.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection
from uuid_utils.compat import uuid7

from schema.api.common import Page
from schema.api.ops import FireDrillIn, FireDrillOut, FireInspectionIn, FireInspectionOut
from schema.events.ops import FireDrillRecorded, FireInspectionRecorded
from schema.tables.ops import ops_fire_drill_participants, ops_fire_drills, ops_fire_inspections
from server.domain.common import (
    blank_checked,
    known_staff,
    plausible_day,
    row_or_404,
    whole_minutes,
)
from server.domain.context import Ctx
from server.domain.paging import paginate
from server.domain.projection import projects
from server.errors import ValidationFailed

# ---------------------------------------------------------------- projectors


@projects(FireDrillRecorded)
def _drill(conn: Connection, e: FireDrillRecorded) -> None:
    conn.execute(
        ops_fire_drills.insert().values(
            store_id=e.store_id,
            drill_id=e.drill_id,
            day=e.day,
            start_time=e.start_time,
            end_time=e.end_time,
            duration_min=e.duration_min,
            scenario=e.scenario,
            findings=e.findings,
            conducted_by=e.conducted_by,
            participant_count=len(e.participants),
            recorded_at=e.at,
            recorded_by=e.actor,
        )
    )
    if e.participants:
        conn.execute(
            ops_fire_drill_participants.insert(),
            [
                {"store_id": e.store_id, "drill_id": e.drill_id, "user_id": u}
                for u in e.participants
            ],
        )


@projects(FireInspectionRecorded)
def _inspection(conn: Connection, e: FireInspectionRecorded) -> None:
    conn.execute(
        ops_fire_inspections.insert().values(
            store_id=e.store_id,
            inspection_id=e.inspection_id,
            day=e.day,
            inspector=e.inspector,
            passed=e.passed,
            issues=list(e.issues),
            note=e.note,
            recorded_at=e.at,
            recorded_by=e.actor,
        )
    )


# ---------------------------------------------------------------- commands


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


# ---------------------------------------------------------------- reads


def _participants(conn: Connection, store_id: str, drill_ids: list[UUID]) -> dict[UUID, list[UUID]]:
    p = ops_fire_drill_participants
    by_drill: dict[UUID, list[UUID]] = {d: [] for d in drill_ids}
    rows = conn.execute(
        sa.select(p.c.drill_id, p.c.user_id)
        .where(p.c.store_id == store_id, p.c.drill_id.in_(drill_ids))
        .order_by(p.c.drill_id, p.c.user_id)
    )
    for r in rows:
        by_drill[r.drill_id].append(r.user_id)
    return by_drill


def _drill_out(r: Any, participants: list[UUID]) -> FireDrillOut:
    return FireDrillOut(
        drill_id=r.drill_id,
        day=r.day,
        start_time=r.start_time,
        end_time=r.end_time,
        duration_min=r.duration_min,
        scenario=r.scenario,
        participants=participants,
        findings=r.findings,
        conducted_by=r.conducted_by,
        recorded_at=r.recorded_at,
        recorded_by=r.recorded_by,
    )


def get_fire_drill(conn: Connection, store_id: str, drill_id: UUID) -> FireDrillOut:
    d = ops_fire_drills
    row = row_or_404(conn, d, store_id, d.c.drill_id, drill_id, "fire drill")
    return _drill_out(row, _participants(conn, store_id, [drill_id])[drill_id])


def page_fire_drills(
    conn: Connection,
    store_id: str,
    *,
    date_from: date | None,
    date_to: date | None,
    limit: int,
    offset: int,
) -> Page[FireDrillOut]:
    """One page of drills, newest first, with their participants."""
    d = ops_fire_drills
    q = sa.select(d).where(d.c.store_id == store_id)
    if date_from is not None:
        q = q.where(d.c.day >= date_from)
    if date_to is not None:
        q = q.where(d.c.day <= date_to)
    q = q.order_by(d.c.day.desc(), d.c.start_time.desc(), d.c.drill_id)
    page = paginate(conn, q, lambda r: r, limit=limit, offset=offset)
    people = _participants(conn, store_id, [r.drill_id for r in page.items])
    return Page(
        items=[_drill_out(r, people[r.drill_id]) for r in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_offset=page.next_offset,
    )


def fire_inspection_out(r: Any) -> FireInspectionOut:
    return FireInspectionOut(
        inspection_id=r.inspection_id,
        day=r.day,
        inspector=r.inspector,
        passed=r.passed,
        issues=list(r.issues),
        note=r.note,
        recorded_at=r.recorded_at,
        recorded_by=r.recorded_by,
    )


def get_fire_inspection(conn: Connection, store_id: str, inspection_id: UUID) -> FireInspectionOut:
    i = ops_fire_inspections
    row = row_or_404(conn, i, store_id, i.c.inspection_id, inspection_id, "fire inspection")
    return fire_inspection_out(row)


def list_fire_inspections(
    conn: Connection,
    store_id: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    passed: bool | None = None,
) -> sa.Select[Any]:
    """Inspections, newest first; the API layer pages it."""
    i = ops_fire_inspections
    q = sa.select(i).where(i.c.store_id == store_id)
    if date_from is not None:
        q = q.where(i.c.day >= date_from)
    if date_to is not None:
        q = q.where(i.c.day <= date_to)
    if passed is not None:
        q = q.where(i.c.passed == passed)
    return q.order_by(i.c.day.desc(), i.c.recorded_at.desc())
