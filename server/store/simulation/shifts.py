"""The shifts' part of the day: the shifts planned before opening, and everyone clocking in and
out (the clerks as their desk's hours say, see ``queue``)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from schema.api.shifts import ClockActionIn, ShiftIn
from server.domain import shifts
from server.store.simulation.fixtures import SHIFTS, STAFF_HOURS
from server.store.simulation.hall import Hall


def plan(hall: Hall, now: datetime) -> None:
    """The manager plans the day's shifts."""
    for username, begins, ends in SHIFTS:
        shift = ShiftIn(
            user_id=hall.users[username], day=hall.day, start_time=begins, end_time=ends
        )
        hall.run("manager", now, partial(shifts.plan_shift, cmd=shift))


def staff_hours(hall: Hall) -> None:
    """Those who do not work a window clock in as they arrive and out as they leave."""
    for username, arrive, leave in STAFF_HOURS:
        hall.later(hall.at(arrive.hour, arrive.minute), partial(clock_in, hall, username))
        hall.later(hall.at(leave.hour, leave.minute), partial(clock_out, hall, username))


def clock_in(hall: Hall, username: str, now: datetime) -> None:
    hall.run(username, now, lambda c: shifts.clock_in(c, hall.users[username], ClockActionIn()))


def clock_out(hall: Hall, username: str, now: datetime) -> None:
    hall.run(username, now, lambda c: shifts.clock_out(c, hall.users[username], ClockActionIn()))


def start_break(hall: Hall, username: str, now: datetime) -> None:
    hall.run(username, now, lambda c: shifts.start_break(c, hall.users[username], ClockActionIn()))


def end_break(hall: Hall, username: str, now: datetime) -> None:
    hall.run(username, now, lambda c: shifts.end_break(c, hall.users[username], ClockActionIn()))
