"""The queue's part of the day: the windows and the clerks working them, customers taking
tickets and being called, served, recalled, transferred or gone, appointments booked and kept
(or not), and the last waiting customers let go at closing."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from schema.api.inventory import SaleLineIn
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
from schema.events.queue import ServiceCategory
from server.domain import inventory, queue
from server.errors import HallsyncError
from server.store.simulation import shifts
from server.store.simulation.fixtures import (
    CATEGORY_WEIGHTS,
    CLERKS,
    EARLY_CLERKS,
    EARLY_SHIFT,
    ITEMS,
    LATE_SHIFT,
    OUTCOME_WEIGHTS,
    PHONES,
    Fate,
)
from server.store.simulation.hall import Clerk, Hall, step
from server.store.simulation.inventory import brought_back, sell

# ---------------------------------------------------------------- windows and clerks


def define_windows(hall: Hall, now: datetime) -> None:
    """The manager sets up a window per clerk (the first one for VIPs); each clerk's meal break
    falls about three to four hours into their shift."""
    rng = hall.rng
    for i, username in enumerate(CLERKS, start=1):
        window = WindowIn(
            code=f"W{i:02d}",
            name=f"业务受理台{i}",
            kind="vip" if i == 1 else "business",
            categories=list(CATEGORY_WEIGHTS),
        )
        w = hall.run("manager", now, partial(queue.define_window, cmd=window))
        starts, ends = EARLY_SHIFT if i <= EARLY_CLERKS else LATE_SHIFT
        start = hall.at(starts.hour, starts.minute)
        end = hall.at(ends.hour, ends.minute)
        meal = start + timedelta(minutes=rng.randint(170, 230))
        hall.clerks.append(Clerk(username, hall.users[username], w.window_id, start, end, meal))


def clerks_arrive(hall: Hall) -> None:
    """Each clerk comes in around the start of their shift, and takes a meal break later."""
    for clerk in hall.clerks:
        arrive = clerk.start - timedelta(minutes=hall.rng.randint(-8, 12))
        hall.later(arrive, partial(_start_shift, hall, clerk))
        hall.later(clerk.meal, partial(_meal, hall, clerk))


def _start_shift(hall: Hall, clerk: Clerk, now: datetime) -> None:
    shifts.clock_in(hall, clerk.username, now)
    opened = max(now + timedelta(minutes=2), clerk.start)
    hall.later(opened, lambda t: _open(hall, clerk, t))


def _open(hall: Hall, clerk: Clerk, now: datetime) -> None:
    hall.run(clerk.username, now, lambda c: queue.open_window(c, clerk.window_id))
    clerk.on_shift = True
    hall.later(now + timedelta(seconds=5), lambda t: _call(hall, clerk, t))


def _meal(hall: Hall, clerk: Clerk, now: datetime) -> None:
    clerk.on_meal = True  # taken when the current customer is done (see _call)


def _call(hall: Hall, clerk: Clerk, now: datetime) -> None:
    """The clerk is free: end the shift, go to lunch, or call the next customer."""
    rng = hall.rng
    if not clerk.on_shift:
        return
    who = clerk.username
    if now >= clerk.end:
        hall.run(who, now, lambda c: queue.close_window(c, clerk.window_id))
        clerk.on_shift = False
        hall.later(
            now + timedelta(minutes=rng.randint(2, 10)), lambda t: shifts.clock_out(hall, who, t)
        )
        return
    if clerk.on_meal:
        clerk.on_meal = False
        hall.run(
            who, now, lambda c: queue.pause_window(c, clerk.window_id, WindowPauseIn(reason="meal"))
        )
        shifts.start_break(hall, who, now)
        hall.later(now + timedelta(minutes=rng.randint(25, 40)), lambda t: _back(hall, clerk, t))
        return
    ticket = hall.run(who, now, lambda c: queue.call_next(c, clerk.window_id))
    if isinstance(ticket, HallsyncError):  # nobody waits: look again in a while
        hall.later(now + timedelta(seconds=rng.randint(20, 60)), lambda t: _call(hall, clerk, t))
        return
    hall.later(
        now + timedelta(seconds=rng.randint(10, 50)), lambda t: _arrives(hall, clerk, ticket, t)
    )


def _back(hall: Hall, clerk: Clerk, now: datetime) -> None:
    shifts.end_break(hall, clerk.username, now)
    hall.run(clerk.username, now, lambda c: queue.resume_window(c, clerk.window_id))
    hall.later(now + timedelta(seconds=5), lambda t: _call(hall, clerk, t))


def _arrives(hall: Hall, clerk: Clerk, ticket: Any, now: datetime, recalled: bool = False) -> None:
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


def _done(hall: Hall, clerk: Clerk, ticket: Any, now: datetime) -> None:
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
        hall.later(now + timedelta(seconds=20), partial(sell, hall, who, tid, lines, phone, sim))
        next_call += timedelta(seconds=30)
    after_sales = outcome == "completed" and ticket.category == "after_sales"
    returned = brought_back(hall, tid) if after_sales and now >= hall.at(11) else None
    if returned is not None:
        take_back = partial(inventory.return_stock, cmd=returned)
        hall.later(now + timedelta(seconds=25), partial(step, hall, who, take_back))
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


# ---------------------------------------------------------------- customers


def customer(hall: Hall, now: datetime) -> None:
    """A customer walks in and takes a ticket; now and then one tires of waiting and leaves."""
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


def close_hall(hall: Hall, now: datetime) -> None:
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


# ---------------------------------------------------------------- appointments


def book(
    hall: Hall,
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


def _check_in(hall: Hall, aid: UUID, now: datetime) -> None:
    """The customer with an appointment arrives: a priority ticket, served like any other."""
    hall.run(hall.greeter_at(now), now, partial(queue.check_in, appointment_id=aid))
