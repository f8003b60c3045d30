"""A broadcast "look again" for the connections of one central replica.

When HQ publishes, every connected store it may concern should load the new HQ events at once
rather than at its next poll. Whoever learns of a publish (the replica that committed it, or the
PostgreSQL ``LISTEN`` of any replica) calls ``fire()``; every connection waiting in ``wait()``
wakes. Nothing is queued: a connection that was busy when it fired sees the next generation
number differ and looks again anyway, so no publish is missed between two waits.
"""

from __future__ import annotations

import anyio


class Wakeup:
    """A generation counter with one event per generation."""

    def __init__(self) -> None:
        self.generation = 0
        self._event: anyio.Event | None = None

    def fire(self) -> None:
        """New HQ events may exist: wake every waiter. Call from the event loop's thread."""
        self.generation += 1
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, seen: int, seconds: float) -> int:
        """Wait until the generation differs from ``seen`` or ``seconds`` pass; returns the
        generation now (equal to ``seen`` when the time ran out)."""
        if self.generation == seen:
            if self._event is None:
                self._event = anyio.Event()
            event = self._event
            with anyio.move_on_after(seconds):
                await event.wait()
        return self.generation
