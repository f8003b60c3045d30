"""Reads of sync conflicts: one by id, the list query, and the answer's shape (the store node's
and, with the store and HQ's own resolution added, central's)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.conflicts import (
    ConflictOut,
    ConflictStatus,
    HqEventRef,
    Resolution,
    StoreEventRef,
)
from schema.events.conflicts import ConflictEntity, ConflictReason
from schema.tables.conflicts import sync_conflicts
from server.errors import NotFound


def conflict_row(conn: Connection, store_id: str, conflict_id: UUID) -> Any:
    """The conflict's row, or None."""
    return conn.execute(
        sa.select(sync_conflicts).where(
            sync_conflicts.c.store_id == store_id, sync_conflicts.c.conflict_id == conflict_id
        )
    ).first()


def get_conflict(conn: Connection, store_id: str, conflict_id: UUID) -> ConflictOut:
    row = conflict_row(conn, store_id, conflict_id)
    if row is None:
        raise NotFound(f"no conflict {conflict_id}")
    return conflict_out(row)


def list_conflicts(
    store_id: str,
    *,
    status: ConflictStatus | None = None,
    reason: ConflictReason | None = None,
    entity: ConflictEntity | None = None,
) -> sa.Select[Any]:
    """The store's conflicts, newest first, filtered; the API layer pages it."""
    query = sa.select(sync_conflicts).where(sync_conflicts.c.store_id == store_id)
    for column, value in (
        (sync_conflicts.c.status, status),
        (sync_conflicts.c.reason, reason),
        (sync_conflicts.c.entity, entity),
    ):
        if value is not None:
            query = query.where(column == value)
    return query.order_by(sync_conflicts.c.recorded_seq.desc())


def conflict_fields(row: Any) -> dict[str, Any]:
    """A ``sync_conflicts`` row as the fields of ``ConflictOut`` (central adds its own)."""
    store_event = None
    if row.store_event_id is not None:
        store_event = StoreEventRef(
            id=row.store_event_id, seq=row.store_event_seq, type=row.store_event_type
        )
    resolution = None
    if row.resolved_at is not None:
        resolution = Resolution(
            at=row.resolved_at,
            by=row.resolved_by,
            side=row.resolved_side,
            note=row.resolution_note,
        )
    return {
        "conflict_id": row.conflict_id,
        "entity": row.entity,
        "entity_id": row.entity_id,
        "reason": row.reason,
        "detail": row.detail,
        "hq_event": HqEventRef(
            id=row.hq_event_id,
            type=row.hq_event_type,
            cursor=row.hq_cursor,
            actor=row.hq_actor,
            at=row.hq_at,
        ),
        "store_event": store_event,
        "recorded_at": row.recorded_at,
        "status": row.status,
        "resolution": resolution,
    }


def conflict_out(row: Any) -> ConflictOut:
    return ConflictOut(**conflict_fields(row))
