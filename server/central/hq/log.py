"""Central's ordered log of HQ events (catalog, prices, roster, targets, rules) for the stores.

Each HQ event gets a cursor from the database and an audience: every store (``all``), one
region, or one store. A store receives, in cursor order, the events addressed to it after the
cursor it acknowledged.

Cursors must become visible in order, or a store could skip one that commits late. On
PostgreSQL, publishers therefore take a transaction-level advisory lock before inserting (and
``NOTIFY hallsync_hq`` so replicas can wake their connections); SQLite has one writer anyway.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.events.envelope import peek
from schema.tables.sync import central_stores, hq_events
from sync.frames import HqItem

Audience = Literal["all", "region", "store"]
PUBLISH_LOCK = 7_361_001
NOTIFY_CHANNEL = "hallsync_hq"


async def lock(conn: AsyncConnection) -> None:
    """Take the publish lock for the rest of the caller's transaction (PostgreSQL; on SQLite
    the write transaction already holds the database's one write lock). Re-entrant."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PUBLISH_LOCK)))


async def publish(
    conn: AsyncConnection,
    *,
    audience: Audience,
    target: str,
    event_type: str,
    body: bytes,
    created_by: str,
    now: datetime,
    event_id: uuid.UUID | None = None,
    subject: str | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> int:
    """Append one HQ event (msgpack ``body``) in the caller's transaction; returns its cursor.

    ``subject`` names what the event is about (a SKU, a user name) for lookups; a publish with
    an ``idempotency_key`` is the only one of ``created_by`` with that key (unique index).
    """
    await lock(conn)
    cursor = (
        await conn.execute(
            hq_events.insert()
            .values(
                id=event_id or uuid.uuid4(),
                audience=audience,
                target="" if audience == "all" else target,
                type=event_type,
                body=body,
                created_at=now,
                created_by=created_by,
                subject=subject,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
            )
            .returning(hq_events.c.cursor)
        )
    ).scalar_one()
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return int(cursor)


async def find_by_key(conn: AsyncConnection, created_by: str, key: str) -> Any:
    """The HQ event ``created_by`` published with this Idempotency-Key, or None."""
    return (
        await conn.execute(
            sa.select(hq_events).where(
                hq_events.c.created_by == created_by, hq_events.c.idempotency_key == key
            )
        )
    ).first()


async def newest_hlc(conn: AsyncConnection) -> int:
    """The hybrid logical clock of the newest HQ event (0 if none has one), so the next one,
    published under the lock by any replica, is stamped after it."""
    body = (
        await conn.execute(sa.select(hq_events.c.body).order_by(hq_events.c.cursor.desc()).limit(1))
    ).scalar()
    if body is None:
        return 0
    return peek(body).hlc or 0


async def load_for_store(
    conn: AsyncConnection, *, store_id: str, after: int, limit: int
) -> tuple[list[HqItem], int]:
    """HQ events addressed to the store with cursor > ``after`` (at most ``limit``), and the
    cursor the store may record once it applied them: past events addressed to others, up to
    the newest cursor, when the page is not full. An idle poll costs one index lookup."""
    # The newest cursor first: anything committed after this read waits for the next load,
    # instead of being skipped by an ``upto`` read later than the items.
    newest = int((await conn.execute(sa.select(sa.func.max(hq_events.c.cursor)))).scalar() or 0)
    if newest <= after:
        return [], after
    region = (
        sa.select(central_stores.c.region)
        .where(central_stores.c.store_id == store_id)
        .scalar_subquery()
    )
    addressed = sa.or_(
        hq_events.c.audience == "all",
        sa.and_(hq_events.c.audience == "region", hq_events.c.target == region),
        sa.and_(hq_events.c.audience == "store", hq_events.c.target == store_id),
    )
    rows = (
        await conn.execute(
            sa.select(hq_events.c.cursor, hq_events.c.body)
            .where(hq_events.c.cursor > after, hq_events.c.cursor <= newest, addressed)
            .order_by(hq_events.c.cursor)
            .limit(limit)
        )
    ).all()
    items = [HqItem(cursor=int(r.cursor), event=msgspec.Raw(r.body)) for r in rows]
    return items, items[-1].cursor if len(items) == limit else newest
