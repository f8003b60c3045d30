"""The node side of sync without a network: the ports over the database (outbox, HQ sink,
progress), and when ``run_forever`` connects (backoff, overnight window)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
import sqlalchemy as sa
from uuid_utils.compat import uuid7

from schema.events import encode
from schema.events.inventory import ItemDefined
from schema.events.store import StaffAdded
from schema.tables import inventory as inv_tables
from schema.tables.conflicts import sync_conflicts
from schema.tables.core import staff
from schema.tables.sync import hq_log, sync_state
from server.store.db import Reader
from server.store.sync_service import (
    NodeOutbox,
    NodeProgress,
    apply_hq_batch,
)
from server.store.writer import Writer
from sync.clock import pack
from sync.errors import Disconnected, SyncError, Unavailable
from sync.frames import HqItem
from sync.ports import Ports
from sync.schedule import Backoff, Schedule, SyncWindow
from sync.store_ws import run_forever
from tests.conftest import STORE_ID, Harness

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
ITEM_FIELDS = ("sku", "name", "category", "unit_price_cents", "serialised", "active")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def hq_item(cursor: int, event: Any) -> HqItem:
    body = event if isinstance(event, bytes) else encode(event)
    return HqItem(cursor=cursor, event=msgspec.Raw(body))


def envelope(**payload: Any) -> dict[str, Any]:
    return dict(id=uuid7(), store_id="*", seq=0, hlc=0, at=T0, actor="hq", device="hq", **payload)


def catalog_item(sku: str, price: int = 1000) -> ItemDefined:
    return ItemDefined(
        **envelope(
            sku=sku,
            name=sku,
            category="accessory",
            unit_price_cents=price,
            serialised=False,
            active=True,
        )
    )


# ------------------------------------------------------------------ the outbox


def test_outbox_reads_in_seq_order_cut_by_count_and_bytes(harness: Harness) -> None:
    outbox = NodeOutbox(Reader(harness.engine), STORE_ID)
    assert outbox.max_seq() == 2  # store.configured, staff.added at init
    everything = outbox.read(0, 100, 10**6)
    assert [seq for seq, _ in everything] == [1, 2]
    assert outbox.read(0, 1, 10**6) == everything[:1]
    assert outbox.read(0, 100, 1) == everything[:1]  # always at least one
    assert outbox.read(1, 100, 10**6) == everything[1:]
    assert outbox.read(2, 100, 10**6) == []


# ------------------------------------------------------------------ the HQ sink


def hq_rows(h: Harness) -> list[tuple[int, str]]:
    return [
        (r.cursor, r.type)
        for r in h.read(lambda c: c.execute(sa.select(hq_log).order_by(hq_log.c.cursor)).all())
    ]


def cursor_of(h: Harness) -> int:
    return int(h.read(lambda c: c.execute(sa.select(sync_state.c.hq_cursor)).scalar_one()))


def skus(h: Harness) -> dict[str, int]:
    items = inv_tables.inventory_items
    rows = h.read(lambda c: c.execute(sa.select(items.c.sku, items.c.unit_price_cents)).all())
    return dict((sku, price) for sku, price in rows)


def test_an_hq_batch_is_folded_once_for_this_store(harness: Harness) -> None:
    batch = [hq_item(3, catalog_item("A", 100)), hq_item(5, catalog_item("B", 200))]
    folded = harness.run(lambda ctx: apply_hq_batch(ctx, batch, 6))
    assert [e.store_id for e in folded] == [STORE_ID, STORE_ID]
    assert skus(harness) == {"A": 100, "B": 200}
    assert hq_rows(harness) == [(3, "item.defined"), (5, "item.defined")]
    assert cursor_of(harness) == 6

    # Delivered again (a lost HqAck), with one new item: only the new one is applied.
    again = [*batch, hq_item(7, catalog_item("A", 150))]
    assert len(harness.run(lambda ctx: apply_hq_batch(ctx, again, 7))) == 1
    assert skus(harness) == {"A": 150, "B": 200}
    assert [c for c, _ in hq_rows(harness)] == [3, 5, 7] and cursor_of(harness) == 7
    assert harness.run(lambda ctx: apply_hq_batch(ctx, again, 7)) == []


def test_local_events_after_an_hq_event_are_ordered_after_it(harness: Harness) -> None:
    ahead = msgspec.structs.replace(
        catalog_item("A"), hlc=pack(int(T0.timestamp() * 1000) + 60_000, 7)
    )

    def apply_then_act(ctx: Any) -> int:
        apply_hq_batch(ctx, [hq_item(1, ahead)], 1)
        return ctx.emit(ItemDefined, **{f: getattr(ahead, f) for f in ITEM_FIELDS}).hlc

    assert harness.run(apply_then_act) > ahead.hlc  # HQ's clock ran a minute ahead


def test_local_events_after_a_restart_are_still_ordered_after_applied_hq_events(
    harness: Harness,
) -> None:
    # HQ's clock a day ahead of everything the node logged (its set-up used the real clock).
    day_ahead = int(datetime.now(UTC).timestamp() * 1000) + 86_400_000
    ahead = msgspec.structs.replace(catalog_item("A"), hlc=pack(day_ahead, 7))
    harness.run(lambda ctx: apply_hq_batch(ctx, [hq_item(1, ahead)], 1))
    assert harness.read(lambda c: c.execute(sa.select(hq_log.c.hlc)).scalar()) == ahead.hlc

    # Each ``run`` is a fresh writer that loads the log state from disk, as after a restart.
    def act(ctx: Any) -> int:
        return ctx.emit(ItemDefined, **{f: getattr(ahead, f) for f in ITEM_FIELDS}).hlc

    assert harness.run(act) > ahead.hlc


def test_hq_events_the_node_cannot_apply_are_kept_and_skipped(harness: Harness) -> None:
    clash = StaffAdded(
        **envelope(user_id=uuid7(), username="manager", display_name="m", role="clerk")
    )
    batch = [
        hq_item(1, msgspec.msgpack.encode({"type": "rule.threshold_set", "rule": "R1"})),
        hq_item(2, b"\xc1"),  # not even msgpack
        hq_item(3, clash),  # decodes, but its fold breaks a constraint (user name taken)
        hq_item(4, catalog_item("C")),
    ]
    folded = harness.run(lambda ctx: apply_hq_batch(ctx, batch, 4))
    assert [type(e).__name__ for e in folded] == ["ItemDefined"]
    assert hq_rows(harness) == [
        (1, "rule.threshold_set"),
        (2, "unreadable"),
        (3, "staff.added"),
        (4, "item.defined"),
    ]
    assert cursor_of(harness) == 4 and skus(harness) == {"C": 1000}
    roles = harness.read(lambda c: c.execute(sa.select(staff.c.role)).scalars().all())
    assert roles == ["manager"]  # the clashing HQ event changed nothing
    refused = harness.read(
        lambda c: c.execute(sa.select(sync_conflicts.c.hq_cursor, sync_conflicts.c.reason)).all()
    )
    assert [tuple(r) for r in refused] == [(3, "username_taken")]  # and is kept for review


# ------------------------------------------------------------------ progress


@pytest.fixture
def writer(harness: Harness) -> Iterator[Writer]:
    w = Writer(harness.engine, STORE_ID, contact_key=harness.contact_key, clock=lambda: T0)
    w.start()
    yield w
    w.stop()


async def test_progress_keeps_the_sync_state_row(harness: Harness, writer: Writer) -> None:
    progress = NodeProgress(writer)

    def row() -> Any:
        return harness.read(lambda c: c.execute(sa.select(sync_state)).one())

    await progress.attempted()
    assert row().last_attempt_at == T0 and row().acked_seq == 0
    await progress.saved(10, 0, 2, caught_up=False)
    await progress.saved(20, 0, 3, caught_up=False)
    assert (row().acked_seq, row().quarantined, row().last_success_at) == (20, 5, None)
    await progress.failed(Unavailable("central is restarting"))
    assert row().last_error == "unavailable: central is restarting"
    await progress.saved(25, 0, 0, caught_up=True)
    assert (row().acked_seq, row().last_success_at, row().last_error) == (25, T0, None)


# ------------------------------------------------------------------ backoff and window


def test_backoff_doubles_to_five_minutes_with_full_jitter() -> None:
    top = Backoff(rand=lambda: 1.0)
    assert [top.next_delay() for _ in range(11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    draws = iter([0.5, 0.1, 0.9])
    jittered = Backoff(rand=lambda: next(draws))
    assert [jittered.next_delay() for _ in range(3)] == [0.5, 0.2, 3.6]
    jittered.reset()
    assert Backoff(rand=lambda: 0.0).next_delay() == 0.0
    big = Backoff(rand=lambda: 1.0, attempt=10_000)
    assert big.next_delay() == 300


def at_local(hh: int, mm: int, tz: ZoneInfo = SHANGHAI, day: int = 26) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=tz)


def test_window_contains_and_wraps_past_midnight() -> None:
    night = SyncWindow.parse("01:00-05:00")
    assert night.contains(at_local(1, 0)) and night.contains(at_local(4, 59))
    assert not night.contains(at_local(5, 0)) and not night.contains(at_local(0, 59))
    assert night.seconds_until_open(at_local(0, 30)) == 30 * 60
    assert night.seconds_until_open(at_local(2, 0)) == 0
    assert night.seconds_until_open(at_local(12, 0)) == 13 * 3600
    assert night.seconds_until_close(at_local(4, 0)) == 3600
    late = SyncWindow.parse("23:00-02:00")
    assert late.contains(at_local(23, 30)) and late.contains(at_local(1, 0))
    assert not late.contains(at_local(2, 0)) and not late.contains(at_local(22, 0))
    assert late.seconds_until_close(at_local(23, 30)) == 2.5 * 3600
    with pytest.raises(ValueError, match="empty"):
        SyncWindow.parse("03:00-03:00")


def test_window_arithmetic_is_in_real_seconds_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # 2026-03-29: 02:00 → 03:00
    night = SyncWindow.parse("01:00-05:00")
    opened = datetime(2026, 3, 29, 1, 0, tzinfo=berlin)
    assert night.seconds_until_close(opened) == 3 * 3600  # an hour of the night is skipped


def test_schedule_modes() -> None:
    night = SyncWindow.parse("01:00-05:00")
    noon = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    in_window = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # 02:00 in Shanghai
    always = Schedule()
    assert always.seconds_until_allowed(noon) == 0 and always.seconds_until_closing(noon) is None
    window = Schedule("window", night, "Asia/Shanghai")
    assert window.seconds_until_allowed(noon) == 13 * 3600
    assert window.seconds_until_allowed(in_window) == 0
    assert window.seconds_until_closing(in_window) == 3 * 3600
    both = Schedule("both", night, "Asia/Shanghai")
    assert both.seconds_until_allowed(noon) == 0 and both.seconds_until_closing(noon) is None
    assert both.seconds_until_window(noon) == 13 * 3600
    with pytest.raises(ValueError, match="needs a window"):
        Schedule("window")


# ------------------------------------------------------------------ run_forever's timing


class Recorder:
    """In-memory ports: an empty log, no HQ events, and a record of every attempt."""

    def __init__(self) -> None:
        self.attempts = 0
        self.errors: list[BaseException] = []

    def max_seq(self) -> int:
        return 0

    def read(self, after_seq: int, max_count: int, max_bytes: int) -> list[tuple[int, bytes]]:
        return []

    def cursor(self) -> int:
        return 0

    async def apply(self, items: list[HqItem], upto: int) -> None:
        raise AssertionError("no HQ events expected")

    async def attempted(self) -> None:
        self.attempts += 1

    async def saved(self, acked_seq: int, hq: int, q: int, *, caught_up: bool) -> None:
        pass

    async def failed(self, error: BaseException) -> None:
        self.errors.append(error)

    def ports(self) -> Ports:
        return Ports(STORE_ID, self, self, self)


async def run_until(url: str, rec: Recorder, sleeps: int, **kwargs: Any) -> list[float]:
    """Run ``run_forever`` until it has slept ``sleeps`` times; the sleeps' lengths."""
    stop = asyncio.Event()
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) >= sleeps:
            stop.set()

    await asyncio.wait_for(
        run_forever(url, "hs1.S001.x", rec.ports(), stop=stop, sleep=sleep, **kwargs), 10
    )
    return delays


def closed_port() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"ws://127.0.0.1:{s.getsockname()[1]}/sync/v1"


async def test_unreachable_central_is_retried_with_growing_jittered_delays() -> None:
    rec = Recorder()
    delays = await run_until(closed_port(), rec, 5, backoff=Backoff(rand=lambda: 0.5))
    assert delays == [0.5, 1, 2, 4, 8]
    assert rec.attempts == 5 and all(isinstance(e, Disconnected) for e in rec.errors)


async def test_a_failure_retrying_cannot_fix_waits_the_longest_delay() -> None:
    rec = Recorder()
    delays = await run_until("http://127.0.0.1:9/sync", rec, 2, backoff=Backoff(rand=lambda: 1))
    assert delays == [300, 300]
    assert all(type(e) is SyncError and not e.retryable for e in rec.errors)


async def test_window_mode_waits_for_the_window_without_connecting() -> None:
    rec = Recorder()
    noon = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    schedule = Schedule("window", SyncWindow.parse("01:00-05:00"), "Asia/Shanghai")
    delays = await run_until(closed_port(), rec, 1, schedule=schedule, now=lambda: noon)
    assert delays == [13 * 3600] and rec.attempts == 0


async def test_both_mode_retries_at_once_when_the_window_opens() -> None:
    rec = Recorder()
    before = datetime(2026, 11, 25, 16, 59, 30, tzinfo=UTC)  # 00:59:30 in Shanghai
    schedule = Schedule("both", SyncWindow.parse("01:00-05:00"), "Asia/Shanghai")
    backoff = Backoff(rand=lambda: 1.0, attempt=12)  # deep in a streak: 300 s
    delays = await run_until(
        closed_port(), rec, 1, schedule=schedule, now=lambda: before, backoff=backoff
    )
    assert delays == [30] and backoff.attempt == 0
