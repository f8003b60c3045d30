"""A simulated chain for the sync protocol: three store nodes, central with its HQ log, the
connections between them, and the faults a real network and real machines have.

Faults are the realistic ones: a connection can be cut at any point (everything not yet
delivered on it is lost; TCP keeps order within it), so the same events are delivered again on
the next connection; central's side can go on after the store's side is gone (an *orphan*: it
has not noticed the drop, reads the frames the store sent before it and ingests them, while the
store already talks to central again), or finish or lose its running ingest; either side can
crash, the store losing only what its session held in memory (its log and applied HQ events
are durable) and central losing ingests in progress; central's database can be unavailable; and
every node's wall clock can be off by up to a day and jump. ``heal`` then runs every connection
to quiescence with no faults and ``check_converged`` asserts the end state is exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from schema.events import SCHEMA_VERSION, Event, decode, encode
from schema.events.store import StaffAdded, StaffDeactivated, StoreConfigured
from sync.client import ClientSession
from sync.clock import HybridClock
from sync.memory.central import Audience, MemoryCentral
from sync.memory.connection import CentralFate, Connection, Step
from sync.memory.store import MemoryHqSink, MemoryStoreLog
from sync.server import ServerSession

STORES: dict[str, str] = {"S001": "east", "S002": "east", "S003": "west"}
"""The simulated stores and their regions (two share one, so region audiences matter)."""
AUDIENCES: tuple[tuple[Audience, str], ...] = (
    ("all", ""),
    ("region", "east"),
    ("region", "west"),
    ("region", "north"),  # no store there
    ("store", "S001"),
    ("store", "S002"),
    ("store", "S003"),
    ("store", "S999"),  # not one of ours
)
DAY_MS = 86_400_000
START_MS = 1_795_000_000_000  # late 2026
KINDS = ("configured", "staff", "unknown_type", "not_a_map", "bad_field", "bad_utf8", "bare_int")
"""What a store writes: two real event types, and five kinds of bytes central cannot decode
(a type from a newer release, a list, a field of the wrong type, a string that is not UTF-8,
a bare integer)."""
UNDECODABLE = frozenset(KINDS[2:])


@dataclass(frozen=True)
class Limits:
    """Batch and window sizes for every session of a run (small ones exercise more edges)."""

    batch_count: int = 500
    batch_bytes: int = 512 * 1024
    window: int = 4
    max_ingest_events: int = 5000
    hq_batch: int = 500
    hq_batch_bytes: int = 512 * 1024
    hq_window: int = 4


@dataclass
class StoreNode:
    store_id: str
    region: str
    log: MemoryStoreLog = field(default_factory=MemoryStoreLog)
    sink: MemoryHqSink = field(default_factory=MemoryHqSink)
    clock: HybridClock = field(default_factory=HybridClock)
    offset_ms: int = 0
    conn: Connection | None = None
    undecodable: set[int] = field(default_factory=set)
    """Seqs of events in the log that central cannot decode."""
    last_hlc: int = 0
    """Highest HLC stamped on one of this store's events."""
    observed: int = 0
    """How many of ``sink.applied`` the clock has observed."""
    hq_hlc: int = 0
    """Highest HLC of an HQ event the store applied."""


class World:
    """Everything a run of the simulation owns. Methods are the moves a test can make."""

    def __init__(self, limits: Limits | None = None, *, slow: Iterable[Step] = ()) -> None:
        self.limits = limits or Limits()
        self.slow = frozenset(slow)
        """Steps that usually happen only after others (a loaded database, a busy store
        writer): e.g. with ``ingest`` slow, pushes pile up behind an ingest, and with ``read``
        slow, acks overtake the store's next batch."""
        self.now_ms = START_MS
        self.central = MemoryCentral(apply=self._central_applied)
        self.stores = [StoreNode(s, r) for s, r in STORES.items()]
        for node in self.stores:
            self.central.add_store(node.store_id, node.region)
        self.hq_clock = HybridClock()
        self.hq_offset_ms = 0
        self.hq_last = 0
        self.central_hlc = 0
        """Highest HLC of a store event central holds (HQ's clock observes it)."""
        self.orphans: list[Connection] = []
        """Connections whose store side is gone while central's side goes on."""
        self.connections: list[Connection] = []
        self._ids = itertools.count(1)

    # ------------------------------------------------------------ writes

    def write(self, store: int, kind: str, text: str = "x") -> int:
        """The store commits one event to its log; returns its seq."""
        node = self.stores[store]
        self._observe_hq(node)
        seq = node.log.newest_seq + 1
        if kind in UNDECODABLE:
            body = _undecodable(kind, node.store_id, seq, next(self._ids))
            node.undecodable.add(seq)
        else:
            hlc = node.clock.now(self.now_ms + node.offset_ms)
            assert hlc > node.last_hlc, "HLC went backwards on a store"
            assert hlc > node.hq_hlc, "a store event is not after an HQ event it applied"
            node.last_hlc = hlc
            body = encode(self._event(kind, node.store_id, seq, hlc, text))
        assert node.log.append(body) == seq
        if node.conn is not None and node.conn.open:
            node.conn.client.local_appended(seq)
        self.now_ms += 1
        return seq

    def publish(self, audience: int, text: str = "x") -> int:
        """HQ adds an event to its log for one of ``AUDIENCES``; open sessions are told."""
        kind, target = AUDIENCES[audience % len(AUDIENCES)]
        # Central's clock observes the store events it holds, so an HQ event is ordered after
        # everything HQ could have seen.
        hlc = self.hq_clock.observe(self.central_hlc, self.now_ms + self.hq_offset_ms)
        assert hlc > self.hq_last and hlc > self.central_hlc
        self.hq_last = hlc
        store_id = target if kind == "store" else "*"
        event = StaffAdded(
            id=UUID(int=next(self._ids)),
            store_id=store_id,
            seq=0,
            hlc=hlc,
            at=_utc(self.now_ms),
            actor="hq",
            device="hq",
            user_id=UUID(int=next(self._ids)),
            username=f"hq{hlc}",
            display_name=text,
            role="clerk",
        )
        cursor = self.central.publish(encode(event), kind, target)
        for conn in self.connections:
            if conn.open:
                conn.server.hq_available()  # the NOTIFY
        self.now_ms += 1
        return cursor

    # ------------------------------------------------------------ connections

    def connect(self, store: int) -> Connection:
        """Open a new connection for the store (if it has none open) and say hello."""
        node = self.stores[store]
        if node.conn is not None and node.conn.open:
            return node.conn
        lim = self.limits
        client = ClientSession(
            node.store_id,
            schema=SCHEMA_VERSION,
            hq_cursor=node.sink.cursor,
            local_seq=node.log.newest_seq,
            batch_count=lim.batch_count,
            batch_bytes=lim.batch_bytes,
            window=lim.window,
        )
        server = ServerSession(
            node.store_id,
            schema=SCHEMA_VERSION,
            max_ingest_events=lim.max_ingest_events,
            hq_batch=lim.hq_batch,
            hq_batch_bytes=lim.hq_batch_bytes,
            window=lim.hq_window,
        )
        conn = Connection(client, server, log=node.log, sink=node.sink, central=self.central)
        node.conn = conn
        self.connections.append(conn)
        conn.start()
        return conn

    def advance(self, store: int, picks: list[int]) -> None:
        """Take steps on the store's connection; each pick chooses among what can happen."""
        self._advance(store, picks, until_ingest=False)

    def _advance(self, store: int, picks: list[int], *, until_ingest: bool) -> None:
        conn = self.stores[store].conn
        if conn is None:
            return
        for pick in picks:
            if until_ingest and conn.ingest_running and pick % 2:
                break  # not always at the first ingest: later ones cover several pushes
            conn.flush()
            steps: list[Step | Literal["orphan"]] = [*conn.steps()]
            if self.orphans:
                # A dropped connection's central side can take a step between any two of this
                # one, e.g. commit an ingest while this connection's ingest of the same runs.
                steps.append("orphan")
            if not steps:
                break
            step = steps[pick % len(steps)]
            fast = [s for s in steps if s not in self.slow]
            if step in self.slow and fast and pick < 6:
                step = fast[pick % len(fast)]
            if step == "orphan":
                self.orphan_step(pick)
            else:
                conn.do(step)
        self._check_errors(conn)

    def cut(
        self, store: int, central: CentralFate = "commit", hq: Literal["commit", "lose"] = "commit"
    ) -> None:
        """The store's connection drops; central's side finishes its running ingest, loses it,
        or lingers as an orphan; the store's running HQ apply commits or rolls back."""
        conn = self.stores[store].conn
        if conn is None or not conn.open:
            return
        conn.close(central=central, hq=hq)
        if conn.lingering:
            self.orphans.append(conn)
        self._check_errors(conn)

    def reconnect_during_ingest(self, store: int, picks: list[int]) -> None:
        """The connection drops while central is ingesting; the store reconnects at once, to
        another replica, and the first one's ingest commits at some point during the new
        connection (``advance`` lets orphans commit between steps)."""
        self._advance(store, picks, until_ingest=True)
        self.cut(store, central="linger", hq="commit")
        self.connect(store)
        self.advance(store, picks)

    def orphan_step(self, index: int) -> None:
        """One step of an orphan's central side; one with nothing left to do ends."""
        if not self.orphans:
            return
        conn = self.orphans[index % len(self.orphans)]
        conn.flush()
        steps = conn.steps()
        if steps:
            conn.do(steps[index % len(steps)])
        else:
            conn.close_central()
            self.orphans.remove(conn)

    def finish_orphan(self, index: int, commit: bool) -> None:
        """An orphan's central side notices the drop: it first does all it can (``commit``),
        or stops at once, its running ingest rolled back."""
        if not self.orphans:
            return
        conn = self.orphans.pop(index % len(self.orphans))
        if commit:
            conn.pump()
        conn.close_central(commit=commit)

    def crash_store(self, store: int, central: CentralFate = "lose") -> None:
        """The store node's process dies and restarts: its session and running HQ apply are
        lost; its log and applied HQ events are not. Central may still finish an ingest."""
        node = self.stores[store]
        self.cut(store, central=central, hq="lose")
        node.conn = None
        # Restart: seed the clock with the highest HLC in durable state — the log *and* the
        # applied HQ events, or a store could stamp an event before an HQ event it applied.
        seed = max([node.last_hlc, *(_hlc(a.body) for a in node.sink.applied)])
        node.clock = HybridClock(seed)
        node.observed = len(node.sink.applied)
        node.hq_hlc = max([0, *(_hlc(a.body) for a in node.sink.applied)])

    def crash_central(self) -> None:
        """Central's process dies: every connection drops and every ingest in progress (orphans
        included) is lost; what was committed stays."""
        for i, node in enumerate(self.stores):
            if node.conn is not None and node.conn.open:
                self.cut(i, central="lose", hq="commit")
        for conn in self.orphans:
            conn.close_central(commit=False)
        self.orphans.clear()

    def set_available(self, available: bool) -> None:
        """Central's database goes down or comes back."""
        self.central.available = available

    def skew(self, node: int, offset_ms: int) -> None:
        """A wall clock jumps (node 0–2: a store, 3: central/HQ)."""
        if node >= len(self.stores):
            self.hq_offset_ms = offset_ms
        else:
            self.stores[node].offset_ms = offset_ms

    def tick(self, ms: int) -> None:
        self.now_ms += ms

    # ------------------------------------------------------------ checks

    def check_safety(self) -> None:
        """What must hold at every moment, whatever the faults."""
        central = self.central
        hq_bodies = {e.cursor: e.body for e in central.hq_log}
        for node in self.stores:
            sid = node.store_id
            held = central.held(sid)
            high = central.high_water[sid]
            assert high <= node.log.newest_seq
            assert all(seq in held for seq in range(1, high + 1)), "high water over a gap"
            for seq, body in held.items():
                assert body == node.log.get(seq), f"{sid} seq {seq}: central holds other bytes"
            quarantined = {seq for (s, seq) in central.quarantine if s == sid}
            assert quarantined == node.undecodable & held.keys(), (
                f"{sid}: quarantined {sorted(quarantined)}, undecodable held "
                f"{sorted(node.undecodable & held.keys())}"
            )
            # The store's applied HQ events are exactly those addressed to it up to its cursor,
            # in cursor order, once each.
            applied = [a.cursor for a in node.sink.applied]
            want = [
                e.cursor
                for e in central.hq_log
                if e.cursor <= node.sink.cursor and central.addressed(e, sid)
            ]
            assert applied == want, f"{sid}: applied HQ {applied}, addressed {want}"
            assert all(a.body == hq_bodies[a.cursor] for a in node.sink.applied)
            assert central.hq_acked[sid] <= node.sink.cursor, "central thinks HQ acked beyond"

    def _check_errors(self, conn: Connection) -> None:
        fatal = [(side, e) for side, e in conn.errors if not e.retryable]
        assert not fatal, f"a side gave up on the connection: {fatal}"

    def heal(self, max_rounds: int = 20) -> None:
        """No more faults: central comes back, orphans finish (lost), every store connects
        and every connection runs until it is quiet. Open connections are kept, so one that
        went idle without finishing its work is caught here rather than hidden by a reconnect."""
        self.central.available = True
        for conn in self.orphans:
            conn.close_central(commit=False)
        self.orphans.clear()
        for _ in range(max_rounds):
            for i, node in enumerate(self.stores):
                if node.conn is None or not node.conn.open:
                    self.connect(i)
            for node in self.stores:
                assert node.conn is not None
                node.conn.pump()
                self._check_errors(node.conn)
            idle = [n for n in self.stores if n.conn is not None and n.conn.open]
            for node in idle:
                assert self._settled(node), (
                    f"{node.store_id}: connection idle but not caught up: "
                    f"log {node.log.newest_seq}, acked {node.conn and node.conn.client.acked}, "
                    f"central high water {self.central.high_water[node.store_id]}, "
                    f"hq cursor {node.sink.cursor}/{len(self.central.hq_log)}"
                )
            if len(idle) == len(self.stores):
                return
        raise AssertionError(f"not healed after {max_rounds} rounds of reconnects")

    def _settled(self, node: StoreNode) -> bool:
        conn = node.conn
        assert conn is not None
        newest = len(self.central.hq_log)
        return (
            conn.client.caught_up
            and conn.client.acked == node.log.newest_seq
            and node.sink.cursor == newest
            and self.central.hq_acked[node.store_id] == newest
        )

    def check_converged(self) -> None:
        """After ``heal``: central holds exactly every store's log, every store exactly the HQ
        events addressed to it, and quarantine exactly the undecodable events."""
        self.check_safety()
        central = self.central
        for node in self.stores:
            sid = node.store_id
            n = node.log.newest_seq
            assert central.high_water[sid] == n
            assert central.held(sid) == {seq: node.log.get(seq) for seq in range(1, n + 1)}
            assert {seq for (s, seq) in central.quarantine if s == sid} == node.undecodable
            assert not node.undecodable & central.events[sid].keys()
            addressed = [e.cursor for e in central.hq_log if central.addressed(e, sid)]
            assert [a.cursor for a in node.sink.applied] == addressed
            assert node.sink.cursor == central.hq_acked[sid] == len(central.hq_log)
            hlcs = [_hlc(central.events[sid][seq]) for seq in sorted(central.events[sid])]
            assert hlcs == sorted(set(hlcs)), f"{sid}: HLC not strictly rising with seq"

    # ------------------------------------------------------------ internals

    def _central_applied(self, event: Event) -> str | None:
        self.central_hlc = max(self.central_hlc, event.hlc)
        return None

    def _observe_hq(self, node: StoreNode) -> None:
        """The store's clock observes the HQ events it applied (as its writer does when it
        folds them), before it stamps anything new."""
        for applied in node.sink.applied[node.observed :]:
            hlc = _hlc(applied.body)
            node.clock.observe(hlc, self.now_ms + node.offset_ms)
            node.hq_hlc = max(node.hq_hlc, hlc)
        node.observed = len(node.sink.applied)

    def _event(self, kind: str, store_id: str, seq: int, hlc: int, text: str) -> Event:
        common: dict[str, Any] = {
            "id": UUID(int=next(self._ids)),
            "store_id": store_id,
            "seq": seq,
            "hlc": hlc,
            "at": _utc(self.now_ms),
            "actor": "manager",
            "device": "tablet-1",
        }
        if kind == "configured":
            return StoreConfigured(**common, name=text, region="east", tz="Asia/Shanghai")
        return StaffAdded(
            **common,
            user_id=UUID(int=next(self._ids)),
            username=f"u{seq}",
            display_name=text,
            role="clerk",
        )


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _hlc(body: bytes) -> int:
    return decode(body).hlc


def _undecodable(kind: str, store_id: str, seq: int, n: int) -> bytes:
    """Valid msgpack (it was logged by *some* store software) that no event decodes from."""
    envelope = {
        "id": str(UUID(int=n)),
        "store_id": store_id,
        "seq": seq,
        "hlc": 1,
        "at": "2026-11-26T00:00:00Z",
        "actor": "manager",
        "device": "tablet-1",
    }
    if kind == "unknown_type":
        return msgspec.msgpack.encode({"type": "queue.teleported", **envelope, "v": 3})
    if kind == "not_a_map":
        return msgspec.msgpack.encode([seq, "not an event"])
    if kind == "bad_field":
        return msgspec.msgpack.encode(
            {"type": "staff.role_changed", **envelope, "user_id": "nope", "role": 7}
        )
    if kind == "bad_utf8":
        # A real event but for one string: its bytes are not UTF-8 (same length, so the
        # msgpack structure stays valid).
        good = encode(
            StaffDeactivated(
                id=UUID(int=n),
                store_id=store_id,
                seq=seq,
                hlc=1,
                at=_utc(START_MS),
                actor="é",
                device="tablet-1",
                user_id=UUID(int=n),
            )
        )
        return good.replace("é".encode(), b"\xc3\x28")
    return msgspec.msgpack.encode(seq)


Move = Literal[
    "write",
    "reconnect",
    "publish",
    "connect",
    "advance",
    "cut",
    "orphan",
    "crash_store",
    "crash_central",
    "outage",
    "skew",
    "tick",
]
