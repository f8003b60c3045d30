"""Reads of the opening checklist (开门准备): one day's checklist with its items, and the list
of checklists with their progress.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.ops import ChecklistItemOut, ChecklistOut, ChecklistStatus, ChecklistSummaryOut
from schema.tables.ops import ops_checklist_items, ops_checklists
from server.domain.sql import row_or_404
from server.errors import NotFound


def checklist_row(conn: Connection, store_id: str, checklist_id: UUID) -> Any:
    """The checklist's row, or 404."""
    c = ops_checklists
    return row_or_404(conn, c, store_id, c.c.checklist_id, checklist_id, "checklist")


def checklist_by_day(conn: Connection, store_id: str, day: date) -> Any:
    """The row of the checklist started on a store-local day, or None."""
    return conn.execute(
        sa.select(ops_checklists).where(
            ops_checklists.c.store_id == store_id, ops_checklists.c.day == day
        )
    ).first()


def checklist_items(conn: Connection, store_id: str, checklist_id: UUID) -> list[Any]:
    """The checklist's item rows, in the order it lists them."""
    t = ops_checklist_items
    return list(
        conn.execute(
            sa.select(t)
            .where(t.c.store_id == store_id, t.c.checklist_id == checklist_id)
            .order_by(t.c.position)
        ).all()
    )


def _item_out(r: Any) -> ChecklistItemOut:
    return ChecklistItemOut(
        code=r.code,
        label=r.label,
        equipment=r.equipment,
        status=r.status,
        note=r.note,
        fault_id=r.fault_id,
        checked_by=r.checked_by,
        checked_at=r.checked_at,
        suggest_fault=r.status == "not_ok" and r.equipment is not None and r.fault_id is None,
    )


def _out(conn: Connection, row: Any) -> ChecklistOut:
    items = [_item_out(r) for r in checklist_items(conn, row.store_id, row.checklist_id)]
    return ChecklistOut(
        checklist_id=row.checklist_id,
        day=row.day,
        status=row.status,
        started_at=row.started_at,
        started_by=row.started_by,
        completed_at=row.completed_at,
        completed_by=row.completed_by,
        minutes_after_open=row.minutes_after_open,
        unchecked=[i.code for i in items if i.status == "unchecked"],
        items=items,
    )


def checklist_id_of(conn: Connection, store_id: str, day: date) -> UUID | None:
    """The id of the day's checklist, or None when it was not started."""
    row = checklist_by_day(conn, store_id, day)
    return None if row is None else row.checklist_id


def get_checklist(conn: Connection, store_id: str, checklist_id: UUID) -> ChecklistOut:
    return _out(conn, checklist_row(conn, store_id, checklist_id))


def get_checklist_by_day(conn: Connection, store_id: str, day: date) -> ChecklistOut:
    """The checklist of a store-local day; 404 when none was started that day."""
    row = checklist_by_day(conn, store_id, day)
    if row is None:
        raise NotFound(f"no opening checklist was started on {day}")
    return _out(conn, row)


def list_checklists(
    conn: Connection,
    store_id: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    status: ChecklistStatus | None = None,
) -> sa.Select[Any]:
    """Checklists by day (newest first) with their progress; the API layer pages it."""
    i = ops_checklist_items
    progress = (
        sa.select(
            i.c.checklist_id,
            sa.func.count().filter(i.c.status != "unchecked").label("checked_count"),
            sa.func.count().filter(i.c.status == "not_ok").label("not_ok_now"),
        )
        .where(i.c.store_id == store_id)
        .group_by(i.c.checklist_id)
        .subquery()
    )
    c = ops_checklists
    q = (
        sa.select(
            c,
            sa.func.coalesce(progress.c.checked_count, 0).label("checked_count"),
            sa.func.coalesce(progress.c.not_ok_now, 0).label("not_ok_now"),
        )
        .outerjoin(progress, progress.c.checklist_id == c.c.checklist_id)
        .where(c.c.store_id == store_id)
    )
    if date_from is not None:
        q = q.where(c.c.day >= date_from)
    if date_to is not None:
        q = q.where(c.c.day <= date_to)
    if status is not None:
        q = q.where(c.c.status == status)
    return q.order_by(c.c.day.desc())


def checklist_summary_out(r: Any) -> ChecklistSummaryOut:
    return ChecklistSummaryOut(
        checklist_id=r.checklist_id,
        day=r.day,
        status=r.status,
        started_at=r.started_at,
        started_by=r.started_by,
        completed_at=r.completed_at,
        completed_by=r.completed_by,
        minutes_after_open=r.minutes_after_open,
        item_count=r.item_count,
        checked_count=r.checked_count,
        not_ok_count=r.not_ok_now,
    )
