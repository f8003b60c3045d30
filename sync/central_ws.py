"""Central's side of the sync websocket: Litestar glue around ``sync.server.ServerSession``.

The route authenticates the upgrade (``sync.upgrade`` decides what is refused and how), then
runs one session per connection: a reader feeds each message to the session, a worker carries
out what it asks for through the ``sync.ports.SyncStorage`` port and sends the frames it
returns, a poller tells it of new HQ events whenever the replica's ``Wakeup`` fires (a publish
here, or a PostgreSQL NOTIFY from any replica) and every ``hq_poll`` seconds in case one was
lost. The credential is checked again whenever the store's ``Wakeup`` in ``store_changes``
fires and before every HQ batch: a revoked store gets nothing more (``ServerSession.revoked``).
What ends a connection is the session's decision; anything else that fails while storing
closes this one connection as ``Unavailable`` (the store retries later).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.handlers import WebsocketRouteHandler

from schema.api.common import PROBLEM_JSON
from schema.events import SCHEMA_VERSION
from sync.errors import SyncError, Unavailable, close_reason
from sync.frames import MAX_FRAME, encode
from sync.ports import Authenticate, SyncStorage
from sync.protocol import SYNC_PATH
from sync.server import ServerSession
from sync.upgrade import CANNOT_CHECK, UNKNOWN_CREDENTIAL, Refusal, bearer
from sync.wakeup import StoreWakeups, Wakeup

log = logging.getLogger(__name__)

DENIAL = "websocket.http.response"
"""ASGI extension letting a refused upgrade be answered with a plain HTTP status."""


def sync_route(
    *,
    authenticate: Authenticate,
    storage: SyncStorage,
    path: str = SYNC_PATH,
    schema: int = SCHEMA_VERSION,
    hq_poll: float = 5.0,
    max_frame: int = MAX_FRAME,
    connections: Callable[[str, int], None] | None = None,
    wakeup: Wakeup | None = None,
    store_changes: StoreWakeups | None = None,
) -> WebsocketRouteHandler:
    """The websocket route of sync. ``connections(store_id, ±1)`` is told when a store's session
    starts and ends (for a gauge); ``wakeup`` fires when new HQ events may exist;
    ``store_changes`` fires a store's own wake-up when its credential may have been revoked."""
    hq_wakeup = wakeup or Wakeup()
    changes = store_changes or StoreWakeups()

    @websocket(path, opt={"exclude_from_auth": True})
    async def sync_socket(socket: WebSocket[Any, Any, Any]) -> None:
        credential = bearer(socket.headers.get("authorization", ""))
        try:
            store_id = await authenticate(credential) if credential is not None else None
        except Exception:
            log.exception("sync: authenticating a store failed")
            return await _refuse(socket, CANNOT_CHECK)
        if credential is None or store_id is None:
            return await _refuse(socket, UNKNOWN_CREDENTIAL)
        await socket.accept()
        if connections is not None:
            connections(store_id, 1)
        try:
            session = ServerSession(store_id, schema=schema, max_frame=max_frame)
            with changes.watch(store_id) as changed:
                link = _Connection(socket, session, storage, authenticate, credential)
                await link.serve(hq_poll, hq_wakeup, changed)
        finally:
            if connections is not None:
                connections(store_id, -1)

    return sync_socket


async def _refuse(socket: WebSocket[Any, Any, Any], refusal: Refusal) -> None:
    """Refuse the upgrade: an HTTP status with problem details where the server supports it;
    else a close code."""
    await socket.receive()  # websocket.connect
    error = refusal.error
    if DENIAL not in (socket.scope.get("extensions") or {}):
        return await socket.close(code=error.close_code, reason=close_reason(error.message))
    headers = [(b"content-type", PROBLEM_JSON.encode())]
    await socket.send(
        {"type": "websocket.http.response.start", "status": refusal.status, "headers": headers}
    )
    body = refusal.problem(socket.url.path)
    await socket.send({"type": "websocket.http.response.body", "body": body, "more_body": False})


@dataclass
class _Connection:
    """One store's websocket: a reader, an HQ poller and a credential re-check feeding one
    session, and a worker carrying out what the session asks for.

    The reader keeps reading while an ingest runs, so the pushes that arrive meanwhile (the
    store keeps up to four in flight) are stored together by the next ingest: under load a
    store's events go in runs of a few pushes, not one push per transaction. At most one
    ingest's worth of events waits to be stored (then the reader waits: the socket's buffers
    push back on the store)."""

    socket: WebSocket[Any, Any, Any]
    session: ServerSession
    storage: SyncStorage
    authenticate: Authenticate
    credential: str
    work: Wakeup = field(default_factory=Wakeup)
    """Fired when the session may have something for the worker to do."""
    worked: Wakeup = field(default_factory=Wakeup)
    """Fired when the worker has done what the session asked."""

    async def holds(self) -> bool:
        """Whether the credential still names this store."""
        return await self.authenticate(self.credential) == self.session.store_id

    async def serve(self, hq_poll: float, hq_wakeup: Wakeup, changed: Wakeup) -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._read)
            tg.start_soon(self._poll, hq_wakeup, hq_poll)
            tg.start_soon(self._recheck, changed)
            await self._work()
            tg.cancel_scope.cancel()  # the reader, the poller and the re-check, waiting
        if (error := self.session.close_with) is not None:
            log.info("sync: closing store %s: %s %s", self.session.store_id, error.code, error)
        code, reason = self.session.close_frame()
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):  # already gone
            await self.socket.close(code=code, reason=reason)

    async def _read(self) -> None:
        s = self.session
        while s.state != "closed":
            done = self.worked.generation
            if s.backlog >= s.max_ingest_events:
                await self.worked.wait(done, math.inf)
                continue
            try:
                message = await self.socket.receive()
            except WebSocketDisconnect:
                message = {"type": "websocket.disconnect", "code": 1006}
            if message["type"] == "websocket.receive":
                data = message.get("bytes")
                s.receive_data(data if data is not None else message.get("text") or "")
            else:
                s.receive_disconnect()
            self.work.fire()

    async def _poll(self, hq_wakeup: Wakeup, every: float) -> None:
        seen = hq_wakeup.generation
        while True:
            seen = await hq_wakeup.wait(seen, every)
            self.session.hq_available()
            self.work.fire()

    async def _recheck(self, changed: Wakeup) -> None:
        """Whenever the store's wake-up fires, check the credential again; a revoked or
        replaced one closes the connection at once."""
        seen = changed.generation
        while True:
            seen = await changed.wait(seen, math.inf)
            try:
                # Shielded: a query cancelled half-way (the connection ending meanwhile) would
                # leave its database connection unreturned.
                with anyio.CancelScope(shield=True):
                    if await self.holds():
                        continue
            except Exception:
                # The check before each HQ batch still keeps the store from getting anything.
                log.exception("sync: checking store %s's credential failed", self.session.store_id)
                continue
            self.session.revoked()
            self.work.fire()

    async def _work(self) -> None:
        """Carry out what the session asks for whenever it may ask for something, until it is
        closed. Never cancelled half-way: an ingest running when the store goes away still
        commits (or not) as a whole, and a later connection finds what it stored."""
        seen = -1
        while self.session.state != "closed":
            seen = await self.work.wait(seen, math.inf)
            await self._pump()
            self.worked.fire()

    async def _pump(self) -> None:
        """Carry out what the session asks for until it asks for nothing, then send."""
        s, store_id = self.session, self.session.store_id
        try:
            while s.state != "closed":
                if s.wants_state():
                    high_water, hq_acked, _region = await self.storage.load_state(store_id)
                    s.state_loaded(high_water, hq_acked)
                    if s.hello is not None:
                        await self.storage.touch(store_id, s.hello.local_seq)
                    continue
                if (hq_ack := s.hq_ack_to_save()) is not None:
                    await self.storage.save_hq_acked(store_id, hq_ack)
                    s.hq_ack_saved(hq_ack)
                if (request := s.ingest_request()) is not None:
                    await self._flush()  # earlier acks go out before a long ingest
                    if s.state == "closed":  # the flush found the credential revoked
                        break
                    s.ingested(*await self.storage.ingest(request))
                elif (hq := s.hq_request()) is not None:
                    s.hq_loaded(*await self.storage.load_hq(hq.store_id, hq.after, hq.limit))
                else:
                    break
        except SyncError as exc:
            s.fail(exc)
        except Exception:
            log.exception("sync: storage failed for store %s", store_id)
            s.fail(Unavailable("central cannot store right now; reconnect later"))
        await self._flush()

    async def _flush(self) -> None:
        """Send what the session has to send; HQ batches only if the store's credential still
        holds, checked right before (a revocation whose news was lost or is on its way)."""
        s = self.session
        if s.sends_hq:
            try:
                if not await self.holds():
                    s.revoked()
            except Exception:
                log.exception("sync: checking store %s's credential failed", s.store_id)
                s.withhold_hq(Unavailable("central cannot check credentials now; reconnect later"))
        try:
            for frame in s.frames_to_send():
                await self.socket.send_bytes(encode(frame))
        except (WebSocketDisconnect, RuntimeError, OSError):
            s.receive_disconnect()
