"""The typed tablet client against a real store node app, in process over httpx's ASGI transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from clients import ApiError, TabletClient, iterate
from schema.api.complaints import (
    AssignIn,
    ComplaintIn,
    ComplaintSearchIn,
    FeedbackIn,
    ResolveIn,
    RespondIn,
)
from schema.api.inventory import ItemIn, LineIn, ReceiveIn, SaleIn, SaleLineIn
from schema.api.ops import CheckItemIn
from schema.api.queue import FinishIn, RatingIn, TicketIn, WindowIn
from schema.api.store import StaffIn, StaffUpdate
from server.store.app import create_app
from server.store.board import Display
from tests.conftest import MANAGER, MANAGER_PASSWORD, STAFF_PASSWORD, TZ

DAY = date(2026, 11, 26)
Connect = Callable[[str, str], Awaitable[TabletClient]]


@dataclass
class Clock:
    """The node's wall clock, set by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock() -> Clock:
    """10:00 in the hall (Asia/Shanghai), inside business hours."""
    return Clock(datetime.combine(DAY, time(10), tzinfo=ZoneInfo(TZ)).astimezone(UTC))


@pytest.fixture
async def app(data_dir: Path, clock: Clock) -> AsyncIterator[Litestar]:
    """The store node app, started (its lifespan runs) for the length of the test."""
    node = create_app(data_dir, clock=clock)
    node.state.board.clock = clock
    async with AsyncTestClient(app=node):
        yield node


@pytest.fixture
async def connect(app: Litestar) -> AsyncIterator[Connect]:
    """Log a tablet in to the node as someone: ``await connect("clerk1", password)``."""
    opened: list[TabletClient] = []
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # ASGI typings differ

    async def connect(username: str, password: str) -> TabletClient:
        tablet = TabletClient("http://node", transport=transport, device=f"tab-{username}")
        opened.append(tablet)
        await tablet.login(username, password)
        return tablet

    yield connect
    for tablet in opened:
        await tablet.aclose()


@pytest.fixture
async def manager(connect: Connect) -> TabletClient:
    return await connect(MANAGER, MANAGER_PASSWORD)


@pytest.fixture
async def staff(manager: TabletClient, connect: Connect) -> dict[str, TabletClient]:
    """A logged-in tablet per role, the staff members added by the manager."""
    tablets = {"manager": manager}
    for role in ("greeter", "clerk", "tech", "admin"):
        await manager.add_staff(
            StaffIn(
                username=f"{role}1", display_name=f"{role} one", role=role, password=STAFF_PASSWORD
            )
        )
        tablets[role] = await connect(f"{role}1", STAFF_PASSWORD)
    return tablets


async def _open_window(staff: dict[str, TabletClient]) -> TabletClient:
    """Window W1, defined by the manager and opened by the clerk; returns the clerk's tablet."""
    window = await staff["manager"].define_window(
        WindowIn(code="W1", name="1号业务受理台", kind="business")
    )
    await staff["clerk"].open_window(window.window_id)
    return staff["clerk"]


# ---------------------------------------------------------------- login


async def test_login_keeps_the_token_and_wrong_password_is_unauthorized(
    manager: TabletClient, connect: Connect
) -> None:
    me = await manager.me()
    assert (me.username, me.role, me.active) == (MANAGER, "manager", True)
    store = await manager.get_store()
    assert (store.store_id, store.tz, store.open_time) == ("S001", TZ, time(8))

    with pytest.raises(ApiError) as err:
        await connect(MANAGER, "not-the-password")
    assert (err.value.status, err.value.code) == (401, "unauthorized")


async def test_a_tablet_changes_its_members_password_and_keeps_working(
    staff: dict[str, TabletClient], connect: Connect
) -> None:
    clerk = staff["clerk"]
    await clerk.change_password(STAFF_PASSWORD, "clerk-chose-this")
    assert (await clerk.me()).username == "clerk1"  # on the new token
    with pytest.raises(ApiError) as err:
        await connect("clerk1", STAFF_PASSWORD)
    assert err.value.status == 401
    await connect("clerk1", "clerk-chose-this")


# ---------------------------------------------------------------- queue


async def test_a_visit_from_ticket_to_rating(staff: dict[str, TabletClient], clock: Clock) -> None:
    greeter = staff["greeter"]
    clerk = await _open_window(staff)
    [window] = (await clerk.list_windows(status="open")).items
    assert window.staff == "clerk1"

    ticket = await greeter.issue_ticket(TicketIn(category="new_line", customer_phone="13812345678"))
    assert (ticket.number, ticket.status, ticket.ahead, ticket.customer_phone) == (
        "B001",
        "waiting",
        0,
        "***********",
    )
    clock.tick(6)
    called = await clerk.call_next(window.window_id)
    assert (called.ticket_id, called.status, called.wait_seconds) == (
        ticket.ticket_id,
        "called",
        360,
    )
    await clerk.start_ticket(ticket.ticket_id)
    clock.tick(10)
    done = await clerk.finish_ticket(ticket.ticket_id, FinishIn(outcome="completed"))
    assert (done.status, done.service_seconds) == ("done", 600)
    rated = await greeter.rate_ticket(ticket.ticket_id, RatingIn(score=5, comment="很满意"))
    assert (rated.score, rated.comment) == (5, "很满意")

    state = await greeter.get_queue_state()
    assert (state.totals.issued, state.totals.done) == (1, 1)
    assert [c.number for c in state.recent_calls] == ["B001"]


async def test_call_next_on_an_empty_queue_is_a_stable_error(
    staff: dict[str, TabletClient],
) -> None:
    clerk = await _open_window(staff)
    [window] = (await clerk.list_windows()).items
    with pytest.raises(ApiError) as err:
        await clerk.call_next(window.window_id)
    assert (err.value.status, err.value.code) == (409, "queue_empty")
    assert err.value.problem.retryable is False


async def test_a_role_the_server_refuses_is_forbidden(staff: dict[str, TabletClient]) -> None:
    with pytest.raises(ApiError) as err:
        await staff["greeter"].define_window(WindowIn(code="W9", name="九号", kind="business"))
    assert err.value.code == "forbidden"


async def test_iterate_walks_every_page_in_order(staff: dict[str, TabletClient]) -> None:
    greeter = staff["greeter"]
    for _ in range(5):
        await greeter.issue_ticket(TicketIn(category="consultation"))
    await greeter.issue_ticket(TicketIn(category="new_line"))

    first = await greeter.list_tickets(category="consultation", limit=2)
    assert (first.total, len(first.items), first.next_offset) == (5, 2, 2)
    numbers = [
        t.number async for t in iterate(greeter.list_tickets, category="consultation", limit=2)
    ]
    assert numbers == ["A001", "A002", "A003", "A004", "A005"]
    rest = [t.number async for t in iterate(greeter.list_tickets, limit=2, offset=4)]
    assert rest == ["A005", "B001"]


async def test_the_board_stream_yields_the_state_after_each_change(
    app: Litestar, staff: dict[str, TabletClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    board = app.state.board
    greeter = staff["greeter"]
    subscribe, subscribed = board.subscribe, asyncio.Event()

    async def watched_subscribe() -> Display:
        display: Display = await subscribe()  # the display now holds the state before our change
        subscribed.set()
        return display

    monkeypatch.setattr(board, "subscribe", watched_subscribe)

    async def watch() -> list[int]:
        return [s.totals.issued async for s in greeter.watch_board()]

    watching = asyncio.create_task(watch())
    await asyncio.wait_for(subscribed.wait(), 5)
    await greeter.issue_ticket(TicketIn(category="new_line"))
    await board.close()  # pushes the pending change, then ends every display's stream
    assert await asyncio.wait_for(watching, 5) == [0, 1]
    assert board.pushes == 1


# ---------------------------------------------------------------- idempotency


async def test_a_retried_write_with_the_same_key_returns_the_same_result(
    staff: dict[str, TabletClient],
) -> None:
    greeter = staff["greeter"]
    body = TicketIn(category="new_line")
    first = await greeter.issue_ticket(body, idempotency_key="walk-in-42")
    again = await greeter.issue_ticket(body, idempotency_key="walk-in-42")
    assert again == first
    assert (await greeter.issue_ticket(body)).number == "B002"  # a new key: a new ticket

    with pytest.raises(ApiError) as err:
        await greeter.issue_ticket(TicketIn(category="consultation"), idempotency_key="walk-in-42")
    assert err.value.code == "idempotency_key_reused"


async def test_a_retried_patch_with_the_same_key_is_replayed(
    staff: dict[str, TabletClient],
) -> None:
    manager = staff["manager"]
    tech = await staff["tech"].me()
    first = await manager.update_staff(tech.user_id, StaffUpdate(active=False), idempotency_key="k")
    again = await manager.update_staff(tech.user_id, StaffUpdate(active=False), idempotency_key="k")
    assert again == first


# ---------------------------------------------------------------- inventory


async def test_a_sale_after_receiving_stock(staff: dict[str, TabletClient]) -> None:
    admin, clerk = staff["admin"], staff["clerk"]
    await admin.define_item(
        ItemIn(sku="CASE-01", name="手机壳", category="accessory", unit_price_cents=3900)
    )
    received = await admin.receive(
        ReceiveIn(supplier="华东仓", reference="PO-7", lines=[LineIn(sku="CASE-01", qty=10)])
    )
    assert (received.kind, received.lines[0].on_hand_after) == ("receive", 10)

    sale = await clerk.sell(SaleIn(lines=[SaleLineIn(sku="CASE-01", qty=2)]))
    assert (sale.kind, sale.amount_cents) == ("sell", 7800)
    stock = await clerk.get_stock("CASE-01")
    assert (stock.on_hand, stock.value_cents) == (8, 8 * 3900)
    ledger = [m.kind async for m in iterate(clerk.list_movements, sku="CASE-01")]
    assert ledger == ["sell", "receive"]
    today = await clerk.list_movements(date_from=DAY, date_to=DAY)
    assert [m.kind for m in today.items] == ["sell", "receive"]
    assert (await clerk.list_movements(date_from=DAY + timedelta(days=1))).total == 0
    with pytest.raises(ApiError) as reversed_range:
        await clerk.list_movements(date_from=DAY, date_to=DAY - timedelta(days=1))
    assert reversed_range.value.code == "validation_failed"
    assert reversed_range.value.problem.errors[0].field == "query.from"

    with pytest.raises(ApiError) as err:
        await clerk.sell(SaleIn(lines=[SaleLineIn(sku="CASE-01", qty=9)]))
    assert err.value.code == "insufficient_stock"


# ---------------------------------------------------------------- attendance


async def test_clock_in_and_out(staff: dict[str, TabletClient], clock: Clock) -> None:
    clerk = staff["clerk"]
    record = await clerk.clock_in()
    assert (record.username, record.clock_out_at, record.shift_id) == ("clerk1", None, None)
    status = await clerk.get_clock_status()
    assert status.clocked_in and status.open_record is not None
    clock.tick(90)
    out = await clerk.clock_out()
    assert (out.attendance_id, out.worked_minutes) == (record.attendance_id, 90)
    assert not (await clerk.get_clock_status()).clocked_in
    [day] = (await clerk.list_attendance()).items
    assert (day.status, day.worked_minutes) == ("unplanned", 90)


# ---------------------------------------------------------------- complaints


async def test_a_complaint_from_intake_to_close(staff: dict[str, TabletClient]) -> None:
    greeter, clerk, manager = staff["greeter"], staff["clerk"], staff["manager"]
    opened = await greeter.open_complaint(
        ComplaintIn(
            channel="in_store",
            category="billing",
            description="套餐费用多扣",
            customer_phone="139 0000 1234",
        )
    )
    assert (opened.status, opened.customer_phone) == ("open", "***********")
    cid = opened.complaint_id
    clerk_id = (await clerk.me()).user_id
    await manager.assign_complaint(cid, AssignIn(owner_id=clerk_id))
    await clerk.respond_to_complaint(cid, RespondIn(note="已致电客户核实"))
    await clerk.resolve_complaint(cid, ResolveIn(remedy="退还多扣费用", verified=True))
    await greeter.record_complaint_feedback(cid, FeedbackIn(satisfied=True, rating=5))
    closed = await manager.close_complaint(cid)
    assert closed.status == "closed"
    assert [s.kind for s in (await greeter.get_complaint(cid)).steps] == [
        "opened",
        "assigned",
        "responded",
        "resolved",
        "feedback",
        "closed",
    ]
    found = await greeter.search_complaints(ComplaintSearchIn(customer_phone="13900001234"))
    assert [c.complaint_id for c in found.items] == [cid]
    assert (await greeter.get_complaint_summary()).open == 0
    assert (await greeter.list_complaints(date_from=DAY, date_to=DAY)).total == 1
    assert (await greeter.list_complaints(date_to=DAY - timedelta(days=1))).total == 0


# ---------------------------------------------------------------- opening checklist


async def test_the_opening_checklist(staff: dict[str, TabletClient]) -> None:
    tech, clerk, admin = staff["tech"], staff["clerk"], staff["admin"]
    checklist = await tech.start_checklist()
    assert checklist.status == "open" and checklist.unchecked
    with pytest.raises(ApiError) as err:
        await admin.complete_checklist(checklist.checklist_id)
    assert err.value.code == "incomplete"

    for item in checklist.items:
        await clerk.check_checklist_item(checklist.checklist_id, item.code, CheckItemIn(ok=True))
    done = await admin.complete_checklist(checklist.checklist_id)
    assert (done.status, done.unchecked, done.completed_by) == ("completed", [], "admin1")
    assert await clerk.get_checklist(DAY) == done == await clerk.get_todays_checklist()
    [summary] = (await clerk.list_checklists(date_from=DAY, date_to=DAY)).items
    assert (summary.status, summary.checked_count) == ("completed", len(done.items))


# ---------------------------------------------------------------- KPIs


async def test_kpis_count_the_days_visits_and_sales(
    staff: dict[str, TabletClient], clock: Clock
) -> None:
    greeter, admin, manager = staff["greeter"], staff["admin"], staff["manager"]
    clerk = await _open_window(staff)
    [window] = (await clerk.list_windows()).items
    ticket = await greeter.issue_ticket(TicketIn(category="new_line"))
    clock.tick(4)
    await clerk.call_next(window.window_id)
    await clerk.start_ticket(ticket.ticket_id)
    await clerk.finish_ticket(ticket.ticket_id, FinishIn(outcome="completed"))
    await greeter.rate_ticket(ticket.ticket_id, RatingIn(score=4))
    await admin.define_item(
        ItemIn(sku="SIMBAG", name="卡套", category="supply", unit_price_cents=100)
    )
    await admin.receive(ReceiveIn(supplier="总部", lines=[LineIn(sku="SIMBAG", qty=3)]))
    discounted = SaleIn(lines=[SaleLineIn(sku="SIMBAG", qty=3, unit_price_cents=90)])
    with pytest.raises(ApiError) as err:
        await clerk.sell(discounted)
    assert (err.value.status, err.value.code) == (403, "forbidden")
    assert "needs a manager" in err.value.problem.detail
    await manager.sell(discounted)

    kpis = await manager.get_kpis()
    assert (kpis.day, kpis.queue.visits, kpis.queue.done) == (DAY, 1, 1)
    assert kpis.queue.avg_wait_seconds == 240
    assert kpis.satisfaction.average == 4
    assert (kpis.sales.units, kpis.sales.amount_cents, kpis.stockouts) == (3, 270, 1)
    assert (await manager.get_kpis(day=DAY - timedelta(days=1))).queue.visits == 0
