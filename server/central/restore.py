"""A replaced store node rebuilding its log from central, a page at a time.

Central gives back every event of the store up to its high-water mark, byte for byte as the
store logged it: applied events from ``events`` and the ones it could not apply from
``central_quarantine`` (the store's log has no gaps, so neither may the restore).
"""

from __future__ import annotations

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.api.enrollment import RestorePage
from schema.tables.core import events
from schema.tables.sync import central_quarantine, central_stores
from server.errors import NotFound

MAX_PAGE = 5000


async def restore_page(
    conn: AsyncConnection, store_id: str, *, after: int, limit: int
) -> RestorePage:
    """Events of ``store_id`` with ``after < seq <= after + limit``, up to the high-water mark."""
    high_water = (
        await conn.execute(
            sa.select(central_stores.c.high_water).where(central_stores.c.store_id == store_id)
        )
    ).scalar()
    if high_water is None:
        raise NotFound(f"no store {store_id}")
    upto = min(int(high_water), after + min(limit, MAX_PAGE))
    if upto <= after:
        return RestorePage(events=[], next_after=None, high_water=int(high_water))
    held = sa.union_all(
        sa.select(
            events.c.seq.label("seq"), events.c.body.label("body"), sa.literal(0).label("q")
        ).where(events.c.store_id == store_id, events.c.seq > after, events.c.seq <= upto),
        sa.select(central_quarantine.c.seq, central_quarantine.c.raw, sa.literal(1)).where(
            central_quarantine.c.store_id == store_id,
            central_quarantine.c.seq > after,
            central_quarantine.c.seq <= upto,
            central_quarantine.c.replayed_at.is_(None),
        ),
    ).subquery()
    rows = await conn.execute(sa.select(held).order_by(held.c.seq, held.c.q))
    by_seq: dict[int, bytes] = {}
    for seq, body, _q in rows:
        by_seq.setdefault(int(seq), body)  # an applied event wins over a stale quarantine copy
    return RestorePage(
        events=[msgspec.Raw(by_seq[s]) for s in sorted(by_seq)],
        next_after=upto if upto < high_water else None,
        high_water=int(high_water),
    )
