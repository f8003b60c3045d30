"""How a central replica learns that HQ published, so its connected stores get it at once.

``hq.log.publish`` sends ``NOTIFY hallsync_hq`` in the publishing transaction; PostgreSQL
delivers it, on commit, to every session that ``LISTEN``s — one per replica, kept here. Each
notification fires the replica's ``Wakeup`` and every sync connection loads new HQ events.

The listening connection is a plain asyncpg connection outside SQLAlchemy's pool (a pooled one
would be handed to other work between notifications). When it breaks, the replica keeps
serving — connections still poll every ``HALLSYNC_HQ_POLL_SECONDS`` — and reconnects with
backoff; after reconnecting it fires once, since a publish may have happened while it was deaf.

On SQLite there is one process and no NOTIFY: the publishing request fires the ``Wakeup``
itself (``HqNotifier.published``).

The same channel ends a revoked store's sessions on every replica: revoking (or enrolling a
store anew, which replaces its credential) sends ``NOTIFY hallsync_store, '<store_id>'``, and
each replica fires that store's own wake-up in ``stores``, whose connections check their
credential again and close. After the listener reconnects, every connection checks once. On
SQLite, where ``hallsync central revoke-store`` is another process, ``watch_stores`` looks at
the credentials of the stores connected here twice a second instead.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import anyio
import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.tables.sync import central_stores
from server.central import db
from server.central.enrollment import STORE_CHANNEL
from server.central.hq.log import NOTIFY_CHANNEL
from server.errors import StorageError
from sync.wakeup import StoreWakeups, Wakeup

log = logging.getLogger(__name__)


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN asyncpg takes, from a SQLAlchemy ``postgresql+asyncpg://`` URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class HqNotifier:
    """The replica's ``Wakeup`` and per-store wake-ups and, on PostgreSQL, the ``LISTEN`` that
    fires them."""

    def __init__(self, wakeup: Wakeup | None = None) -> None:
        self.wakeup = wakeup or Wakeup()
        self.stores = StoreWakeups()
        """Fired for a store whose credential was revoked or replaced."""
        self.listening = False
        """True while a LISTEN connection is up (readiness and tests look at it)."""

    def published(self) -> None:
        """This replica committed an HQ event: wake its own connections now (on PostgreSQL the
        NOTIFY would too, a moment later; waking twice costs one idle query per store)."""
        self.wakeup.fire()

    async def listen(self, url: str, *, retry_min: float = 0.5, retry_max: float = 30.0) -> None:
        """LISTEN on PostgreSQL at ``url`` until cancelled, reconnecting with backoff."""
        delay = retry_min
        while True:
            try:
                # Shielded (and bounded by its timeout): a connect cancelled halfway would leave
                # its socket open; cancelled after, the ``finally`` below closes it.
                with anyio.CancelScope(shield=True):
                    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("HQ listener cannot connect (retrying in %.1f s): %s", delay, exc)
                await anyio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(retry_max, delay * 2)
                continue
            lost = anyio.Event()
            try:
                conn.add_termination_listener(lambda _c, ended=lost: ended.set())
                await conn.add_listener(NOTIFY_CHANNEL, self._notified)
                await conn.add_listener(STORE_CHANNEL, self._store_changed)
                self.listening = True
                delay = retry_min
                self.wakeup.fire()  # anything published while we were not listening
                self.stores.fire_all()  # and any store revoked meanwhile
                log.info("listening for HQ events on %s", NOTIFY_CHANNEL)
                await self._until_lost(conn, lost)
                log.warning("HQ listener lost its connection; reconnecting")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("HQ listener failed: %s", exc)
            finally:
                self.listening = False
                if not conn.is_closed():
                    with anyio.CancelScope(shield=True):
                        await conn.close(timeout=2)

    @staticmethod
    async def _until_lost(conn: Any, lost: anyio.Event, check_every: float = 10.0) -> None:
        """Return when the connection ends. A dead peer that sends no FIN is only noticed by
        using the connection, so it is probed now and then."""
        while not lost.is_set():
            with anyio.move_on_after(check_every):
                await lost.wait()
            if not lost.is_set():
                with anyio.fail_after(check_every):
                    await conn.execute("SELECT 1")

    def _notified(self, *_: object) -> None:
        self.wakeup.fire()

    def _store_changed(self, _conn: object, _pid: int, _channel: str, store_id: str) -> None:
        self.stores.fire(store_id)

    @staticmethod
    async def _credentials(
        engine: AsyncEngine, store_ids: list[str]
    ) -> dict[str, tuple[str, str | None]]:
        """``store_id -> (status, credential_hash)`` of the given stores."""
        async with db.read(engine) as conn:
            rows = await conn.execute(
                sa.select(
                    central_stores.c.store_id,
                    central_stores.c.status,
                    central_stores.c.credential_hash,
                ).where(central_stores.c.store_id.in_(store_ids))
            )
            return {r.store_id: (r.status, r.credential_hash) for r in rows}

    async def watch_stores(self, engine: AsyncEngine, *, every: float = 0.5) -> None:
        """SQLite: every ``every`` seconds, fire the wake-up of each store connected here that
        is no longer active, whose credential changed, or that is new here (its connections
        check their own credential, which may have been replaced just before this looked),
        until cancelled."""
        known: dict[str, tuple[str, str | None]] = {}
        while True:
            await anyio.sleep(every)
            watched = self.stores.watched()
            if not watched:
                known = {}
                continue
            try:
                # Shielded: cancelled half-way (the app stopping), the read would leave its
                # database connection unreturned.
                with anyio.CancelScope(shield=True):
                    now = await self._credentials(engine, watched)
            except StorageError as exc:
                log.warning("cannot look for revoked stores now: %s", exc.detail)
                continue
            for store_id in watched:
                seen = now.get(store_id, ("gone", None))
                if seen[0] != "active" or known.get(store_id) != seen:
                    self.stores.fire(store_id)
            known = {store_id: now[store_id] for store_id in watched if store_id in now}
