"""Central's side of a connection: who it accepts, what it stores when, and what it sends."""

from __future__ import annotations

import msgspec
import pytest

from sync.errors import (
    BY_CODE,
    FrameTooLarge,
    ProtocolViolation,
    SyncError,
    Unauthorized,
    Unavailable,
    VersionUnsupported,
    WrongStore,
)
from sync.frames import (
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
    Welcome,
    encode,
)
from sync.server import HqRequest, IngestRequest, ServerSession, accepted, claims_other_store

SCHEMA = 5


def raw(seq: int) -> msgspec.Raw:
    return msgspec.Raw(msgspec.msgpack.encode({"seq": seq}))


def push(first: int, last: int) -> Push:
    return Push(first_seq=first, events=[raw(s) for s in range(first, last + 1)])


def item(cursor: int) -> HqItem:
    return HqItem(cursor, msgspec.Raw(msgspec.msgpack.encode({"hq": cursor})))


def hello(**kw: object) -> Hello:
    fields: dict[str, object] = {
        "store_id": "S001",
        "protocol": PROTOCOL_VERSION,
        "schema": SCHEMA,
        "hq_cursor": 0,
        "local_seq": 0,
    }
    fields.update(kw)
    return Hello(**fields)  # type: ignore[arg-type]


def session(**kw: int) -> ServerSession:
    return ServerSession("S001", schema=SCHEMA, **kw)


def ready(high_water: int = 0, hq_cursor: int = 0, **kw: int) -> ServerSession:
    """A session that welcomed the store at ``high_water``; HQ loading not started."""
    s = session(**kw)
    s.receive_frame(hello(hq_cursor=hq_cursor))
    s.state_loaded(high_water)
    assert s.frames_to_send() == [
        Welcome(protocol=PROTOCOL_VERSION, schema=SCHEMA, high_water=high_water)
    ]
    return s


def ingest_all(s: ServerSession, high_water: int, quarantined: int = 0) -> IngestRequest:
    """Take the pending ingest request and report it committed at ``high_water``."""
    req = s.ingest_request()
    assert req is not None
    s.ingested(high_water, quarantined)
    return req


def event_seqs(req: IngestRequest) -> list[int]:
    return [msgspec.msgpack.decode(e)["seq"] for e in req.events]


def refused(s: ServerSession, error: type[SyncError]) -> None:
    """The session closed with ``error``: an Error frame with its code, then the close."""
    assert s.state == "closed"
    assert isinstance(s.close_with, error)
    out = s.frames_to_send()
    assert out[-1] == Error(
        code=error.code, message=s.close_with.message, retryable=error.retryable
    )


# ------------------------------------------------------------------ hello


def test_hello_loads_state_then_welcomes() -> None:
    s = session()
    s.receive_frame(hello(hq_cursor=4, local_seq=9))
    assert s.wants_state()
    assert s.frames_to_send() == []  # no Welcome before the high-water mark is known
    assert s.hello is not None and s.hello.local_seq == 9
    s.state_loaded(7)
    assert not s.wants_state()
    assert s.frames_to_send() == [Welcome(protocol=PROTOCOL_VERSION, schema=SCHEMA, high_water=7)]
    assert s.hq_acked == 4


def test_state_loaded_twice_welcomes_once() -> None:
    s = ready(high_water=3)
    s.state_loaded(3)
    assert s.frames_to_send() == []


@pytest.mark.parametrize("protocol", sorted(accepted(PROTOCOL_VERSION)))
@pytest.mark.parametrize("schema", sorted(accepted(SCHEMA)))
def test_current_and_previous_versions_are_accepted(protocol: int, schema: int) -> None:
    s = session()
    s.receive_frame(hello(protocol=protocol, schema=schema))
    assert s.wants_state() and s.close_with is None


def test_accepted_is_current_and_previous() -> None:
    assert accepted(7) == {7, 6}


@pytest.mark.parametrize(
    "versions",
    [
        {"protocol": PROTOCOL_VERSION + 1},
        {"protocol": PROTOCOL_VERSION - 2},
        {"schema": SCHEMA + 1},
        {"schema": SCHEMA - 2},
        {"protocol": PROTOCOL_VERSION + 1, "schema": SCHEMA + 1},
    ],
)
def test_other_versions_are_refused(versions: dict[str, int]) -> None:
    s = session()
    s.receive_frame(hello(**versions))
    refused(s, VersionUnsupported)
    assert (VersionUnsupported.code, VersionUnsupported.close_code) == ("version_unsupported", 4002)
    assert not s.wants_state()


def test_hello_for_another_store_than_the_credential_is_refused() -> None:
    s = session()
    s.receive_frame(hello(store_id="S002"))
    refused(s, WrongStore)
    assert WrongStore.close_code == 4005


@pytest.mark.parametrize("frame", [push(1, 1), HqAck(cursor=0)], ids=lambda f: type(f).__name__)
def test_frames_before_hello_are_protocol_violations(frame: ClientFrame) -> None:
    s = session()
    s.receive_frame(frame)
    refused(s, ProtocolViolation)
    assert ProtocolViolation.close_code == 4003


@pytest.mark.parametrize(
    "frame", [push(1, 1), HqAck(cursor=0), hello()], ids=lambda f: type(f).__name__
)
def test_frames_before_welcome_are_protocol_violations(frame: ClientFrame) -> None:
    s = session()
    s.receive_frame(hello())
    s.receive_frame(frame)  # the store must wait for Welcome
    refused(s, ProtocolViolation)


def test_hello_twice_is_a_protocol_violation() -> None:
    s = ready()
    s.receive_frame(hello())
    refused(s, ProtocolViolation)


def test_error_from_the_store_closes_quietly() -> None:
    s = ready()
    s.receive_frame(Error(code="protocol_violation", message="?", retryable=False))
    assert s.state == "closed" and s.close_with is None
    assert s.frames_to_send() == []


def test_a_closed_session_ignores_everything() -> None:
    s = ready()
    s.receive_disconnect()
    s.receive_frame(push(1, 3))
    s.hq_available()
    assert s.ingest_request() is None
    assert s.hq_request() is None
    assert s.frames_to_send() == []


def test_fail_sends_one_error_frame() -> None:
    s = ready()
    s.fail(Unavailable("database down"))
    s.fail(ProtocolViolation("and something else"))
    assert s.frames_to_send() == [
        Error(code="unavailable", message="database down", retryable=True)
    ]
    assert s.close_with is not None and s.close_with.close_code == 1013


# ------------------------------------------------------------------ what comes over the wire


def envelope(store_id: str | None) -> msgspec.Raw:
    fields: dict[str, object] = {"type": "staff.added", "seq": 1}
    if store_id is not None:
        fields["store_id"] = store_id
    return msgspec.Raw(msgspec.msgpack.encode(fields))


def test_a_message_that_decodes_is_received_as_its_frame() -> None:
    s = session()
    assert s.receive_data(encode(hello())) == hello()
    assert s.wants_state()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ("hello", ProtocolViolation),  # a text frame
        (b"\xc1", ProtocolViolation),  # never valid msgpack
        (msgspec.msgpack.encode({"t": "welcome"}), ProtocolViolation),  # a frame central sends
        (b"\x00" * 101, FrameTooLarge),
    ],
    ids=["text", "undecodable", "wrong_direction", "too_large"],
)
def test_messages_that_are_no_frame_of_the_store_close_the_session(
    data: bytes | str, error: type[SyncError]
) -> None:
    s = ServerSession("S001", schema=SCHEMA, max_frame=100)
    assert s.receive_data(data) is None
    refused(s, error)


def test_a_push_whose_events_all_belong_to_another_store_is_wrong_store() -> None:
    s = ready()
    s.receive_data(encode(Push(first_seq=1, events=[envelope("S002"), envelope("S003")])))
    refused(s, WrongStore)
    assert s.ingest_request() is None


def test_a_push_mixing_in_another_stores_events_goes_to_ingest() -> None:
    s = ready()
    s.receive_frame(Push(first_seq=1, events=[envelope("S002"), envelope("S001")]))
    assert s.state == "ready" and len(ingest_all(s, 2).events) == 2


def test_claims_other_store_needs_every_event_to_claim() -> None:
    foreign = envelope("S002")
    garbage = msgspec.Raw(msgspec.msgpack.encode([1, 2]))
    assert claims_other_store([foreign, foreign], "S001")
    assert not claims_other_store([foreign, envelope("S001")], "S001")
    assert not claims_other_store([foreign, envelope(None)], "S001")  # no store_id: no claim
    assert not claims_other_store([foreign, garbage], "S001")  # unreadable: quarantine says why
    assert not claims_other_store([], "S001")


def test_error_tree_codes_are_stable_and_distinct() -> None:
    expected = {
        "sync_error": (4000, False),
        "unauthorized": (4001, False),
        "version_unsupported": (4002, False),
        "protocol_violation": (4003, False),
        "frame_too_large": (1009, False),
        "wrong_store": (4005, False),
        "unavailable": (1013, True),
    }
    assert {c: (e.close_code, e.retryable) for c, e in BY_CODE.items()} == expected
    for error in (Unauthorized, FrameTooLarge):
        assert BY_CODE[error.code] is error


# ------------------------------------------------------------------ upload


def test_push_is_acked_only_after_it_is_ingested() -> None:
    s = ready()
    s.receive_frame(push(1, 3))
    assert s.frames_to_send() == []
    req = s.ingest_request()
    assert req is not None
    assert (req.store_id, req.first_seq, event_seqs(req)) == ("S001", 1, [1, 2, 3])
    assert s.frames_to_send() == []  # still not durable
    s.ingested(3, quarantined=1)
    assert s.frames_to_send() == [Ack(seq=3, quarantined=1)]
    assert s.high_water == 3


def test_one_ingest_at_a_time_and_pushes_meanwhile_are_coalesced() -> None:
    s = ready()
    s.receive_frame(push(1, 2))
    first = s.ingest_request()
    assert first is not None
    s.receive_frame(push(3, 4))
    s.receive_frame(push(5, 6))
    assert s.ingest_request() is None  # the first is still running
    s.ingested(2)
    second = s.ingest_request()
    assert second is not None and second.first_seq == 3 and event_seqs(second) == [3, 4, 5, 6]
    s.ingested(6)
    assert s.frames_to_send() == [Ack(seq=2), Ack(seq=6)]


def test_ingest_runs_are_bounded() -> None:
    s = ready(max_ingest_events=4)
    s.receive_frame(push(1, 10))
    runs = []
    while (req := s.ingest_request()) is not None:
        runs.append(event_seqs(req))
        s.ingested(req.first_seq + len(req.events) - 1)
    assert runs == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]


def test_empty_push_is_ignored() -> None:
    s = ready()
    s.receive_frame(Push(first_seq=1, events=[]))
    assert s.ingest_request() is None and s.frames_to_send() == []


def test_a_gap_is_answered_with_one_resend() -> None:
    s = ready(high_water=4)
    s.receive_frame(push(8, 9))
    s.receive_frame(push(10, 12))  # in flight behind the gap
    assert s.frames_to_send() == [Resend(from_seq=5)]
    assert s.ingest_request() is None


def test_pushes_are_ignored_until_the_store_rewinds() -> None:
    s = ready(high_water=4)
    s.receive_frame(push(8, 9))
    s.frames_to_send()
    s.receive_frame(push(10, 12))
    assert s.ingest_request() is None  # still from before the rewind: ignored, no new Resend
    assert s.frames_to_send() == []
    s.receive_frame(push(5, 9))  # the rewind
    req = s.ingest_request()
    assert req is not None and event_seqs(req) == [5, 6, 7, 8, 9]


def test_replay_is_trimmed_to_what_central_lacks() -> None:
    s = ready(high_water=4)
    s.receive_frame(push(2, 7))  # 2..4 are held already
    req = s.ingest_request()
    assert req is not None and req.first_seq == 5 and event_seqs(req) == [5, 6, 7]


def test_pure_replay_is_acked_again_without_an_ingest() -> None:
    """After a lost Ack the store sends held events again: central says what it holds."""
    s = ready(high_water=6)
    s.receive_frame(push(1, 3))
    assert s.ingest_request() is None
    assert s.frames_to_send() == [Ack(seq=6)]


def test_replay_during_an_ingest_is_answered_by_that_ingests_ack() -> None:
    s = ready()
    s.receive_frame(push(1, 3))
    req = s.ingest_request()
    assert req is not None
    s.receive_frame(push(1, 3))  # a duplicate while storing
    assert s.frames_to_send() == []
    assert s.ingest_request() is None
    s.ingested(3)
    assert s.frames_to_send() == [Ack(seq=3)]


def test_ack_reports_centrals_high_water_even_beyond_this_connection() -> None:
    """An ingest of a dropped connection committed meanwhile: central holds 1..12. Pending
    events central already holds are skipped, and the store continues after 12 with no
    Resend round."""
    s = ready(max_ingest_events=2)
    s.receive_frame(push(1, 2))
    s.ingest_request()
    s.receive_frame(push(3, 6))  # pending behind the running ingest
    s.ingested(12)
    assert s.frames_to_send() == [Ack(seq=12)]
    assert s.ingest_request() is None  # 3..6 are held already
    s.receive_frame(push(13, 14))
    assert s.frames_to_send() == []
    req = s.ingest_request()
    assert req is not None and req.first_seq == 13


def test_ack_beyond_trims_only_what_is_held() -> None:
    s = ready(max_ingest_events=2)
    s.receive_frame(push(1, 2))
    s.ingest_request()
    s.receive_frame(push(3, 8))
    s.ingested(4)  # another connection stored 3..4 as well
    req = s.ingest_request()
    assert req is not None and event_seqs(req) == [5, 6]


def test_a_resend_made_moot_by_another_connection_stops_blocking() -> None:
    s = ready(max_ingest_events=2)
    s.receive_frame(push(1, 2))
    s.ingest_request()
    s.receive_frame(push(5, 6))  # gap: 3..4 missing
    assert s.frames_to_send() == [Resend(from_seq=3)]
    s.ingested(6)  # another connection stored up to 6: the gap is filled
    assert s.frames_to_send() == [Ack(seq=6)]
    s.receive_frame(push(7, 8))  # the store skipped ahead on that Ack
    req = s.ingest_request()
    assert req is not None and req.first_seq == 7


def test_ingested_after_close_sends_nothing() -> None:
    s = ready()
    s.receive_frame(push(1, 1))
    s.ingest_request()
    s.receive_disconnect()
    s.ingested(1)
    assert s.frames_to_send() == []


# ------------------------------------------------------------------ download


def test_hq_request_waits_for_welcome_and_starts_at_the_stores_cursor() -> None:
    s = session(hq_batch=3)
    assert s.hq_request() is None
    s.receive_frame(hello(hq_cursor=10))
    assert s.hq_request() is None
    s.state_loaded(0)
    assert s.hq_request() == HqRequest(store_id="S001", after=10, limit=3)
    assert s.hq_request() is None  # one load at a time


def test_hq_batches_go_down_in_cursor_order() -> None:
    s = ready(hq_cursor=2)
    s.frames_to_send()
    assert s.hq_request() is not None
    s.hq_loaded([item(3), item(5)], 5)
    request = s.hq_request()
    assert request is not None and request.after == 5
    s.hq_loaded([item(8)], 9)
    assert s.frames_to_send() == [
        HqBatch(items=[item(3), item(5)], upto=5),
        HqBatch(items=[item(8)], upto=9),
    ]


def test_a_large_hq_page_goes_down_in_batches_bounded_by_bytes() -> None:
    size = len(item(1).event)
    s = ready(hq_batch_bytes=2 * size, window=10)
    assert s.hq_request() is not None
    s.hq_loaded([item(1), item(2), item(4), item(6), item(7)], 9)
    assert s.frames_to_send() == [
        HqBatch(items=[item(1), item(2)], upto=2),
        HqBatch(items=[item(4), item(6)], upto=6),
        HqBatch(items=[item(7)], upto=9),  # the last reaches past others' events
    ]
    s.receive_frame(HqAck(cursor=6))  # acks of the parts count against the window
    assert s.hq_acked == 6


def test_one_hq_event_larger_than_the_byte_bound_still_goes_down_alone() -> None:
    s = ready(hq_batch_bytes=1)
    assert s.hq_request() is not None
    s.hq_loaded([item(1), item(2)], 2)
    assert s.frames_to_send() == [
        HqBatch(items=[item(1)], upto=1),
        HqBatch(items=[item(2)], upto=2),
    ]


def test_hq_window_limits_unacknowledged_batches() -> None:
    s = ready(window=2)
    for upto in (1, 2):
        assert s.hq_request() is not None
        s.hq_loaded([item(upto)], upto)
    assert s.hq_request() is None  # two batches unacknowledged
    s.receive_frame(HqAck(cursor=1))
    assert s.hq_acked == 1
    assert s.hq_request() is not None


def test_hq_ack_covers_every_batch_up_to_it() -> None:
    s = ready(window=2)
    for upto in (1, 2):
        s.hq_request()
        s.hq_loaded([item(upto)], upto)
    s.receive_frame(HqAck(cursor=2))
    assert s.hq_acked == 2
    s.hq_request()
    s.hq_loaded([item(3)], 3)
    assert s.hq_request() is not None  # the window has room for a second one again


def test_hq_ack_beyond_what_was_sent_is_a_protocol_violation() -> None:
    s = ready()
    s.hq_request()
    s.hq_loaded([item(1)], 1)
    s.receive_frame(HqAck(cursor=2))
    refused(s, ProtocolViolation)


def test_nothing_new_stops_hq_loading_until_hq_available() -> None:
    s = ready(hq_cursor=4)
    assert s.hq_request() is not None
    s.hq_loaded([], 4)
    assert s.hq_request() is None
    assert s.frames_to_send() == []  # nothing to send either
    s.hq_available()
    assert s.hq_request() == HqRequest("S001", 4, 500)


def test_hq_available_during_a_load_is_not_lost() -> None:
    """The NOTIFY for a new HQ event can arrive while a load that started before it runs. That
    load finds nothing new; the session must look again rather than go idle (it used to, and
    the event waited until the next NOTIFY or reconnect)."""
    s = ready()
    assert s.hq_request() is not None
    s.hq_available()  # HQ event 1 committed while the query ran on an older snapshot
    s.hq_loaded([], 0)
    assert s.hq_request() == HqRequest("S001", 0, 500)
    s.hq_loaded([item(1)], 1)
    assert s.frames_to_send() == [HqBatch(items=[item(1)], upto=1)]


def test_empty_batch_moves_the_stores_cursor_past_other_stores_events() -> None:
    s = ready()
    s.hq_request()
    s.hq_loaded([], 7)
    assert s.frames_to_send() == [HqBatch(items=[], upto=7)]


def test_hq_loaded_after_close_sends_nothing() -> None:
    s = ready()
    s.hq_request()
    s.receive_disconnect()
    s.hq_loaded([item(1)], 1)
    assert s.frames_to_send() == []


def test_the_hq_ack_of_the_hello_is_saved_when_it_differs_from_centrals() -> None:
    s = session()
    s.receive_frame(hello(hq_cursor=4))
    assert s.hq_ack_to_save() is None  # nothing to compare with before the state is loaded
    s.state_loaded(0, hq_acked=2)
    assert s.hq_ack_to_save() == 4
    s.hq_ack_saved(4)
    assert s.hq_ack_to_save() is None


def test_an_hq_ack_is_saved_once() -> None:
    s = session()
    s.receive_frame(hello(hq_cursor=0))
    s.state_loaded(0, hq_acked=0)
    s.frames_to_send()
    assert s.hq_ack_to_save() is None
    assert s.hq_request() == HqRequest("S001", 0, s.hq_batch)
    s.hq_loaded([item(1), item(2)], 2)
    s.receive_frame(HqAck(cursor=2))
    assert s.hq_ack_to_save() == 2
    s.hq_ack_saved(2)
    assert s.hq_ack_to_save() is None


def test_without_the_saved_hq_ack_nothing_is_asked_to_be_saved() -> None:
    s = ready(hq_cursor=3)
    assert s.hq_ack_to_save() is None


def test_a_revoked_store_gets_no_more_hq_batches_and_is_closed_unauthorized() -> None:
    s = ready()
    assert s.hq_request() is not None
    s.hq_loaded([item(1)], 1)
    assert s.sends_hq
    s.revoked()
    frames = s.frames_to_send()
    assert not any(isinstance(f, HqBatch) for f in frames)
    assert frames[-1] == Error(
        code="unauthorized",
        message="store S001's credential was revoked or replaced",
        retryable=False,
    )
    assert s.state == "closed" and isinstance(s.close_with, Unauthorized)
    assert s.close_frame() == (4001, "store S001's credential was revoked or replaced")


def test_a_session_closed_without_an_error_closes_normally() -> None:
    s = ready()
    s.receive_disconnect()
    assert s.close_frame() == (1000, "")
