"""The simulated clock: store-local times of the day, the agenda of what happens next, and the
curve customers arrive by.

Everything in the day is a step on the agenda, run at its time in time order (steps due at the
same instant in the order they were put on it), and a step puts the next ones on it: a clerk
who finishes a customer calls the next one a little later. The day is over when the agenda is
empty.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Step = Callable[[datetime], None]
"""Something that happens at a time, which it is given."""


def local(day: date, zone: ZoneInfo, hh: int, mm: int = 0) -> datetime:
    """``hh:mm`` of ``day`` in the store's time zone, as UTC (as the log stores it)."""
    return datetime.combine(day, time(hh, mm), tzinfo=zone).astimezone(UTC)


@dataclass
class Agenda:
    """What happens next, by time."""

    _heap: list[tuple[datetime, int, Step]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    """Breaks ties between steps due at the same time: first put, first run."""

    def later(self, when: datetime, step: Step) -> None:
        """Have ``step`` happen at ``when``."""
        heapq.heappush(self._heap, (when, next(self._order), step))

    def run(self) -> None:
        """Run the steps in time order, and those they add, until none is left."""
        while self._heap:
            when, _, step = heapq.heappop(self._heap)
            step(when)


def arrivals(
    rng: random.Random, opening: datetime, last_ticket: datetime, count: int
) -> Iterator[datetime]:
    """``count`` customers' arrival times between ``opening`` (08:00) and ``last_ticket``: evenly
    spread, plus a lunch peak around 11:30 and a smaller evening one around 17:30 (drawn by
    rejection against the hourly curve)."""
    span = (last_ticket - opening).total_seconds()
    for _ in range(count):
        while True:
            x = rng.random()
            hour = 8 + x * span / 3600
            weight = 1.0 + 0.8 * _bump(hour, 11.5, 1.2) + 0.6 * _bump(hour, 17.5, 1.0)
            if rng.random() * 2.0 < weight:
                break
        yield opening + timedelta(seconds=x * span)


def _bump(x: float, mid: float, width: float) -> float:
    """A triangle of height 1 at ``mid``, ``width`` either side."""
    return max(0.0, 1.0 - abs(x - mid) / width)
