"""Paging of list queries: one ``Page`` shape for every list endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.common import Page

T = TypeVar("T")

MAX_LIMIT = 500


def paginate(
    conn: Connection,
    query: sa.Select[Any],
    to_item: Callable[[Any], T],
    *,
    limit: int,
    offset: int,
) -> Page[T]:
    """Run ``query`` for one page; ``total`` counts every matching row.

    ``query`` must carry its ORDER BY so pages are stable.
    """
    total = conn.execute(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = conn.execute(query.limit(limit).offset(offset)).all()
    items = [to_item(r) for r in rows]
    nxt = offset + len(items)
    return Page(
        items=items,
        total=total,
        limit=limit,
        offset=offset,
        next_offset=nxt if nxt < total else None,
    )
