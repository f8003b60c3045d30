"""Ingest of uploaded events on central, on SQLite and PostgreSQL: set-based, idempotent,
contiguous high-water mark, and quarantine that never loses an event nor wedges the store."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.tables.core import events, staff, store_info
from schema.tables.sync import central_quarantine, central_stores
from server.central import db, enrollment
from server.central.fold.ingest import IngestResult, ingest
from server.central.restore import restore_page
from server.errors import Unauthorized
from tests.contact import CONTACT_KEY
from tests.integration.central import store_events as ev
from tests.integration.central.conftest import Clock

S = "S001"


@pytest.fixture
async def store(engine: AsyncEngine, clock: Clock) -> str:
    """An active store S001 (created and enrolled)."""
    async with db.write(engine) as conn:
        await enrollment.create_store(
            conn, store_id=S, name="人民路营业厅", region="east", tz="Asia/Shanghai"
        )
        code = await enrollment.issue_code(conn, S, now=clock())
        await enrollment.enroll(
            conn, code.code, restore=False, contact_key=CONTACT_KEY, now=clock()
        )
    return S


async def put(
    engine: AsyncEngine, first: int, raws: Sequence[bytes], clock: Clock, store_id: str = S
) -> IngestResult:
    async with db.write(engine) as conn:
        return await ingest(conn, store_id, first, raws, now=clock())


async def scalar(engine: AsyncEngine, query: Any) -> Any:
    async with db.read(engine) as conn:
        return (await conn.execute(query)).scalar()


async def count(engine: AsyncEngine, table: sa.Table, store_id: str = S) -> int:
    return int(
        await scalar(
            engine,
            sa.select(sa.func.count()).select_from(table).where(table.c.store_id == store_id),
        )
    )


async def seqs(engine: AsyncEngine, table: sa.Table) -> list[int]:
    async with db.read(engine) as conn:
        rows = await conn.execute(
            sa.select(table.c.seq).where(table.c.store_id == S).order_by(table.c.seq)
        )
        return [int(s) for s in rows.scalars()]


async def store_row(engine: AsyncEngine) -> Any:
    async with db.read(engine) as conn:
        return (
            await conn.execute(sa.select(central_stores).where(central_stores.c.store_id == S))
        ).one()


async def test_a_batch_is_stored_applied_and_acknowledged(
    engine: AsyncEngine, store: str, clock: Clock
) -> None:
    raws = ev.log(S, 1, 10)
    result = await put(engine, 1, raws, clock)
    assert result == IngestResult(high_water=10, quarantined=0, stored=10)
    assert await seqs(engine, events) == list(range(1, 11))
    assert await count(engine, staff) == 9
    assert (
        await scalar(engine, sa.select(store_info.c.name).where(store_info.c.store_id == S))
        == "测试营业厅"
    )
    row = await store_row(engine)
    assert (row.high_water, row.local_seq, row.quarantined) == (10, 10, 0)
    assert row.last_ingest_at == clock()
    async with db.read(engine) as conn:
        bodies = (
            (
                await conn.execute(
                    sa.select(events.c.body).where(events.c.store_id == S).order_by(events.c.seq)
                )
            )
            .scalars()
            .all()
        )
    assert [bytes(b) for b in bodies] == raws  # byte for byte as the store logged them


async def test_replays_and_overlaps_are_no_ops(
    engine: AsyncEngine, store: str, clock: Clock
) -> None:
    raws = ev.log(S, 1, 10)
    await put(engine, 1, raws, clock)
    assert await put(engine, 1, raws, clock) == IngestResult(10, 0, 0)
    assert await put(engine, 4, raws[3:7], clock) == IngestResult(10, 0, 0)
    more = ev.log(S, 11, 5)
    result = await put(engine, 6, raws[5:] + more, clock)  # 6..15: only 11..15 are new
    assert result == IngestResult(15, 0, 5)
    assert await count(engine, events) == 15
    assert await count(engine, staff) == 14


async def test_events_past_a_gap_are_stored_but_the_mark_waits(
    engine: AsyncEngine, store: str, clock: Clock
) -> None:
    raws = ev.log(S, 1, 30)
    await put(engine, 1, raws[:10], clock)
    assert await put(engine, 21, raws[20:], clock) == IngestResult(10, 0, 10)
    assert (await store_row(engine)).high_water == 10
    # Filling the gap moves the mark over everything held past it.
    assert await put(engine, 11, raws[10:20], clock) == IngestResult(30, 0, 10)
    assert await seqs(engine, events) == list(range(1, 31))
    assert (await store_row(engine)).high_water == 30


async def test_undecodable_and_foreign_events_go_to_quarantine_and_are_still_acknowledged(
    engine: AsyncEngine, store: str, clock: Clock
) -> None:
    raws = ev.log(S, 1, 8)
    raws[2] = ev.unknown_type(S, 3)
    raws[4] = ev.staff("S999", 5)  # another store's event in this store's log
    raws[5] = msgspec.msgpack.encode([1, 2, 3])  # not an event at all
    raws[6] = ev.staff(S, 99)  # says seq 99 at position 7
    result = await put(engine, 1, raws, clock)
    assert result == IngestResult(high_water=8, quarantined=4, stored=4)
    assert await seqs(engine, events) == [1, 2, 4, 8]
    async with db.read(engine) as conn:
        rows = (
            await conn.execute(
                sa.select(central_quarantine)
                .where(central_quarantine.c.store_id == S)
                .order_by(central_quarantine.c.seq)
            )
        ).all()
    assert [(r.seq, r.event_type) for r in rows] == [
        (3, "ticket.teleported"),
        (5, "staff.added"),
        (6, None),
        (7, "staff.added"),
    ]
    assert [bytes(r.raw) for r in rows] == [raws[2], raws[4], raws[5], raws[6]]
    assert (
        "cannot decode" in rows[0].reason
        and "S999" in rows[1].reason
        and "seq 99" in rows[3].reason
    )
    row = await store_row(engine)
    assert (row.high_water, row.quarantined) == (8, 4)
    # A replay quarantines nothing twice.
    assert await put(engine, 1, raws, clock) == IngestResult(8, 0, 0)
    assert (await store_row(engine)).quarantined == 4


async def test_an_event_that_fails_to_apply_is_quarantined_without_undoing_the_others(
    engine: AsyncEngine, store: str, clock: Clock
) -> None:
    raws = ev.log(S, 1, 6)
    raws[3] = ev.staff(S, 4, username="clerk2")  # the user name seq 2 already took
    result = await put(engine, 1, raws, clock)
    assert result == IngestResult(high_water=6, quarantined=1, stored=5)
    assert await seqs(engine, events) == [1, 2, 3, 5, 6]
    assert await count(engine, staff) == 4
    reason = await scalar(
        engine, sa.select(central_quarantine.c.reason).where(central_quarantine.c.seq == 4)
    )
    assert reason.startswith("cannot apply: ")


async def test_newer_versions_and_reused_ids_are_quarantined(
    engine: AsyncEngine, store: str, clock: Clock
) -> None:
    raws = ev.log(S, 1, 3)
    first = msgspec.msgpack.decode(raws[1])
    raws.append(ev.staff(S, 4, v=99))
    raws.append(ev.staff(S, 5, id=uuid.UUID(first["id"])))
    result = await put(engine, 1, raws, clock)
    assert result == IngestResult(high_water=5, quarantined=2, stored=3)
    async with db.read(engine) as conn:
        reasons = (
            (
                await conn.execute(
                    sa.select(central_quarantine.c.reason).order_by(central_quarantine.c.seq)
                )
            )
            .scalars()
            .all()
        )
    assert "version 99" in reasons[0]
    assert "id already held" in reasons[1]


async def test_a_batch_is_inserted_with_one_statement(
    engine: AsyncEngine, store: str, clock: Clock
) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        await put(engine, 1, ev.log(S, 1, 500), clock)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    inserts = [s for s in statements if "INSERT INTO EVENTS" in s.upper()]
    assert len(inserts) == 1
    others = [s for s in statements if "staff" not in s and "store_info" not in s]
    # lock the store row, read held seqs, insert, savepoint, release, update the store
    assert len(others) <= 8, others


async def test_a_revoked_store_cannot_upload(engine: AsyncEngine, store: str, clock: Clock) -> None:
    async with db.write(engine) as conn:
        await enrollment.revoke(conn, S, now=clock())
    with pytest.raises(Unauthorized):
        await put(engine, 1, ev.log(S, 1, 2), clock)
    assert await count(engine, events) == 0


async def test_restore_returns_the_log_byte_for_byte_including_quarantined_events(
    engine: AsyncEngine, store: str, clock: Clock
) -> None:
    raws = ev.log(S, 1, 12)
    raws[5] = ev.unknown_type(S, 6)
    await put(engine, 1, raws, clock)
    await put(engine, 20, ev.log(S, 20, 2), clock)  # past a gap: not restorable yet
    got: list[bytes] = []
    after: int | None = 0
    async with db.read(engine) as conn:
        while after is not None:
            page = await restore_page(conn, S, after=after, limit=5)
            assert page.high_water == 12
            got += [bytes(r) for r in page.events]
            after = page.next_after
    assert got == raws
