"""A replica's LISTEN for HQ publishes on PostgreSQL: it wakes the replica's connections on a
NOTIFY, and survives losing its connection (it reconnects and wakes them once, since a publish
may have come while it was deaf)."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import asyncpg

from server.central.hq.log import NOTIFY_CHANNEL
from server.central.hq.notify import HqNotifier, asyncpg_dsn


async def _until(check: Callable[[], bool], within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await anyio.sleep(0.02)


async def test_notify_wakes_and_listener_survives_losing_its_connection(pg_url: str) -> None:
    notifier = HqNotifier()
    dsn = asyncpg_dsn(pg_url)
    other = await asyncpg.connect(dsn)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: notifier.listen(pg_url, retry_min=0.05))
            await _until(lambda: notifier.listening)
            start = notifier.wakeup.generation

            await other.execute(f"NOTIFY {NOTIFY_CHANNEL}")
            await _until(lambda: notifier.wakeup.generation > start)

            # The database drops the listener's session (a restart, a failover, an idle timeout).
            killed = await other.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert killed >= 1
            before = notifier.wakeup.generation
            await _until(lambda: notifier.wakeup.generation > before and notifier.listening)

            again = notifier.wakeup.generation
            await other.execute(f"NOTIFY {NOTIFY_CHANNEL}")
            await _until(lambda: notifier.wakeup.generation > again)
            tg.cancel_scope.cancel()
    finally:
        await other.close()
    assert not notifier.listening


def test_the_dsn_keeps_credentials_and_drops_the_driver() -> None:
    assert (
        asyncpg_dsn("postgresql+asyncpg://hq:s3cret@db.internal:5433/central")
        == "postgresql://hq:s3cret@db.internal:5433/central"
    )
