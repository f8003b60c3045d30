"""The store side of a sync connection, sans I/O.

The adapter feeds it what happens (``connected``, ``receive_data`` — each websocket message
as it came — ``outbox_read``, ``hq_applied``, ``receive_disconnect``) and carries out what it
asks for (``frames_to_send``, ``outbox_request``, ``hq_to_apply``). When ``close_with`` is
set, the adapter sends what is left to send, closes (with ``close_with.close_code`` unless
central closed first by an ``Error`` frame, kept in ``error``) and raises it. It never blocks,
reads a clock or touches storage, so every interleaving of network failures can be replayed in
a test.

Which messages end the connection is decided here: a text frame, one over ``max_frame`` bytes
or one that does not decode is a ``ProtocolViolation`` (``FrameTooLarge``); a welcome from a
central that holds more of this store's log than the node has is ``LogBehind`` (the node lost
history and must be restored).

Invariants it keeps:
- events go up in ``seq`` order, in batches bounded by count and bytes, with at most ``window``
  unacknowledged batches in flight;
- after any reconnect, upload resumes at central's ``high_water + 1`` (central is the truth of
  what it holds; the store never deletes its log, so it can always resend);
- HQ events are acknowledged only after the adapter reports them durably applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from sync.errors import FrameTooLarge, LogBehind, ProtocolViolation, SyncError, from_wire
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
    decode_server_frame,
)


@dataclass(frozen=True)
class OutboxRequest:
    """Read the store's log: events with ``seq > after_seq``, at most ``max_count`` of them and
    about ``max_bytes`` (always at least one event if any exists)."""

    after_seq: int
    max_count: int
    max_bytes: int


@dataclass(frozen=True)
class HqToApply:
    """HQ events to apply in one local transaction, then report with ``hq_applied(upto)``."""

    items: list[HqItem]
    upto: int


class ClientSession:
    """One connection's worth of protocol state on the store node."""

    def __init__(
        self,
        store_id: str,
        *,
        schema: int,
        hq_cursor: int,
        local_seq: int,
        batch_count: int = 500,
        batch_bytes: int = 512 * 1024,
        window: int = 4,
        max_frame: int = MAX_FRAME,
    ) -> None:
        self.store_id = store_id
        self.schema = schema
        self.hq_cursor = hq_cursor
        """HQ cursor durably applied on the store."""
        self.local_seq = local_seq
        """Newest seq in the store's log, as last reported by the adapter."""
        self.batch_count = batch_count
        self.batch_bytes = batch_bytes
        self.window = window
        self.max_frame = max_frame
        self.acked = 0
        """Highest seq central acknowledged on this connection."""
        self.quarantined = 0
        """Events central reported quarantined on this connection."""
        self.state = "new"
        self.error: Error | None = None
        """The ``Error`` frame central closed with, if it did."""
        self.close_with: SyncError | None = None
        """Why the connection ends (central's ``Error`` or the session's own refusal)."""
        self._sent = 0  # highest seq put in a Push on this connection
        self._in_flight: list[int] = []  # last seq of each unacknowledged Push
        self._reading = False
        self._out: list[ClientFrame] = []
        self._hq: list[HqToApply] = []
        self._hq_received = hq_cursor  # highest HqBatch.upto received (or applied before)
        self._hq_applying = False

    # -------------------------------------------------------------- inputs

    def connected(self) -> None:
        """The socket is open: say hello."""
        if self.state != "new":
            raise RuntimeError("a session serves one connection; make a new one")
        self.state = "hello_sent"
        self._out.append(
            Hello(
                store_id=self.store_id,
                protocol=PROTOCOL_VERSION,
                schema=self.schema,
                hq_cursor=self.hq_cursor,
                local_seq=self.local_seq,
            )
        )

    def local_appended(self, local_seq: int) -> None:
        """The store's log grew to ``local_seq``."""
        self.local_seq = max(self.local_seq, local_seq)

    def receive_data(self, data: bytes | str) -> ServerFrame | None:
        """One websocket message from central (``str`` for a text frame). Anything wrong with
        it closes the session with an ``Error`` frame (see ``close_with``); returns the frame
        when it decoded."""
        if isinstance(data, str):
            self.fail(ProtocolViolation("text frame; sync frames are binary msgpack"))
            return None
        if len(data) > self.max_frame:
            self.fail(FrameTooLarge(f"frame of {len(data)} bytes; the limit is {self.max_frame}"))
            return None
        try:
            frame = decode_server_frame(data)
        except msgspec.DecodeError as exc:
            self.fail(ProtocolViolation(f"undecodable frame from central: {exc}"))
            return None
        try:
            self.receive_frame(frame)
        except SyncError as exc:
            self.fail(exc)
        return frame

    def receive_frame(self, frame: ServerFrame) -> None:
        """A decoded frame from central. Raises ``ProtocolViolation`` on nonsense and
        ``LogBehind`` on a welcome beyond the node's log."""
        if self.state == "closed":
            return
        match frame:
            case Welcome(high_water=hw):
                if self.state != "hello_sent":
                    raise ProtocolViolation("welcome twice")
                if hw > self.local_seq:
                    raise LogBehind(
                        f"central holds this store's log up to seq {hw} but the node's log "
                        f"ends at {self.local_seq}; rebuild the node with "
                        "`hallsync store init --restore`"
                    )
                self.state = "ready"
                self.acked = self._sent = hw
            case Ack(seq=seq, quarantined=q):
                self._require_ready()
                if seq > max(self._sent, self.local_seq):
                    raise ProtocolViolation(
                        f"ack of {seq} beyond the store's log ({self.local_seq})"
                    )
                if seq > self.acked:
                    self.acked = seq
                # An ack can be beyond what this connection sent: an ingest of an earlier
                # connection may still have committed after it dropped. Central holds those
                # events, so skip ahead instead of sending them again, or refusing the ack as
                # this used to (a non-retryable ProtocolViolation: the store then stalled until
                # its next attempt, 5 minutes later).
                self._sent = max(self._sent, seq)
                self.quarantined += q
                self._in_flight = [last for last in self._in_flight if last > seq]
            case Resend(from_seq=first):
                self._require_ready()
                # Central is the truth of what it holds: rewind and send again from there.
                self.acked = min(self.acked, first - 1)
                self._sent = first - 1
                self._in_flight.clear()
            case HqBatch(items=items, upto=upto):
                self._require_ready()
                # Compare with what was *received*, not only applied: a duplicate of a batch
                # still queued would otherwise be queued again and its events applied twice.
                if upto <= self._hq_received:
                    return  # a stale duplicate; already applied or queued
                fresh = [i for i in items if i.cursor > self._hq_received]
                self._hq_received = upto
                self._hq.append(HqToApply(fresh, upto))
            case Error(code=code, message=message, retryable=retryable):
                self.error = frame
                self.close_with = from_wire(code, message, retryable)
                self.state = "closed"

    def outbox_read(self, records: list[tuple[int, bytes]]) -> None:
        """The answer to ``outbox_request``: ``(seq, event bytes)`` in seq order."""
        self._reading = False
        if self.state != "ready" or not records:
            return
        first = records[0][0]
        if first != self._sent + 1:
            return  # a rewind happened while reading: the next request starts over
        for i, (seq, _) in enumerate(records):
            if seq != first + i:
                raise ValueError("outbox records must be consecutive")
        self._out.append(Push(first_seq=first, events=[msgspec.Raw(b) for _, b in records]))
        self._sent = records[-1][0]
        self._in_flight.append(self._sent)

    def hq_applied(self, upto: int) -> None:
        """The adapter durably applied HQ events up to ``upto``."""
        self._hq_applying = False
        if upto > self.hq_cursor:
            self.hq_cursor = upto
            if self.state == "ready":
                self._out.append(HqAck(cursor=upto))

    def fail(self, exc: SyncError) -> None:
        """Close the connection with an Error frame telling central why."""
        if self.state == "closed":
            return
        self._out.append(Error(code=exc.code, message=exc.message, retryable=exc.retryable))
        self.close_with = exc
        self.state = "closed"

    def receive_disconnect(self) -> None:
        """The connection is gone; the session is finished."""
        self.state = "closed"

    # -------------------------------------------------------------- outputs

    def frames_to_send(self) -> list[ClientFrame]:
        out, self._out = self._out, []
        return out

    def outbox_request(self) -> OutboxRequest | None:
        """What to read from the log next, if the window has room and there is more to send."""
        if (
            self.state != "ready"
            or self._reading
            or len(self._in_flight) >= self.window
            or self._sent >= self.local_seq
        ):
            return None
        self._reading = True
        return OutboxRequest(self._sent, self.batch_count, self.batch_bytes)

    def hq_to_apply(self) -> HqToApply | None:
        """The next HQ batch to apply, one at a time."""
        if self._hq_applying or not self._hq:
            return None
        self._hq_applying = True
        return self._hq.pop(0)

    @property
    def caught_up(self) -> bool:
        """Central holds everything the log had when last reported, and no HQ work is pending."""
        return (
            self.state == "ready"
            and self.acked >= self.local_seq
            and not self._hq
            and not self._hq_applying
        )

    def _require_ready(self) -> None:
        if self.state != "ready":
            raise ProtocolViolation(f"frame before welcome (state {self.state})")
