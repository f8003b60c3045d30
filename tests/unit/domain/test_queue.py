"""The queue (排队叫号) through its domain commands, at controlled times: windows, tickets,
appointments and the live state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from schema.api.queue import (
    AppointmentCancelIn,
    AppointmentIn,
    AppointmentOut,
    CancelIn,
    FinishIn,
    RatingIn,
    TicketIn,
    TicketOut,
    TransferIn,
    WindowIn,
    WindowOut,
    WindowPauseIn,
    WindowUpdateIn,
)
from schema.events import decode
from schema.events.queue import ServiceCategory, WindowKind
from schema.events.store import Role
from schema.tables.core import events
from schema.tables.queue import queue_appointments, queue_tickets, queue_windows
from server.domain import queue as domain
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.domain.queue.rules import mask_name
from server.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from tests.conftest import STORE_ID, TZ, Harness, assert_replay_matches

T = TypeVar("T")
ZONE = ZoneInfo(TZ)
DAY = date(2026, 11, 26)
"""The harness's default day; its clock stands at 10:00 Shanghai time."""
PHONE = "13812345678"


def local(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    """A Shanghai wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=ZONE).astimezone(UTC)


class Hall:
    """The harness with the hall's staff and a few shortcuts, at a clock the test moves."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.now = local(10)
        roster: tuple[tuple[str, Role], ...] = (
            ("ann", "clerk"),
            ("bob", "clerk"),
            ("gus", "greeter"),
        )
        for name, role in roster:
            self.run(
                partial(
                    store_domain.add_staff,
                    username=name,
                    display_name=name.title(),
                    role=role,
                    password_hash="x",
                ),
                actor="manager",
            )

    def run(
        self, command: Callable[[Ctx], T], *, actor: str = "ann", at: datetime | None = None
    ) -> T:
        return self.h.run(command, actor=actor, now=at or self.now)

    def tick(self, minutes: float) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now

    def window(
        self,
        code: str,
        kind: WindowKind = "business",
        categories: list[ServiceCategory] | None = None,
        *,
        open_by: str | None = None,
    ) -> UUID:
        out = self.run(
            lambda ctx: domain.define_window(
                ctx, WindowIn(code=code, name=f"{code}号窗口", kind=kind, categories=categories)
            ),
            actor="manager",
        )
        if open_by is not None:
            self.run(lambda ctx: domain.open_window(ctx, out.window_id), actor=open_by)
        return out.window_id

    def issue(
        self, category: ServiceCategory = "new_line", *, vip: bool = False, phone: str | None = None
    ) -> TicketOut:
        cmd = TicketIn(category=category, vip=vip, customer_phone=phone)
        return self.run(lambda ctx: domain.issue_ticket(ctx, cmd), actor="gus")

    def call(self, window_id: UUID, actor: str = "ann") -> TicketOut:
        return self.run(lambda ctx: domain.call_next(ctx, window_id), actor=actor)

    def ticket(self, ticket_id: UUID) -> TicketOut:
        return self.h.read(lambda c: domain.get_ticket(c, STORE_ID, ticket_id))

    def get_window(self, window_id: UUID) -> WindowOut:
        return self.h.read(lambda c: domain.get_window(c, STORE_ID, window_id))

    def serve(self, window_id: UUID, actor: str = "ann") -> TicketOut:
        called = self.call(window_id, actor)
        return self.run(lambda ctx: domain.start_service(ctx, called.ticket_id), actor=actor)

    def finish(self, ticket_id: UUID, actor: str = "ann") -> TicketOut:
        cmd = FinishIn(outcome="completed")
        return self.run(lambda ctx: domain.finish(ctx, ticket_id, cmd), actor=actor)

    def book(self, slot: datetime, *, phone: str = PHONE, name: str = "张三") -> AppointmentOut:
        cmd = AppointmentIn(
            category="plan_change", slot_start=slot, customer_name=name, customer_phone=phone
        )
        return self.run(lambda ctx: domain.book(ctx, cmd), actor="gus")

    def window_id(self, code: str) -> UUID:
        found: UUID = self.h.read(
            lambda c: c.execute(
                sa.select(queue_windows.c.window_id).where(queue_windows.c.code == code)
            ).scalar_one()
        )
        return found

    def drain(self, window_id: UUID, actor: str = "ann") -> list[str]:
        """Numbers in the order the window calls them (each marked no-show to free the window)."""
        numbers: list[str] = []
        while True:
            try:
                t = self.call(window_id, actor)
            except domain.QueueEmpty:
                return numbers
            numbers.append(t.number)
            self.run(partial(domain.ticket_no_show, ticket_id=t.ticket_id), actor=actor)

    def log(self) -> list[Any]:
        rows = self.h.read(
            lambda c: c.execute(sa.select(events.c.body).order_by(events.c.seq)).all()
        )
        return [decode(r.body) for r in rows]


@pytest.fixture
def hall(harness: Harness) -> Hall:
    return Hall(harness)


# ---------------------------------------------------------------- windows


def test_define_window_defaults_categories_by_kind_and_starts_closed(hall: Hall) -> None:
    w = hall.get_window(hall.window("W1", "cashier"))
    assert (w.code, w.status, w.staff) == ("W1", "closed", None)
    assert w.categories == ["billing", "device_purchase"]
    custom = hall.get_window(hall.window("W2", "vip", ["broadband", "broadband", "porting"]))
    assert custom.categories == ["broadband", "porting"]


def test_window_code_is_unique(hall: Hall) -> None:
    hall.window("W1")
    with pytest.raises(Conflict) as err:
        hall.window("W1", "cashier")
    assert err.value.extra["field"] == "code"


def test_update_window_changes_categories_and_a_no_op_records_nothing(hall: Hall) -> None:
    wid = hall.window("W1")
    before = len(hall.log())
    out = hall.run(
        lambda ctx: domain.update_window(ctx, wid, WindowUpdateIn(categories=["consultation"])),
        actor="manager",
    )
    assert out.categories == ["consultation"] and out.name == "W1号窗口"
    hall.run(
        lambda ctx: domain.update_window(ctx, wid, WindowUpdateIn(categories=["consultation"])),
        actor="manager",
    )
    assert len(hall.log()) == before + 1
    with pytest.raises(NotFound):
        hall.run(lambda ctx: domain.update_window(ctx, UUID(int=1), WindowUpdateIn(name="x")))


def test_open_pause_resume_close(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    w = hall.get_window(wid)
    assert (w.status, w.staff, w.status_since) == ("open", "ann", hall.now)
    hall.tick(5)
    paused = hall.run(
        lambda ctx: domain.pause_window(ctx, wid, WindowPauseIn(reason="meal", note="午饭"))
    )
    assert (paused.status, paused.pause_reason, paused.pause_note) == ("paused", "meal", "午饭")
    resumed = hall.run(lambda ctx: domain.resume_window(ctx, wid))
    assert (resumed.status, resumed.pause_reason) == ("open", None)
    closed = hall.run(lambda ctx: domain.close_window(ctx, wid))
    assert (closed.status, closed.staff) == ("closed", None)


@pytest.mark.parametrize(
    ("state", "command"),
    [
        ("open", lambda wid: lambda ctx: domain.open_window(ctx, wid)),
        ("open", lambda wid: lambda ctx: domain.resume_window(ctx, wid)),
        ("paused", lambda wid: lambda ctx: domain.open_window(ctx, wid)),
        ("paused", lambda wid: lambda ctx: domain.call_next(ctx, wid)),
        (
            "paused",
            lambda wid: lambda ctx: domain.pause_window(ctx, wid, WindowPauseIn(reason="break")),
        ),
        ("closed", lambda wid: lambda ctx: domain.close_window(ctx, wid)),
        ("closed", lambda wid: lambda ctx: domain.resume_window(ctx, wid)),
        ("closed", lambda wid: lambda ctx: domain.call_next(ctx, wid)),
        (
            "closed",
            lambda wid: lambda ctx: domain.pause_window(ctx, wid, WindowPauseIn(reason="break")),
        ),
    ],
)
def test_illegal_window_transitions_name_the_state(
    hall: Hall, state: str, command: Callable[[UUID], Callable[[Ctx], Any]]
) -> None:
    wid = hall.window("W1")
    if state != "closed":
        hall.run(lambda ctx: domain.open_window(ctx, wid))
    if state == "paused":
        hall.run(lambda ctx: domain.pause_window(ctx, wid, WindowPauseIn(reason="break")))
    hall.issue()
    with pytest.raises(IllegalTransition) as err:
        hall.run(command(wid))
    assert err.value.extra["state"] == state
    assert state in err.value.detail


def test_one_staff_member_at_one_window(hall: Hall) -> None:
    hall.window("W1", open_by="ann")
    w2 = hall.window("W2")
    with pytest.raises(Conflict, match="W1"):
        hall.run(lambda ctx: domain.open_window(ctx, w2))
    hall.run(lambda ctx: domain.open_window(ctx, w2), actor="bob")
    assert hall.get_window(w2).staff == "bob"


def test_only_the_staff_at_the_window_or_a_manager_works_it(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    hall.issue()
    hall.issue()
    with pytest.raises(Forbidden, match="ann"):
        hall.call(wid, actor="bob")
    with pytest.raises(Forbidden):
        hall.run(
            lambda ctx: domain.pause_window(ctx, wid, WindowPauseIn(reason="break")), actor="bob"
        )
    first = hall.call(wid, actor="manager")
    assert first.called_by == "ann"  # the manager helped out; the window's staff is credited
    with pytest.raises(Forbidden):
        hall.run(lambda ctx: domain.start_service(ctx, first.ticket_id), actor="bob")


def test_a_busy_window_cannot_pause_close_or_call_again(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    hall.issue()
    hall.issue()
    called = hall.call(wid)
    for command in (
        lambda ctx: domain.pause_window(ctx, wid, WindowPauseIn(reason="break")),
        lambda ctx: domain.close_window(ctx, wid),
        lambda ctx: domain.call_next(ctx, wid),
    ):
        with pytest.raises(Conflict, match=called.number):
            hall.run(command)
    hall.run(lambda ctx: domain.ticket_no_show(ctx, called.ticket_id))
    assert hall.run(lambda ctx: domain.close_window(ctx, wid)).status == "closed"


def test_a_window_with_tickets_sent_to_it_cannot_close(hall: Hall) -> None:
    w1 = hall.window("W1", open_by="ann")
    w2 = hall.window("W2", open_by="bob")
    t = hall.issue()
    hall.run(lambda ctx: domain.transfer(ctx, t.ticket_id, TransferIn(window_id=w2)), actor="gus")
    with pytest.raises(Conflict, match="transfer them first"):
        hall.run(lambda ctx: domain.close_window(ctx, w2), actor="bob")
    hall.run(lambda ctx: domain.transfer(ctx, t.ticket_id, TransferIn(window_id=w1)), actor="gus")
    assert hall.run(lambda ctx: domain.close_window(ctx, w2), actor="bob").status == "closed"


# ---------------------------------------------------------------- tickets


def test_numbers_are_per_category_per_day_with_three_digits(hall: Hall) -> None:
    assert [hall.issue("new_line").number for _ in range(3)] == ["B001", "B002", "B003"]
    assert hall.issue("consultation").number == "A001"
    assert hall.issue("broadband").number == "J001"
    hall.now = local(8, 0, day=DAY + timedelta(days=1))
    t = hall.issue("new_line")
    assert (t.number, t.day) == ("B001", DAY + timedelta(days=1))


def test_day_is_store_local(hall: Hall) -> None:
    hall.now = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # 00:30 on the 27th in Shanghai
    assert hall.issue().day == date(2026, 11, 27)


def test_phone_is_masked_and_hashed_never_raw(hall: Hall) -> None:
    t = hall.issue(phone="+86 138-1234-5678")
    assert t.customer_phone == "***********"
    row = hall.h.read(lambda c: c.execute(sa.select(queue_tickets.c.phone_hash)).scalar_one())
    assert row == hall.h.contact_key.token(PHONE)
    raw = hall.h.read(lambda c: [r.body for r in c.execute(sa.select(events.c.body))])
    assert not any(PHONE.encode() in body or b"1234-5678" in body for body in raw)
    with pytest.raises(ValidationFailed) as err:
        hall.issue(phone="12345")
    assert err.value.extra["errors"][0]["field"] == "customer_phone"


def test_call_order_priority_then_fifo(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    walk1 = hall.issue()
    hall.tick(1)
    walk2 = hall.issue("plan_change")
    hall.tick(1)
    vip = hall.issue(vip=True)
    hall.tick(1)
    hall.issue("after_sales")  # not served by a business window
    assert hall.drain(wid) == [vip.number, walk1.number, walk2.number]
    assert vip.priority and not walk1.priority
    with pytest.raises(domain.QueueEmpty) as err:
        hall.call(wid)
    assert err.value.code == "queue_empty" and err.value.status == 409


def test_vip_window_takes_vip_tickets_first(hall: Hall) -> None:
    vip_window = hall.window("V1", "vip", open_by="ann")
    walk_in = hall.issue("billing")
    appt = hall.book(local(10, 30))
    hall.now = local(10, 20)
    checked = hall.run(lambda ctx: domain.check_in(ctx, appt.appointment_id), actor="gus")
    vip = hall.issue("broadband", vip=True)
    assert checked.ticket.priority and not checked.ticket.vip
    order = [vip.number, checked.ticket.number, walk_in.number]
    assert hall.drain(vip_window) == order


def test_yesterdays_waiting_tickets_are_not_called(hall: Hall) -> None:
    hall.issue()
    hall.now = local(8, 0, day=DAY + timedelta(days=1))
    wid = hall.window("W1", open_by="ann")
    with pytest.raises(domain.QueueEmpty):
        hall.call(wid)


def test_call_records_wait_and_window(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    t = hall.issue()
    issued = hall.now
    hall.tick(7.5)
    called = hall.call(wid)
    assert called.ticket_id == t.ticket_id
    assert (called.status, called.window_code, called.called_by) == ("called", "W1", "ann")
    assert (called.called_at, called.wait_seconds, called.call_count) == (hall.now, 450, 1)
    assert called.issued_at == issued
    assert hall.get_window(wid).current is not None


def test_recall_counts_calls_and_the_limit_makes_a_no_show(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    hall.issue()
    t = hall.call(wid)
    hall.tick(1)
    again = hall.run(lambda ctx: domain.recall(ctx, t.ticket_id))
    assert (again.status, again.call_count, again.last_called_at) == ("called", 2, hall.now)
    assert again.called_at == t.called_at  # the wait KPI keeps the first call
    hall.tick(1)
    assert hall.run(lambda ctx: domain.recall(ctx, t.ticket_id)).call_count == domain.MAX_CALLS
    hall.tick(1)
    gone = hall.run(lambda ctx: domain.recall(ctx, t.ticket_id))
    assert (gone.status, gone.no_show_reason, gone.ended_at) == (
        "no_show",
        "recall_limit",
        hall.now,
    )
    assert hall.get_window(wid).current is None


def test_no_show_by_clerk_only_when_called(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    waiting = hall.issue()
    with pytest.raises(IllegalTransition, match="waiting"):
        hall.run(lambda ctx: domain.ticket_no_show(ctx, waiting.ticket_id))
    t = hall.serve(wid)
    with pytest.raises(IllegalTransition, match="serving"):
        hall.run(lambda ctx: domain.ticket_no_show(ctx, t.ticket_id))
    with pytest.raises(IllegalTransition):
        hall.run(lambda ctx: domain.recall(ctx, t.ticket_id))


def test_serve_and_finish_record_service_time_and_outcome(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    t = hall.issue()
    called = hall.call(wid)
    with pytest.raises(IllegalTransition, match="called"):
        hall.finish(t.ticket_id)
    hall.tick(1)
    serving = hall.run(lambda ctx: domain.start_service(ctx, called.ticket_id))
    assert (serving.status, serving.serving_at, serving.served_by) == ("serving", hall.now, "ann")
    with pytest.raises(IllegalTransition, match="serving"):
        hall.run(lambda ctx: domain.start_service(ctx, called.ticket_id))
    hall.tick(12)
    done = hall.run(
        lambda ctx: domain.finish(
            ctx, t.ticket_id, FinishIn(outcome="missing_documents", note="客户电话 13912345678")
        )
    )
    assert (done.status, done.outcome, done.done_at, done.service_seconds) == (
        "done",
        "missing_documents",
        hall.now,
        720,
    )
    assert done.note == "客户电话 ***********"  # a number typed into a note is masked
    with pytest.raises(IllegalTransition, match="done"):
        hall.finish(t.ticket_id)
    assert hall.get_window(wid).current is None


def test_transfer_to_another_category_goes_to_the_head_of_that_queue(hall: Hall) -> None:
    business = hall.window("W1", "business", ["new_line"], open_by="ann")
    cashier = hall.window("C1", "cashier", open_by="bob")
    early = hall.issue("billing")
    hall.tick(2)
    vip = hall.issue("billing", vip=True)
    hall.tick(1)
    t = hall.issue("new_line")
    hall.serve(business)
    hall.tick(5)
    moved = hall.run(
        lambda ctx: domain.transfer(ctx, t.ticket_id, TransferIn(category="billing", note="缴费"))
    )
    assert (moved.status, moved.category, moved.issued_category) == (
        "waiting",
        "billing",
        "new_line",
    )
    assert (moved.number, moved.issued_at, moved.queued_at) == ("B001", t.issued_at, hall.now)
    assert (moved.transfer_count, moved.service_seconds, moved.window_id) == (1, 300, None)
    assert moved.priority and moved.ahead == 0
    assert hall.drain(cashier, "bob") == [t.number, vip.number, early.number]
    assert hall.get_window(business).current is None


def test_transferred_ticket_keeps_first_wait_and_sums_service(hall: Hall) -> None:
    business = hall.window("W1", open_by="ann")
    cashier = hall.window("C1", "cashier", open_by="bob")
    t = hall.issue("new_line")
    hall.tick(4)
    hall.serve(business)
    hall.tick(5)
    hall.run(lambda ctx: domain.transfer(ctx, t.ticket_id, TransferIn(category="billing")))
    hall.tick(3)
    recalled = hall.call(cashier, actor="bob")
    assert (recalled.wait_seconds, recalled.call_count, recalled.window_code) == (240, 1, "C1")
    hall.run(lambda ctx: domain.start_service(ctx, t.ticket_id), actor="bob")
    hall.tick(2)
    done = hall.finish(t.ticket_id, actor="bob")
    assert (done.service_seconds, done.served_by) == (7 * 60, "bob")


def test_transfer_to_a_window_is_called_only_there(hall: Hall) -> None:
    w1 = hall.window("W1", open_by="ann")
    w2 = hall.window("W2", "consultation", open_by="bob")
    t = hall.issue("new_line")
    hall.serve(w1)
    hall.run(lambda ctx: domain.transfer(ctx, t.ticket_id, TransferIn(window_id=w2)))
    hall.issue("new_line")
    other = hall.call(w1)
    assert other.ticket_id != t.ticket_id  # W1 serves new_line but the ticket is W2's now
    at_w2 = hall.call(w2, actor="bob")
    assert (at_w2.ticket_id, at_w2.target_window_id) == (t.ticket_id, None)


def test_transfer_rejects_nonsense(hall: Hall) -> None:
    w1 = hall.window("W1", open_by="ann")
    closed = hall.window("W9")
    t = hall.issue()
    for cmd, error, field in (
        (TransferIn(), ValidationFailed, "category"),
        (TransferIn(category="new_line"), ValidationFailed, "category"),
        (TransferIn(window_id=UUID(int=7)), ValidationFailed, "window_id"),
        (TransferIn(window_id=closed), Conflict, "window_id"),
    ):
        with pytest.raises(error) as err:
            hall.run(partial(domain.transfer, ticket_id=t.ticket_id, cmd=cmd), actor="gus")
        assert field in str(err.value.extra)
    hall.call(w1)
    with pytest.raises(Forbidden):  # at a window, only its staff (or a manager) hands it over
        hall.run(
            lambda ctx: domain.transfer(ctx, t.ticket_id, TransferIn(category="billing")),
            actor="gus",
        )
    with pytest.raises(ValidationFailed):
        hall.run(lambda ctx: domain.transfer(ctx, t.ticket_id, TransferIn(window_id=w1)))
    hall.run(lambda ctx: domain.ticket_no_show(ctx, t.ticket_id))
    with pytest.raises(IllegalTransition, match="no_show"):
        hall.run(lambda ctx: domain.transfer(ctx, t.ticket_id, TransferIn(category="billing")))


def test_cancel_only_while_waiting(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    t = hall.issue()
    hall.tick(9)
    gone = hall.run(lambda ctx: domain.cancel(ctx, t.ticket_id, CancelIn()), actor="gus")
    assert (gone.status, gone.cancel_reason, gone.ended_at) == ("cancelled", "walkout", hall.now)
    with pytest.raises(IllegalTransition, match="cancelled"):
        hall.run(lambda ctx: domain.cancel(ctx, t.ticket_id, CancelIn()), actor="gus")
    other = hall.issue()
    hall.call(wid)
    with pytest.raises(IllegalTransition, match="called"):
        hall.run(lambda ctx: domain.cancel(ctx, other.ticket_id, CancelIn()), actor="gus")
    cancelled = [e for e in hall.log() if type(e).__name__ == "TicketCancelled"]
    assert cancelled[0].waited_seconds == 540


def test_rating_once_per_finished_ticket(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    t = hall.issue()
    with pytest.raises(IllegalTransition, match="waiting"):
        hall.run(lambda ctx: domain.rate(ctx, t.ticket_id, RatingIn(score=5)), actor="gus")
    hall.serve(wid)
    hall.finish(t.ticket_id)
    # ann served the visit: the customer's rating is not hers to record.
    with pytest.raises(Forbidden, match="ann served ticket B001 and may not record its rating"):
        hall.run(lambda ctx: domain.rate(ctx, t.ticket_id, RatingIn(score=5)), actor="ann")
    rated = hall.run(
        lambda ctx: domain.rate(ctx, t.ticket_id, RatingIn(score=4, comment="快")), actor="gus"
    )
    assert (rated.score, rated.comment, rated.rated_at) == (4, "快", hall.now)
    with pytest.raises(IllegalTransition, match="rated") as again:
        hall.run(lambda ctx: domain.rate(ctx, t.ticket_id, RatingIn(score=1)), actor="bob")
    assert again.value.extra["state"] == "done"
    event = next(e for e in hall.log() if type(e).__name__ == "TicketRated")
    assert (event.served_by, event.window_id) == ("ann", wid)


def test_unknown_ticket_is_not_found(hall: Hall) -> None:
    with pytest.raises(NotFound):
        hall.run(lambda ctx: domain.start_service(ctx, UUID(int=3)))


def test_ahead_counts_who_is_called_first(hall: Hall) -> None:
    assert [hall.issue().ahead for _ in range(3)] == [0, 1, 2]
    assert hall.issue(vip=True).ahead == 0
    assert hall.issue("consultation").ahead == 0


# ---------------------------------------------------------------- appointments


def test_book_masks_the_customer_and_reads_naive_slots_as_local(hall: Hall) -> None:
    out = hall.book(datetime(2026, 11, 26, 14, 30), name="欧阳娜娜")
    assert out.slot_start == local(14, 30) and out.day == DAY
    assert (out.customer_name, out.customer_phone, out.status) == ("欧***", "***********", "booked")
    assert out.check_in_opens_at == local(14) and out.check_in_closes_at == local(14, 45)
    assert mask_name("Li") == "L*" and mask_name("张") == "张*"


@pytest.mark.parametrize(
    ("slot", "phone", "field"),
    [
        (local(9, 59), PHONE, "slot_start"),  # already begun
        (local(20, 0), PHONE, "slot_start"),  # the hall closes at 20:00
        (local(7, 30, day=DAY + timedelta(days=1)), PHONE, "slot_start"),  # before opening
        (local(10, day=DAY + timedelta(days=40)), PHONE, "slot_start"),  # too far ahead
        (local(15), "0571-8888888", "customer_phone"),  # not a mobile
    ],
)
def test_book_refuses_bad_slots_and_phones(
    hall: Hall, slot: datetime, phone: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        hall.book(slot, phone=phone)
    assert err.value.extra["errors"][0]["field"] == field


def test_one_open_booking_per_customer_per_day(hall: Hall) -> None:
    hall.book(local(11))
    with pytest.raises(Conflict, match="this phone number already holds"):
        hall.book(local(15), phone="+86 13812345678")
    assert hall.book(local(11, day=DAY + timedelta(days=1))).status == "booked"


def test_check_in_window_and_priority_ticket(hall: Hall) -> None:
    appt = hall.book(local(11))
    hall.now = local(10, 29)
    with pytest.raises(Conflict, match="too early"):
        hall.run(lambda ctx: domain.check_in(ctx, appt.appointment_id), actor="gus")
    hall.issue("plan_change")
    hall.now = local(10, 50)
    out = hall.run(lambda ctx: domain.check_in(ctx, appt.appointment_id), actor="gus")
    assert (out.appointment.status, out.appointment.lateness_seconds) == ("checked_in", -600)
    assert (out.appointment.ticket_id, out.appointment.ticket_number) == (
        out.ticket.ticket_id,
        "C002",
    )
    assert out.ticket.priority and out.ticket.appointment_id == appt.appointment_id
    assert out.ticket.customer_phone == "***********" and out.ticket.ahead == 0
    with pytest.raises(IllegalTransition, match="checked_in"):
        hall.run(lambda ctx: domain.check_in(ctx, appt.appointment_id), actor="gus")
    with pytest.raises(IllegalTransition):
        hall.run(
            lambda ctx: domain.cancel_appointment(ctx, appt.appointment_id, AppointmentCancelIn())
        )


def test_late_check_in_refused_then_no_show(hall: Hall) -> None:
    appt = hall.book(local(11))
    hall.now = local(11, 15)
    with pytest.raises(Conflict, match="open until"):
        hall.run(lambda ctx: domain.appointment_no_show(ctx, appt.appointment_id), actor="gus")
    assert hall.run(lambda ctx: domain.check_in(ctx, appt.appointment_id), actor="gus")
    late = hall.book(local(12), phone="13900001111")
    hall.now = local(12, 15, 1)
    with pytest.raises(Conflict, match="too late"):
        hall.run(lambda ctx: domain.check_in(ctx, late.appointment_id), actor="gus")
    gone = hall.run(lambda ctx: domain.appointment_no_show(ctx, late.appointment_id), actor="gus")
    assert (gone.status, gone.no_show_at) == ("no_show", hall.now)
    with pytest.raises(IllegalTransition, match="no_show"):
        hall.run(lambda ctx: domain.appointment_no_show(ctx, late.appointment_id), actor="gus")


def test_cancel_appointment(hall: Hall) -> None:
    appt = hall.book(local(11))
    out = hall.run(
        lambda ctx: domain.cancel_appointment(
            ctx, appt.appointment_id, AppointmentCancelIn(reason="改天再来")
        ),
        actor="gus",
    )
    assert (out.status, out.cancel_reason, out.cancelled_at) == ("cancelled", "改天再来", hall.now)
    for command in (
        lambda ctx: domain.check_in(ctx, appt.appointment_id),
        lambda ctx: domain.cancel_appointment(ctx, appt.appointment_id, AppointmentCancelIn()),
    ):
        with pytest.raises(IllegalTransition, match="cancelled"):
            hall.run(command, actor="gus")
    # Cancelled, the customer may book that day again.
    assert hall.book(local(16)).status == "booked"


def test_list_appointments_by_day_status_and_phone(hall: Hall) -> None:
    hall.book(local(11))
    hall.book(local(12), phone="13900001111")
    hall.book(local(11, day=DAY + timedelta(days=1)))

    def listed(**kw: Any) -> list[str]:
        q = domain.list_appointments(STORE_ID, day=kw.pop("day", DAY), **kw)
        return hall.h.read(lambda c: [r.phone_masked for r in c.execute(q)])

    assert listed() == ["***********", "***********"]
    tokens = hall.h.read(
        lambda c: [r.phone_hash for r in c.execute(domain.list_appointments(STORE_ID, day=DAY))]
    )
    assert tokens[1] == hall.h.contact_key.token("13900001111")
    assert listed(phone_token=tokens[1]) == ["***********"]
    assert listed(status="cancelled") == []
    assert listed(day=DAY + timedelta(days=1)) == ["***********"]


# ---------------------------------------------------------------- state and replay


def test_queue_state(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    hall.window("W2", open_by="bob")
    hall.run(
        lambda ctx: domain.pause_window(ctx, hall.window_id("W2"), WindowPauseIn(reason="break")),
        actor="bob",
    )
    first = hall.issue()
    hall.tick(3)
    hall.issue()
    hall.issue("consultation")
    hall.tick(2)
    called = hall.call(wid)
    assert called.ticket_id == first.ticket_id
    hall.tick(1)
    state = hall.h.read(lambda c: domain.queue_state(c, STORE_ID, hall.now))
    by = {c.category: c for c in state.categories}
    assert (by["new_line"].waiting, by["new_line"].longest_wait_seconds) == (1, 180)
    assert (by["consultation"].waiting, by["consultation"].letter) == (1, "A")
    assert by["billing"].waiting == 0 and by["billing"].oldest_issued_at is None
    w1 = next(w for w in state.windows if w.code == "W1")
    assert w1.current is not None and w1.current.number == "B001"
    assert [(r.number, r.window_code) for r in state.recent_calls] == [("B001", "W1")]
    totals = state.totals
    assert (totals.issued, totals.waiting, totals.called) == (3, 2, 1)
    assert (totals.open_windows, totals.paused_windows) == (1, 1)
    assert state.day == DAY


def test_projections_replay_from_the_log(hall: Hall) -> None:
    wid = hall.window("W1", open_by="ann")
    t = hall.issue(phone=PHONE)
    hall.serve(wid)
    hall.run(lambda ctx: domain.transfer(ctx, t.ticket_id, TransferIn(category="billing")))
    hall.book(local(11))
    hall.run(lambda ctx: domain.close_window(ctx, wid))
    assert_replay_matches(hall.h.data_dir, [queue_windows, queue_tickets, queue_appointments])
