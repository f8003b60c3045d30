"""Central's database behind the sync session: the ``sync.ports.SyncStorage`` port.

Each call is one short transaction on the shared database, so any replica can serve any store
and a reconnect to another replica resumes exactly where the last commit left off. Errors are
translated here into the sync error tree the websocket adapter understands.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from schema.tables.sync import central_stores
from server.central import db, metrics
from server.central.enrollment import authenticate
from server.central.fold.ingest import ingest
from server.central.hq import log as hq_log
from server.errors import HallsyncError, NotFound, StorageError
from server.errors import Unauthorized as NotAuthorized
from sync.errors import Unauthorized, Unavailable
from sync.frames import HqItem
from sync.server import IngestRequest


class CentralStorage:
    """``SyncStorage`` over central's database. ``engine`` is called for the running app's
    engine (it is made when the app starts, on the app's event loop)."""

    def __init__(self, engine: Callable[[], AsyncEngine], clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    async def authenticate(self, credential: str) -> str | None:
        """The active store holding ``credential``, or None (the sync route's ``authenticate``)."""
        async with db.read(self._engine()) as conn:
            row = await authenticate(conn, credential)
        return row.store_id if row is not None else None

    async def load_state(self, store_id: str) -> tuple[int, int, str]:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    sa.select(
                        central_stores.c.status,
                        central_stores.c.high_water,
                        central_stores.c.hq_acked,
                        central_stores.c.region,
                    ).where(central_stores.c.store_id == store_id)
                )
            ).first()
        if row is None or row.status != "active":
            raise Unauthorized(f"store {store_id} is not active")
        return int(row.high_water), int(row.hq_acked), str(row.region)

    async def ingest(self, request: IngestRequest) -> tuple[int, int]:
        try:
            async with db.write(self._engine()) as conn:
                result = await ingest(
                    conn, request.store_id, request.first_seq, request.events, now=self._clock()
                )
        except (NotAuthorized, NotFound) as exc:
            raise Unauthorized(exc.detail) from exc
        except HallsyncError as exc:
            raise Unavailable(exc.detail) from exc
        metrics.INGEST_BATCHES.inc()
        metrics.EVENTS_INGESTED.inc(result.stored)
        metrics.EVENTS_QUARANTINED.inc(result.quarantined)
        return result.high_water, result.quarantined

    async def load_hq(self, store_id: str, after: int, limit: int) -> tuple[list[HqItem], int]:
        async with self._read() as conn:
            return await hq_log.load_for_store(conn, store_id=store_id, after=after, limit=limit)

    async def save_hq_acked(self, store_id: str, cursor: int) -> None:
        await self._update(store_id, hq_acked=cursor, last_seen_at=self._clock())

    async def touch(self, store_id: str, local_seq: int) -> None:
        await self._update(store_id, local_seq=local_seq, last_seen_at=self._clock())

    async def _update(self, store_id: str, **values: object) -> None:
        try:
            async with db.write(self._engine()) as conn:
                await conn.execute(
                    central_stores.update()
                    .where(central_stores.c.store_id == store_id)
                    .values(**values)
                )
        except StorageError as exc:
            raise Unavailable(exc.detail) from exc

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with db.read(self._engine()) as conn:
                yield conn
        except StorageError as exc:
            raise Unavailable(exc.detail) from exc
