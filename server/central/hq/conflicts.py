"""Sync conflicts as HQ sees them: HQ events a store refused after merge, folded on central from
the stores' ``sync.conflict_*`` events, and HQ's resolution of one.

HQ resolves a conflict by publishing ``sync.conflict_resolved`` to the conflict's store, not by
writing central's row: the store records that resolution as its own event (unless its manager
resolved the conflict first), and central folds it from the store's log like every other fact,
so the node and central agree on who resolved a conflict and when, and a rebuild of central
from the stores' logs loses nothing. Until the store has synced, HQ sees its resolution on the
way (``hq_resolution``, and whether the store has applied it yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.api.common import Page
from schema.api.conflicts import ConflictStatus, HqConflictOut, SentResolution
from schema.api.hq import Addressed
from schema.events import decode, tag_of
from schema.events.conflicts import ConflictEntity, ConflictReason, ConflictResolved
from schema.tables.conflicts import sync_conflicts
from schema.tables.sync import central_stores, hq_events
from server.central.hq import log as hq_log
from server.central.hq import publish
from server.central.hq.auth import HqUser
from server.domain.conflicts.reads import conflict_fields
from server.errors import Forbidden, NotFound

RESOLVED = tag_of(ConflictResolved)

_COLUMNS = (sync_conflicts, central_stores.c.region, central_stores.c.hq_acked)


def _joined() -> Any:
    return sa.select(*_COLUMNS).join(
        central_stores, central_stores.c.store_id == sync_conflicts.c.store_id
    )


def _scope(user: HqUser, region: str | None) -> Any:
    """SQL: the store is one the user may see (and in ``region``, if asked for)."""
    if region is None:
        return user.store_scope()
    if not user.sees(region):
        raise Forbidden(f"region {region!r} is outside your regions", region=region)
    return central_stores.c.region == region


async def _sent(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[str, Any]:
    """HQ's published resolutions of these conflicts, by conflict id (as text): the first one
    of each, which is the only one (``resolve`` publishes no second)."""
    if not ids:
        return {}
    rows = await conn.execute(
        sa.select(hq_events)
        .where(hq_events.c.type == RESOLVED, hq_events.c.subject.in_([str(i) for i in ids]))
        .order_by(hq_events.c.cursor)
    )
    found: dict[str, Any] = {}
    for row in rows:
        found.setdefault(row.subject, row)
    return found


def _sent_resolution(row: Any, hq_acked: int) -> SentResolution:
    try:
        event = decode(row.body)
    except msgspec.DecodeError:  # central wrote it: not expected, but never fatal to a list
        event = None
    note = event.note if isinstance(event, ConflictResolved) else ""
    return SentResolution(
        cursor=int(row.cursor),
        by=row.created_by,
        at=row.created_at,
        note=note,
        delivered=hq_acked >= row.cursor,
    )


async def _outs(conn: AsyncConnection, rows: Sequence[Any]) -> list[HqConflictOut]:
    sent = await _sent(conn, [r.conflict_id for r in rows])
    out = []
    for r in rows:
        mine = sent.get(str(r.conflict_id))
        out.append(
            HqConflictOut(
                **conflict_fields(r),
                store_id=r.store_id,
                region=r.region,
                hq_resolution=_sent_resolution(mine, r.hq_acked) if mine is not None else None,
            )
        )
    return out


async def list_conflicts(
    conn: AsyncConnection,
    user: HqUser,
    *,
    store_id: str | None,
    region: str | None,
    status: ConflictStatus | None,
    reason: ConflictReason | None,
    entity: ConflictEntity | None,
    limit: int,
    offset: int,
) -> Page[HqConflictOut]:
    """Conflicts of the stores the user may see, newest first, filtered."""
    where = [_scope(user, region)]
    for column, value in (
        (sync_conflicts.c.store_id, store_id),
        (sync_conflicts.c.status, status),
        (sync_conflicts.c.reason, reason),
        (sync_conflicts.c.entity, entity),
    ):
        if value is not None:
            where.append(column == value)
    query = _joined().where(*where)
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))
    ).scalar_one()
    rows = (
        await conn.execute(
            query.order_by(
                sync_conflicts.c.recorded_at.desc(),
                sync_conflicts.c.store_id,
                sync_conflicts.c.conflict_id,
            )
            .limit(limit)
            .offset(offset)
        )
    ).all()
    items = await _outs(conn, rows)
    nxt = offset + len(items)
    return Page(
        items=items,
        total=int(total),
        limit=limit,
        offset=offset,
        next_offset=nxt if nxt < total else None,
    )


async def _find(conn: AsyncConnection, user: HqUser, conflict_id: UUID) -> Any:
    row = (
        await conn.execute(
            _joined()
            .where(sync_conflicts.c.conflict_id == conflict_id, user.store_scope())
            .order_by(sync_conflicts.c.store_id)
            .limit(1)
        )
    ).first()
    if row is None:
        raise NotFound(f"no conflict {conflict_id}")
    return row


async def get_conflict(conn: AsyncConnection, user: HqUser, conflict_id: UUID) -> HqConflictOut:
    """One conflict of a store the user may see (404 for any other)."""
    return (await _outs(conn, [await _find(conn, user, conflict_id)]))[0]


async def resolve(
    conn: AsyncConnection, user: HqUser, conflict_id: UUID, note: str, *, now: datetime
) -> tuple[HqConflictOut, bool]:
    """Send HQ's resolution of a conflict to its store, in the caller's transaction; the
    conflict as it stands, and whether an HQ event was published.

    A conflict resolved already, or whose resolution HQ sent already, is answered as it is:
    nothing is published twice, so a retry changes nothing.
    """
    await hq_log.lock(conn)  # held to commit: two HQ users resolving at once send one
    row = await _find(conn, user, conflict_id)
    published = False
    if row.status == "open" and not await _sent(conn, [conflict_id]):
        to = await publish.resolve(conn, user, Addressed(audience="store", target=row.store_id))
        event = publish.stamp(
            ConflictResolved,
            newest_hlc=await hq_log.newest_hlc(conn),
            user=user,
            now=now,
            conflict_id=conflict_id,
            note=note,
            resolved_by=user.username,
            side="hq",
        )
        await publish.append(conn, event, to=to, user=user, subject=str(conflict_id), idem=None)
        published = True
    return await get_conflict(conn, user, conflict_id), published
