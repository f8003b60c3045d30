"""Replaying quarantined events: after an upgrade or a fix, central may read an event it once
set aside, and HQ asks for a replay (``POST /api/v1/hq/quarantine/replay``).

Each entry not replayed yet (oldest first, at most ``MAX_REPLAY`` per call) goes through the
same checks and fold as an upload, in one write transaction:

1. its store's row is locked, as ingest locks it, so a replay and an upload (or two replays on
   two replicas) of one store take turns, and entries are re-read under that lock;
2. its raw bytes are checked as ingest checks them today (``ingest._check``);
3. a readable event is inserted into ``events`` (``ON CONFLICT DO NOTHING``); only an event that
   was inserted is folded, so one the log already holds is never counted twice;
4. the fold runs as ingest's does (batched, else one SAVEPOINT per event); one that fails
   comes back out of ``events``;
5. an applied entry is marked ``replayed_at`` (kept, for the record; restore then serves the
   event from the log) and leaves the store's quarantined count; one this build cannot apply
   either stays, with the reason this build gives.

Replaying again is harmless: replayed entries are not taken up again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.hq_stores import QuarantineReplayed, QuarantineReplayOut, ReplayOutcome
from schema.tables.core import events
from schema.tables.sync import central_quarantine, central_stores
from server.central.fold.ingest import _check, _insert_events, _project

MAX_REPLAY = 500
"""Entries one replay call takes up; ``next_after`` says where the next call starts."""

q = central_quarantine


def replay(
    conn: Connection,
    *,
    scope: Any,
    now: datetime,
    store_id: str | None = None,
    quarantine_id: int | None = None,
    after: int = 0,
    limit: int = MAX_REPLAY,
) -> QuarantineReplayOut:
    """Replay the quarantined entries the caller may see (``scope``: a WHERE clause on
    ``central_stores``), optionally of one store or one entry, after ``after``."""
    query = (
        sa.select(q.c.quarantine_id, q.c.store_id)
        .join(central_stores, central_stores.c.store_id == q.c.store_id)
        .where(scope, q.c.quarantine_id > after)
        .order_by(q.c.quarantine_id)
    )
    if store_id is not None:
        query = query.where(q.c.store_id == store_id)
    if quarantine_id is not None:
        query = query.where(q.c.quarantine_id == quarantine_id)
    else:
        query = query.where(q.c.replayed_at.is_(None))
    picked = conn.execute(query.limit(limit + 1)).all()
    more = len(picked) > limit
    picked = picked[:limit]
    by_store: dict[str, list[int]] = defaultdict(list)
    for row in picked:
        by_store[row.store_id].append(row.quarantine_id)
    items: list[QuarantineReplayed] = []
    for sid in sorted(by_store):  # one lock order, so two replays never deadlock
        items += _replay_store(conn, sid, by_store[sid], now)
    items.sort(key=lambda i: i.quarantine_id)
    return QuarantineReplayOut(
        items=items,
        applied=sum(1 for i in items if i.outcome == "applied"),
        quarantined=sum(1 for i in items if i.outcome == "quarantined"),
        next_after=picked[-1].quarantine_id if more and picked else None,
    )


def _replay_store(
    conn: Connection, store_id: str, ids: list[int], now: datetime
) -> list[QuarantineReplayed]:
    conn.execute(
        sa.select(central_stores.c.store_id)
        .where(central_stores.c.store_id == store_id)
        .with_for_update()
    )
    rows = conn.execute(
        sa.select(q).where(q.c.quarantine_id.in_(ids)).order_by(q.c.seq)  # fold in log order
    ).all()
    done: dict[int, QuarantineReplayed] = {}
    checked = {}
    for row in rows:
        if row.replayed_at is not None:  # another replay took it meanwhile, or asked by id
            done[row.quarantine_id] = _item(row, "replayed_before", None, row.replayed_at)
            continue
        held = _check(store_id, int(row.seq), bytes(row.raw))
        if held.reason is not None:
            done[row.quarantine_id] = _item(row, "quarantined", held.reason, None, held.event_type)
        else:
            checked[row.quarantine_id] = (row, held)

    inserted = _insert_events(conn, store_id, [held for _, held in checked.values()])
    to_fold = []
    for qid, (row, held) in checked.items():
        if held.seq in inserted:
            to_fold.append((held.seq, held.event))
        elif _holds(conn, store_id, held.seq, held.event):
            done[qid] = _item(row, "already_held", None, now, held.event_type)
        else:
            reason = "event id already held for another seq"
            done[qid] = _item(row, "quarantined", reason, None, held.event_type)
    failed = _project(conn, to_fold)  # type: ignore[arg-type]
    if failed:
        conn.execute(
            events.delete().where(events.c.store_id == store_id, events.c.seq.in_(list(failed)))
        )
    for qid, (row, held) in checked.items():
        if qid in done:
            continue
        if held.seq in failed:
            done[qid] = _item(row, "quarantined", failed[held.seq], None, held.event_type)
        else:
            done[qid] = _item(row, "applied", None, now, held.event_type)

    _record(conn, store_id, list(done.values()), now)
    return list(done.values())


def _holds(conn: Connection, store_id: str, seq: int, event: Any) -> bool:
    """Central's log holds this very event (same store, seq and id) already."""
    found = conn.execute(
        sa.select(events.c.id).where(events.c.store_id == store_id, events.c.seq == seq)
    ).scalar()
    return found is not None and found == event.id


def _record(
    conn: Connection, store_id: str, items: list[QuarantineReplayed], now: datetime
) -> None:
    """Mark what was replayed, keep this build's reason for what stays, and take the replayed
    ones off the store's quarantined count."""
    closed = [i.quarantine_id for i in items if i.outcome in ("applied", "already_held")]
    if closed:
        conn.execute(q.update().where(q.c.quarantine_id.in_(closed)).values(replayed_at=now))
        conn.execute(
            central_stores.update()
            .where(central_stores.c.store_id == store_id)
            .values(
                quarantined=sa.case(
                    (
                        central_stores.c.quarantined > len(closed),
                        central_stores.c.quarantined - len(closed),
                    ),
                    else_=0,
                )
            )
        )
    for i in items:
        if i.outcome == "quarantined":
            conn.execute(
                q.update()
                .where(q.c.quarantine_id == i.quarantine_id)
                .values(reason=(i.reason or "")[:2000], event_type=i.event_type)
            )


def _item(
    row: Any,
    outcome: ReplayOutcome,
    reason: str | None,
    replayed_at: datetime | None,
    event_type: str | None = None,
) -> QuarantineReplayed:
    return QuarantineReplayed(
        quarantine_id=int(row.quarantine_id),
        store_id=row.store_id,
        seq=int(row.seq),
        event_type=event_type or row.event_type,
        outcome=outcome,
        reason=reason,
        replayed_at=replayed_at,
    )
