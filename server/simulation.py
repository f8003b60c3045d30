"""A realistic business day of one hall, recorded through the store node's real commands.

Used by ``bench/sync_ingest.py`` and by the tests of central's ingest. A throwaway store node
(SQLite in a temporary folder) runs a simulated day from 07:20 to 20:30 store-local time: the store
is configured and staffed, items are defined and stock received, shifts planned, the opening
checklist checked, clerks clock in and open their windows, customers take tickets all day (with a
lunch and an evening peak) and are called, served, finished, sometimes recalled, transferred, sold
something and asked for a rating; some walk out; clerks take meal breaks and hand over at the shift
change; complaints are taken in, assigned, answered, resolved and closed; at closing time windows
close and everyone clocks out.

Every step is the domain command a tablet request would run (``server.domain.*``) with its checks,
under the acting staff member's user name, at a simulated clock, so the events carry correct
envelopes (UUIDv7 ids, gapless ``seq`` from 1, HLC, store-local times) and are encoded by the log
exactly as a store node logs them. The whole day is one SQLite transaction of the node's writer
(``Writer.run_now``), each command in its own SAVEPOINT as the writer does, so a refused command (an
empty queue) records nothing.
"""

from __future__ import annotations

import heapq
import itertools
import random
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from schema.api.complaints import ComplaintIn, FeedbackIn, ResolveIn
from schema.api.inventory import ItemIn, LineIn, ReceiveIn, SaleIn, SaleLineIn
from schema.api.ops import CheckItemIn
from schema.api.queue import (
    CancelIn,
    FinishIn,
    RatingIn,
    TicketIn,
    TransferIn,
    WindowIn,
    WindowPauseIn,
)
from schema.api.shifts import ClockActionIn, ShiftIn
from schema.events.complaints import Category, Channel
from schema.events.inventory import ItemCategory
from schema.events.queue import Outcome, ServiceCategory
from schema.events.store import Role
from server.domain import complaints, inventory, ops, queue, shifts
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.errors import HallsyncError
from server.store.db import create_schema, db_path, make_engine
from server.store.writer import Writer

TZ = "Asia/Shanghai"
PASSWORD_HASH = "bench-not-a-real-hash"
"""Staff logins are node-local and never synced; the benchmark needs no real hash."""

CATEGORY_WEIGHTS: dict[ServiceCategory, int] = {
    "billing": 30,
    "plan_change": 20,
    "consultation": 15,
    "new_line": 10,
    "device_purchase": 8,
    "after_sales": 7,
    "broadband": 5,
    "loss_report": 3,
    "porting": 2,
}
OUTCOME_WEIGHTS: dict[Outcome, int] = {
    "completed": 85,
    "partially_completed": 5,
    "missing_documents": 4,
    "referred": 3,
    "customer_declined": 2,
    "unresolved": 1,
}
ITEMS: tuple[tuple[str, str, ItemCategory, int], ...] = (
    ("CASE-01", "手机壳", "accessory", 3900),
    ("CASE-02", "防摔手机壳", "accessory", 5900),
    ("CABLE-C", "Type-C 数据线", "accessory", 1900),
    ("CHARGER-20W", "20W 充电器", "accessory", 6900),
    ("FILM-01", "钢化膜", "accessory", 2900),
    ("EARBUDS", "有线耳机", "accessory", 4900),
    ("POWERBANK", "移动电源", "accessory", 9900),
    ("SIM-BLANK", "空白 SIM 卡", "supply", 0),
)
CHANNELS: tuple[Channel, ...] = ("in_store", "in_store", "hotline")
COMPLAINTS: tuple[Category, ...] = (
    "waiting_time",
    "billing",
    "service_attitude",
    "network_quality",
)
EVENTS_PER_CUSTOMER = 5.0
"""About: issued, called (recalls now and then), started, finished, rated 70 %, a sale 30 %."""
FIXED_EVENTS = 250
"""About: set-up, shifts, checklist, clock-ins, windows, breaks, complaints."""


@dataclass(frozen=True)
class Day:
    """One store's recorded day: its events as logged, ``(seq, msgpack bytes)`` in order."""

    store_id: str
    day: date
    customers: int
    records: list[tuple[int, bytes]]
    kinds: dict[str, int]
    """Events per type."""


@dataclass
class _Clerk:
    username: str
    user_id: UUID
    window_id: UUID
    start: datetime
    end: datetime
    meal: datetime
    on_shift: bool = False
    on_meal: bool = False


@dataclass
class _Hall:
    """The simulation's state: the open transaction, the clock and who is at work."""

    ctx: Ctx
    rng: random.Random
    zone: ZoneInfo
    day: date
    clerks: list[_Clerk] = field(default_factory=list)
    greeters: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    users: dict[str, UUID] = field(default_factory=dict)
    agenda: list[tuple[datetime, int, Callable[[datetime], None]]] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=itertools.count)
    refused: dict[str, int] = field(default_factory=dict)

    def at(self, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(self.day, time(hh, mm), tzinfo=self.zone).astimezone(UTC)

    def later(self, when: datetime, step: Callable[[datetime], None]) -> None:
        heapq.heappush(self.agenda, (when, next(self.counter), step))

    def run(
        self, actor: str, now: datetime, command: Callable[[Ctx], Any], *, may_fail: bool = False
    ) -> Any:
        """One command as the writer runs it: in a SAVEPOINT, undone with its seqs on error.

        Returns the command's result, or its error when it was refused: an empty queue, or
        (``may_fail``) a step that may have become moot; any other refusal is a bug here.
        """
        base = self.ctx
        log = base.log
        seq_before = log.next_seq
        savepoint = base.conn.begin_nested()
        ctx = Ctx(
            conn=base.conn,
            log=log,
            actor=actor,
            device=f"tablet-{actor}",
            now=now,
            contact_key=base.contact_key,
        )
        try:
            result = command(ctx)
        except HallsyncError as exc:
            savepoint.rollback()
            log.next_seq = seq_before
            if not may_fail and exc.code != "queue_empty":
                raise RuntimeError(f"simulated day: {actor} was refused: {exc}") from exc
            self.refused[exc.code] = self.refused.get(exc.code, 0) + 1
            return exc
        savepoint.commit()
        return result

    def greeter_at(self, now: datetime) -> str:
        for name, start, end in self.greeters:
            if start <= now < end:
                return name
        return self.greeters[-1][0]


def record_day(
    store_id: str,
    *,
    events: int = 5000,
    seed: int = 1,
    day: date | None = None,
    contact_key: bytes = b"bench-chain-contact-key-0001",
    name: str = "压测营业厅",
    region: str = "bench",
) -> Day:
    """Run the simulated day on a throwaway node and return the log it made (about ``events``
    events: the number of customers is sized for it)."""
    customers = max(10, round((events - FIXED_EVENTS) / EVENTS_PER_CUSTOMER))
    zone = ZoneInfo(TZ)
    the_day = day or (datetime.now(zone) - timedelta(days=1)).date()
    with tempfile.TemporaryDirectory(prefix="hallsync-bench-day-") as tmp:
        data_dir = Path(tmp)
        engine = make_engine(db_path(data_dir))
        try:
            create_schema(engine)
            clock = datetime.combine(the_day, time(7, 20), tzinfo=zone).astimezone(UTC)
            writer = Writer(engine, store_id, contact_key=contact_key, clock=lambda: clock)

            def whole_day(ctx: Ctx) -> None:
                hall = _Hall(ctx, random.Random(seed), zone, the_day)
                _simulate(hall, name=name, region=region, customers=customers)

            writer.run_now(whole_day, actor="system", device="node")
        finally:
            engine.dispose()
        with sqlite3.connect(db_path(data_dir)) as db:
            rows = db.execute(
                "SELECT seq, body, type FROM events WHERE store_id = ? ORDER BY seq", (store_id,)
            ).fetchall()
    kinds: dict[str, int] = {}
    for _, _, kind in rows:
        kinds[kind] = kinds.get(kind, 0) + 1
    records = [(int(seq), bytes(body)) for seq, body, _ in rows]
    return Day(store_id, the_day, customers, records, kinds)


def _simulate(hall: _Hall, *, name: str, region: str, customers: int) -> None:
    rng = hall.rng
    setup = hall.at(7, 20)

    # 07:20 the node is set up: the store, its staff.
    hall.run(
        "system",
        setup,
        lambda c: store_domain.configure_store(c, name=name, region=region, tz=TZ),
    )
    roster: list[tuple[str, Role]] = [
        ("manager", "manager"),
        ("greeter1", "greeter"),
        ("greeter2", "greeter"),
    ]
    roster += [(f"clerk{i:02d}", "clerk") for i in range(1, 11)]
    roster += [("tech1", "tech"), ("admin1", "admin")]
    for username, role in roster:
        out = hall.run(
            "system" if username == "manager" else "manager",
            setup,
            partial(_add_staff, username=username, role=role),
        )
        hall.users[username] = out.user_id

    # 07:25 the catalog and the morning delivery.
    t = hall.at(7, 25)
    for sku, item_name, category, price in ITEMS:
        hall.run(
            "admin1",
            t,
            partial(
                inventory.define_item,
                cmd=ItemIn(sku=sku, name=item_name, category=category, unit_price_cents=price),
            ),
        )
    hall.run(
        "admin1",
        t + timedelta(minutes=3),
        lambda c: inventory.receive(
            c,
            ReceiveIn(
                supplier="区域仓库",
                reference=f"DO-{hall.day:%Y%m%d}",
                lines=[LineIn(sku=sku, qty=400) for sku, *_ in ITEMS],
            ),
        ),
    )

    # 07:30 shifts: five clerks early, five late; a greeter each half; tech and admin all day.
    t = hall.at(7, 30)
    plans: list[tuple[str, time, time]] = [("greeter1", time(8), time(14))]
    plans += [("greeter2", time(14), time(20, 30))]
    plans += [(f"clerk{i:02d}", time(8), time(16)) for i in range(1, 6)]
    plans += [(f"clerk{i:02d}", time(12), time(20, 30)) for i in range(6, 11)]
    plans += [("tech1", time(8), time(17)), ("admin1", time(8), time(17))]
    for username, begins, ends in plans:
        shift = ShiftIn(
            user_id=hall.users[username], day=hall.day, start_time=begins, end_time=ends
        )
        hall.run("manager", t, partial(shifts.plan_shift, cmd=shift))
    for i in range(1, 11):
        code = f"W{i:02d}"
        window = WindowIn(
            code=code,
            name=f"业务受理台{i}",
            kind="vip" if i == 1 else "business",
            categories=list(CATEGORY_WEIGHTS),
        )
        w = hall.run("manager", t, partial(queue.define_window, cmd=window))
        early = i <= 5
        start = hall.at(8) if early else hall.at(12)
        end = hall.at(16) if early else hall.at(20, 30)
        meal = start + timedelta(minutes=rng.randint(170, 230))
        username = f"clerk{i:02d}"
        hall.clerks.append(_Clerk(username, hall.users[username], w.window_id, start, end, meal))
    hall.greeters = [
        ("greeter1", hall.at(7, 40), hall.at(14)),
        ("greeter2", hall.at(14), hall.at(21)),
    ]

    # 07:40 the opening checklist; staff clock in as they arrive.
    hall.later(hall.at(7, 40), lambda now: _checklist(hall, now))
    for username, arrive, leave in (
        ("greeter1", hall.at(7, 45), hall.at(14, 5)),
        ("tech1", hall.at(7, 35), hall.at(17, 5)),
        ("admin1", hall.at(7, 50), hall.at(17, 10)),
        ("greeter2", hall.at(13, 50), hall.at(20, 40)),
    ):
        hall.later(arrive, partial(_clock_in, hall, username))
        hall.later(leave, partial(_clock_out, hall, username))
    for clerk in hall.clerks:
        arrive = clerk.start - timedelta(minutes=rng.randint(-8, 12))
        hall.later(arrive, partial(_start_shift, hall, clerk))
        hall.later(clerk.meal, partial(_meal, hall, clerk))

    # Customers: arrivals over the opening hours, with a lunch and an evening peak.
    opening, last_ticket = hall.at(8), hall.at(19, 45)
    span = (last_ticket - opening).total_seconds()
    for _ in range(customers):
        while True:
            x = rng.random()
            hour = 8 + x * span / 3600
            weight = 1.0 + 0.8 * _bump(hour, 11.5, 1.2) + 0.6 * _bump(hour, 17.5, 1.0)
            if rng.random() * 2.0 < weight:
                break
        arrival = opening + timedelta(seconds=x * span)
        hall.later(arrival, lambda now: _customer(hall, now))

    # Complaints through the day.
    for _ in range(max(3, customers // 150)):
        at = opening + timedelta(seconds=rng.random() * (span - 4 * 3600))
        hall.later(at, lambda now: _complaint(hall, now))

    # Closing: the greeter lets the last waiting customers go; staff clock out.
    hall.later(hall.at(20, 30), lambda now: _close_hall(hall, now))

    while hall.agenda:
        when, _, step = heapq.heappop(hall.agenda)
        step(when)


def _bump(x: float, mid: float, width: float) -> float:
    return max(0.0, 1.0 - abs(x - mid) / width)


def _checklist(hall: _Hall, now: datetime) -> None:
    started = hall.run("tech1", now, ops.start_checklist)
    checklist = started.checklist
    for n, item in enumerate(checklist.items):
        ok = hall.rng.random() > 0.05
        check = partial(
            ops.check_item,
            checklist_id=checklist.checklist_id,
            code=item.code,
            cmd=CheckItemIn(ok=ok, note="" if ok else "需要报修"),
        )
        hall.later(now + timedelta(seconds=40 * (n + 1)), partial(_step, hall, "tech1", check))
    hall.later(
        now + timedelta(minutes=12),
        lambda t: hall.run(
            "admin1", t, lambda c: ops.complete_checklist(c, checklist.checklist_id)
        ),
    )


def _step(hall: _Hall, actor: str, command: Callable[[Ctx], Any], now: datetime) -> None:
    hall.run(actor, now, command)


def _add_staff(ctx: Ctx, *, username: str, role: Role) -> Any:
    return store_domain.add_staff(
        ctx, username=username, display_name=username, role=role, password_hash=PASSWORD_HASH
    )


def _clock_in(hall: _Hall, username: str, now: datetime) -> None:
    hall.run(username, now, lambda c: shifts.clock_in(c, hall.users[username], ClockActionIn()))


def _clock_out(hall: _Hall, username: str, now: datetime) -> None:
    hall.run(username, now, lambda c: shifts.clock_out(c, hall.users[username], ClockActionIn()))


def _start_shift(hall: _Hall, clerk: _Clerk, now: datetime) -> None:
    _clock_in(hall, clerk.username, now)
    opened = max(now + timedelta(minutes=2), clerk.start)
    hall.later(opened, lambda t: _open(hall, clerk, t))


def _open(hall: _Hall, clerk: _Clerk, now: datetime) -> None:
    hall.run(clerk.username, now, lambda c: queue.open_window(c, clerk.window_id))
    clerk.on_shift = True
    hall.later(now + timedelta(seconds=5), lambda t: _call(hall, clerk, t))


def _meal(hall: _Hall, clerk: _Clerk, now: datetime) -> None:
    clerk.on_meal = True  # taken when the current customer is done (see _call)


def _call(hall: _Hall, clerk: _Clerk, now: datetime) -> None:
    """The clerk is free: end the shift, go to lunch, or call the next customer."""
    rng = hall.rng
    if not clerk.on_shift:
        return
    who = clerk.username
    if now >= clerk.end:
        hall.run(who, now, lambda c: queue.close_window(c, clerk.window_id))
        clerk.on_shift = False
        hall.later(now + timedelta(minutes=rng.randint(2, 10)), lambda t: _clock_out(hall, who, t))
        return
    if clerk.on_meal:
        clerk.on_meal = False
        hall.run(
            who, now, lambda c: queue.pause_window(c, clerk.window_id, WindowPauseIn(reason="meal"))
        )
        hall.run(who, now, lambda c: shifts.start_break(c, clerk.user_id, ClockActionIn()))
        hall.later(now + timedelta(minutes=rng.randint(25, 40)), lambda t: _back(hall, clerk, t))
        return
    ticket = hall.run(who, now, lambda c: queue.call_next(c, clerk.window_id))
    if isinstance(ticket, HallsyncError):  # nobody waits: look again in a while
        hall.later(now + timedelta(seconds=rng.randint(20, 60)), lambda t: _call(hall, clerk, t))
        return
    hall.later(
        now + timedelta(seconds=rng.randint(10, 50)), lambda t: _arrives(hall, clerk, ticket, t)
    )


def _back(hall: _Hall, clerk: _Clerk, now: datetime) -> None:
    hall.run(clerk.username, now, lambda c: shifts.end_break(c, clerk.user_id, ClockActionIn()))
    hall.run(clerk.username, now, lambda c: queue.resume_window(c, clerk.window_id))
    hall.later(now + timedelta(seconds=5), lambda t: _call(hall, clerk, t))


def _arrives(
    hall: _Hall, clerk: _Clerk, ticket: Any, now: datetime, recalled: bool = False
) -> None:
    """The called customer comes to the desk, or is called again, or is gone."""
    rng = hall.rng
    who, tid = clerk.username, ticket.ticket_id
    if not recalled and rng.random() < 0.12:  # not there yet: call again
        hall.run(who, now, lambda c: queue.recall(c, tid))
        hall.later(
            now + timedelta(seconds=rng.randint(30, 90)),
            lambda t: _arrives(hall, clerk, ticket, t, recalled=True),
        )
        return
    if recalled and rng.random() < 0.3:  # gone
        hall.run(who, now, lambda c: queue.ticket_no_show(c, tid))
        hall.later(now + timedelta(seconds=5), lambda t: _call(hall, clerk, t))
        return
    hall.run(who, now, lambda c: queue.start_service(c, tid))
    served = timedelta(seconds=min(1800, int(rng.lognormvariate(5.2, 0.45))))
    hall.later(now + served, lambda t: _done(hall, clerk, ticket, t))


def _done(hall: _Hall, clerk: _Clerk, ticket: Any, now: datetime) -> None:
    """Service ends: finished (perhaps with a sale and a rating), or sent to another desk."""
    rng = hall.rng
    who, tid = clerk.username, ticket.ticket_id
    if rng.random() < 0.03:  # needs another desk
        other = rng.choice([k for k in CATEGORY_WEIGHTS if k != ticket.category])
        hall.run(
            who,
            now,
            lambda c: queue.transfer(c, tid, TransferIn(category=other, note="转其他业务")),
        )
        hall.later(now + timedelta(seconds=10), lambda t: _call(hall, clerk, t))
        return
    outcome = rng.choices(list(OUTCOME_WEIGHTS), weights=list(OUTCOME_WEIGHTS.values()))[0]
    hall.run(who, now, lambda c: queue.finish(c, tid, FinishIn(outcome=outcome)))
    next_call = now + timedelta(seconds=rng.randint(20, 60))
    if rng.random() < 0.3:
        lines = [
            SaleLineIn(sku=sku, qty=rng.choice([1, 1, 1, 2]))
            for sku in rng.sample([s for s, *_ in ITEMS[:7]], rng.choice([1, 1, 2]))
        ]
        hall.later(
            now + timedelta(seconds=20),
            lambda t: hall.run(
                who, t, lambda c: inventory.sell(c, SaleIn(lines=lines, ticket_id=tid))
            ),
        )
        next_call += timedelta(seconds=30)
    if rng.random() < 0.7:
        score = rng.choice([5, 5, 5, 5, 4, 4, 4, 3, 2, 1])
        hall.later(
            now + timedelta(seconds=rng.randint(20, 90)),
            lambda t: hall.run(
                hall.greeter_at(t), t, lambda c: queue.rate(c, tid, RatingIn(score=score))
            ),
        )
    hall.later(next_call, lambda t: _call(hall, clerk, t))


def _customer(hall: _Hall, now: datetime) -> None:
    rng = hall.rng
    category = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
    phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" if rng.random() < 0.2 else None
    vip = rng.random() < 0.03
    ticket = hall.run(
        hall.greeter_at(now),
        now,
        lambda c: queue.issue_ticket(c, TicketIn(category=category, vip=vip, customer_phone=phone)),
    )
    if rng.random() < 0.04:  # tired of waiting; gone unless called by then
        hall.later(
            now + timedelta(minutes=rng.randint(15, 45)),
            lambda t: hall.run(
                hall.greeter_at(t),
                t,
                lambda c: queue.cancel(c, ticket.ticket_id, CancelIn()),
                may_fail=True,
            ),
        )


def _complaint(hall: _Hall, now: datetime) -> None:
    rng = hall.rng
    category = rng.choice(COMPLAINTS)
    opened = hall.run(
        hall.greeter_at(now),
        now,
        lambda c: complaints.open_complaint(
            c,
            ComplaintIn(
                channel=rng.choice(CHANNELS),
                category=category,
                description="客户反映高峰期等候时间过长，电话 13800138000",
                customer_phone=f"139{rng.randrange(10**8):08d}",
            ),
        ),
    )
    cid = opened.complaint_id
    owner = rng.choice(["clerk01", "clerk02", "clerk03", "clerk04", "clerk05"])
    steps: list[tuple[int, str, Callable[[Ctx], Any]]] = [
        (rng.randint(5, 20), "manager", lambda c: complaints.assign(c, cid, hall.users[owner])),
        (rng.randint(5, 30), owner, lambda c: complaints.respond(c, cid, "已当面致歉并说明情况")),
    ]
    if rng.random() < 0.7:
        rating = rng.choice([4, 5])
        steps += [
            (
                rng.randint(20, 120),
                owner,
                lambda c: complaints.resolve(
                    c, cid, ResolveIn(remedy="赠送流量包", verified=False)
                ),
            ),
            (
                rng.randint(10, 60),
                "manager",
                lambda c: complaints.record_feedback(
                    c, cid, FeedbackIn(satisfied=True, rating=rating)
                ),
            ),
            (5, "manager", lambda c: complaints.close(c, cid, "结案")),
        ]
    t = now
    for minutes, actor, command in steps:
        t += timedelta(minutes=minutes)
        hall.later(t, partial(_step, hall, actor, command))


def _close_hall(hall: _Hall, now: datetime) -> None:
    """Closing time: those still waiting are let go."""
    from schema.tables.queue import queue_tickets as qt

    conn = hall.ctx.conn
    waiting = conn.execute(
        qt.select().where(qt.c.store_id == hall.ctx.store_id, qt.c.status == "waiting")
    ).fetchall()
    for row in waiting:
        hall.run(
            hall.greeter_at(now),
            now,
            partial(queue.cancel, ticket_id=row.ticket_id, cmd=CancelIn(reason="walkout")),
        )
