"""The store node's websocket client: a thin asyncio adapter around ``sync.client.ClientSession``.

The session decides what to send, what ends the connection and when the store is caught up;
``sync.pacing`` how long to wait and when a connection is over; ``sync.progress`` when to save
progress. This module does the I/O: it opens the websocket (``Authorization: Bearer``,
permessage-deflate, 4 MiB frames, pings), reads the outbox, hands HQ batches to the node and
reports progress, all through the ports in ``sync.ports`` (it knows nothing of SQL or ``server/``).

- ``run_once`` syncs until central holds the whole log and no HQ batch is pending, then returns
  (``hallsync store sync --once``).
- ``run_forever`` keeps a connection open (or only inside an overnight window), uploads as soon
  as the node commits, and reconnects with exponential backoff and full jitter.

Failures surface as ``sync.errors.SyncError`` subclasses whose ``retryable`` says whether trying
again can help.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from sync.client import ClientSession
from sync.errors import Disconnected, SyncError, close_reason, from_close, from_refusal
from sync.frames import encode
from sync.pacing import Pacing
from sync.ports import Ports
from sync.progress import LinkState, OnProgress, Progress, ProgressPolicy, SyncOptions, SyncResult
from sync.schedule import Backoff, Schedule

log = logging.getLogger(__name__)


def _closed(exc: ConnectionClosed) -> SyncError:
    closes = [(close.code, close.reason) for close in (exc.rcvd, exc.sent) if close is not None]
    return from_close(closes) or Disconnected(f"connection lost: {exc}")


@dataclass
class _Link:
    """One connection: opened, driven through a ``ClientSession`` until ``pacing`` says it is
    over, its progress reported as ``ProgressPolicy`` decides."""

    url: str
    credential: str
    ports: Ports
    opts: SyncOptions
    pacing: Pacing
    wake: asyncio.Event | None = None
    stop: asyncio.Event | None = None
    on_progress: OnProgress | None = None
    state: LinkState | None = None
    result: SyncResult = field(default_factory=SyncResult)
    ws: ClientConnection = field(init=False)
    session: ClientSession = field(init=False)
    policy: ProgressPolicy = field(init=False)

    async def attempt(self) -> SyncResult:
        """Connect and sync; every failure is recorded on the node and raised, as a
        ``SyncError`` unless it is the node's own error from a port."""
        try:
            if self.ports.progress is not None:
                await self.ports.progress.attempted()
            await self._connect()
        except Exception as exc:
            if self.ports.progress is not None:
                try:
                    await self.ports.progress.failed(exc)
                except Exception:
                    log.exception("could not record the sync failure")
            raise
        return self.result

    async def _connect(self) -> None:
        opts, url = self.opts, self.url
        try:
            async with connect(
                url,
                additional_headers={"Authorization": f"Bearer {self.credential}"},
                compression="deflate",
                max_size=opts.max_size,
                ping_interval=opts.ping_interval,
                ping_timeout=opts.ping_timeout,
                open_timeout=opts.open_timeout,
                close_timeout=opts.close_timeout,
            ) as self.ws:
                if self.state is not None:
                    self.state.connected = True
                await self._drive()
        except InvalidStatus as exc:
            raise from_refusal(exc.response.status_code) from exc
        except InvalidURI as exc:
            raise SyncError(f"bad central URL {url!r}: {exc}") from exc
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise Disconnected(f"cannot reach central at {url}: {exc}") from exc
        except ConnectionClosed as exc:
            raise _closed(exc) from exc
        finally:
            if self.state is not None:
                self.state.connected = False

    async def _drive(self) -> None:
        loop, pacing, wake, stop = asyncio.get_running_loop(), self.pacing, self.wake, self.stop
        self.policy = ProgressPolicy(self.opts.save_interval)
        local = await asyncio.to_thread(self.ports.outbox.max_seq)
        cursor = await asyncio.to_thread(self.ports.hq.cursor)
        s = self.session = self.opts.session(self.ports.store_id, hq_cursor=cursor, local_seq=local)
        self.result.observe(s)
        s.connected()
        waits: dict[str, asyncio.Future[Any]] = {"frame": asyncio.ensure_future(self.ws.recv())}
        try:
            while True:
                await self._pump()
                if s.caught_up:
                    s.local_appended(await asyncio.to_thread(self.ports.outbox.max_seq))
                    if not s.caught_up:
                        continue  # the log grew meanwhile: upload it
                await self._report(loop.time())
                if pacing.over(loop.time()):
                    return
                if wake is not None and "wake" not in waits:
                    waits["wake"] = asyncio.ensure_future(wake.wait())
                if stop is not None and "stop" not in waits:
                    waits["stop"] = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait(
                    waits.values(),
                    timeout=pacing.timeout(loop.time(), caught_up=s.caught_up),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not done:
                    if (error := pacing.quiet(caught_up=s.caught_up)) is not None:
                        raise error
                    continue
                if waits.get("stop") in done:
                    return
                if wake is not None and waits.get("wake") in done:
                    del waits["wake"]
                    wake.clear()  # before reading max_seq, so no commit is missed
                if waits["frame"] in done:
                    await self._receive(waits.pop("frame").result())
                    waits["frame"] = asyncio.ensure_future(self.ws.recv())
        finally:
            for fut in waits.values():
                fut.cancel()
            s.receive_disconnect()
            self.result.observe(s)

    async def _receive(self, data: str | bytes) -> None:
        """Feed one message to the session; if it ends the connection, tell central why (the
        session's Error frame), close, and raise the reason."""
        s = self.session
        s.receive_data(data)
        if s.close_with is None:
            return
        with contextlib.suppress(ConnectionClosed):
            for frame in s.frames_to_send():
                await self.ws.send(encode(frame))
        if s.error is None:  # the store's own decision: say so in the close code too
            await self.ws.close(s.close_with.close_code, close_reason(s.close_with.message))
        raise s.close_with

    async def _pump(self) -> None:
        """Carry out everything the session asks for until it asks for nothing more."""
        s = self.session
        while True:
            progressed = False
            request = s.outbox_request()
            if request is not None:
                records = await asyncio.to_thread(
                    self.ports.outbox.read,
                    request.after_seq,
                    request.max_count,
                    request.max_bytes,
                )
                s.outbox_read(records)
                progressed = bool(records)
            batch = s.hq_to_apply()
            if batch is not None:
                await self.ports.hq.apply(batch.items, batch.upto)
                s.hq_applied(batch.upto)
                self.result.hq_applied += len(batch.items)
                progressed = True
            frames = s.frames_to_send()
            for frame in frames:
                await self.ws.send(encode(frame))
            if not progressed and not frames:
                return

    async def _report(self, now: float) -> None:
        """Tell the node of progress, when and as ``ProgressPolicy`` decides."""
        s = self.session
        self.result.observe(s)
        if s.state != "ready":
            return
        progress = Progress(s.acked, s.hq_cursor, s.caught_up, s.quarantined)
        if self.on_progress is not None and self.policy.show(progress):
            self.on_progress(s.acked, s.local_seq)
        save = self.policy.save(progress, now)
        if save is not None and self.ports.progress is not None:
            await self.ports.progress.saved(
                save.acked, save.hq_cursor, save.fresh_quarantined, caught_up=save.caught_up
            )


async def run_once(
    url: str,
    credential: str,
    ports: Ports,
    *,
    options: SyncOptions | None = None,
    on_progress: OnProgress | None = None,
    state: LinkState | None = None,
) -> SyncResult:
    """Connect, upload the whole log, apply the HQ events central has, and return when caught
    up. Raises a ``SyncError`` (see ``retryable``) or the node's own error from a port."""
    opts = options or SyncOptions()
    pacing = opts.pacing(keep_open=False)
    link = _Link(url, credential, ports, opts, pacing, on_progress=on_progress, state=state)
    return await link.attempt()


async def _pause(
    sleep: Callable[[float], Awaitable[None]], stop: asyncio.Event | None, seconds: float
) -> None:
    """Sleep, but wake early when asked to stop."""
    if stop is None:
        return await sleep(seconds)
    waits = {asyncio.ensure_future(sleep(seconds)), asyncio.ensure_future(stop.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


async def run_forever(
    url: str,
    credential: str,
    ports: Ports,
    *,
    schedule: Schedule | None = None,
    wake: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    backoff: Backoff | None = None,
    now: Callable[[], datetime] = partial(datetime.now, UTC),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    options: SyncOptions | None = None,
    state: LinkState | None = None,
) -> None:
    """Keep the store synced until ``stop`` is set (or the task is cancelled).

    Connected, it uploads whenever ``wake`` is set (the node sets it on each commit) and
    applies HQ batches as central sends them. A failed or broken connection is retried after a
    ``backoff`` delay; one that cannot succeed by retrying (``retryable`` false, e.g. a revoked
    credential) is retried only every ``backoff.cap`` seconds, so fixing it needs no restart.
    """
    schedule = schedule or Schedule()
    backoff = backoff or Backoff()
    opts = options or SyncOptions()
    loop = asyncio.get_running_loop()
    while stop is None or not stop.is_set():
        at = now()
        wait = schedule.seconds_until_allowed(at)
        if wait > 0:
            await _pause(sleep, stop, wait)
            continue
        closing = schedule.seconds_until_closing(at)
        deadline = None if closing is None else loop.time() + closing
        pacing = opts.pacing(keep_open=True, deadline=deadline)
        link = _Link(url, credential, ports, opts, pacing, wake=wake, stop=stop, state=state)
        try:
            await link.attempt()
        except Exception as exc:
            retryable = getattr(exc, "retryable", True)
            if isinstance(exc, SyncError) and not retryable:
                log.error("sync failed and retrying will not help: %s", exc)
            else:  # a failure that is not the protocol's is a bug: keep its traceback
                log.warning(
                    "sync connection failed: %s", exc, exc_info=not isinstance(exc, SyncError)
                )
            await _pause(
                sleep,
                stop,
                schedule.seconds_until_retry(
                    now(), backoff, retryable=retryable, worked=link.result.caught_up
                ),
            )
            continue
        backoff.reset()  # a clean end: the window closed or we were told to stop
