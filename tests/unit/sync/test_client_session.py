"""The store side of a connection: what it sends, when, and what it refuses."""

from __future__ import annotations

import msgspec
import pytest

from sync.client import ClientSession, HqToApply, OutboxRequest
from sync.errors import FrameTooLarge, LogBehind, ProtocolViolation, SyncError, Unavailable
from sync.frames import (
    PROTOCOL_VERSION,
    Ack,
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

SCHEMA = 3


def body(seq: int) -> bytes:
    return msgspec.msgpack.encode({"seq": seq})


def records(first: int, last: int) -> list[tuple[int, bytes]]:
    return [(seq, body(seq)) for seq in range(first, last + 1)]


def item(cursor: int) -> HqItem:
    return HqItem(cursor, msgspec.Raw(msgspec.msgpack.encode({"hq": cursor})))


def session(*, local_seq: int = 0, hq_cursor: int = 0, **kw: int) -> ClientSession:
    return ClientSession("S001", schema=SCHEMA, hq_cursor=hq_cursor, local_seq=local_seq, **kw)


def ready(high_water: int = 0, **kw: int) -> ClientSession:
    """A session that said hello and was welcomed at ``high_water``."""
    s = session(**kw)
    s.connected()
    s.frames_to_send()
    s.receive_frame(Welcome(protocol=PROTOCOL_VERSION, schema=SCHEMA, high_water=high_water))
    return s


def send_next(s: ClientSession) -> Push:
    """Answer the session's outbox request from a log of seqs 1..local_seq; the Push it makes."""
    req = s.outbox_request()
    assert req is not None
    last = min(s.local_seq, req.after_seq + req.max_count)
    s.outbox_read(records(req.after_seq + 1, last))
    (push,) = s.frames_to_send()
    assert isinstance(push, Push)
    return push


def seqs(push: Push) -> list[int]:
    return list(range(push.first_seq, push.first_seq + len(push.events)))


# ------------------------------------------------------------------ hello and welcome


def test_connected_says_hello_with_versions_and_positions() -> None:
    s = session(local_seq=12, hq_cursor=5)
    s.connected()
    assert s.frames_to_send() == [
        Hello(store_id="S001", protocol=PROTOCOL_VERSION, schema=SCHEMA, hq_cursor=5, local_seq=12)
    ]
    assert s.frames_to_send() == []


def test_a_session_serves_one_connection() -> None:
    s = session()
    s.connected()
    with pytest.raises(RuntimeError):
        s.connected()


@pytest.mark.parametrize(
    "frame",
    [Ack(seq=0), Resend(from_seq=1), HqBatch(items=[], upto=1)],
    ids=lambda f: type(f).__name__,
)
def test_frames_before_welcome_are_protocol_violations(frame: Ack | Resend | HqBatch) -> None:
    s = session(local_seq=3)
    s.connected()
    with pytest.raises(ProtocolViolation) as info:
        s.receive_frame(frame)
    assert (info.value.code, info.value.close_code, info.value.retryable) == (
        "protocol_violation",
        4003,
        False,
    )


def test_welcome_twice_is_a_protocol_violation() -> None:
    s = ready()
    with pytest.raises(ProtocolViolation):
        s.receive_frame(Welcome(protocol=PROTOCOL_VERSION, schema=SCHEMA, high_water=0))


def test_nothing_is_read_before_welcome() -> None:
    s = session(local_seq=5)
    assert s.outbox_request() is None
    s.connected()
    assert s.outbox_request() is None


def test_upload_resumes_after_centrals_high_water() -> None:
    s = ready(high_water=7, local_seq=10)
    assert s.acked == 7
    assert seqs(send_next(s)) == [8, 9, 10]


def test_nothing_to_send_when_central_holds_the_whole_log() -> None:
    s = ready(high_water=4, local_seq=4)
    assert s.outbox_request() is None
    assert s.caught_up


# ------------------------------------------------------------------ upload


def test_push_carries_the_logged_bytes_in_seq_order() -> None:
    s = ready(local_seq=3)
    push = send_next(s)
    assert push.first_seq == 1
    assert [bytes(e) for e in push.events] == [body(1), body(2), body(3)]


def test_outbox_request_carries_the_batch_limits() -> None:
    s = ready(local_seq=50, batch_count=7, batch_bytes=999)
    assert s.outbox_request() == OutboxRequest(after_seq=0, max_count=7, max_bytes=999)


def test_one_outbox_read_at_a_time() -> None:
    s = ready(local_seq=50, batch_count=5)
    assert s.outbox_request() is not None
    assert s.outbox_request() is None  # the first read has not answered
    s.outbox_read(records(1, 5))
    assert s.outbox_request() == OutboxRequest(5, 5, 512 * 1024)


def test_an_empty_read_sends_nothing_and_may_be_asked_again() -> None:
    s = ready(local_seq=3)
    assert s.outbox_request() is not None
    s.outbox_read([])
    assert s.frames_to_send() == []
    assert s.outbox_request() is not None


def test_outbox_records_must_be_consecutive() -> None:
    s = ready(local_seq=3)
    assert s.outbox_request() is not None
    with pytest.raises(ValueError):
        s.outbox_read([(1, body(1)), (3, body(3))])


def test_window_limits_unacknowledged_pushes() -> None:
    s = ready(local_seq=100, batch_count=10, window=3)
    pushes = [send_next(s) for _ in range(3)]
    assert [p.first_seq for p in pushes] == [1, 11, 21]
    assert s.outbox_request() is None  # three in flight
    s.receive_frame(Ack(seq=10))  # frees one slot
    assert seqs(send_next(s))[0] == 31
    assert s.outbox_request() is None


def test_an_ack_frees_every_push_it_covers() -> None:
    s = ready(local_seq=100, batch_count=10, window=3)
    for _ in range(3):
        send_next(s)
    s.receive_frame(Ack(seq=25))  # covers the first two pushes, not the third
    send_next(s)
    send_next(s)
    assert s.outbox_request() is None


def test_acks_advance_acked_and_never_lower_it() -> None:
    s = ready(local_seq=20, batch_count=10)
    send_next(s)
    send_next(s)
    s.receive_frame(Ack(seq=20))
    s.receive_frame(Ack(seq=10))  # a late, smaller ack changes nothing
    assert s.acked == 20
    assert s.caught_up


def test_quarantined_counts_add_up() -> None:
    s = ready(local_seq=20, batch_count=10)
    send_next(s)
    send_next(s)
    s.receive_frame(Ack(seq=10, quarantined=2))
    s.receive_frame(Ack(seq=20, quarantined=1))
    assert s.quarantined == 3


def test_an_ack_beyond_what_this_connection_sent_skips_ahead() -> None:
    """An ingest of an earlier connection can commit while this one runs: central holds more
    than this connection sent. The store must not send those again, nor refuse the ack (the
    refusal used to close the connection with a non-retryable error)."""
    s = ready(local_seq=30, batch_count=5, window=4)
    assert seqs(send_next(s)) == [1, 2, 3, 4, 5]
    stale = s.outbox_request()  # a read of 6.. is running when the ack arrives
    assert stale is not None
    s.receive_frame(Ack(seq=15))
    assert s.acked == 15
    s.outbox_read(records(6, 10))  # the answer to the stale read is dropped
    assert s.frames_to_send() == []
    assert s.outbox_request() == OutboxRequest(15, 5, 512 * 1024)


def test_an_ack_beyond_the_log_is_a_protocol_violation() -> None:
    s = ready(local_seq=5)
    send_next(s)
    with pytest.raises(ProtocolViolation):
        s.receive_frame(Ack(seq=6))


def test_local_appended_grows_the_log_and_never_shrinks_it() -> None:
    s = ready(local_seq=2)
    send_next(s)
    s.receive_frame(Ack(seq=2))
    assert s.caught_up and s.outbox_request() is None
    s.local_appended(4)
    s.local_appended(3)
    assert s.local_seq == 4
    assert not s.caught_up
    assert seqs(send_next(s)) == [3, 4]


# ------------------------------------------------------------------ resend


def test_resend_rewinds_to_the_requested_seq() -> None:
    s = ready(local_seq=40, batch_count=10, window=4)
    for _ in range(3):
        send_next(s)
    s.receive_frame(Resend(from_seq=11))
    assert seqs(send_next(s))[0] == 11
    assert s.acked == 0


def test_resend_empties_the_window() -> None:
    """Pushes in flight at the rewind will be ignored by central: they no longer count."""
    s = ready(local_seq=100, batch_count=10, window=2)
    send_next(s)
    send_next(s)
    assert s.outbox_request() is None
    s.receive_frame(Resend(from_seq=11))
    assert send_next(s).first_seq == 11
    assert send_next(s).first_seq == 21


def test_a_read_running_during_a_rewind_is_dropped() -> None:
    s = ready(local_seq=40, batch_count=10, window=4)
    send_next(s)
    assert s.outbox_request() == OutboxRequest(10, 10, 512 * 1024)
    s.receive_frame(Resend(from_seq=4))
    s.outbox_read(records(11, 20))  # answers the read from before the rewind
    assert s.frames_to_send() == []
    assert s.outbox_request() == OutboxRequest(3, 10, 512 * 1024)


# ------------------------------------------------------------------ download


def test_hq_batch_is_applied_before_it_is_acknowledged() -> None:
    s = ready()
    s.receive_frame(HqBatch(items=[item(1), item(3)], upto=4))
    assert s.frames_to_send() == []  # nothing until the store applied it
    todo = s.hq_to_apply()
    assert todo == HqToApply([item(1), item(3)], 4)
    assert s.frames_to_send() == []
    s.hq_applied(4)
    assert s.frames_to_send() == [HqAck(cursor=4)]
    assert s.hq_cursor == 4


def test_hq_batches_are_applied_one_at_a_time_in_order() -> None:
    s = ready()
    s.receive_frame(HqBatch(items=[item(1)], upto=1))
    s.receive_frame(HqBatch(items=[item(2)], upto=2))
    first = s.hq_to_apply()
    assert first is not None and first.upto == 1
    assert s.hq_to_apply() is None  # the first one is still being applied
    assert not s.caught_up
    s.hq_applied(1)
    second = s.hq_to_apply()
    assert second is not None and second.upto == 2
    s.hq_applied(2)
    assert s.frames_to_send() == [HqAck(cursor=1), HqAck(cursor=2)]
    assert s.caught_up


def test_stale_hq_batch_is_ignored() -> None:
    s = ready(hq_cursor=5)
    s.receive_frame(HqBatch(items=[item(4), item(5)], upto=5))
    assert s.hq_to_apply() is None


def test_duplicate_of_a_queued_hq_batch_is_ignored() -> None:
    """A batch received again before the first copy was applied must not be applied twice."""
    s = ready()
    batch = HqBatch(items=[item(1), item(2)], upto=2)
    s.receive_frame(batch)
    s.receive_frame(batch)
    s.receive_frame(HqBatch(items=[item(2), item(3)], upto=3))  # overlaps the first
    first = s.hq_to_apply()
    assert first is not None
    s.hq_applied(first.upto)
    second = s.hq_to_apply()
    assert second == HqToApply([item(3)], 3)
    s.hq_applied(3)
    assert s.hq_to_apply() is None


def test_hq_items_at_or_below_the_cursor_are_dropped() -> None:
    s = ready(hq_cursor=2)
    s.receive_frame(HqBatch(items=[item(2), item(3)], upto=3))
    assert s.hq_to_apply() == HqToApply([item(3)], 3)


def test_an_empty_hq_batch_still_moves_the_cursor() -> None:
    """HQ events for other stores only: the store records the cursor past them."""
    s = ready(hq_cursor=2)
    s.receive_frame(HqBatch(items=[], upto=9))
    todo = s.hq_to_apply()
    assert todo == HqToApply([], 9)
    s.hq_applied(9)
    assert s.frames_to_send() == [HqAck(cursor=9)]


def test_hq_applied_after_the_connection_closed_sends_nothing() -> None:
    s = ready()
    s.receive_frame(HqBatch(items=[item(1)], upto=1))
    assert s.hq_to_apply() is not None
    s.receive_disconnect()
    s.hq_applied(1)
    assert s.hq_cursor == 1  # the next Hello carries it
    assert s.frames_to_send() == []


# ------------------------------------------------------------------ the end


def test_error_frame_closes_the_session() -> None:
    s = ready(local_seq=5)
    error = Error(code="unavailable", message="later", retryable=True)
    s.receive_frame(error)
    assert s.state == "closed" and s.error == error
    s.receive_frame(Ack(seq=99))  # ignored: nothing can happen on a closed session
    assert s.acked == 0
    assert s.outbox_request() is None
    assert not s.caught_up


def test_an_error_frame_stands_for_its_error_and_sends_nothing() -> None:
    s = ready(local_seq=5)
    s.receive_data(encode(Error(code="unavailable", message="later", retryable=True)))
    assert isinstance(s.close_with, Unavailable) and s.close_with.retryable
    assert s.error is not None and s.frames_to_send() == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ("welcome", ProtocolViolation),  # a text frame
        (b"\xc1", ProtocolViolation),  # never valid msgpack
        (msgspec.msgpack.encode({"t": "push", "first_seq": 1, "events": []}), ProtocolViolation),
        (encode(Ack(seq=1)), ProtocolViolation),  # before welcome
        (b"\x00" * 101, FrameTooLarge),
    ],
    ids=["text", "undecodable", "wrong_direction", "out_of_order", "too_large"],
)
def test_messages_the_store_refuses_tell_central_why(
    data: bytes | str, error: type[SyncError]
) -> None:
    s = session(local_seq=3, max_frame=100)
    s.connected()
    s.frames_to_send()
    s.receive_data(data)
    assert s.state == "closed" and isinstance(s.close_with, error) and s.error is None
    assert s.frames_to_send() == [
        Error(code=error.code, message=s.close_with.message, retryable=False)
    ]


def test_a_welcome_beyond_the_nodes_log_is_log_behind() -> None:
    s = session(local_seq=3)
    s.connected()
    s.frames_to_send()
    s.receive_data(encode(Welcome(protocol=PROTOCOL_VERSION, schema=SCHEMA, high_water=4)))
    assert isinstance(s.close_with, LogBehind) and "--restore" in s.close_with.message
    assert [f.code for f in s.frames_to_send() if isinstance(f, Error)] == ["log_behind"]
    assert s.outbox_request() is None


def test_disconnect_closes_the_session() -> None:
    s = ready(local_seq=5)
    s.receive_disconnect()
    assert s.state == "closed"
    assert s.outbox_request() is None
