"""The writer's batches: keys and log rows stored once per batch, commands from another event
loop, and a write lock held by another process that must not stall the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from schema.tables.core import events, idempotency_keys
from server.errors import Conflict
from server.idempotency import Idempotency
from server.store.db import db_path
from server.store.writer import Writer
from tests.unit.store.conftest import rename


def _rows(w: Writer, query: sa.Select[tuple[object, ...]]) -> list[object]:
    with w.engine.connect() as c:
        return list(c.execute(query).scalars())


def _key(k: str, body: bytes = b"{}") -> Idempotency:
    return Idempotency.of(k, "manager", "POST", "/x", body)


async def test_one_key_twice_in_one_batch_runs_once(writer: Writer) -> None:
    first, again = await asyncio.gather(
        writer.submit(rename("a"), actor="manager", device="t", idempotency=_key("k")),
        writer.submit(rename("b"), actor="manager", device="t", idempotency=_key("k")),
    )
    assert writer.batches == 1  # both in one batch: the second saw the first's answer
    assert not first.replayed and again.replayed and again.body == first.body
    assert _rows(writer, sa.select(events.c.seq).order_by(events.c.seq)) == [1, 2, 3]
    assert _rows(writer, sa.select(idempotency_keys.c.key)) == ["k"]


async def test_a_failed_command_leaves_neither_events_nor_its_key(writer: Writer) -> None:
    results = await asyncio.gather(
        writer.submit(rename("a"), actor="manager", device="t", idempotency=_key("k1")),
        writer.submit(rename("b", fail=True), actor="manager", device="t", idempotency=_key("k2")),
        writer.submit(rename("c"), actor="manager", device="t", idempotency=_key("k3")),
        return_exceptions=True,
    )
    assert isinstance(results[1], Conflict)
    assert writer.batches == 1
    assert _rows(writer, sa.select(events.c.seq).order_by(events.c.seq)) == [1, 2, 3, 4]
    keys = _rows(writer, sa.select(idempotency_keys.c.key).order_by(idempotency_keys.c.key))
    assert keys == ["k1", "k3"]
    retried = await writer.submit(rename("b"), actor="manager", device="t", idempotency=_key("k2"))
    assert not retried.replayed  # the failed attempt was not remembered


async def test_commands_from_another_event_loop_run_on_the_writers(writer: Writer) -> None:
    await writer.submit(rename("here"), actor="manager", device="t")

    def elsewhere() -> bytes:
        async def go() -> bytes:
            return (await writer.submit(rename("there"), actor="manager", device="t")).body

        return asyncio.run(go())

    body = await asyncio.to_thread(elsewhere)
    assert b'"there"' in body
    assert _rows(writer, sa.select(events.c.seq).order_by(events.c.seq)) == [1, 2, 3, 4]


async def test_another_processs_write_lock_does_not_stall_the_event_loop(
    writer: Writer, data_dir: Path
) -> None:
    other = sqlite3.connect(db_path(data_dir), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
    started = time.monotonic()
    out = await writer.submit(rename("waited"), actor="manager", device="t")
    ticker.cancel()
    other.close()
    assert out.status_code == 201
    assert time.monotonic() - started >= 0.25  # it did wait for the lock…
    assert ticks >= 10  # …while the loop kept running


async def test_commands_queued_during_a_commit_use_the_transaction_it_began(
    writer: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops: list[str] = []
    real_in_io = writer._in_io

    async def counting(fn: Callable[[], object]) -> object:
        hops.append(getattr(fn, "__name__", "?"))
        return await real_in_io(fn)

    monkeypatch.setattr(writer, "_in_io", counting)
    first = asyncio.ensure_future(writer.submit(rename("a"), actor="manager", device="t"))
    await asyncio.sleep(0)  # the first batch is under way: the rest queue behind it
    rest = [writer.submit(rename(n), actor="manager", device="t") for n in "bcd"]
    await asyncio.gather(first, *rest)
    assert writer.batches == 2
    # The second batch's BEGIN rode on the first one's COMMIT.
    assert hops == ["_begin", "_commit", "_commit"]
    assert _rows(writer, sa.select(events.c.seq).order_by(events.c.seq)) == [1, 2, 3, 4, 5, 6]


async def test_a_failed_early_begin_leaves_the_next_batch_to_begin_on_its_own(
    writer: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_begin = writer._begin
    calls = 0

    def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the early BEGIN, right after the first batch's COMMIT
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", {}, Exception("disk I/O error"))
        real_begin()

    monkeypatch.setattr(writer, "_begin", flaky)
    first = asyncio.ensure_future(writer.submit(rename("a"), actor="manager", device="t"))
    await asyncio.sleep(0)
    second = writer.submit(rename("b"), actor="manager", device="t")
    a, b = await asyncio.gather(first, second)
    assert (a.status_code, b.status_code) == (201, 201)
    assert calls == 3 and writer.batches == 2
    assert _rows(writer, sa.select(events.c.seq).order_by(events.c.seq)) == [1, 2, 3, 4]
