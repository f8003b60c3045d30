"""The day as a whole: the throwaway node it is recorded on, and the order the domains' scripts
are put on the agenda in (which, with the seed, makes the day the same every time)."""

from __future__ import annotations

import random
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from server.contact_hash import ContactHasher
from server.domain.context import Ctx
from server.store.db import create_schema, db_path, make_engine
from server.store.simulation import complaints, inventory, ops, queue, shifts, store
from server.store.simulation.fixtures import (
    APPOINTMENTS,
    EVENTS_PER_CUSTOMER,
    FIXED_EVENTS,
    GREETER_DESK,
    TZ,
)
from server.store.simulation.hall import Hall
from server.store.simulation.scheduler import arrivals
from server.store.writer import Writer


@dataclass(frozen=True)
class Day:
    """One store's recorded day: its events as logged, ``(seq, msgpack bytes)`` in order."""

    store_id: str
    day: date
    customers: int
    records: list[tuple[int, bytes]]
    kinds: dict[str, int]
    """Events per type."""


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
                hall = Hall(ctx, random.Random(seed), zone, the_day)
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


def _simulate(hall: Hall, *, name: str, region: str, customers: int) -> None:
    """Set the hall up, put the day on the agenda, and run it to the end."""
    rng = hall.rng

    # 07:20 the node is set up: the store, its staff; 07:25 the catalogue and the morning
    # delivery; 07:30 the shifts and the windows.
    store.set_up(hall, hall.at(7, 20), name=name, region=region)
    inventory.stock_up(hall, hall.at(7, 25))
    shifts.plan(hall, hall.at(7, 30))
    queue.define_windows(hall, hall.at(7, 30))
    hall.greeters = [
        (username, hall.at(start.hour, start.minute), hall.at(end.hour, end.minute))
        for username, start, end in GREETER_DESK
    ]

    # 07:40 the opening checklist; staff clock in as they arrive.
    hall.later(hall.at(7, 40), lambda now: ops.checklist(hall, now))
    shifts.staff_hours(hall)
    queue.clerks_arrive(hall)

    # Customers: arrivals over the opening hours, with a lunch and an evening peak.
    opening, last_ticket = hall.at(8), hall.at(19, 45)
    for arrival in arrivals(rng, opening, last_ticket, customers):
        hall.later(arrival, lambda now: queue.customer(hall, now))

    # Complaints through the day.
    span = (last_ticket - opening).total_seconds()
    for n in range(max(3, customers // 150)):
        at = opening + timedelta(seconds=rng.random() * (span - 4 * 3600))
        hall.later(at, partial(complaints.complaint, hall, n))

    # Appointments, stock work, fire safety, training and faults.
    for booked, slot, service, customer, fate in APPOINTMENTS:
        when = hall.at(booked.hour, booked.minute)
        hall.later(when, partial(queue.book, hall, slot, service, customer, fate))
    inventory.stock_work(hall)
    ops.safety_and_training(hall)
    ops.faults(hall)

    # Closing: the greeter lets the last waiting customers go; staff clock out; the late admin
    # counts the stock.
    hall.later(hall.at(20, 30), lambda now: queue.close_hall(hall, now))
    hall.later(hall.at(20, 35), partial(inventory.count, hall))

    hall.agenda.run()
