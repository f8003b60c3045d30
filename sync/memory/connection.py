"""A simulated websocket between a store node and central, with the glue both adapters do."""

from __future__ import annotations

import contextlib
from collections import deque
from typing import Literal

from sync.client import ClientSession, OutboxRequest
from sync.errors import SyncError
from sync.frames import Error, Frame, Hello, HqAck, HqItem, encode
from sync.memory.central import MemoryCentral
from sync.memory.store import MemoryHqSink, MemoryStoreLog
from sync.server import IngestRequest, ServerSession

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
        frame = self.server.receive_data(data)
        if isinstance(frame, Hello | HqAck) and self.server.state != "closed":
            try:
                self.central.record_hq_ack(self.server.store_id, self.server.hq_acked)
            except SyncError as exc:
                self.server.fail(exc)
        if isinstance(frame, Error):
            self._end()

    def _deliver_down(self, data: bytes) -> None:
        # A refusal becomes the client session's Error frame, which ``flush`` sends up.
        if isinstance(self.client.receive_data(data), Error):
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
