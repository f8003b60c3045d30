"""In-memory storage for the sync core, and a simulated connection that drives it.

Tests use these to run the protocol under faults in milliseconds; each real adapter (the SQLite
store node, the PostgreSQL central) must behave the same way, so read them as the reference:

- ``MemoryStoreLog`` — the store node's event log: durable, gapless ``seq`` from 1, bytes kept
  exactly as appended; ``read`` answers a ``ClientSession.outbox_request()``.
- ``MemoryHqSink`` — the HQ events a store node applied and its ``hq_cursor``. A batch is
  *begun* (inside the local transaction: lost on a crash) and then *committed* (durable).
  Applying an HQ event twice or out of cursor order is an error, so a test notices.
- ``MemoryCentral`` — central's database: store events by ``(store_id, seq)``, each store's
  contiguous high-water mark, quarantine, the HQ log with its audiences, ``hq_acked`` per store.
  ``ingest`` is atomic: all of an ``IngestRequest`` becomes held, or none of it.
- ``Connection`` — one websocket between a store node and central, with the glue both adapters
  do: frames are encoded, size-checked and decoded on the way; every storage operation is
  *started* and *completed* in separate steps, so a test can cut the connection or crash a side
  in between; central's side can *linger* after the store's side is gone, as it does until it
  notices the drop; ``pump`` runs a connection until nothing more happens.

What the adapters must do, as the ``Connection`` here does:

- decode with ``decode_client_frame``/``decode_server_frame``; an undecodable frame is a
  ``ProtocolViolation``, one over ``MAX_FRAME_BYTES`` is ``FrameTooLarge``, a ``Push`` whose
  events all claim another store is ``WrongStore`` (``claims_other_store``);
- when the client session raises ``SyncError``, send an ``Error`` frame and close; when an
  ``Error`` frame arrives, close;
- persist ``ServerSession.hq_acked`` when a ``Hello`` or an ``HqAck`` arrives;
- call ``ServerSession.hq_available()`` on every open session when HQ events were added;
- on the store, finish (or roll back) an HQ apply before saying ``Hello`` again, so a new
  session starts from the durable ``hq_cursor``.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import msgspec

from schema.events import Event, tag_of
from schema.events import decode as decode_event
from sync.client import ClientSession, HqToApply, OutboxRequest
from sync.errors import (
    FrameTooLarge,
    ProtocolViolation,
    SyncError,
    Unauthorized,
    Unavailable,
    WrongStore,
)
from sync.frames import (
    MAX_FRAME,
    Error,
    Frame,
    Hello,
    HqAck,
    HqItem,
    Push,
    decode_client_frame,
    decode_server_frame,
    encode,
)
from sync.server import HqRequest, IngestRequest, ServerSession

MAX_FRAME_BYTES = MAX_FRAME
"""Frames larger than this are refused with ``FrameTooLarge`` (both directions)."""

# ------------------------------------------------------------------ store node


class MemoryStoreLog:
    """A store node's event log. Every append is durable: a crash loses nothing appended."""

    def __init__(self, bodies: Iterable[bytes] = ()) -> None:
        self._bodies: list[bytes] = [bytes(b) for b in bodies]

    @property
    def newest_seq(self) -> int:
        """The seq of the last event, 0 when empty."""
        return len(self._bodies)

    def append(self, body: bytes) -> int:
        """Append one event's msgpack bytes; returns its seq."""
        self._bodies.append(bytes(body))
        return len(self._bodies)

    def get(self, seq: int) -> bytes:
        return self._bodies[seq - 1]

    def bodies(self) -> list[bytes]:
        """Every event's bytes, seq 1 first."""
        return list(self._bodies)

    def read(self, after_seq: int, max_count: int, max_bytes: int) -> list[tuple[int, bytes]]:
        """``(seq, bytes)`` of events after ``after_seq`` in seq order: at most ``max_count``,
        and at most ``max_bytes`` in total except that the first one is always included (an
        event bigger than a batch must still go up)."""
        out: list[tuple[int, bytes]] = []
        size = 0
        for seq in range(after_seq + 1, min(self.newest_seq, after_seq + max_count) + 1):
            body = self._bodies[seq - 1]
            if out and size + len(body) > max_bytes:
                break
            out.append((seq, body))
            size += len(body)
        return out

    def answer(self, request: OutboxRequest) -> list[tuple[int, bytes]]:
        """``read`` for a ``ClientSession.outbox_request()``."""
        return self.read(request.after_seq, request.max_count, request.max_bytes)


@dataclass(frozen=True)
class AppliedHq:
    """One HQ event as a store node recorded it (its ``hq_log`` row)."""

    cursor: int
    body: bytes
    applied_after_seq: int
    """The store log's newest seq when it was applied."""


class MemoryHqSink:
    """A store node's applied HQ events and ``hq_cursor``; one batch at a time in flight."""

    def __init__(self) -> None:
        self.cursor = 0
        """HQ cursor durably applied (``sync_state.hq_cursor``)."""
        self.applied: list[AppliedHq] = []
        """Durably applied HQ events, in the order applied."""
        self._staged: HqToApply | None = None

    @property
    def applying(self) -> bool:
        """A batch is begun and not yet committed or rolled back."""
        return self._staged is not None

    def begin(self, batch: HqToApply) -> None:
        """Start applying a batch (the local transaction is open)."""
        if self._staged is not None:
            raise RuntimeError("one HQ batch at a time")
        self._staged = batch

    def commit(self, log_seq: int) -> HqToApply:
        """Make the begun batch durable; ``log_seq`` is the store log's newest seq now.

        Raises ``ValueError`` (and changes nothing) if the batch would apply an HQ event twice,
        out of cursor order, or move the cursor backwards: a real store must never do that, so
        a test must fail when a protocol bug asks for it.
        """
        batch = self._staged
        if batch is None:
            raise RuntimeError("no HQ batch begun")
        self._staged = None
        if batch.upto < self.cursor:
            raise ValueError(f"HQ cursor would go back from {self.cursor} to {batch.upto}")
        last = self.cursor
        for item in batch.items:
            if item.cursor <= last or item.cursor > batch.upto:
                raise ValueError(
                    f"HQ event {item.cursor} applied twice or out of order "
                    f"(cursor {self.cursor}, batch upto {batch.upto})"
                )
            last = item.cursor
        self.applied.extend(AppliedHq(i.cursor, bytes(i.event), log_seq) for i in batch.items)
        self.cursor = batch.upto
        return batch

    def rollback(self) -> None:
        """The transaction did not commit (crash, error): forget the begun batch."""
        self._staged = None


# ------------------------------------------------------------------ central

Audience = Literal["all", "region", "store"]


@dataclass(frozen=True)
class HqEntry:
    """One row of central's HQ log."""

    cursor: int
    audience: Audience
    target: str
    """The region (audience ``region``) or store id (audience ``store``); ``""`` for all."""
    body: bytes


@dataclass(frozen=True)
class Quarantined:
    """A store event central holds but could not apply, with why."""

    store_id: str
    seq: int
    reason: str
    raw: bytes
    event_type: str | None
    """The event's type when it could be decoded."""


@dataclass(frozen=True)
class IngestResult:
    """What ``MemoryCentral.ingest`` reports; pass it to ``ServerSession.ingested``."""

    high_water: int
    quarantined: int
    """How many of the newly held events went to quarantine."""


class MemoryCentral:
    """Central's storage for every store. ``apply`` stands for the projections: it gets each
    newly held decoded event and returns ``None`` or the reason it cannot be applied."""

    def __init__(self, *, apply: Callable[[Event], str | None] | None = None) -> None:
        self.regions: dict[str, str] = {}
        """Enrolled stores and their region."""
        self.events: dict[str, dict[int, bytes]] = {}
        """Applied events by store and seq (quarantined ones are in ``quarantine``)."""
        self.quarantine: dict[tuple[str, int], Quarantined] = {}
        self.high_water: dict[str, int] = {}
        self.hq_log: list[HqEntry] = []
        self.hq_acked: dict[str, int] = {}
        self.available = True
        """False simulates a database outage: every operation raises ``Unavailable``."""
        self.commits = 0
        """How many ingests committed (a test can check that replays commit nothing new)."""
        self._ids: dict[UUID, tuple[str, int]] = {}
        self._apply = apply

    def add_store(self, store_id: str, region: str) -> None:
        """Enroll a store."""
        self.regions[store_id] = region
        self.events.setdefault(store_id, {})
        self.high_water.setdefault(store_id, 0)
        self.hq_acked.setdefault(store_id, 0)

    # ------------------------------------------------------------ upload

    def load_state(self, store_id: str) -> int:
        """The store's high-water mark (for ``ServerSession.state_loaded``)."""
        self._check(store_id)
        return self.high_water[store_id]

    def held(self, store_id: str) -> dict[int, bytes]:
        """Every event of the store central holds, applied or quarantined, by seq."""
        out = dict(self.events.get(store_id, {}))
        out.update({seq: q.raw for (s, seq), q in self.quarantine.items() if s == store_id})
        return dict(sorted(out.items()))

    def ingest(self, request: IngestRequest) -> IngestResult:
        """Hold a run of events, atomically; events already held are skipped (replays).

        Each new event is decoded on its own; one that does not decode, claims another store,
        has a seq other than its position, reuses a held event id, or that ``apply`` refuses
        is quarantined with the reason (it still counts as held, so it never wedges the store).
        Raises ``Unavailable`` while ``available`` is False. (A *push* whose events all claim
        another store is refused before it gets here: see ``claims_other_store``.)
        """
        store_id = request.store_id
        self._check(store_id)
        applied = self.events[store_id]
        fresh: list[tuple[int, bytes]] = [
            (request.first_seq + i, bytes(raw))
            for i, raw in enumerate(request.events)
            if request.first_seq + i not in applied
            and (store_id, request.first_seq + i) not in self.quarantine
        ]
        decoded: list[Event | str] = [_decode_or_reason(body) for _, body in fresh]
        new_events: dict[int, bytes] = {}
        new_quarantine: dict[int, Quarantined] = {}
        new_ids: dict[UUID, int] = {}
        for (seq, body), event in zip(fresh, decoded, strict=True):
            reason = event if isinstance(event, str) else None
            if isinstance(event, Event):
                if event.store_id != store_id:
                    reason = f"event of store {event.store_id!r}, not {store_id!r}"
                elif event.seq != seq:
                    reason = f"event says seq {event.seq}, sent as {seq}"
                elif event.id in self._ids or event.id in new_ids:
                    reason = f"event id {event.id} is already held"
                elif self._apply is not None:
                    reason = self._apply(event)
            if reason is None:
                assert isinstance(event, Event)
                new_events[seq] = body
                new_ids[event.id] = seq
            else:
                kind = tag_of(event) if isinstance(event, Event) else None
                new_quarantine[seq] = Quarantined(store_id, seq, reason, body, kind)
        # Commit: nothing above changed any state.
        applied.update(new_events)
        self._ids.update({i: (store_id, seq) for i, seq in new_ids.items()})
        self.quarantine.update({(store_id, seq): q for seq, q in new_quarantine.items()})
        high = self.high_water[store_id]
        while high + 1 in applied or (store_id, high + 1) in self.quarantine:
            high += 1
        self.high_water[store_id] = high
        self.commits += 1
        return IngestResult(high, len(new_quarantine))

    # ------------------------------------------------------------ download

    def publish(self, body: bytes, audience: Audience, target: str = "") -> int:
        """Append an HQ event for ``all`` stores, one ``region`` or one ``store``; returns its
        cursor. Call ``hq_available()`` on every open session afterwards (the NOTIFY)."""
        if (audience == "all") != (target == ""):
            raise ValueError("audience 'all' has no target; the others need one")
        cursor = len(self.hq_log) + 1
        self.hq_log.append(HqEntry(cursor, audience, target, bytes(body)))
        return cursor

    def addressed(self, entry: HqEntry, store_id: str) -> bool:
        """Whether an HQ event goes to this store."""
        if entry.audience == "all":
            return True
        if entry.audience == "region":
            return self.regions.get(store_id) == entry.target
        return entry.target == store_id

    def load_hq(self, request: HqRequest) -> tuple[list[HqItem], int]:
        """HQ events for the store after ``request.after``, at most ``request.limit``, and the
        cursor the store may record once it applied them: the last item's when the limit was
        reached, else the newest cursor of the whole log (read in the same snapshot, so no HQ
        event can fall between the items and ``upto``)."""
        self._check(request.store_id)
        items: list[HqItem] = []
        for entry in self.hq_log[request.after :]:
            if self.addressed(entry, request.store_id):
                items.append(HqItem(entry.cursor, msgspec.Raw(entry.body)))
                if len(items) >= request.limit:
                    return items, entry.cursor
        return items, max(request.after, len(self.hq_log))

    def record_hq_ack(self, store_id: str, cursor: int) -> None:
        """The store applied HQ events up to ``cursor`` (from its Hello or an HqAck)."""
        self._check(store_id)
        self.hq_acked[store_id] = max(self.hq_acked[store_id], cursor)

    def _check(self, store_id: str) -> None:
        if not self.available:
            raise Unavailable("central storage is unavailable")
        if store_id not in self.regions:
            raise Unauthorized(f"store {store_id} is not enrolled")


class _Envelope(msgspec.Struct):
    store_id: str | None = None


_envelope = msgspec.msgpack.Decoder(_Envelope)


def claims_other_store(push: Push, store_id: str) -> bool:
    """True when *every* event of the push names a store other than ``store_id``: the adapter
    answers ``WrongStore`` and closes. A mix goes to ingest, which quarantines the foreign."""
    if not push.events:
        return False
    for raw in push.events:
        try:
            claimed = _envelope.decode(raw).store_id
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            return False
        if claimed is None or claimed == store_id:
            return False
    return True


def _decode_or_reason(body: bytes) -> Event | str:
    try:
        return decode_event(body)
    # schema.events.decode lets invalid UTF-8 escape as UnicodeDecodeError: it is just as
    # undecodable, and must be quarantined rather than fail the ingest (and wedge the store).
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return f"undecodable: {exc}"


# ------------------------------------------------------------------ the wire

Step = Literal["up", "down", "read", "apply_hq", "load_state", "ingest", "load_hq"]
"""One thing that can happen next on a connection (see ``Connection.steps``)."""

CentralFate = Literal["commit", "lose", "linger"]
"""What central's side does when the store's side of a connection is gone (``close``)."""


class Connection:
    """One websocket between a store node and central, both adapters included.

    Frames travel as bytes in two in-order queues (TCP keeps order within a connection).
    ``flush`` moves what the sessions produced onto the wire and starts the storage operations
    they request; ``steps`` lists what can happen next and ``do`` makes one of them happen, so a
    test chooses any interleaving. ``close`` ends the connection as a network failure does.
    """

    def __init__(
        self,
        client: ClientSession,
        server: ServerSession,
        *,
        log: MemoryStoreLog,
        sink: MemoryHqSink,
        central: MemoryCentral,
    ) -> None:
        self.client = client
        self.server = server
        self.log = log
        self.sink = sink
        self.central = central
        self.up: deque[bytes] = deque()
        self.down: deque[bytes] = deque()
        self.open = True
        """The store's side is connected."""
        self.central_open = True
        """Central's side is running (it can outlive the store's side: see ``close``)."""
        self.errors: list[tuple[Literal["store", "central"], Error]] = []
        """Every Error frame a side sent, and which side."""
        self._read: OutboxRequest | None = None
        self._state_load = False
        self._ingest: IngestRequest | None = None
        self._hq_load: tuple[list[HqItem], int] | None = None

    def start(self) -> None:
        """The socket is open: the store says hello."""
        if self.client.state == "new":
            self.client.connected()
        self.flush()

    @property
    def ingest_running(self) -> bool:
        """Central has started storing a run of events and not finished."""
        return self._ingest is not None

    @property
    def lingering(self) -> bool:
        """The store's side is gone but central's has not noticed yet."""
        return self.central_open and not self.open

    # ------------------------------------------------------------ driving

    def flush(self) -> bool:
        """Put produced frames on the wire and start requested operations; True if any."""
        moved = False
        if self.open:
            for c_frame in self.client.frames_to_send():
                self._send(self.up, "store", c_frame)
                moved = True
            if self._read is None and (read := self.client.outbox_request()) is not None:
                self._read, moved = read, True
            if not self.sink.applying and (todo := self.client.hq_to_apply()) is not None:
                self.sink.begin(todo)
                moved = True
        if not self.central_open:
            return moved
        for s_frame in self.server.frames_to_send():
            if self.open:  # else nobody reads it any more
                self._send(self.down, "central", s_frame)
            moved = True
        if not self._state_load and self.server.wants_state():
            self._state_load = moved = True
        if self._ingest is None and (ingest := self.server.ingest_request()) is not None:
            self._ingest, moved = ingest, True
        if self._hq_load is None and (hq := self.server.hq_request()) is not None:
            # The query runs now; its answer reaches the session in a later step, so a
            # NOTIFY can arrive in between, as it can on a real database.
            try:
                self._hq_load = self.central.load_hq(hq)
            except SyncError as exc:
                self.server.fail(exc)
            moved = True
        return moved

    def steps(self) -> list[Step]:
        """What can happen next; any order is a legal interleaving."""
        out: list[Step] = []
        if self.central_open and self.up:
            out.append("up")
        if self.open and self.down:
            out.append("down")
        if self.open and self._read is not None:
            out.append("read")
        if self.open and self.sink.applying:
            out.append("apply_hq")
        if not self.central_open:
            return out
        if self._state_load and self.server.wants_state():
            out.append("load_state")
        if self._ingest is not None:
            out.append("ingest")
        if self._hq_load is not None:
            out.append("load_hq")
        return out

    def do(self, step: Step) -> None:
        """Make one step happen (it must be in ``steps()``), then ``flush``."""
        match step:
            case "up":
                self._deliver_up(self.up.popleft())
            case "down":
                self._deliver_down(self.down.popleft())
            case "read":
                assert self._read is not None
                read, self._read = self._read, None
                self.client.outbox_read(self.log.answer(read))
            case "apply_hq":
                done = self.sink.commit(self.log.newest_seq)
                self.client.hq_applied(done.upto)
            case "load_state":
                self._state_load = False
                try:
                    high = self.central.load_state(self.server.store_id)
                except SyncError as exc:
                    self.server.fail(exc)
                else:
                    self.server.state_loaded(high)
            case "ingest":
                assert self._ingest is not None
                ingest, self._ingest = self._ingest, None
                try:
                    result = self.central.ingest(ingest)
                except SyncError as exc:
                    self.server.fail(exc)
                else:
                    self.server.ingested(result.high_water, result.quarantined)
            case "load_hq":
                assert self._hq_load is not None
                (items, upto), self._hq_load = self._hq_load, None
                self.server.hq_loaded(items, upto)
        self.flush()

    def pump(self, max_steps: int = 1_000_000) -> int:
        """Run until nothing more happens, taking steps in order; returns how many."""
        taken = 0
        while True:
            self.flush()
            steps = self.steps()
            if not steps:
                return taken
            if taken >= max_steps:
                raise RuntimeError(f"connection still busy after {max_steps} steps")
            self.do(steps[0])
            taken += 1

    def close(
        self, *, central: CentralFate = "commit", hq: Literal["commit", "lose"] = "commit"
    ) -> None:
        """The store's side is gone (network drop, store crash). ``hq``: the store's running
        HQ apply commits (without an ack) or is lost. ``central``: central notices at once and
        its running ingest still ``commit``-s or is ``lose``-t (rolled back, or central
        crashed); or central ``linger``-s: it goes on reading the frames the store sent before
        the drop and ingesting them, until ``close_central``."""
        if self.open:
            self.open = False
            self.down.clear()
            self._read = None
            if self.sink.applying:
                if hq == "commit":
                    self.client.hq_applied(self.sink.commit(self.log.newest_seq).upto)
                else:
                    self.sink.rollback()
            self.client.receive_disconnect()
        if central != "linger":
            self.close_central(commit=central == "commit")

    def close_central(self, *, commit: bool = True) -> None:
        """Central's side ends; its running ingest commits first if ``commit``."""
        if not self.central_open:
            return
        self.central_open = False
        self.up.clear()
        self._state_load = False
        self._hq_load = None
        pending, self._ingest = self._ingest, None
        if pending is not None and commit:
            with contextlib.suppress(SyncError):  # if it fails, nothing was held
                self.central.ingest(pending)
        self.server.receive_disconnect()

    # ------------------------------------------------------------ adapters

    def _send(self, queue: deque[bytes], side: Literal["store", "central"], frame: Frame) -> None:
        if isinstance(frame, Error):
            self.errors.append((side, frame))
        queue.append(encode(frame))

    def _end(self) -> None:
        # An Error frame arrived: the receiver closes the socket; the sender already stopped.
        self.close(central="commit")

    def _deliver_up(self, data: bytes) -> None:
        if len(data) > MAX_FRAME_BYTES:
            self.server.fail(FrameTooLarge(f"frame of {len(data)} bytes"))
            return
        try:
            frame = decode_client_frame(data)
        except msgspec.DecodeError as exc:
            self.server.fail(ProtocolViolation(f"undecodable frame: {exc}"))
            return
        if isinstance(frame, Push) and claims_other_store(frame, self.server.store_id):
            self.server.fail(
                WrongStore(f"every event pushed from seq {frame.first_seq} is another store's")
            )
            return
        self.server.receive_frame(frame)
        if isinstance(frame, Hello | HqAck) and self.server.state != "closed":
            try:
                self.central.record_hq_ack(self.server.store_id, self.server.hq_acked)
            except SyncError as exc:
                self.server.fail(exc)
        if isinstance(frame, Error):
            self._end()

    def _deliver_down(self, data: bytes) -> None:
        try:
            if len(data) > MAX_FRAME_BYTES:
                raise FrameTooLarge(f"frame of {len(data)} bytes")
            try:
                frame = decode_server_frame(data)
            except msgspec.DecodeError as exc:
                raise ProtocolViolation(f"undecodable frame: {exc}") from exc
            self.client.receive_frame(frame)
        except SyncError as exc:
            if self.client.state != "closed":
                self._send(self.up, "store", Error(exc.code, exc.message, exc.retryable))
                self.client.receive_disconnect()
            return
        if isinstance(frame, Error):
            self._end()


def pump(
    client: ClientSession,
    server: ServerSession,
    *,
    log: MemoryStoreLog,
    sink: MemoryHqSink,
    central: MemoryCentral,
) -> Connection:
    """Connect a fresh ``client`` to ``server`` over a faultless wire and run until quiet."""
    conn = Connection(client, server, log=log, sink=sink, central=central)
    conn.start()
    conn.pump()
    return conn
