"""Reads of fire safety records: fire drills (消防演练) with their participants, and fire
inspections (防火检查).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.common import Page
from schema.api.ops import FireDrillOut, FireInspectionOut
from schema.tables.ops import ops_fire_drill_participants, ops_fire_drills, ops_fire_inspections
from server.domain.paging import paginate
from server.domain.sql import row_or_404


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
