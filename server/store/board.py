"""The hall's live queue display board (叫号屏): pushes queue state to displays on change.

Each connected display is a mailbox that holds only the newest state, never a backlog: a slow
or stalled display skips states it had no time to show and simply gets the latest one next.
The writer's commit hook only sets a flag and wakes one pusher task, so neither the writer nor
the event loop ever waits for a display. The pusher lets a burst of commits land (``coalesce``
seconds), reads the state once for all of them on a pooled connection, and drops it into every
mailbox. Displays hear a keep-alive comment when nothing changed for ``keepalive`` seconds, so
proxies and the display itself can tell a quiet queue from a dead connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Iterable
from datetime import UTC, datetime
from typing import Final

import msgspec
from litestar.response import ServerSentEventMessage

from schema.api.queue import QueueStateOut
from schema.events import Event
from schema.events.queue import EVENTS as QUEUE_EVENTS
from server.domain.queue import queue_state
from server.store.db import Reader

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
"""Quiet time after which a display gets a keep-alive comment."""
COALESCE_SECONDS = 0.2
"""How long the pusher lets a burst of commits land before reading the state once."""
RETRY_MS = 3000
"""Told to displays: reconnect this soon after losing the stream."""
CLOSE_TIMEOUT = 5.0
"""At shutdown, how long the last push may take before the pusher is cancelled."""

_CLOSED: Final = object()
_encoder = msgspec.json.Encoder()


class Display:
    """One connected display's mailbox: the newest state not yet sent, and whether to stop."""

    def __init__(self) -> None:
        self.version = 0
        self._latest: bytes | None = None
        self._closed = False
        self._ready = asyncio.Event()

    def offer(self, version: int, payload: bytes) -> None:
        """Leave a state for the display; an older read never replaces a newer one."""
        if version > self.version:
            self.version = version
            self._latest = payload
            self._ready.set()

    def close(self) -> None:
        """End the stream once anything pending has been sent."""
        self._closed = True
        self._ready.set()

    async def next(self, quiet: float) -> bytes | object | None:
        """The next state to send, ``None`` after ``quiet`` seconds without one, or ``_CLOSED``."""
        while True:
            if self._latest is not None:
                payload, self._latest = self._latest, None
                return payload
            if self._closed:
                return _CLOSED
            self._ready.clear()
            try:
                async with asyncio.timeout(quiet):
                    await self._ready.wait()
            except TimeoutError:
                return None


class QueueBoard:
    """Holds the display subscribers and pushes fresh queue state after queue events commit."""

    def __init__(
        self,
        reader: Reader,
        store_id: str,
        *,
        keepalive: float = KEEPALIVE_SECONDS,
        coalesce: float = COALESCE_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.reader = reader
        self.store_id = store_id
        self.keepalive = keepalive
        self.coalesce = coalesce
        self.clock = clock
        self.pushes = 0
        """States pushed after commits so far (not counting the one each display gets first)."""
        self._displays: set[Display] = set()
        self._version = 0
        self._dirty = False
        self._closing = False
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def displays(self) -> int:
        """How many displays are connected."""
        return len(self._displays)

    # ------------------------------------------------------------ writer side

    def on_commit(self, events: Iterable[Event]) -> None:
        """Called on the event loop after each commit with the events it made durable."""
        if self._closing or not self._displays:
            return
        if not any(isinstance(e, QUEUE_EVENTS) for e in events):
            return
        self._dirty = True
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._push_loop())
        self._wake.set()

    async def _push_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._closing and self.coalesce > 0:
                # Let the rest of a burst land (or shutdown begin) and read once for all of it.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.coalesce)
            if self._dirty and self._displays:
                self._dirty = False
                try:
                    version, payload = await self._read()
                except Exception:
                    log.exception("queue board: reading the queue state failed")
                else:
                    for display in list(self._displays):
                        display.offer(version, payload)
                    self.pushes += 1
            if self._closing:
                return

    # ------------------------------------------------------------ display side

    async def snapshot(self) -> QueueStateOut:
        """The queue state now (also what a polling display gets)."""
        return await self.reader.run(lambda c: queue_state(c, self.store_id, self.clock()))

    async def _read(self) -> tuple[int, bytes]:
        # Versions are taken when a read starts, so a slow early read cannot overwrite a later one.
        self._version += 1
        version = self._version
        return version, _encoder.encode(await self.snapshot())

    async def subscribe(self) -> Display:
        """Connect a display; its mailbox already holds the current state."""
        display = Display()
        if self._closing:
            display.close()
            return display
        # Registered before reading, so a commit landing during the read is pushed after it.
        self._displays.add(display)
        try:
            version, payload = await self._read()
        except BaseException:
            self._displays.discard(display)
            raise
        display.offer(version, payload)
        return display

    async def stream(self) -> AsyncGenerator[ServerSentEventMessage, None]:
        """Server-sent events for one display: ``state`` events and keep-alive comments."""
        display = await self.subscribe()
        first = True
        try:
            while True:
                item = await display.next(self.keepalive)
                if item is _CLOSED:
                    return
                if item is None:
                    yield ServerSentEventMessage(comment="keep-alive", data=None)
                    continue
                assert isinstance(item, bytes)
                yield ServerSentEventMessage(
                    event="state",
                    id=display.version,
                    data=item.decode(),
                    retry=RETRY_MS if first else None,
                )
                first = False
        finally:
            self._displays.discard(display)

    async def close(self) -> None:
        """Disconnect every display (at shutdown), after pushing a pending change to them."""
        if self._closing:
            return
        self._closing = True
        task, self._task = self._task, None
        if task is not None:
            self._stop.set()
            self._wake.set()
            try:
                await asyncio.wait_for(task, CLOSE_TIMEOUT)
            except TimeoutError:
                log.warning("queue board: last push did not finish; displays closed without it")
            except Exception:
                log.exception("queue board: pusher failed")
        for display in list(self._displays):
            display.close()
