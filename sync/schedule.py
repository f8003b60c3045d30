"""When a store node connects to central: backoff after failures, the overnight window, and the
schedule combining them. Pure functions of the time and randomness they are given."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo


@dataclass
class Backoff:
    """Exponential backoff with full jitter: the n-th retry waits ``U(0, min(cap, base·2ⁿ))``.

    Full jitter spreads 10,000 stores reconnecting after a central outage over the whole
    interval instead of having them knock in waves.
    """

    base: float = 1.0
    cap: float = 300.0
    rand: Callable[[], float] = random.random
    attempt: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** min(self.attempt, 32))
        self.attempt += 1
        return self.rand() * ceiling

    def reset(self) -> None:
        self.attempt = 0


@dataclass(frozen=True)
class SyncWindow:
    """A daily store-local time window such as ``01:00-05:00`` (may wrap past midnight)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> SyncWindow:
        try:
            first, last = (part.strip() for part in text.split("-"))
            window = cls(time.fromisoformat(first), time.fromisoformat(last))
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a window like 01:00-05:00") from exc
        if window.start == window.end:
            raise ValueError(f"{text!r}: the window must not be empty")
        return window

    def contains(self, local: datetime) -> bool:
        t = local.timetz().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def seconds_until_open(self, local: datetime) -> float:
        """0 inside the window, else seconds until it next opens."""
        return 0.0 if self.contains(local) else _seconds_until(local, self.start)

    def seconds_until_close(self, local: datetime) -> float:
        """Seconds until the window next closes."""
        return _seconds_until(local, self.end)


def _seconds_until(local: datetime, at: time) -> float:
    """Seconds from ``local`` (aware) to the next wall-clock ``at`` in its zone."""
    target = datetime.combine(local.date(), at, tzinfo=local.tzinfo)
    if target <= local:
        target = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=local.tzinfo)
    # Subtract in UTC: across a DST change the wall-clock difference is not the real one.
    return (target.astimezone(UTC) - local.astimezone(UTC)).total_seconds()


SyncMode = Literal["continuous", "window", "both"]


@dataclass(frozen=True)
class Schedule:
    """When the store may be connected.

    - ``continuous``: always (reconnecting with backoff);
    - ``window``: only inside ``window``, store-local; outside it the log just accumulates;
    - ``both``: always, and when the window opens a retry waiting out a long backoff starts
      at once, so the nightly catch-up never waits for a five-minute backoff.
    """

    mode: SyncMode = "continuous"
    window: SyncWindow | None = None
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if self.mode != "continuous" and self.window is None:
            raise ValueError(f"sync mode {self.mode!r} needs a window")

    def local(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.tz))

    def seconds_until_allowed(self, now: datetime) -> float:
        if self.mode != "window":
            return 0.0
        assert self.window is not None
        return self.window.seconds_until_open(self.local(now))

    def seconds_until_closing(self, now: datetime) -> float | None:
        """In window mode, how long a connection opened now may stay; else None (no limit)."""
        if self.mode != "window":
            return None
        assert self.window is not None
        return self.window.seconds_until_close(self.local(now))

    def seconds_until_window(self, now: datetime) -> float | None:
        """In both mode, seconds until the window next opens (0 inside it); else None."""
        if self.mode != "both":
            return None
        assert self.window is not None
        return self.window.seconds_until_open(self.local(now))

    def seconds_until_retry(
        self, now: datetime, backoff: Backoff, *, retryable: bool, worked: bool
    ) -> float:
        """How long to wait before connecting again after a failed connection: the next
        ``backoff`` delay (a fresh streak if the link ``worked`` before failing), or
        ``backoff.cap`` when retrying cannot help (so fixing the cause needs no restart); but
        never past the opening of the sync window in ``both`` mode."""
        if worked:
            backoff.reset()  # the link worked: this is a fresh failure, not a streak
        delay = backoff.next_delay() if retryable else backoff.cap
        until_window = self.seconds_until_window(now)
        if until_window is not None and until_window < delay:
            backoff.reset()
            return until_window
        return delay
