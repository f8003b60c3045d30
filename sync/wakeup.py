"""A broadcast "look again" for the connections of one central replica.

When HQ publishes, every connected store it may concern should load the new HQ events at once
rather than at its next poll. Whoever learns of a publish (the replica that committed it, or the
PostgreSQL ``LISTEN`` of any replica) calls ``fire()``; every connection waiting in ``wait()``
wakes. Nothing is queued: a connection that was busy when it fired sees the next generation
number differ and looks again anyway, so no publish is missed between two waits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


class StoreWakeups:
    """A ``Wakeup`` per store with open connections on this replica, for news that concerns
    one store's connections only (its credential was revoked or replaced: check it again).

    A connection holds ``watch(store_id)`` while it runs; ``fire(store_id)`` wakes that store's
    connections, ``fire_all()`` every connection (after news may have been missed).
    """

    def __init__(self) -> None:
        self._wakeups: dict[str, Wakeup] = {}
        self._watchers: dict[str, int] = {}

    @contextmanager
    def watch(self, store_id: str) -> Iterator[Wakeup]:
        """The store's ``Wakeup``, for as long as the block runs."""
        wakeup = self._wakeups.setdefault(store_id, Wakeup())
        self._watchers[store_id] = self._watchers.get(store_id, 0) + 1
        try:
            yield wakeup
        finally:
            self._watchers[store_id] -= 1
            if not self._watchers[store_id]:
                del self._watchers[store_id], self._wakeups[store_id]

    def watched(self) -> list[str]:
        """The stores with open connections here."""
        return list(self._wakeups)

    def fire(self, store_id: str) -> None:
        """Wake the store's connections, if it has any here. Call from the event loop's
        thread."""
        wakeup = self._wakeups.get(store_id)
        if wakeup is not None:
            wakeup.fire()

    def fire_all(self) -> None:
        for wakeup in list(self._wakeups.values()):
            wakeup.fire()
