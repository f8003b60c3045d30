"""The single writer: group commit, per-command rollback, gapless seq, idempotent replays."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from schema.tables.core import events
from server.errors import Conflict, IdempotencyMismatch
from server.idempotency import Idempotency
from server.store.node import open_store
from server.store.writer import Writer
from tests.unit.store.conftest import NOW, rename


def _seqs(w: Writer) -> list[int]:
    with w.engine.connect() as c:
        return list(c.execute(sa.select(events.c.seq).order_by(events.c.seq)).scalars())


async def test_failing_command_is_undone_alone_and_seq_stays_gapless(writer: Writer) -> None:
    jobs = [
        writer.submit(rename(f"n{i}", fail=i % 3 == 0), actor="manager", device="t")
        for i in range(30)
    ]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 10 and all(isinstance(f, Conflict) for f in failed)
    seqs = _seqs(writer)
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) == 2 + 20  # init wrote two events
    assert writer.batches < writer.commands  # concurrent commands shared commits


async def test_idempotent_replay_and_mismatch(writer: Writer) -> None:
    idem = Idempotency.of("k", "manager", "POST", "/x", b"{}")
    first = await writer.submit(rename("a"), actor="manager", device="t", idempotency=idem)
    again = await writer.submit(rename("b"), actor="manager", device="t", idempotency=idem)
    assert again.replayed and again.body == first.body and not again.events
    other = Idempotency.of("k", "manager", "POST", "/x", b'{"x":1}')
    with pytest.raises(IdempotencyMismatch):
        await writer.submit(rename("c"), actor="manager", device="t", idempotency=other)
    assert len(_seqs(writer)) == 3


async def test_on_commit_sees_only_committed_events(writer: Writer) -> None:
    seen: list[int] = []
    writer.on_commit.append(lambda evs: seen.extend(e.seq for e in evs))
    await writer.submit(rename("ok"), actor="manager", device="t")
    with pytest.raises(Conflict):
        await writer.submit(rename("bad", fail=True), actor="manager", device="t")
    await asyncio.sleep(0)
    assert seen == [3]


async def test_restart_continues_the_sequence(data_dir: Path) -> None:
    opened = open_store(data_dir)
    engine, store_id = opened.engine, opened.store_id
    for _ in range(2):
        w = Writer(engine, store_id, contact_key=opened.contact_key, clock=lambda: NOW)
        w.start()
        await w.submit(rename("x"), actor="manager", device="t")
        w.stop()
    with engine.connect() as c:
        seqs = list(c.execute(sa.select(events.c.seq).order_by(events.c.seq)).scalars())
        hlcs = list(c.execute(sa.select(events.c.hlc).order_by(events.c.seq)).scalars())
    engine.dispose()
    assert seqs == [1, 2, 3, 4]
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == 4  # same wall clock, still rising


async def test_writer_survives_an_unexpected_failure(
    writer: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.errors import StorageError

    real = writer._run_batch
    calls = {"n": 0}

    def flaky(batch: list[object]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        real(batch)  # type: ignore[arg-type]

    monkeypatch.setattr(writer, "_run_batch", flaky)
    with pytest.raises(StorageError):
        await writer.submit(rename("lost"), actor="manager", device="t")
    assert writer.alive
    ok = await writer.submit(rename("kept"), actor="manager", device="t")
    assert ok.status_code == 201
    assert _seqs(writer) == [1, 2, 3]


def test_an_answer_for_a_closed_event_loop_is_dropped(writer: Writer) -> None:
    from server.store.writer import Outcome, _Job

    loop = asyncio.new_event_loop()
    job = _Job(rename("x"), "m", "t", 201, None, loop, loop.create_future())
    loop.close()
    job.result = Outcome(201, b"{}", replayed=False, events=[])
    Writer._answer([job])  # must not raise into the writer
