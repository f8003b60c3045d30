"""A realistic business day of one hall, recorded through the store node's real commands.

Used by ``bench/sync_ingest.py`` and by the tests of central's ingest. A throwaway store node
(SQLite in a temporary folder) runs a simulated day from 07:20 to 20:30 store-local time: the store
is configured and staffed, items are defined and stock received, shifts planned, the opening
checklist checked, clerks clock in and open their windows, customers take tickets all day (with a
lunch and an evening peak) and are called, served, finished, sometimes recalled, transferred, sold
something and asked for a rating; some walk out; clerks take meal breaks and hand over at the shift
change; complaints are taken in, assigned, answered, escalated now and then, resolved, reopened
when the customer is not satisfied, and closed; at closing time windows close and everyone clocks
out.

Besides the queue, the day holds the rest of a hall's records in modest amounts: a handful of
appointments (booked, checked in on time or late, cancelled, a no-show); serialised stock (phones
by IMEI, SIM cards by ICCID) received in the morning and sold by serial to device buyers and new
lines, with a return or two at the after-sales desk; a transfer out to another store and one in
from another, a write-off, two adjustments asked for by the admin (the manager approves one and
rejects the other) and a stock count of every item after closing with a small variance; a fire
inspection, a fire drill, a training session with its attendance, and two equipment faults (one
repaired at once, then reopened and repaired again).

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
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from schema.api.complaints import ComplaintIn, EscalateIn, FeedbackIn, ResolveIn
from schema.api.inventory import (
    AdjustmentIn,
    CountIn,
    CountLineIn,
    ItemIn,
    LineIn,
    ReceiveIn,
    ReturnIn,
    ReturnLineIn,
    SaleIn,
    SaleLineIn,
    TransferInIn,
    TransferOutIn,
    WriteOffIn,
)
from schema.api.ops import (
    AttendanceEntryIn,
    CheckItemIn,
    FaultIn,
    FireDrillIn,
    FireInspectionIn,
    TrainingIn,
)
from schema.api.queue import (
    AppointmentCancelIn,
    AppointmentIn,
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
from server.contact_hash import ContactHasher
from server.domain import complaints, inventory, ops, queue, shifts
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.domain.inventory import reads as inventory_reads
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
SERIALISED: tuple[tuple[str, str, ItemCategory, int, str], ...] = (
    ("PHONE-HW", "华为 nova 12 5G", "phone", 269900, "86492105"),
    ("PHONE-MI", "小米 14 5G", "phone", 399900, "86770305"),
    ("PHONE-IP", "iPhone 15 128G", "phone", 599900, "35325811"),
    ("SIM-5G", "5G USIM 卡", "sim", 0, "89860021"),
)
"""Items tracked by serial, with the prefix of their serials: a phone model's type allocation
code (the first 8 digits of its IMEIs), the card batch of the SIMs (the first 8 of the ICCIDs)."""
PHONES = tuple(sku for sku, _, category, *_ in SERIALISED if category == "phone")
SIM_SKU = "SIM-5G"
PHONES_RECEIVED = 16
"""Phones of each model in the morning delivery."""
SIMS_RECEIVED = 48
Fate = Literal["on_time", "late", "cancelled", "no_show"]
"""What becomes of an appointment: checked in before the slot or a little after it, called off,
or never kept."""
APPOINTMENTS: tuple[tuple[time, time, ServiceCategory, str, Fate], ...] = (
    (time(7, 50), time(9, 30), "new_line", "张伟", "on_time"),
    (time(7, 55), time(10), "device_purchase", "王芳", "on_time"),
    (time(8, 20), time(10, 30), "broadband", "李娜", "late"),
    (time(8, 40), time(11), "porting", "刘洋", "cancelled"),
    (time(9, 10), time(14), "plan_change", "陈静", "on_time"),
    (time(9, 45), time(15, 30), "device_purchase", "杨帆", "no_show"),
    (time(10, 30), time(16, 30), "new_line", "赵磊", "on_time"),
    (time(14, 30), time(18), "after_sales", "黄敏", "on_time"),
)
"""The day's appointments: booked at, slot, service, customer, what happens."""
CHANNELS: tuple[Channel, ...] = ("in_store", "in_store", "hotline")
COMPLAINTS: tuple[Category, ...] = (
    "waiting_time",
    "billing",
    "service_attitude",
    "network_quality",
)
EVENTS_PER_CUSTOMER = 5.0
"""About: issued, called (recalls now and then), started, finished, rated 70 %, a sale 30 %."""
FIXED_EVENTS = 300
"""About: set-up, shifts, checklist, clock-ins, windows, breaks, complaints, appointments, stock
movements and the count, faults, fire safety, training."""


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
    sold_phones: list[tuple[str, str]] = field(default_factory=list)
    """``(sku, IMEI)`` of the phones sold today, which a customer may bring back."""
    returned: set[str] = field(default_factory=set)
    """What was brought back today: ``phone`` (by IMEI), ``charger``; one of each at most."""

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

    def in_stock(self, sku: str) -> list[str]:
        """The serials of a serialised SKU in stock now, by the books, sorted."""
        return inventory_reads.in_stock_serials(self.ctx.conn, self.ctx.store_id, sku)

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
    contact_key: ContactHasher | None = None,
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
            # Benchmarks measure the sync, not Argon2: a cheap key unless one is given.
            key = contact_key or ContactHasher.cheap(b"bench-chain-contact-key-0001")
            writer = Writer(engine, store_id, contact_key=key, clock=lambda: clock)

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
    roster += [("tech1", "tech"), ("admin1", "admin"), ("admin2", "admin")]
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
    for sku, item_name, category, price, _ in SERIALISED:
        item = ItemIn(
            sku=sku, name=item_name, category=category, unit_price_cents=price, serialised=True
        )
        hall.run("admin1", t, partial(inventory.define_item, cmd=item))
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
    # Phones and SIM cards come boxed, their serials in a run: each is scanned in.
    serial_lines = [
        LineIn(
            sku=sku,
            serials=_serials(
                prefix, rng.randrange(10_000), SIMS_RECEIVED if sku == SIM_SKU else PHONES_RECEIVED
            ),
        )
        for sku, *_, prefix in SERIALISED
    ]
    hall.run(
        "admin1",
        t + timedelta(minutes=4),
        lambda c: inventory.receive(
            c,
            ReceiveIn(
                supplier="省公司终端库",
                reference=f"DO-{hall.day:%Y%m%d}-T",
                lines=serial_lines,
                note="串号逐台扫描入库",
            ),
        ),
    )

    # 07:30 shifts: five clerks early, five late; a greeter each half; tech and admin all day,
    # a second admin for the late shift and the count after closing.
    t = hall.at(7, 30)
    plans: list[tuple[str, time, time]] = [("greeter1", time(8), time(14))]
    plans += [("greeter2", time(14), time(20, 30))]
    plans += [(f"clerk{i:02d}", time(8), time(16)) for i in range(1, 6)]
    plans += [(f"clerk{i:02d}", time(12), time(20, 30)) for i in range(6, 11)]
    plans += [("tech1", time(8), time(17)), ("admin1", time(8), time(17))]
    plans += [("admin2", time(12), time(20, 30))]
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
        ("admin2", hall.at(11, 52), hall.at(21, 5)),
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
    for n in range(max(3, customers // 150)):
        at = opening + timedelta(seconds=rng.random() * (span - 4 * 3600))
        hall.later(at, partial(_complaint, hall, n))

    # Appointments, stock work, fire safety, training and faults.
    for booked, slot, service, customer, fate in APPOINTMENTS:
        when = hall.at(booked.hour, booked.minute)
        hall.later(when, partial(_book, hall, slot, service, customer, fate))
    _stock_work(hall)
    _safety_and_training(hall)
    _faults(hall)

    # Closing: the greeter lets the last waiting customers go; staff clock out; the late admin
    # counts the stock.
    hall.later(hall.at(20, 30), lambda now: _close_hall(hall, now))
    hall.later(hall.at(20, 35), partial(_count, hall))

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
    lines: list[SaleLineIn] = []
    if rng.random() < 0.3:
        lines = [
            SaleLineIn(sku=sku, qty=rng.choice([1, 1, 1, 2]))
            for sku in rng.sample([s for s, *_ in ITEMS[:7]], rng.choice([1, 1, 2]))
        ]
    phone: str | None = None  # the model the customer wants, sold by IMEI if one is left
    sim = False  # a new line gets the next SIM card of the pack, by ICCID
    if outcome == "completed" and ticket.category == "device_purchase" and rng.random() < 0.5:
        phone = rng.choice(PHONES)
    if outcome == "completed" and ticket.category == "new_line" and rng.random() < 0.5:
        sim = True
    if lines or phone is not None or sim:
        hall.later(now + timedelta(seconds=20), partial(_sell, hall, who, tid, lines, phone, sim))
        next_call += timedelta(seconds=30)
    after_sales = outcome == "completed" and ticket.category == "after_sales"
    brought_back = _brought_back(hall, tid) if after_sales and now >= hall.at(11) else None
    if brought_back is not None:
        take_back = partial(inventory.return_stock, cmd=brought_back)
        hall.later(now + timedelta(seconds=25), partial(_step, hall, who, take_back))
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


def _complaint(hall: _Hall, n: int, now: datetime) -> None:
    """The ``n``-th complaint of the day: every third is escalated to the manager (the second
    of the day on to the region too), and every third from the third on is resolved, found
    unsatisfactory by the customer, reopened and resolved again."""
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
    if n % 3 == 1:
        steps += [
            (
                rng.randint(5, 20),
                owner,
                lambda c: complaints.escalate(
                    c, cid, EscalateIn(level="manager", reason="客户要求厅长出面处理")
                ),
            )
        ]
    if n == 1:
        steps += [
            (
                rng.randint(20, 40),
                "manager",
                lambda c: complaints.escalate(
                    c, cid, EscalateIn(level="region", reason="涉及计费系统，需区域协调核查")
                ),
            )
        ]
    if n % 3 == 2:
        rating = rng.choice([4, 5])
        steps += [
            (
                rng.randint(20, 90),
                owner,
                lambda c: complaints.resolve(
                    c, cid, ResolveIn(remedy="当面致歉并赠送流量包", verified=True)
                ),
            ),
            (
                rng.randint(10, 40),
                "manager",
                lambda c: complaints.record_feedback(
                    c,
                    cid,
                    FeedbackIn(satisfied=False, rating=2, comment="补救不到位，仍不满意"),
                ),
            ),
            (
                5,
                owner,
                lambda c: complaints.reopen(c, cid, "回访不满意，客户要求退还多收费用"),
            ),
            (
                rng.randint(30, 120),
                owner,
                lambda c: complaints.resolve(
                    c, cid, ResolveIn(remedy="退还多收费用并赠送话费券", verified=True)
                ),
            ),
            (
                rng.randint(10, 60),
                "manager",
                lambda c: complaints.record_feedback(
                    c, cid, FeedbackIn(satisfied=True, rating=rating)
                ),
            ),
            (5, "manager", lambda c: complaints.close(c, cid, "二次处理后结案")),
        ]
    elif rng.random() < 0.7:
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


# ---------------------------------------------------------------- serialised stock


def _serials(prefix: str, start: int, count: int) -> list[str]:
    """``count`` serials in a run from ``start``: ``prefix``, a running number, a Luhn check
    digit; an 8-digit type allocation code gives 15-digit IMEIs, an 8-digit ``8986…`` card batch
    20-digit ICCIDs."""
    width = 6 if not prefix.startswith("89") else 11
    return [_luhn(f"{prefix}{n:0{width}d}") for n in range(start, start + count)]


def _luhn(body: str) -> str:
    """``body`` with its Luhn check digit appended."""
    return next(body + d for d in "0123456789" if inventory.luhn_ok(body + d))


def _sell(
    hall: _Hall,
    who: str,
    tid: UUID,
    lines: list[SaleLineIn],
    phone: str | None,
    sim: bool,
    now: datetime,
) -> None:
    """A sale at the desk: accessories, the phone wanted (or another model still in stock, or
    none when all are gone), a SIM card for a new line."""
    lines = list(lines)
    sold: tuple[str, str] | None = None
    if phone is not None:
        for sku in (phone, *(p for p in PHONES if p != phone)):
            left = hall.in_stock(sku)
            if left:
                sold = (sku, hall.rng.choice(left))
                lines.append(SaleLineIn(sku=sku, serial=sold[1]))
                break
    if sim:
        cards = hall.in_stock(SIM_SKU)
        if cards:
            lines.append(SaleLineIn(sku=SIM_SKU, serial=cards[0]))
    if not lines:
        return
    hall.run(who, now, lambda c: inventory.sell(c, SaleIn(lines=lines, ticket_id=tid)))
    if sold is not None:
        hall.sold_phones.append(sold)


def _brought_back(hall: _Hall, tid: UUID) -> ReturnIn | None:
    """What an after-sales customer returns, if anything is left to return today: a phone sold
    earlier (7-day return) once there is one, a faulty charger; one of each a day."""
    if "phone" not in hall.returned and hall.sold_phones:
        hall.returned.add("phone")
        sku, imei = hall.sold_phones.pop(hall.rng.randrange(len(hall.sold_phones)))
        line = ReturnLineIn(sku=sku, serials=[imei])
        reason = "7天无理由退货：颜色不满意，包装配件齐全"
    elif "charger" not in hall.returned:
        hall.returned.add("charger")
        line = ReturnLineIn(sku="CHARGER-20W", qty=1)
        reason = "充电器无法充电，质量问题退货"
    else:
        return None
    return ReturnIn(reason=reason, lines=[line], ticket_id=tid)


def _stock_work(hall: _Hall) -> None:
    """The admins' day: a transfer out and one in, a write-off, two adjustments for the manager."""
    rng = hall.rng
    others = [s for s in ("S002", "S003", "S004") if s != hall.ctx.store_id]
    hall.later(hall.at(10, 30), partial(_transfer_out, hall, others[0]))
    hall.later(hall.at(11, 15), partial(_write_off, hall))
    reference = f"TR-{others[1]}-{rng.randrange(16**8):08X}"
    cards = _serials("89860022", rng.randrange(10_000), 10)  # another batch than ours
    transfer_in = TransferInIn(
        from_store=others[1],
        reference=reference,
        lines=[LineIn(sku="POWERBANK", qty=10), LineIn(sku=SIM_SKU, serials=cards)],
        note="兄弟厅调拨补货",
    )
    hall.later(
        hall.at(14, 20),
        partial(_step, hall, "admin2", partial(inventory.transfer_in, cmd=transfer_in)),
    )
    hall.later(hall.at(15, 20), partial(_adjustment, hall, "POWERBANK", 2, approve=True))
    hall.later(hall.at(15, 25), partial(_adjustment, hall, "CASE-01", -5, approve=False))


def _transfer_out(hall: _Hall, to_store: str, now: datetime) -> None:
    lines = [LineIn(sku="CHARGER-20W", qty=20)]
    phones = hall.in_stock("PHONE-MI")[:3]
    if phones:
        lines.append(LineIn(sku="PHONE-MI", serials=phones))
    cmd = TransferOutIn(to_store=to_store, lines=lines, note="区域调拨：支援新店开业")
    hall.run("admin1", now, partial(inventory.transfer_out, cmd=cmd))


def _write_off(hall: _Hall, now: datetime) -> None:
    lines = [LineIn(sku="FILM-01", qty=3)]
    phones = hall.in_stock("PHONE-HW")
    if phones:
        lines.append(LineIn(sku="PHONE-HW", serials=[phones[-1]]))
    cmd = WriteOffIn(reason="贴膜时破损；展示样机跌落屏幕碎裂", lines=lines)
    hall.run("admin1", now, partial(inventory.write_off, cmd=cmd))


def _adjustment(hall: _Hall, sku: str, delta: int, now: datetime, *, approve: bool) -> None:
    """The admin asks; the manager decides within the half hour."""
    reason = "到货清点多出 2 个，送货单漏记" if delta > 0 else "货架少 5 个，疑似丢失"
    cmd = AdjustmentIn(sku=sku, delta=delta, reason=reason)
    asked = hall.run("admin1", now, partial(inventory.request_adjustment, cmd=cmd))
    aid = asked.adjustment_id
    decide: Callable[[Ctx], Any]
    if approve:
        decide = partial(inventory.approve_adjustment, adjustment_id=aid, note="已核对送货单")
    else:
        decide = partial(inventory.reject_adjustment, adjustment_id=aid, note="先盘点再调整")
    hall.later(
        now + timedelta(minutes=hall.rng.randint(10, 30)), partial(_step, hall, "manager", decide)
    )


def _count(hall: _Hall, now: datetime) -> None:
    """The closing count (闭店盘点) of every item: a few accessories short or over, one phone
    missing, one SIM card found that was never booked in."""
    rng = hall.rng
    opened = hall.run("admin2", now, partial(inventory.open_count, cmd=CountIn(note="闭店盘点")))
    cid = opened.count_id
    accessories = [sku for sku, _, category, _ in ITEMS if category == "accessory"]
    *short, over = rng.sample(accessories, 3)
    missing_phone = rng.choice(PHONES)
    # A card of our own batch that never reached the books (the delivery's run is below 10,048).
    stray = _serials(SERIALISED[-1][4], rng.randrange(20_000, 30_000), 1)[0]
    t = now
    for line in opened.lines:
        variance = -rng.randint(1, 2) if line.sku in short else 1 if line.sku == over else 0
        t += timedelta(seconds=rng.randint(40, 100))
        hall.later(t, partial(_count_line, hall, cid, line.sku, variance, missing_phone, stray))
    post = partial(inventory.post_count, count_id=cid)
    hall.later(t + timedelta(minutes=4), partial(_step, hall, "admin2", post))


def _count_line(
    hall: _Hall,
    cid: UUID,
    sku: str,
    variance: int,
    missing_phone: str,
    stray: str,
    now: datetime,
) -> None:
    cmd: CountLineIn
    if sku in PHONES or sku == SIM_SKU:
        scanned = hall.in_stock(sku)
        if sku == missing_phone and scanned:
            scanned.pop(hall.rng.randrange(len(scanned)))
        if sku == SIM_SKU:
            scanned.append(stray)
        cmd = CountLineIn(sku=sku, serials=scanned)
    else:
        on_hand = inventory.on_hand(hall.ctx.conn, hall.ctx.store_id, sku)
        cmd = CountLineIn(sku=sku, counted=max(0, on_hand + variance))
    hall.run("admin2", now, partial(inventory.record_count_line, count_id=cid, cmd=cmd))


# ---------------------------------------------------------------- appointments


def _book(
    hall: _Hall,
    slot: time,
    category: ServiceCategory,
    customer: str,
    fate: Fate,
    now: datetime,
) -> None:
    """A customer books by phone; what happens then is ``fate``."""
    rng = hall.rng
    starts = hall.at(slot.hour, slot.minute)
    phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    cmd = AppointmentIn(
        category=category,
        slot_start=starts,
        customer_name=customer,
        customer_phone=phone,
        note="电话预约",
    )
    booked = hall.run(hall.greeter_at(now), now, partial(queue.book, cmd=cmd))
    aid = booked.appointment_id
    if fate == "on_time":
        at = starts - timedelta(minutes=rng.randint(5, 25))
        hall.later(at, partial(_check_in, hall, aid))
    elif fate == "late":
        hall.later(starts + timedelta(minutes=rng.randint(3, 12)), partial(_check_in, hall, aid))
    elif fate == "cancelled":
        cancel = partial(
            queue.cancel_appointment,
            appointment_id=aid,
            cmd=AppointmentCancelIn(reason="客户来电取消"),
        )
        at = starts - timedelta(minutes=rng.randint(40, 90))
        hall.later(at, lambda t: hall.run(hall.greeter_at(t), t, cancel))
    else:  # never came: marked once check-in has closed
        no_show = partial(queue.appointment_no_show, appointment_id=aid)
        at = starts + queue.CHECK_IN_LATE + timedelta(minutes=rng.randint(2, 10))
        hall.later(at, lambda t: hall.run(hall.greeter_at(t), t, no_show))


def _check_in(hall: _Hall, aid: UUID, now: datetime) -> None:
    """The customer with an appointment arrives: a priority ticket, served like any other."""
    hall.run(hall.greeter_at(now), now, partial(queue.check_in, appointment_id=aid))


# ---------------------------------------------------------------- daily operations


def _safety_and_training(hall: _Hall) -> None:
    """A fire inspection in the morning, a training at noon, a fire drill in the afternoon."""
    users = hall.users
    inspection = FireInspectionIn(
        day=hall.day,
        inspector="消防安全员 王工",
        passed=False,
        issues=["2号安全出口前堆放纸箱", "1号灭火器压力表指针偏低"],
        note="纸箱已当场清理，灭火器已报更换",
    )
    hall.later(
        hall.at(10, 5),
        partial(_step, hall, "admin1", partial(ops.record_fire_inspection, cmd=inspection)),
    )
    drill = FireDrillIn(
        day=hall.day,
        start_time=time(15),
        end_time=time(15, 15),
        scenario="模拟配电箱冒烟：切断电源、引导顾客疏散、使用灭火器",
        participants=[
            users[u]
            for u in ("manager", "greeter2", "tech1", "admin1", "admin2", "clerk06", "clerk07")
        ],
        conducted_by="admin1",
        findings="疏散用时 3 分钟；2 名新员工不熟悉灭火器使用，安排复训",
    )
    hall.later(
        hall.at(15, 30), partial(_step, hall, "admin1", partial(ops.record_fire_drill, cmd=drill))
    )
    hall.later(hall.at(7, 32), partial(_training, hall))


def _training(hall: _Hall, now: datetime) -> None:
    """Planned before opening for the noon hand-over; attendance taken after it."""
    users = hall.users
    invited = ["clerk01", "clerk02", "clerk03", "clerk04", "clerk05", "greeter1", "tech1"]
    plan = TrainingIn(
        topic="5G 新套餐与终端合约政策",
        kind="product",
        day=hall.day,
        start_time=time(12, 30),
        duration_min=30,
        trainer="区域培训师 李老师",
        invited=[users[u] for u in invited],
    )
    planned = hall.run("admin1", now, partial(ops.plan_training, cmd=plan))
    sid = planned.session_id
    attended = [
        AttendanceEntryIn(user_id=users[u], status="present")
        for u in ("clerk01", "clerk02", "clerk03", "clerk04", "greeter1")
    ]
    attended += [
        AttendanceEntryIn(user_id=users["clerk05"], status="excused", note="窗口值班"),
        AttendanceEntryIn(user_id=users["tech1"], status="absent", note="设备维修未到"),
        AttendanceEntryIn(user_id=users["clerk06"], status="present", note="自愿旁听"),
    ]
    record = partial(ops.record_attendance, session_id=sid, entries=attended)
    hall.later(hall.at(13, 5), partial(_step, hall, "admin1", record))
    complete = partial(ops.complete_training, session_id=sid)
    hall.later(hall.at(13, 6), partial(_step, hall, "admin1", complete))


def _faults(hall: _Hall) -> None:
    """A jammed printer taken on and repaired; the queue machine fixed at once, failing again
    later in the afternoon, and repaired for good."""
    printer = FaultIn(
        kind="printer",
        asset_name="3号窗口打印机",
        asset_tag="PRN-003",
        description="打印机卡纸，无法打印业务单据",
    )
    _fault(
        hall,
        hall.at(9, 40),
        "clerk03",
        printer,
        [
            (12, lambda f: partial(ops.start_repair, fault_id=f, note="到场检查")),
            (
                25,
                lambda f: partial(ops.repair_fault, fault_id=f, resolution="清理卡纸，更换搓纸轮"),
            ),
        ],
    )
    kiosk = FaultIn(
        kind="queue_machine",
        asset_name="大厅取号机",
        asset_tag="QM-001",
        description="取号机不出票，顾客无法取号",
        severity="high",
    )
    _fault(
        hall,
        hall.at(14, 20),
        "greeter2",
        kiosk,
        [
            (15, lambda f: partial(ops.repair_fault, fault_id=f, resolution="更换热敏纸卷")),
            (75, lambda f: partial(ops.reopen_fault, fault_id=f, reason="再次卡纸不出票")),
            (5, lambda f: partial(ops.start_repair, fault_id=f)),
            (35, lambda f: partial(ops.repair_fault, fault_id=f, resolution="更换打印头，已测试")),
        ],
    )


def _fault(
    hall: _Hall,
    at: datetime,
    reporter: str,
    cmd: FaultIn,
    steps: list[tuple[int, Callable[[UUID], Callable[[Ctx], Any]]]],
) -> None:
    """Reported by ``reporter`` at ``at``; then each step by technical support, minutes apart."""

    def report(now: datetime) -> None:
        fid = hall.run(reporter, now, partial(ops.report_fault, cmd=cmd)).fault_id
        t = now
        for minutes, command in steps:
            t += timedelta(minutes=minutes)
            hall.later(t, partial(_step, hall, "tech1", command(fid)))

    hall.later(at, report)
