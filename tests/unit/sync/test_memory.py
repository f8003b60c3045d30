"""The in-memory storage and connection: the reference behaviour real adapters must match."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec
import pytest

from schema.events import SCHEMA_VERSION, encode
from schema.events.store import StaffAdded
from sync.client import ClientSession, HqToApply
from sync.errors import Unavailable
from sync.frames import MAX_FRAME, HqItem, Push, decode_client_frame
from sync.memory.central import MemoryCentral
from sync.memory.connection import Connection, pump
from sync.memory.store import MemoryHqSink, MemoryStoreLog
from sync.server import HqRequest, IngestRequest, ServerSession

AT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def event(seq: int, store_id: str = "S001", n: int | None = None) -> bytes:
    return encode(
        StaffAdded(
            id=UUID(int=n if n is not None else seq),
            store_id=store_id,
            seq=seq,
            hlc=seq << 16,
            at=AT,
            actor="manager",
            device="t1",
            user_id=UUID(int=1000 + seq),
            username=f"u{seq}",
            display_name="王",
            role="clerk",
        )
    )


GARBAGE = msgspec.msgpack.encode({"type": "from.the.future", "seq": 2})


def ingest(central: MemoryCentral, first: int, bodies: list[bytes], store: str = "S001") -> int:
    return central.ingest(IngestRequest(store, first, [msgspec.Raw(b) for b in bodies])).high_water


@pytest.fixture
def central() -> MemoryCentral:
    c = MemoryCentral()
    c.add_store("S001", "east")
    c.add_store("S002", "east")
    c.add_store("S003", "west")
    return c


# ------------------------------------------------------------------ store log


def test_log_reads_by_count_and_bytes_but_always_one() -> None:
    log = MemoryStoreLog()
    for size in (10, 10, 10, 50):
        log.append(b"x" * size)
    assert [s for s, _ in log.read(0, 2, 10_000)] == [1, 2]
    assert [s for s, _ in log.read(0, 10, 25)] == [1, 2]
    assert [s for s, _ in log.read(3, 10, 1)] == [4]  # bigger than a batch: still goes up
    assert log.read(4, 10, 100) == []
    assert log.read(0, 10, 10_000)[0] == (1, b"x" * 10)


# ------------------------------------------------------------------ HQ sink


def test_sink_commits_durably_and_rolls_back() -> None:
    sink = MemoryHqSink()
    one = HqItem(1, msgspec.Raw(b"\x01"))
    sink.begin(HqToApply([one], 2))
    sink.rollback()  # a crash before commit
    assert (sink.cursor, sink.applied) == (0, [])
    sink.begin(HqToApply([one], 2))
    sink.commit(log_seq=7)
    assert sink.cursor == 2
    assert [(a.cursor, a.body, a.applied_after_seq) for a in sink.applied] == [(1, b"\x01", 7)]


def test_sink_refuses_to_apply_an_hq_event_twice() -> None:
    sink = MemoryHqSink()
    sink.begin(HqToApply([HqItem(1, msgspec.Raw(b"\x01"))], 1))
    sink.commit(0)
    sink.begin(HqToApply([HqItem(1, msgspec.Raw(b"\x01"))], 1))
    with pytest.raises(ValueError):
        sink.commit(0)
    assert len(sink.applied) == 1


# ------------------------------------------------------------------ central: upload


def test_ingest_holds_events_and_reports_contiguous_high_water(central: MemoryCentral) -> None:
    assert ingest(central, 1, [event(1), event(2)]) == 2
    assert ingest(central, 4, [event(4)]) == 2  # 3 missing
    assert ingest(central, 3, [event(3)]) == 4
    assert central.held("S001") == {s: event(s) for s in range(1, 5)}


def test_replays_commit_nothing_new(central: MemoryCentral) -> None:
    ingest(central, 1, [event(1), event(2)])
    before = central.held("S001")
    result = central.ingest(IngestRequest("S001", 1, [msgspec.Raw(event(1))]))
    assert (result.high_water, result.quarantined) == (2, 0)
    assert central.held("S001") == before


def test_undecodable_events_are_quarantined_held_and_acked(central: MemoryCentral) -> None:
    result = central.ingest(
        IngestRequest("S001", 1, [msgspec.Raw(b) for b in (event(1), GARBAGE, event(3))])
    )
    assert (result.high_water, result.quarantined) == (3, 1)
    q = central.quarantine[("S001", 2)]
    assert q.raw == GARBAGE and q.reason.startswith("undecodable") and q.event_type is None
    assert 2 not in central.events["S001"]


def test_invalid_utf8_is_quarantined_not_raised(central: MemoryCentral) -> None:
    bad = event(1).replace("王".encode(), b"\xff\xfe\xfd")
    assert ingest(central, 1, [bad]) == 1
    assert ("S001", 1) in central.quarantine


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (event(1, store_id="S002"), "of store"),
        (event(9), "seq 9"),
        (event(1, n=777), "already held"),
    ],
)
def test_misfit_events_in_a_batch_are_quarantined(
    central: MemoryCentral, body: bytes, reason: str
) -> None:
    ingest(central, 1, [event(1, store_id="S003", n=777)], store="S003")  # S003 holds id 777
    assert ingest(central, 1, [body, event(2)]) == 2
    q = central.quarantine[("S001", 1)]
    assert reason in q.reason and q.event_type == "staff.added"


def test_foreign_events_are_quarantined_whatever_the_batch(central: MemoryCentral) -> None:
    """Ingest never refuses a run: the all-foreign *push* is refused earlier, by the adapter."""
    assert ingest(central, 1, [event(1, store_id="S002"), event(2, store_id="S002")]) == 2
    assert {q.seq for q in central.quarantine.values()} == {1, 2}


def test_a_push_of_only_foreign_events_is_refused(central: MemoryCentral) -> None:
    log, sink = MemoryStoreLog(), MemoryHqSink()
    log.append(event(1, store_id="S002"))
    log.append(event(2, store_id="S002"))
    conn = pump(*_sessions(log, sink), log=log, sink=sink, central=central)
    assert [(side, e.code) for side, e in conn.errors] == [("central", "wrong_store")]
    assert not conn.open and central.held("S001") == {}


def test_apply_refusal_is_quarantined() -> None:
    central = MemoryCentral(apply=lambda e: "no roster room" if e.seq == 2 else None)
    central.add_store("S001", "east")
    assert ingest(central, 1, [event(1), event(2)]) == 2
    assert central.quarantine[("S001", 2)].reason == "no roster room"


def test_unavailable_central_holds_nothing(central: MemoryCentral) -> None:
    central.available = False
    with pytest.raises(Unavailable):
        ingest(central, 1, [event(1)])
    central.available = True
    assert central.held("S001") == {}


# ------------------------------------------------------------------ central: download


def test_hq_events_reach_exactly_their_audience(central: MemoryCentral) -> None:
    central.publish(b"all", "all")
    central.publish(b"east", "region", "east")
    central.publish(b"s3", "store", "S003")
    central.publish(b"west", "region", "west")
    items, upto = central.load_hq(HqRequest("S003", 0, 10))
    assert [(i.cursor, bytes(i.event)) for i in items] == [(1, b"all"), (3, b"s3"), (4, b"west")]
    assert upto == 4
    items, upto = central.load_hq(HqRequest("S001", 0, 10))
    assert [i.cursor for i in items] == [1, 2] and upto == 4  # skips past 3 and 4


def test_hq_load_stops_at_the_limit(central: MemoryCentral) -> None:
    for n in range(5):
        central.publish(bytes([n]), "all")
    items, upto = central.load_hq(HqRequest("S001", 1, 2))
    assert [i.cursor for i in items] == [2, 3] and upto == 3


def test_publish_checks_audience_and_target(central: MemoryCentral) -> None:
    with pytest.raises(ValueError):
        central.publish(b"x", "store")
    with pytest.raises(ValueError):
        central.publish(b"x", "all", "S001")


# ------------------------------------------------------------------ the connection


def _sessions(log: MemoryStoreLog, sink: MemoryHqSink) -> tuple[ClientSession, ServerSession]:
    client = ClientSession(
        "S001",
        schema=SCHEMA_VERSION,
        hq_cursor=sink.cursor,
        local_seq=log.newest_seq,
        batch_count=3,
        window=2,
    )
    return client, ServerSession("S001", schema=SCHEMA_VERSION, max_ingest_events=4, hq_batch=2)


def test_pump_syncs_both_ways(central: MemoryCentral) -> None:
    log, sink = MemoryStoreLog(), MemoryHqSink()
    for seq in range(1, 11):
        log.append(GARBAGE if seq == 5 else event(seq))
    for n in range(5):
        central.publish(bytes([n]), "all" if n % 2 else "store", "" if n % 2 else "S002")
    conn = pump(*_sessions(log, sink), log=log, sink=sink, central=central)
    assert conn.open and conn.client.caught_up and conn.errors == []
    assert central.held("S001") == {s: log.get(s) for s in range(1, 11)}
    assert list(central.quarantine) == [("S001", 5)]
    assert conn.client.quarantined == 1
    assert [a.cursor for a in sink.applied] == [2, 4]
    assert sink.cursor == central.hq_acked["S001"] == 5


def test_a_cut_connection_resumes_where_central_stands(central: MemoryCentral) -> None:
    log, sink = MemoryStoreLog(), MemoryHqSink()
    for seq in range(1, 21):
        log.append(event(seq))
    conn = Connection(*_sessions(log, sink), log=log, sink=sink, central=central)
    conn.start()
    for _ in range(15):
        conn.do(conn.steps()[0])
    conn.close(central="lose")
    assert not conn.open and conn.steps() == []
    held = central.high_water["S001"]
    conn = pump(*_sessions(log, sink), log=log, sink=sink, central=central)
    assert conn.client.caught_up and central.high_water["S001"] == 20 > held


def test_a_lingering_central_side_keeps_ingesting(central: MemoryCentral) -> None:
    """The store's side dropped with pushes on the wire; central has not noticed and still
    reads and stores them."""
    log, sink = MemoryStoreLog(), MemoryHqSink()
    for seq in range(1, 7):
        log.append(event(seq))
    conn = Connection(*_sessions(log, sink), log=log, sink=sink, central=central)
    conn.start()
    while not any(isinstance(decode_client_frame(f), Push) for f in conn.up):
        conn.do(conn.steps()[0])
    conn.close(central="linger")
    assert conn.lingering and conn.client.state == "closed"
    conn.pump()
    assert central.high_water["S001"] == 3  # the one push that was on the wire
    conn.close_central()
    assert not conn.lingering and conn.steps() == []


def test_oversized_and_undecodable_frames_close_with_an_error(central: MemoryCentral) -> None:
    log, sink = MemoryStoreLog(), MemoryHqSink()
    conn = Connection(*_sessions(log, sink), log=log, sink=sink, central=central)
    conn.start()
    conn.up.appendleft(b"\xc1")  # never valid msgpack
    conn.do("up")
    assert conn.errors[0][0] == "central" and conn.errors[0][1].code == "protocol_violation"

    conn = Connection(*_sessions(log, sink), log=log, sink=sink, central=central)
    conn.start()
    huge = Push(first_seq=1, events=[msgspec.Raw(msgspec.msgpack.encode(b"x" * MAX_FRAME))])
    conn.up.appendleft(msgspec.msgpack.encode(huge))
    conn.do("up")
    assert conn.errors[0][1].code == "frame_too_large"
    conn.pump()  # the Error frame reaches the store, which closes
    assert not conn.open and conn.client.state == "closed"


def test_store_refusing_a_frame_tells_central_and_closes(central: MemoryCentral) -> None:
    log, sink = MemoryStoreLog(), MemoryHqSink()
    conn = Connection(*_sessions(log, sink), log=log, sink=sink, central=central)
    conn.start()
    conn.down.append(msgspec.msgpack.encode({"t": "ack", "seq": 1}))  # before Welcome
    conn.do("down")
    assert conn.client.state == "closed"
    assert [(side, e.code) for side, e in conn.errors] == [("store", "protocol_violation")]
    conn.pump()
    assert not conn.open
