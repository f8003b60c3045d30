"""Central's side of the sync websocket: Litestar glue around ``sync.server.ServerSession``.

The route authenticates the upgrade request (``Authorization: Bearer <credential>``), then
runs one session per connection: a reader decodes each binary frame and feeds it to the
session, a worker carries out what the session asks for through the storage port and sends the
frames it returns. A third task looks for new HQ events whenever the replica's ``Wakeup`` fires
(a publish on this replica, or a PostgreSQL NOTIFY from any), and every ``hq_poll`` seconds in
case a wake-up was lost.
A connection's authorisation is checked again whenever its store's ``Wakeup`` in
``store_changes`` fires (central fires it when the store is revoked or enrolled anew) and before
every HQ batch it sends: a revoked store's connection is closed as ``Unauthorized`` and gets
nothing more, even if the news of the revocation never reached this replica.
Protocol errors become an ``Error`` frame and a close code (``sync.errors``); anything else
that goes wrong while storing closes this one connection as ``Unavailable`` (the store retries
later). Nothing is shared between connections, so one store's failure never touches another's.

Storage is reached only through ``SyncStorage`` (central's database implements it in
``server.central.storage``), so this module imports no SQL and nothing from ``server``.
``PROTOCOL`` describes the websocket for central's OpenAPI document, from the frames and errors
themselves.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, Protocol, get_args

import anyio
import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.handlers import WebsocketRouteHandler
from litestar.types import WebSocketResponseBodyEvent, WebSocketResponseStartEvent

from schema.api.common import PROBLEM_JSON, PROBLEM_TYPE_BASE, Problem
from schema.events import SCHEMA_VERSION
from sync.errors import (
    BY_CODE,
    FrameTooLarge,
    ProtocolViolation,
    SyncError,
    Unauthorized,
    Unavailable,
    WrongStore,
)
from sync.frames import (
    MAX_FRAME,
    ClientFrame,
    HqBatch,
    HqItem,
    Push,
    ServerFrame,
    decode_client_frame,
    encode,
)
from sync.server import IngestRequest, ServerSession
from sync.wakeup import StoreWakeups, Wakeup

log = logging.getLogger(__name__)

SYNC_PATH = "/sync/v1"
DENIAL = "websocket.http.response"
"""ASGI extension letting a refused upgrade be answered with a plain HTTP status."""


class SyncStorage(Protocol):
    """What a sync session needs from central's database."""

    async def load_state(self, store_id: str) -> tuple[int, int, str]:
        """``(high_water, hq_acked, region)`` of the store."""
        ...

    async def ingest(self, request: IngestRequest) -> tuple[int, int]:
        """Store a run of events durably; ``(new high_water, quarantined in this run)``."""
        ...

    async def load_hq(self, store_id: str, after: int, limit: int) -> tuple[list[HqItem], int]:
        """HQ events addressed to the store after ``after``, and the cursor they reach."""
        ...

    async def save_hq_acked(self, store_id: str, cursor: int) -> None:
        """Record that the store applied HQ events up to ``cursor``."""
        ...

    async def touch(self, store_id: str, local_seq: int) -> None:
        """Record that the store was seen now, with its newest seq."""
        ...


Authenticate = Callable[[str], Awaitable[str | None]]
"""Maps a bearer credential to the id of the active store holding it, or None."""


class _Envelope(msgspec.Struct):
    store_id: str | None = None


_envelope = msgspec.msgpack.Decoder(_Envelope)


def claims_other_store(push: Push, store_id: str) -> bool:
    """True when *every* event of the push names a store other than ``store_id`` (a mix only
    sends the foreign events to quarantine)."""
    if not push.events:
        return False
    for raw in push.events:
        try:
            claimed = _envelope.decode(raw).store_id
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):  # quarantine says why
            return False
        if claimed is None or claimed == store_id:
            return False
    return True


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
        scheme, _, credential = socket.headers.get("authorization", "").partition(" ")
        try:
            store_id = (
                await authenticate(credential.strip()) if scheme.lower() == "bearer" else None
            )
        except Exception:
            log.exception("sync: authenticating a store failed")
            await _refuse(socket, 503, Unavailable("central cannot check credentials now"))
            return
        if store_id is None:
            await _refuse(socket, 401, Unauthorized("unknown or revoked store credential"))
            return
        await socket.accept()
        if connections is not None:
            connections(store_id, 1)
        try:
            session = ServerSession(store_id, schema=schema)
            with changes.watch(store_id) as changed:
                await _Connection(
                    socket,
                    session,
                    storage,
                    hq_poll,
                    max_frame,
                    hq_wakeup,
                    _Authority(authenticate, credential.strip(), changed),
                ).serve()
        finally:
            if connections is not None:
                connections(store_id, -1)

    return sync_socket


async def _refuse(socket: WebSocket[Any, Any, Any], status: int, error: SyncError) -> None:
    """Refuse the upgrade: an HTTP status with problem details, as every REST error of central,
    where the server supports it; else a close code."""
    await socket.receive()  # websocket.connect
    if DENIAL in (socket.scope.get("extensions") or {}):
        start: WebSocketResponseStartEvent = {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_JSON.encode())],
        }
        problem = Problem(
            type=PROBLEM_TYPE_BASE + error.code,
            title=HTTPStatus(status).phrase,
            status=status,
            detail=error.message,
            code=error.code,
            retryable=error.retryable,
            instance=socket.url.path,
        )
        body: WebSocketResponseBodyEvent = {
            "type": "websocket.http.response.body",
            "body": msgspec.json.encode(problem),
            "more_body": False,
        }
        await socket.send(start)
        await socket.send(body)
    else:
        await socket.close(code=error.close_code, reason=_reason(error.message))


def _reason(message: str) -> str:
    return message.encode()[:120].decode(errors="ignore")


class _Authority:
    """How a connection checks that its credential still holds: ``authenticate`` once more,
    and the store's wake-up that says when to."""

    def __init__(self, authenticate: Authenticate, credential: str, changed: Wakeup) -> None:
        self.authenticate = authenticate
        self.credential = credential
        self.changed = changed

    async def holds(self, store_id: str) -> bool:
        return await self.authenticate(self.credential) == store_id


class _Connection:
    """One store's websocket: a reader task and an HQ poller feeding one session, and a worker
    carrying out what the session asks for.

    The reader keeps reading while an ingest runs, so the pushes that arrive meanwhile (the
    store keeps up to four in flight) are stored together by the next ingest: under load a
    store's events go in runs of a few pushes, not one push per transaction. At most one
    ingest's worth of events waits to be stored (then the reader waits: the socket's buffers
    push back on the store)."""

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        session: ServerSession,
        storage: SyncStorage,
        hq_poll: float,
        max_frame: int,
        wakeup: Wakeup,
        authority: _Authority,
    ) -> None:
        self.socket = socket
        self.session = session
        self.storage = storage
        self.hq_poll = hq_poll
        self.max_frame = max_frame
        self.wakeup = wakeup
        self.authority = authority
        self.work = Wakeup()
        """Fired when the session may have something for the worker to do."""
        self.worked = Wakeup()
        """Fired when the worker has done what the session asked."""
        self.saved_hq: int | None = None

    async def serve(self) -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._poll)
            tg.start_soon(self._read)
            tg.start_soon(self._recheck)
            await self._work()
            tg.cancel_scope.cancel()  # the reader, the poller and the re-check, waiting
        error = self.session.close_with
        if error is not None:
            log.info(
                "sync: closing store %s: %s %s", self.session.store_id, error.code, error.message
            )
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):  # already gone
            await self.socket.close(
                code=error.close_code if error else 1000,
                reason=_reason(error.message) if error else "",
            )

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
                self._feed(message.get("bytes"))
            else:
                s.receive_disconnect()
            self.work.fire()

    async def _poll(self) -> None:
        seen = self.wakeup.generation
        while True:
            seen = await self.wakeup.wait(seen, self.hq_poll)
            self.session.hq_available()
            self.work.fire()

    async def _recheck(self) -> None:
        """Whenever the store's wake-up fires, check the credential again; a revoked or
        replaced one closes the connection at once."""
        seen = self.authority.changed.generation
        while True:
            seen = await self.authority.changed.wait(seen, math.inf)
            try:
                # Shielded: a query cancelled half-way (the connection ending meanwhile) would
                # leave its database connection unreturned.
                with anyio.CancelScope(shield=True):
                    holds = await self.authority.holds(self.session.store_id)
                if holds:
                    continue
            except Exception:
                # The check before each HQ batch still keeps the store from getting anything.
                log.exception("sync: checking store %s's credential failed", self.session.store_id)
                continue
            self._revoked()
            self.work.fire()

    def _revoked(self) -> None:
        store_id = self.session.store_id
        self.session.fail(Unauthorized(f"store {store_id}'s credential was revoked or replaced"))

    async def _work(self) -> None:
        """Carry out what the session asks for whenever it may ask for something, until it is
        closed. Never cancelled half-way: an ingest running when the store goes away still
        commits (or not) as a whole, and a later connection finds what it stored."""
        seen = -1
        while self.session.state != "closed":
            seen = await self.work.wait(seen, math.inf)
            await self._pump()
            self.worked.fire()

    def _feed(self, data: bytes | None) -> None:
        s = self.session
        if data is None:
            s.fail(ProtocolViolation("text frame: sync frames are binary msgpack"))
        elif len(data) > self.max_frame:
            s.fail(FrameTooLarge(f"frame of {len(data)} bytes; the limit is {self.max_frame}"))
        else:
            try:
                frame = decode_client_frame(data)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                s.fail(ProtocolViolation(f"undecodable frame: {exc}"))
                return
            if (
                isinstance(frame, Push)
                and s.state == "ready"
                and claims_other_store(frame, s.store_id)
            ):
                s.fail(
                    WrongStore(
                        f"every event of the push belongs to another store than {s.store_id}"
                    )
                )
                return
            s.receive_frame(frame)

    async def _pump(self) -> None:
        """Carry out what the session asks for until it asks for nothing, then send."""
        s, store_id = self.session, self.session.store_id
        try:
            while s.state != "closed":
                if s.wants_state():
                    high_water, hq_acked, _region = await self.storage.load_state(store_id)
                    s.state_loaded(high_water)
                    self.saved_hq = hq_acked
                    if s.hello is not None:
                        await self.storage.touch(store_id, s.hello.local_seq)
                    continue
                if self.saved_hq is not None and s.hq_acked != self.saved_hq:
                    await self.storage.save_hq_acked(store_id, s.hq_acked)
                    self.saved_hq = s.hq_acked
                request = s.ingest_request()
                if request is not None:
                    await self._flush()  # earlier acks go out before a long ingest
                    if s.state == "closed":  # the flush found the credential revoked
                        break
                    s.ingested(*await self.storage.ingest(request))
                    continue
                hq = s.hq_request()
                if hq is not None:
                    s.hq_loaded(*await self.storage.load_hq(hq.store_id, hq.after, hq.limit))
                    continue
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
        frames = s.frames_to_send()
        if any(isinstance(f, HqBatch) for f in frames):
            try:
                holds = await self.authority.holds(s.store_id)
            except Exception:
                log.exception("sync: checking store %s's credential failed", s.store_id)
                s.fail(Unavailable("central cannot check credentials now; reconnect later"))
                holds = False
            if not holds:
                self._revoked()  # does nothing if the session failed just above
                kept: list[ServerFrame] = [f for f in frames if not isinstance(f, HqBatch)]
                frames = kept + s.frames_to_send()
        await self._send(frames)

    async def _send(self, frames: list[ServerFrame]) -> None:
        try:
            for frame in frames:
                await self.socket.send_bytes(encode(frame))
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.session.receive_disconnect()


def _frames(union: Any) -> str:
    """One line per frame type of ``union``: its tag, fields and what it means."""
    lines = []
    for frame in get_args(union):
        fields = ", ".join(f.name for f in msgspec.structs.fields(frame))
        meaning = (frame.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        meaning = meaning.replace("``", "`")  # reStructuredText to Markdown
        lines.append(f"- `{frame.__struct_config__.tag}` ({fields}): {meaning}")
    return "\n".join(lines)


def _close_codes() -> str:
    return "\n".join(
        f"- {error.close_code} `{error.code}`{' (reconnect later)' if error.retryable else ''}"
        for error in BY_CODE.values()
    )


PROTOCOL = f"""The sync websocket of store nodes: this GET stands for its upgrade request
(Litestar leaves websockets out of OpenAPI). Sent without `Upgrade: websocket`, it answers 426.

**Authentication.** `Authorization: Bearer <credential>`, the store's sync credential from
`POST /api/v1/enroll`. An unknown or revoked credential refuses the upgrade with 401, and 503
when central cannot check credentials now: problem details where the server can answer a
websocket upgrade with an HTTP status, else a close code (4001, 1013) before any frame. A
credential revoked or replaced while connected closes the socket with 4001.

**Frames.** Binary messages, each one msgpack map whose `t` names its type, at most
{MAX_FRAME // (1024 * 1024)} MiB (a text message or a larger one closes the connection). The
store opens with `hello`, naming its protocol and event schema versions (central accepts its own
and the previous ones); central answers `welcome` with where the upload resumes. The store then
pushes its events in `seq` order (each event the msgpack bytes it logged) and central acks the
highest contiguous `seq` it holds durably, or asks for a resend from a gap. Central sends the HQ
events addressed to the store in `hq_batch` frames (`items`: `[cursor, event]` pairs), which
the store acks with `hq_ack` once applied. Unknown fields are ignored.

Store to central:
{_frames(ClientFrame)}

Central to store:
{_frames(ServerFrame)}

**Closing.** Either side may send `error` and close; the close code says why:
{_close_codes()}
"""
"""The websocket as central's OpenAPI document describes it (Markdown)."""
