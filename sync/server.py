"""Central's side of a sync connection with one store, sans I/O.

The adapter authenticates the store (its credential names the store), then feeds each
websocket message in as it came (``receive_data``) and carries out the session's requests:
load the store's high-water mark, ingest a run of events, load HQ events after a cursor, save
the HQ cursor the store acknowledged (``hq_ack_to_save``). It reports each result back
(``state_loaded``, ``ingested``, ``hq_loaded``, ``hq_ack_saved``) and a credential found
revoked (``revoked``); the session answers with frames. Once ``close_with`` is set, the adapter
sends what is left and closes as ``close_frame()`` says.

Which messages end the connection is decided here: a text frame, one over ``max_frame`` bytes
(``FrameTooLarge``), one that does not decode or comes out of order (``ProtocolViolation``),
a hello or a push whose events all belong to another store than the credential's
(``WrongStore``), versions central does not accept (``VersionUnsupported``).

Invariants it keeps:
- upload is acknowledged only after the adapter reports the events durably stored, and always
  with the highest *contiguous* seq central holds;
- a push that skips ahead is answered with one ``Resend`` from the first missing seq, and what
  follows it is ignored until the store resends from there;
- events already held are trimmed off before ingest, so replays are no-ops; a push that mixes
  in events of another store goes to ingest, which quarantines those;
- HQ events go down in cursor order with at most ``window`` unacknowledged batches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import msgspec

from schema.events.envelope import peek
from sync.errors import (
    FrameTooLarge,
    ProtocolViolation,
    SyncError,
    Unauthorized,
    VersionUnsupported,
    WrongStore,
    close_reason,
)
from sync.frames import (
    MAX_FRAME,
    PROTOCOL_VERSION,
    Ack,
    ClientFrame,
    Error,
    Hello,
    HqAck,
    HqBatch,
    HqItem,
    Push,
    Resend,
    ServerFrame,
    Welcome,
    decode_client_frame,
)


@dataclass(frozen=True)
class IngestRequest:
    """Store these events (``first_seq``, ``first_seq + 1``, …) of ``store_id`` durably, then
    report the store's new high-water mark with ``ingested``."""

    store_id: str
    first_seq: int
    events: list[msgspec.Raw]


@dataclass(frozen=True)
class HqRequest:
    """Load HQ events addressed to ``store_id`` with cursor > ``after``, at most ``limit``;
    report them with ``hq_loaded(items, upto)``."""

    store_id: str
    after: int
    limit: int


def accepted(current: int) -> frozenset[int]:
    """Versions a peer of version ``current`` accepts: it and the one before."""
    return frozenset({current, current - 1})


def claims_other_store(events: list[msgspec.Raw], store_id: str) -> bool:
    """True when *every* event names a store other than ``store_id`` (a mix only sends the
    foreign events to quarantine; an event whose envelope is unreadable claims nothing, and
    quarantine says why)."""
    if not events:
        return False
    for raw in events:
        claimed = peek(raw).store_id
        if claimed is None or claimed == store_id:
            return False
    return True


class ServerSession:
    """One connection's worth of protocol state on central, for one authenticated store."""

    def __init__(
        self,
        store_id: str,
        *,
        schema: int,
        max_ingest_events: int = 5000,
        hq_batch: int = 500,
        hq_batch_bytes: int = 512 * 1024,
        window: int = 4,
        max_frame: int = MAX_FRAME,
    ) -> None:
        self.store_id = store_id
        self.schema = schema
        self.max_ingest_events = max_ingest_events
        self.hq_batch = hq_batch
        self.hq_batch_bytes = hq_batch_bytes
        """An HqBatch carries about this many event bytes at most (always at least one event),
        so a big catalog push never comes near the frame limit."""
        self.window = window
        self.max_frame = max_frame
        """The largest message accepted, in bytes; a Push is at most 512 KiB, so the default
        is generous."""
        self.state = "awaiting_hello"
        self.hello: Hello | None = None
        self.high_water = 0
        """Highest contiguous seq of this store durably held by central."""
        self.hq_acked = 0
        """HQ cursor the store confirmed applied."""
        self._hq_ack_saved: int | None = None  # the HQ ack central has saved, once known
        self._expected = 1  # next seq accepted into the pending run
        self._pending: list[msgspec.Raw] = []
        self._pending_first = 0
        self._ingesting = False
        self._resend_from: int | None = None
        self._hq_sent = 0
        self._hq_in_flight: list[int] = []
        self._hq_loading = False
        self._hq_more = True  # there may be HQ events after _hq_sent
        self._hq_notified = False  # hq_available() came while a load was running
        self._out: list[ServerFrame] = []
        self.close_with: SyncError | None = None

    # -------------------------------------------------------------- inputs

    def receive_data(self, data: bytes | str) -> ClientFrame | None:
        """One websocket message from the store (``str`` for a text frame). Anything wrong with
        it becomes an Error frame and a close; returns the frame when it decoded."""
        if isinstance(data, str):
            self.fail(ProtocolViolation("text frame: sync frames are binary msgpack"))
            return None
        if len(data) > self.max_frame:
            self.fail(FrameTooLarge(f"frame of {len(data)} bytes; the limit is {self.max_frame}"))
            return None
        try:
            frame = decode_client_frame(data)
        except msgspec.DecodeError as exc:
            self.fail(ProtocolViolation(f"undecodable frame: {exc}"))
            return None
        self.receive_frame(frame)
        return frame

    def receive_frame(self, frame: ClientFrame) -> None:
        """A decoded frame from the store. Errors become an Error frame and a close."""
        if self.state == "closed":
            return
        try:
            self._receive(frame)
        except SyncError as exc:
            self.fail(exc)

    def _receive(self, frame: ClientFrame) -> None:
        match frame:
            case Hello():
                if self.state != "awaiting_hello":
                    raise ProtocolViolation("hello twice")
                if frame.store_id != self.store_id:
                    raise WrongStore(
                        f"credential is for store {self.store_id}, hello says {frame.store_id}"
                    )
                if frame.protocol not in accepted(PROTOCOL_VERSION):
                    raise VersionUnsupported(
                        f"protocol {frame.protocol} not accepted; central speaks "
                        f"{sorted(accepted(PROTOCOL_VERSION))}"
                    )
                if frame.schema not in accepted(self.schema):
                    raise VersionUnsupported(
                        f"schema {frame.schema} not accepted; central reads "
                        f"{sorted(accepted(self.schema))}"
                    )
                self.hello = frame
                self.hq_acked = self._hq_sent = frame.hq_cursor
                self.state = "loading"
            case Push(first_seq=first, events=events):
                self._require_ready()
                if claims_other_store(events, self.store_id):
                    raise WrongStore(
                        f"every event of the push belongs to another store than {self.store_id}"
                    )
                self._push(first, events)
            case HqAck(cursor=cursor):
                self._require_ready()
                if cursor > self._hq_sent:
                    raise ProtocolViolation(f"hq ack {cursor} beyond what was sent")
                self.hq_acked = max(self.hq_acked, cursor)
                self._hq_in_flight = [c for c in self._hq_in_flight if c > cursor]
            case Error():
                self.state = "closed"

    def _push(self, first: int, events: list[msgspec.Raw]) -> None:
        if not events:
            return
        last = first + len(events) - 1
        if self._resend_from is not None:
            if first > self._resend_from:
                return  # still in flight from before the gap; the store is rewinding
            self._resend_from = None
        if first > self._expected:
            self._resend_from = self._expected
            self._out.append(Resend(from_seq=self._expected))
            return
        if last < self._expected:
            if not self._pending and not self._ingesting:
                self._out.append(Ack(seq=self.high_water))  # a pure replay: ack again
            return
        fresh = events[self._expected - first :]
        if not self._pending:
            self._pending_first = self._expected
        self._pending.extend(fresh)
        self._expected = last + 1

    def state_loaded(self, high_water: int, hq_acked: int | None = None) -> None:
        """The adapter read the store's high-water mark (and the HQ cursor central has saved
        as acknowledged by it, if the adapter saves it: see ``hq_ack_to_save``): the session
        can welcome it."""
        if self.state != "loading":
            return
        self.high_water = high_water
        self._hq_ack_saved = hq_acked
        self._expected = high_water + 1
        self.state = "ready"
        self._out.append(
            Welcome(protocol=PROTOCOL_VERSION, schema=self.schema, high_water=high_water)
        )

    def ingested(self, high_water: int, quarantined: int = 0) -> None:
        """The adapter committed the last ``IngestRequest``; central now holds up to this."""
        self._ingesting = False
        if self.state == "closed":
            return
        self.high_water = max(self.high_water, high_water)
        # Another connection of this store (one that dropped while its ingest still ran) may
        # have stored more than this one has: drop pending events central already holds and
        # expect the next one after them, so the store's skip-ahead on this Ack is not met by
        # a Resend and a round of replays.
        held = self.high_water + 1 - self._pending_first
        if self._pending and held > 0:
            del self._pending[:held]
            self._pending_first += held
        if not self._pending:
            self._expected = max(self._expected, self.high_water + 1)
        if self._resend_from is not None and self._resend_from <= self.high_water:
            # The gap is filled after all; the store skips ahead on this Ack and will not send
            # from there again, so waiting for it would ignore every later push.
            self._resend_from = None
        self._out.append(Ack(seq=self.high_water, quarantined=quarantined))

    def hq_available(self) -> None:
        """New HQ events may exist (e.g. a NOTIFY arrived): look again."""
        self._hq_more = True
        if self._hq_loading:
            self._hq_notified = True

    def hq_loaded(self, items: Iterable[HqItem], upto: int) -> None:
        """The answer to ``hq_request``: events addressed to the store up to cursor ``upto``."""
        self._hq_loading = False
        batch = list(items)
        if self.state != "ready":
            return
        if upto <= self._hq_sent:
            # Nothing new in this answer. But if a NOTIFY came while the query ran, the query's
            # snapshot may predate the new event: look again instead of going idle, or the
            # event waits for the next NOTIFY or reconnect (found by the simulation).
            self._hq_more = self._hq_notified
            self._hq_notified = False
            return
        self._hq_notified = False
        for part, part_upto in _split(batch, upto, self.hq_batch_bytes):
            self._out.append(HqBatch(items=part, upto=part_upto))
            self._hq_sent = part_upto
            self._hq_in_flight.append(part_upto)

    def fail(self, exc: SyncError) -> None:
        """Close the connection with an Error frame explaining why."""
        if self.state == "closed":
            return
        self._out.append(Error(code=exc.code, message=exc.message, retryable=exc.retryable))
        self.close_with = exc
        self.state = "closed"

    def withhold_hq(self, exc: SyncError) -> None:
        """The store may no longer be sent HQ events (its credential was revoked, or cannot be
        checked now): drop the HQ batches not yet sent and close with ``exc``."""
        self._out = [f for f in self._out if not isinstance(f, HqBatch)]
        self.fail(exc)

    def revoked(self) -> None:
        """The store's credential no longer holds (revoked or replaced): it gets nothing more
        from HQ and the connection closes as ``Unauthorized``."""
        self.withhold_hq(
            Unauthorized(f"store {self.store_id}'s credential was revoked or replaced")
        )

    def hq_ack_saved(self, cursor: int) -> None:
        """The adapter saved ``cursor`` as the HQ cursor the store acknowledged."""
        self._hq_ack_saved = cursor

    def receive_disconnect(self) -> None:
        self.state = "closed"

    # -------------------------------------------------------------- outputs

    def frames_to_send(self) -> list[ServerFrame]:
        out, self._out = self._out, []
        return out

    @property
    def sends_hq(self) -> bool:
        """HQ batches are among the frames to send: the adapter checks that the store's
        credential still holds before sending them (``withhold_hq`` if not)."""
        return any(isinstance(f, HqBatch) for f in self._out)

    def wants_state(self) -> bool:
        """True from hello until ``state_loaded``: load the store's high-water mark (once; the
        adapter remembers it started the load)."""
        return self.state == "loading"

    def close_frame(self) -> tuple[int, str]:
        """The websocket close code and reason to end the connection with, once closed: the
        error's (``close_with``), else a normal close."""
        error = self.close_with
        return (1000, "") if error is None else (error.close_code, close_reason(error.message))

    def hq_ack_to_save(self) -> int | None:
        """The HQ cursor to save as acknowledged by the store (then report ``hq_ack_saved``),
        when it differs from the one saved: from its hello or an ``HqAck``. None until
        ``state_loaded`` said what central has saved."""
        saved = self._hq_ack_saved
        return None if saved is None or self.hq_acked == saved else self.hq_acked

    @property
    def backlog(self) -> int:
        """Events received and not yet handed to an ingest."""
        return len(self._pending)

    def ingest_request(self) -> IngestRequest | None:
        """The next run of events to store, when none is being stored."""
        if self.state != "ready" or self._ingesting or not self._pending:
            return None
        take = self._pending[: self.max_ingest_events]
        first = self._pending_first
        self._pending = self._pending[len(take) :]
        self._pending_first = first + len(take)
        self._ingesting = True
        return IngestRequest(self.store_id, first, take)

    def hq_request(self) -> HqRequest | None:
        """What HQ events to load next, if the download window has room."""
        if (
            self.state != "ready"
            or self._hq_loading
            or not self._hq_more
            or len(self._hq_in_flight) >= self.window
        ):
            return None
        self._hq_loading = True
        self._hq_notified = False
        return HqRequest(self.store_id, self._hq_sent, self.hq_batch)

    def _require_ready(self) -> None:
        if self.state != "ready":
            raise ProtocolViolation(f"frame before the session is ready (state {self.state})")


def _split(items: list[HqItem], upto: int, max_bytes: int) -> list[tuple[list[HqItem], int]]:
    """Cut a loaded page of HQ events into batches of about ``max_bytes``; each but the last
    reaches its own last cursor, the last reaches ``upto`` (which may skip events addressed to
    other stores)."""
    parts: list[tuple[list[HqItem], int]] = []
    current: list[HqItem] = []
    size = 0
    for item in items:
        n = len(item.event)
        if current and size + n > max_bytes:
            parts.append((current, current[-1].cursor))
            current, size = [], 0
        current.append(item)
        size += n
    parts.append((current, upto))
    return parts
