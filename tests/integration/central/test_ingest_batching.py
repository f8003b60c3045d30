"""Central folds an uploaded batch's row operations together (``BatchRows``): the
projections it builds must equal folding the same events one at a time, unbatched.

A simulated business day of a hall (``server.store.simulation``: real domain commands, real
envelopes) is ingested in upload-sized batches, on SQLite and on PostgreSQL; the same events are
folded again one by one with plain ``apply`` under another store id, in the same database; every
projection table must hold the same rows for both stores.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.events import decode
from schema.tables import metadata
from schema.tables import sync as sync_tables
from schema.tables.core import events, idempotency_keys
from server.central import db, enrollment
from server.central.fold.ingest import IngestResult, ingest
from server.domain.projection import apply
from server.store.simulation import Day, record_day
from tests.contact import CONTACT_KEY
from tests.integration.central.conftest import Clock

S = "S001"
REFERENCE = "REF01"
SYNC_TABLES = [t for t in vars(sync_tables).values() if isinstance(t, sa.Table)]
NOT_PROJECTIONS = {events, idempotency_keys, *SYNC_TABLES}


@cache
def day() -> Day:
    return record_day(S, events=1500, seed=7)


def projection_tables() -> list[sa.Table]:
    return [t for t in metadata.sorted_tables if "store_id" in t.c and t not in NOT_PROJECTIONS]


async def rows_of(engine: AsyncEngine, table: sa.Table, store_id: str) -> list[tuple[Any, ...]]:
    """The store's rows of ``table`` without their ``store_id``, in primary-key order."""
    columns = [c for c in table.c if c.name != "store_id"]
    order = [c for c in table.primary_key.columns if c.name != "store_id"] or columns
    async with db.read(engine) as conn:
        found = await conn.execute(
            sa.select(*columns).where(table.c.store_id == store_id).order_by(*order)
        )
        return [tuple(r) for r in found]


def fold_one_by_one(conn: Connection, raws: list[bytes]) -> None:
    for raw in raws:
        apply(conn, msgspec.structs.replace(decode(raw), store_id=REFERENCE))


@pytest.mark.parametrize("batch", [500, 137])
async def test_batched_fold_equals_one_event_at_a_time(
    engine: AsyncEngine, clock: Clock, batch: int, caplog: pytest.LogCaptureFixture
) -> None:
    async with db.write(engine) as conn:
        await enrollment.create_store(
            conn, store_id=S, name="人民路营业厅", region="east", tz="Asia/Shanghai"
        )
        code = await enrollment.issue_code(conn, S, now=clock())
        await enrollment.enroll(
            conn, code.code, restore=False, contact_key=CONTACT_KEY, now=clock()
        )
    raws = [body for _, body in day().records]

    with caplog.at_level(logging.INFO, logger="server.central.fold.ingest"):
        for first in range(1, len(raws) + 1, batch):
            part = raws[first - 1 : first - 1 + batch]
            async with db.write(engine) as conn:
                result = await ingest(conn, S, first, part, now=clock())
            assert result == IngestResult(first + len(part) - 1, 0, len(part))
    # The batched path was taken, not its one-event-at-a-time fallback.
    assert not [r for r in caplog.records if "one event at a time" in r.getMessage()]

    async with db.write(engine) as conn:
        await conn.run_sync(fold_one_by_one, raws)

    tables = projection_tables()
    assert {"queue_tickets", "inventory_stock", "attendance_records", "complaints"} <= {
        t.name for t in tables
    }
    for table in tables:
        batched = await rows_of(engine, table, S)
        reference = await rows_of(engine, table, REFERENCE)
        assert batched == reference, f"{table.name}: the batched fold differs"
    filled = [t.name for t in tables if await rows_of(engine, t, S)]
    assert len(filled) >= 27, filled


async def test_a_cancelled_worked_shift_folds_on_central_as_on_the_store(
    engine: AsyncEngine, clock: Clock, harness: Any
) -> None:
    """Cancelling a shift somebody clocked in for turns their record into unplanned work: the
    batched fold on central must do it as the store node did."""
    from datetime import UTC, datetime, time
    from functools import partial

    from schema.api.shifts import ClockActionIn, ShiftCancelIn, ShiftIn
    from schema.tables.shifts import attendance_records, shifts
    from server.domain import shifts as shift_domain
    from server.domain import store as store_domain

    clerk = harness.run(
        partial(
            store_domain.add_staff, username="ann", display_name="Ann", role="clerk",
            password_hash="x",
        )
    ).user_id  # fmt: skip
    at_9 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    plan = ShiftIn(user_id=clerk, day=at_9.date(), start_time=time(8), end_time=time(12))
    shift = harness.run(lambda ctx: shift_domain.plan_shift(ctx, plan))
    harness.run(
        partial(shift_domain.clock_in, user_id=clerk, cmd=ClockActionIn()), actor="ann", now=at_9
    )
    harness.run(
        partial(shift_domain.cancel_shift, shift_id=shift.shift_id, cmd=ShiftCancelIn()),
        now=at_9,
    )
    with harness.engine.connect() as conn:
        raws = [r.body for r in conn.execute(sa.select(events.c.body).order_by(events.c.seq))]
        store_rows = {
            t.name: [
                tuple(r)
                for r in conn.execute(
                    sa.select(*[c for c in t.c if c.name != "store_id"]).order_by(
                        *[c for c in t.primary_key.columns if c.name != "store_id"]
                    )
                )
            ]
            for t in (shifts, attendance_records)
        }
        linked = conn.execute(sa.select(attendance_records.c.shift_id)).scalar_one()
    assert linked is None  # the record is unplanned work now

    async with db.write(engine) as conn:
        await enrollment.create_store(
            conn, store_id=S, name="人民路营业厅", region="east", tz="Asia/Shanghai"
        )
        code = await enrollment.issue_code(conn, S, now=clock())
        await enrollment.enroll(
            conn, code.code, restore=False, contact_key=CONTACT_KEY, now=clock()
        )
    async with db.write(engine) as conn:
        result = await ingest(conn, S, 1, raws, now=clock())
    assert result == IngestResult(len(raws), 0, len(raws))
    for table in (shifts, attendance_records):
        assert await rows_of(engine, table, S) == store_rows[table.name], table.name


async def test_conflicts_fold_in_a_batch_as_one_event_at_a_time(
    engine: AsyncEngine, clock: Clock, harness: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A store's conflicts (recorded when it refused HQ events, resolved by its manager or by
    HQ) fold on central as on the node, a conflict and its resolution in one batch included."""
    import uuid as uuid_mod
    from functools import partial

    from schema.api.store import StaffUpdate
    from schema.events import encode
    from schema.events.conflicts import ConflictResolved
    from schema.events.store import StaffAdded, StaffRoleChanged
    from schema.tables.conflicts import sync_conflicts
    from server.domain import conflicts
    from server.domain import store as store_domain
    from server.store.sync_service import apply_hq_batch
    from sync.frames import HqItem

    member = uuid_mod.uuid4()

    def hq(event_type: Any, **payload: Any) -> Any:
        return event_type(
            id=uuid_mod.uuid4(),
            store_id="*",
            seq=0,
            hlc=0,
            at=clock(),
            actor="hq.ops",
            device="hq",
            **payload,
        )

    def deliver(cursor: int, *hq_events: Any) -> None:
        items = [
            HqItem(cursor=cursor + n, event=msgspec.Raw(encode(e))) for n, e in enumerate(hq_events)
        ]
        harness.run(partial(apply_hq_batch, items=items, upto=cursor + len(items) - 1))

    deliver(
        1, hq(StaffAdded, user_id=member, username="wang.li", display_name="王丽", role="clerk")
    )
    harness.run(lambda ctx: store_domain.update_staff(ctx, member, StaffUpdate(active=False)))
    deliver(
        2, *(hq(StaffRoleChanged, user_id=member, role=r) for r in ("tech", "admin", "greeter"))
    )
    with harness.engine.connect() as conn:
        ids = list(
            conn.execute(
                sa.select(sync_conflicts.c.conflict_id).order_by(sync_conflicts.c.recorded_seq)
            ).scalars()
        )
    assert len(ids) == 3
    harness.run(lambda ctx: conflicts.resolve(ctx, ids[0], "不再返聘"))
    deliver(
        5,
        hq(ConflictResolved, conflict_id=ids[1], note="总部撤回", resolved_by="hq.ops", side="hq"),
    )
    with harness.engine.connect() as conn:
        raws = [r.body for r in conn.execute(sa.select(events.c.body).order_by(events.c.seq))]
        on_node = [
            tuple(r)[1:]
            for r in conn.execute(sa.select(sync_conflicts).order_by(sync_conflicts.c.conflict_id))
        ]

    async with db.write(engine) as conn:
        await enrollment.create_store(
            conn, store_id=S, name="人民路营业厅", region="east", tz="Asia/Shanghai"
        )
        code = await enrollment.issue_code(conn, S, now=clock())
        await enrollment.enroll(
            conn, code.code, restore=False, contact_key=CONTACT_KEY, now=clock()
        )
    with caplog.at_level(logging.INFO, logger="server.central.fold.ingest"):
        async with db.write(engine) as conn:  # the whole log in one batch, resolutions included
            result = await ingest(conn, S, 1, raws, now=clock())
    assert result == IngestResult(len(raws), 0, len(raws))
    assert not [r for r in caplog.records if "one event at a time" in r.getMessage()]
    async with db.write(engine) as conn:
        await conn.run_sync(fold_one_by_one, raws)
    for table in projection_tables():
        assert await rows_of(engine, table, S) == await rows_of(engine, table, REFERENCE), (
            table.name
        )
    assert sorted(await rows_of(engine, sync_conflicts, S)) == sorted(on_node)
    async with db.read(engine) as conn:
        statuses = await conn.execute(
            sa.select(sync_conflicts.c.resolved_side)
            .where(sync_conflicts.c.store_id == S)
            .order_by(sync_conflicts.c.recorded_seq)
        )
        assert list(statuses.scalars()) == ["store", "hq", None]
