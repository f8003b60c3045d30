"""Store KPIs of a day, from a scripted day with known waits, ratings, sales and complaints."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from schema.api.complaints import ComplaintIn
from schema.api.inventory import ItemIn, LineIn, ReceiveIn, SaleIn, SaleLineIn
from schema.api.queue import FinishIn, RatingIn, TicketIn, WindowIn
from server.domain import complaints, inventory, queue
from server.domain.kpis import percentile, store_kpis
from tests.conftest import Harness

# 2026-11-26 09:00 in Shanghai (UTC+8) is 01:00 UTC.
OPEN = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5], 0.9) == 5
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile(list(range(1, 101)), 0.9) == 90


def test_a_scripted_day(harness: Harness) -> None:
    h = harness
    window = h.run(
        lambda c: queue.define_window(c, WindowIn(code="W1", name="受理台", kind="business")),
        now=OPEN,
    )
    h.run(lambda c: queue.open_window(c, window.window_id), now=OPEN)

    # Five tickets issued at 09:00; called after 5, 10, 15, 20 minutes; the fifth still waits.
    tickets = [
        h.run(lambda c: queue.issue_ticket(c, TicketIn(category="billing")), now=OPEN)
        for _ in range(5)
    ]
    at = OPEN
    for i, wait in enumerate([5, 10, 15, 20]):
        called = h.run(
            lambda c: queue.call_next(c, window.window_id), now=OPEN + timedelta(minutes=wait)
        )
        assert called.ticket_id == tickets[i].ticket_id
        at = OPEN + timedelta(minutes=wait)
        tid, score = called.ticket_id, 5 if i == 0 else 3
        h.run(lambda c, tid=tid: queue.start_service(c, tid), now=at)
        h.run(
            lambda c, tid=tid: queue.finish(c, tid, FinishIn(outcome="completed")),
            now=at + timedelta(minutes=4),
        )
        if i < 2:  # two ratings: 5 and 3
            h.run(
                lambda c, tid=tid, score=score: queue.rate(c, tid, RatingIn(score=score)),
                actor="greeter1",  # not the manager who served: a rating is the customer's
                now=at + timedelta(minutes=5),
            )

    h.run(
        lambda c: inventory.define_item(
            c, ItemIn(sku="CASE", name="手机壳", category="accessory", unit_price_cents=2900)
        ),
        now=OPEN,
    )
    h.run(
        lambda c: inventory.receive(
            c, ReceiveIn(supplier="仓库", lines=[LineIn(sku="CASE", qty=3)])
        ),
        now=OPEN,
    )
    h.run(lambda c: inventory.sell(c, SaleIn(lines=[SaleLineIn(sku="CASE", qty=3)])), now=at)
    h.run(
        lambda c: complaints.open_complaint(
            c,
            ComplaintIn(
                channel="in_store",
                category="waiting_time",
                description="等太久",
                customer_phone="13812345678",
            ),
        ),
        now=OPEN,
    )

    now = OPEN + timedelta(hours=30)  # the next day: the complaint is overdue for response
    k = h.read(lambda c: store_kpis(c, h.store_id, now, date(2026, 11, 26)))
    assert k.day == date(2026, 11, 26)
    assert (k.queue.visits, k.queue.called, k.queue.done) == (5, 4, 4)
    assert k.queue.avg_wait_seconds == 12.5 * 60
    assert k.queue.p90_wait_seconds == 20 * 60
    assert k.queue.served_within_15min == 0.75
    assert k.queue.avg_service_seconds == 4 * 60
    assert k.queue.no_show_rate == 0
    assert (k.satisfaction.ratings, k.satisfaction.average) == (2, 4.0)
    assert k.satisfaction.share_4_5 == 0.5 and k.satisfaction.response_rate == 0.5
    assert (k.sales.units, k.sales.amount_cents) == (3, 8700)
    assert k.complaints.opened == 1
    # The day asked for is past: figures of the present moment are not given for it.
    assert k.stockouts is None and k.complaints.open_now is None and k.queue.waiting_now is None

    today = h.read(lambda c: store_kpis(c, h.store_id, now))
    assert today.day == date(2026, 11, 27) and today.queue.visits == 0
    assert today.stockouts == 1  # sold out of the only item
    assert (today.complaints.open_now, today.complaints.overdue_now) == (1, 1)
