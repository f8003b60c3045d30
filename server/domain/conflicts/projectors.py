"""Conflict events → ``sync_conflicts`` rows (loaded by the registry,
``server.domain.projection``)."""

from __future__ import annotations

from typing import Any

from schema.events.conflicts import ConflictRecorded, ConflictResolved
from schema.tables.conflicts import sync_conflicts
from server.domain.projection import projects
from server.domain.rows import Rows


def _key(e: ConflictRecorded | ConflictResolved) -> dict[str, Any]:
    return {"store_id": e.store_id, "conflict_id": e.conflict_id}


@projects(ConflictRecorded)
def _recorded(rows: Rows, e: ConflictRecorded) -> None:
    rows.insert(
        sync_conflicts,
        {
            **_key(e),
            "entity": e.entity,
            "entity_id": e.entity_id,
            "reason": e.reason,
            "detail": e.detail,
            "hq_event_id": e.hq_event_id,
            "hq_event_type": e.hq_event_type,
            "hq_cursor": e.hq_cursor,
            "hq_actor": e.hq_actor,
            "hq_at": e.hq_at,
            "store_event_id": e.store_event_id,
            "store_event_seq": e.store_event_seq,
            "store_event_type": e.store_event_type,
            "recorded_at": e.at,
            "recorded_seq": e.seq,
            "status": "open",
            "resolved_at": None,
            "resolved_by": None,
            "resolved_side": None,
            "resolution_note": None,
        },
    )


@projects(ConflictResolved, reads=lambda e: [(sync_conflicts, _key(e))])
def _resolved(rows: Rows, e: ConflictResolved) -> None:
    # The first resolution counts: the node records at most one per conflict, but a replay
    # interleaving the node's ``hq_log`` also meets HQ's own copy of a resolution it echoed.
    row = rows.get(sync_conflicts, _key(e))
    if row is None or row["status"] != "open":
        return
    rows.update(
        sync_conflicts,
        _key(e),
        set={
            "status": "resolved",
            "resolved_at": e.at,
            "resolved_by": e.resolved_by,
            "resolved_side": e.side,
            "resolution_note": e.note,
        },
    )
