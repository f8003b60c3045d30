"""The store node's websocket client: a thin asyncio adapter around ``sync.client.ClientSession``.

The session decides what to send, what ends the connection and when the store is caught up;
this module does the I/O: it opens the websocket (``Authorization: Bearer <credential>``,
permessage-deflate, 4 MiB frames, pings), reads the outbox, hands HQ batches to the node and
reports progress, all through the ports in ``sync.ports`` (so it knows nothing of SQL or of
``server/``).

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
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from schema.events import SCHEMA_VERSION
from sync.client import ClientSession
from sync.errors import BY_CLOSE, Disconnected, SyncError, Unauthorized
from sync.frames import MAX_FRAME, encode
from sync.ports import Ports
from sync.schedule import Backoff, Schedule

log = logging.getLogger(__name__)

# ------------------------------------------------------------------ errors and results


def _closed(exc: ConnectionClosed) -> SyncError:
    for close in (exc.rcvd, exc.sent):
        if close is not None and close.code in BY_CLOSE:
            return BY_CLOSE[close.code](f"connection closed: {close.code} {close.reason}".strip())
    return Disconnected(f"connection lost: {exc}")


def _refused(status: int) -> SyncError:
    if status in (401, 403):
        return Unauthorized(f"central refused the store credential (HTTP {status})")
    if 400 <= status < 500 and status not in (408, 429):
        return SyncError(f"central refused the sync connection (HTTP {status})")
    return Disconnected(f"central is not accepting connections (HTTP {status})")


@dataclass
class LinkState:
    """Whether a connection is open right now (for the status page); the adapter keeps it."""

    connected: bool = False


@dataclass
class SyncResult:
    """Where a connection left things."""

    acked_seq: int = 0
    """Central holds the store's log up to here."""
    local_seq: int = 0
    """The log's newest seq as last read."""
    hq_cursor: int = 0
    """HQ events applied up to this cursor."""
    quarantined: int = 0
    """Events central quarantined during this connection."""
    hq_applied: int = 0
    """HQ events applied during this connection."""
    caught_up: bool = False
    """Whether the store was caught up at least once during the connection."""


@dataclass(frozen=True)
class SyncOptions:
    """Tuning of the adapter; the defaults are the production values."""

    schema: int = SCHEMA_VERSION
    batch_count: int = 500
    batch_bytes: int = 512 * 1024
    window: int = 4
    max_size: int = MAX_FRAME
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    open_timeout: float = 10.0
    close_timeout: float = 3.0
    """Seconds to wait for central to confirm a close before dropping the connection."""
    stall_timeout: float = 120.0
    """Seconds without a frame while waiting for central before the link counts as dead."""
    settle: float = 1.0
    """``run_once``: once caught up, how long to wait for HQ batches central may still send."""
    save_interval: float = 1.0
    """At most one progress save per this many seconds while uploading."""


OnProgress = Callable[[int, int], None]
"""``(acked_seq, local_seq)`` whenever central acknowledges more (for progress bars)."""


# ------------------------------------------------------------------ one connection


class _Link:
    """One open websocket driven through a ``ClientSession``."""

    def __init__(
        self,
        ws: ClientConnection,
        ports: Ports,
        opts: SyncOptions,
        result: SyncResult,
        on_progress: OnProgress | None,
    ) -> None:
        self.ws, self.ports, self.opts, self.result = ws, ports, opts, result
        self.on_progress = on_progress
        self.session: ClientSession | None = None
        self._saved: tuple[int, int, bool] = (-1, -1, False)
        self._shown = -1
        self._quarantine_reported = 0
        self._last_save = 0.0

    async def run(
        self,
        *,
        keep_open: bool,
        deadline: float | None,
        wake: asyncio.Event | None,
        stop: asyncio.Event | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        local = await asyncio.to_thread(self.ports.outbox.max_seq)
        cursor = await asyncio.to_thread(self.ports.hq.cursor)
        s = self.session = ClientSession(
            self.ports.store_id,
            schema=self.opts.schema,
            hq_cursor=cursor,
            local_seq=local,
            batch_count=self.opts.batch_count,
            batch_bytes=self.opts.batch_bytes,
            window=self.opts.window,
            max_frame=self.opts.max_size,
        )
        self.result.local_seq, self.result.hq_cursor = local, cursor
        s.connected()
        waits: dict[str, asyncio.Future[Any]] = {"frame": asyncio.ensure_future(self.ws.recv())}
        try:
            while True:
                await self._pump()
                if s.caught_up:
                    s.local_appended(await asyncio.to_thread(self.ports.outbox.max_seq))
                    self.result.local_seq = s.local_seq
                    if not s.caught_up:
                        continue  # the log grew meanwhile: upload it
                    self.result.caught_up = True
                await self._report(force=s.caught_up)
                if deadline is not None and loop.time() >= deadline:
                    return
                if s.caught_up:
                    timeout = (
                        (None if deadline is None else deadline - loop.time())
                        if keep_open
                        else self.opts.settle
                    )
                else:
                    timeout = self.opts.stall_timeout
                if keep_open and wake is not None and "wake" not in waits:
                    waits["wake"] = asyncio.ensure_future(wake.wait())
                if stop is not None and "stop" not in waits:
                    waits["stop"] = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait(
                    waits.values(), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    if not s.caught_up:
                        raise Disconnected(f"central sent nothing for {timeout:.0f} s")
                    if not keep_open:
                        return  # settled: caught up and central has nothing more
                    continue  # the window closes: the deadline check returns
                if waits.get("stop") in done:
                    return
                if waits.get("wake") in done:
                    del waits["wake"]
                    assert wake is not None
                    wake.clear()  # before reading max_seq, so no commit is missed
                if waits["frame"] in done:
                    data = waits.pop("frame").result()
                    await self._receive(data)
                    waits["frame"] = asyncio.ensure_future(self.ws.recv())
        except ConnectionClosed as exc:
            raise _closed(exc) from exc
        finally:
            for fut in waits.values():
                fut.cancel()
            s.receive_disconnect()
            self.result.acked_seq = max(self.result.acked_seq, s.acked)

    async def _receive(self, data: str | bytes) -> None:
        """Feed one message to the session; if it ends the connection, tell central why (the
        session's Error frame), close, and raise the reason."""
        s = self.session
        assert s is not None
        s.receive_data(data)
        if s.close_with is None:
            return
        with contextlib.suppress(ConnectionClosed):
            for frame in s.frames_to_send():
                await self.ws.send(encode(frame))
        if s.error is None:  # the store's own decision: say so in the close code too
            await self.ws.close(s.close_with.close_code, s.close_with.message[:120])
        raise s.close_with

    async def _pump(self) -> None:
        """Carry out everything the session asks for until it asks for nothing more."""
        s = self.session
        assert s is not None
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
                self.result.hq_cursor = s.hq_cursor
                progressed = True
            frames = s.frames_to_send()
            for frame in frames:
                await self.ws.send(encode(frame))
            if not progressed and not frames:
                return

    async def _report(self, *, force: bool) -> None:
        """Save progress when it changed: at once when caught up, else at most every
        ``save_interval`` seconds (each save is a durable write on the node)."""
        s = self.session
        assert s is not None
        self.result.acked_seq = max(self.result.acked_seq, s.acked)
        self.result.quarantined = s.quarantined
        state = (s.acked, s.hq_cursor, s.caught_up)
        if state == self._saved or s.state != "ready":
            return
        if self.on_progress is not None and s.acked != self._shown:
            self._shown = s.acked
            self.on_progress(s.acked, s.local_seq)
        now = asyncio.get_running_loop().time()
        force = force or s.quarantined != self._quarantine_reported  # rare; never lose one
        if not force and now - self._last_save < self.opts.save_interval:
            return
        self._saved, self._last_save = state, now
        if self.ports.progress is not None:
            fresh = s.quarantined - self._quarantine_reported
            self._quarantine_reported = s.quarantined
            await self.ports.progress.saved(s.acked, s.hq_cursor, fresh, caught_up=s.caught_up)


async def _connection(
    url: str,
    credential: str,
    ports: Ports,
    opts: SyncOptions,
    result: SyncResult,
    *,
    keep_open: bool,
    deadline: float | None = None,
    wake: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    on_progress: OnProgress | None = None,
    state: LinkState | None = None,
) -> None:
    """Open one connection and drive it; every failure comes out as a ``SyncError``."""
    if ports.progress is not None:
        await ports.progress.attempted()
    try:
        async with connect(
            url,
            additional_headers={"Authorization": f"Bearer {credential}"},
            compression="deflate",
            max_size=opts.max_size,
            ping_interval=opts.ping_interval,
            ping_timeout=opts.ping_timeout,
            open_timeout=opts.open_timeout,
            close_timeout=opts.close_timeout,
        ) as ws:
            if state is not None:
                state.connected = True
            link = _Link(ws, ports, opts, result, on_progress)
            await link.run(keep_open=keep_open, deadline=deadline, wake=wake, stop=stop)
    except InvalidStatus as exc:
        raise _refused(exc.response.status_code) from exc
    except InvalidURI as exc:
        raise SyncError(f"bad central URL {url!r}: {exc}") from exc
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        raise Disconnected(f"cannot reach central at {url}: {exc}") from exc
    except ConnectionClosed as exc:
        raise _closed(exc) from exc
    finally:
        if state is not None:
            state.connected = False


async def _record_failure(ports: Ports, exc: BaseException) -> None:
    if ports.progress is not None:
        try:
            await ports.progress.failed(exc)
        except Exception:
            log.exception("could not record the sync failure")


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
    result = SyncResult()
    try:
        await _connection(
            url,
            credential,
            ports,
            options or SyncOptions(),
            result,
            keep_open=False,
            on_progress=on_progress,
            state=state,
        )
    except Exception as exc:
        await _record_failure(ports, exc)
        raise
    return result


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Pauser:
    sleep: Callable[[float], Awaitable[None]]
    stop: asyncio.Event | None = field(default=None)

    async def __call__(self, seconds: float) -> None:
        """Sleep, but wake early when asked to stop."""
        sleeping = asyncio.ensure_future(self.sleep(seconds))
        if self.stop is None:
            await sleeping
            return
        stopping = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            stopping.cancel()


async def run_forever(
    url: str,
    credential: str,
    ports: Ports,
    *,
    schedule: Schedule | None = None,
    wake: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    backoff: Backoff | None = None,
    now: Callable[[], datetime] = _utcnow,
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
    pause = _Pauser(sleep, stop)
    loop = asyncio.get_running_loop()
    while stop is None or not stop.is_set():
        at = now()
        wait = schedule.seconds_until_allowed(at)
        if wait > 0:
            await pause(wait)
            continue
        closing = schedule.seconds_until_closing(at)
        deadline = None if closing is None else loop.time() + closing
        result = SyncResult()
        try:
            await _connection(
                url,
                credential,
                ports,
                opts,
                result,
                keep_open=True,
                deadline=deadline,
                wake=wake,
                stop=stop,
                state=state,
            )
        except Exception as exc:
            await _record_failure(ports, exc)
            retryable = getattr(exc, "retryable", True)
            if isinstance(exc, SyncError) and not retryable:
                log.error("sync failed and retrying will not help: %s", exc)
            else:  # a failure that is not the protocol's is a bug: keep its traceback
                log.warning(
                    "sync connection failed: %s", exc, exc_info=not isinstance(exc, SyncError)
                )
            await pause(
                schedule.seconds_until_retry(
                    now(), backoff, retryable=retryable, worked=result.caught_up
                )
            )
            continue
        backoff.reset()  # a clean end: the window closed or we were told to stop
