"""Frames survive the wire exactly, and any bytes at all decode or fail with a msgspec error."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.events import decode as decode_event
from sync.frames import (
    PROTOCOL_VERSION,
    Ack,
    Error,
    Frame,
    Hello,
    HqAck,
    HqBatch,
    HqItem,
    Push,
    Resend,
    Welcome,
    decode_client_frame,
    decode_server_frame,
    encode,
)

EVENT = msgspec.msgpack.encode({"type": "staff.added", "seq": 1, "name": "王"})
OPAQUE = msgspec.msgpack.encode([1, {"b": b"\x00\xff"}, None])

CLIENT_FRAMES: list[Frame] = [
    Hello(store_id="S001", protocol=PROTOCOL_VERSION, schema=1, hq_cursor=7, local_seq=42),
    Push(first_seq=3, events=[msgspec.Raw(EVENT), msgspec.Raw(OPAQUE)]),
    HqAck(cursor=9),
    Error(code="protocol_violation", message="welcome twice", retryable=False),
]
SERVER_FRAMES: list[Frame] = [
    Welcome(protocol=PROTOCOL_VERSION, schema=1, high_water=41),
    Ack(seq=41, quarantined=2),
    Resend(from_seq=5),
    HqBatch(items=[HqItem(3, msgspec.Raw(EVENT)), HqItem(8, msgspec.Raw(OPAQUE))], upto=11),
    HqBatch(items=[], upto=12),
    Error(code="unavailable", message="later", retryable=True),
]


def _same(a: Frame, b: Frame) -> bool:
    """Frames are equal, comparing Raw payloads by their bytes."""
    return encode(a) == encode(b) and type(a) is type(b)


@pytest.mark.parametrize("frame", CLIENT_FRAMES, ids=lambda f: type(f).__name__)
def test_client_frames_round_trip(frame: Frame) -> None:
    back = decode_client_frame(encode(frame))
    assert _same(back, frame)


@pytest.mark.parametrize("frame", SERVER_FRAMES, ids=lambda f: type(f).__name__)
def test_server_frames_round_trip(frame: Frame) -> None:
    back = decode_server_frame(encode(frame))
    assert _same(back, frame)


def test_event_bytes_travel_unchanged() -> None:
    """Central quarantines exactly what the store logged, so the bytes must not be re-encoded."""
    push = decode_client_frame(encode(Push(first_seq=1, events=[msgspec.Raw(EVENT)])))
    assert isinstance(push, Push)
    assert bytes(push.events[0]) == EVENT
    batch = decode_server_frame(encode(HqBatch(items=[HqItem(1, msgspec.Raw(OPAQUE))], upto=1)))
    assert isinstance(batch, HqBatch)
    assert bytes(batch.items[0].event) == OPAQUE


def test_hello_local_seq_defaults_to_zero() -> None:
    """An older store that does not send ``local_seq`` is still understood."""
    data = msgspec.msgpack.encode(
        {"t": "hello", "store_id": "S001", "protocol": 1, "schema": 1, "hq_cursor": 0}
    )
    hello = decode_client_frame(data)
    assert isinstance(hello, Hello) and hello.local_seq == 0


def test_unknown_fields_are_tolerated() -> None:
    """A newer peer may add fields; an older one ignores them."""
    data = msgspec.msgpack.encode({"t": "ack", "seq": 5, "quarantined": 1, "lag_ms": 12})
    assert decode_server_frame(data) == Ack(seq=5, quarantined=1)


@pytest.mark.parametrize("frame", [f for f in SERVER_FRAMES if not isinstance(f, Error)])
def test_a_store_never_accepts_a_central_frame_as_its_own(frame: Frame) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_client_frame(encode(frame))


@pytest.mark.parametrize("frame", [f for f in CLIENT_FRAMES if not isinstance(f, Error)])
def test_central_never_accepts_a_store_frame_as_its_own(frame: Frame) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_server_frame(encode(frame))


@pytest.mark.parametrize(
    "fields",
    [
        {"t": "push", "first_seq": 0, "events": []},  # seqs start at 1
        {"t": "hq_ack", "cursor": -1},
        {"t": "hello", "store_id": "S001", "protocol": 1, "schema": 1, "hq_cursor": -3},
        {"t": "hello", "store_id": 7, "protocol": 1, "schema": 1, "hq_cursor": 0},
        {"t": "teleport"},
        {"seq": 1},  # no tag
    ],
)
def test_malformed_client_frames_are_validation_errors(fields: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_client_frame(msgspec.msgpack.encode(fields))


@pytest.mark.parametrize(
    "fields",
    [
        {"t": "resend", "from_seq": 0},
        {"t": "welcome", "protocol": 1, "schema": 1, "high_water": -1},
        {"t": "hq_batch", "items": [[0, 1]], "upto": 1},  # cursors start at 1
        {"t": "hq_batch", "items": [{"cursor": 1, "event": 1}], "upto": 1},  # items are arrays
        {"t": "error", "code": "x", "message": "y"},  # retryable is required
    ],
)
def test_malformed_server_frames_are_validation_errors(fields: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_server_frame(msgspec.msgpack.encode(fields))


def _decodes_or_msgspec_error(data: bytes) -> None:
    for decode in (decode_client_frame, decode_server_frame):
        with contextlib.suppress(msgspec.DecodeError):  # ValidationError is a DecodeError
            decode(data)


@given(st.binary(max_size=512))
def test_garbage_bytes_raise_only_msgspec_errors(data: bytes) -> None:
    _decodes_or_msgspec_error(data)


msgpack_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.sampled_from(["t", "events"]), inner, max_size=4)
    ),
    max_leaves=12,
)
frame_tags = st.sampled_from(
    ["hello", "push", "hq_ack", "welcome", "ack", "resend", "hq_batch", "error", "nope"]
)


@given(frame_tags, st.dictionaries(st.text(max_size=12), msgpack_values, max_size=6))
def test_well_formed_msgpack_of_the_wrong_shape_raises_only_msgspec_errors(
    tag: str, fields: dict[str, Any]
) -> None:
    """Valid msgpack with a real tag and random fields: the likeliest garbage from a buggy
    peer. It decodes to a frame or fails with a msgspec error, never anything else."""
    _decodes_or_msgspec_error(msgspec.msgpack.encode({**fields, "t": tag}))


@given(st.sampled_from(CLIENT_FRAMES + SERVER_FRAMES), st.data())
def test_truncated_or_corrupted_frames_raise_only_msgspec_errors(
    frame: Frame, data: st.DataObject
) -> None:
    wire = bytearray(encode(frame))
    cut = data.draw(st.integers(0, len(wire)))
    _decodes_or_msgspec_error(bytes(wire[:cut]))
    at = data.draw(st.integers(0, len(wire) - 1))
    wire[at] = data.draw(st.integers(0, 255))
    _decodes_or_msgspec_error(bytes(wire))


def test_deeply_nested_garbage_raises_a_msgspec_error() -> None:
    """A hostile frame nested far beyond any real one must not blow the interpreter's stack."""
    _decodes_or_msgspec_error(b"\x91" * 100_000 + b"\xc0")
    _decodes_or_msgspec_error(b"\x81\xa1t" * 50_000 + b"\xc0")


def _nested(depth: int, kind: str) -> bytes:
    """A msgpack value nested ``depth`` deep: arrays of one, maps of one, or both in turn."""
    array, mapping = b"\x91", b"\x81\xa1k"
    layers = {"array": array * depth, "map": mapping * depth, "mixed": (array + mapping) * depth}
    return layers[kind] + b"\xc0"


def _with_field(frame: dict[str, Any], name: str, value: bytes) -> bytes:
    """``frame`` encoded with one more field whose value is the raw msgpack ``value``."""
    wire = msgspec.msgpack.encode(frame)
    assert 0x80 <= wire[0] < 0x8F  # a fixmap: one more entry fits in its header
    return bytes([wire[0] + 1]) + wire[1:] + msgspec.msgpack.encode(name) + value


HELLO = {"t": "hello", "store_id": "S001", "protocol": 1, "schema": 1, "hq_cursor": 0}


@given(
    st.integers(min_value=1, max_value=64) | st.integers(min_value=900, max_value=3_000),
    st.sampled_from(["array", "map", "mixed"]),
    st.sampled_from(["unknown_field", "event", "hq_event", "top"]),
)
def test_nesting_at_any_depth_anywhere_raises_only_the_decode_error(
    depth: int, kind: str, where: str
) -> None:
    """However deep a structure sits (a field a newer peer might add, an event carried raw, the
    frame itself), decoding answers a frame or ``msgspec.DecodeError``: never a RecursionError,
    which would kill the connection's reader instead of answering ProtocolViolation."""
    value = _nested(depth, kind)
    if where == "unknown_field":
        data = _with_field(HELLO, "future", value)
    elif where == "event":
        data = b"\x83" + b"".join(
            msgspec.msgpack.encode(x) for x in ("t", "push", "first_seq", 1, "events")
        )
        data += b"\x91" + value
    elif where == "hq_event":
        data = b"\x83" + b"".join(
            msgspec.msgpack.encode(x) for x in ("t", "hq_batch", "upto", 1, "items")
        )
        data += b"\x91\x92\x01" + value
    else:
        data = value
    _decodes_or_msgspec_error(data)
    with contextlib.suppress(msgspec.DecodeError):
        decode_event(value)


def test_a_frame_nested_a_thousand_deep_is_a_decode_error() -> None:
    """The cases of the report: a hello carrying a field nested 1,000 deep, and a push whose
    event is; both are undecodable frames, which the adapters answer with ProtocolViolation."""
    for data in (
        _with_field(HELLO, "future", _nested(1_000, "array")),
        encode(Push(first_seq=1, events=[msgspec.Raw(_nested(1_000, "map"))])),
    ):
        with pytest.raises(msgspec.DecodeError):
            decode_client_frame(data)
    with pytest.raises(msgspec.DecodeError):
        decode_event(_nested(1_000, "map"))
