"""An event's envelope read from bytes that may not decode as any known event."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec
import pytest

from schema.events import encode
from schema.events.base import Event
from schema.events.envelope import Envelope, Peek, peek, read_envelope
from schema.events.store import StaffAdded

AT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
STAFF = StaffAdded(
    id=UUID(int=7),
    store_id="S001",
    seq=3,
    hlc=5 << 16,
    at=AT,
    actor="manager",
    device="t1",
    user_id=UUID(int=8),
    username="u8",
    display_name="王",
    role="clerk",
)


def test_the_envelope_has_every_field_an_event_carries_and_its_type() -> None:
    assert set(Envelope.__struct_fields__) == {"type", *Event.__struct_fields__}


def test_a_known_event_is_peeked_and_read() -> None:
    raw = encode(STAFF)
    assert peek(raw) == Peek("staff.added", "S001", 3, 5 << 16)
    envelope = read_envelope(raw)
    assert (envelope.type, envelope.id, envelope.seq, envelope.at) == (
        "staff.added",
        STAFF.id,
        3,
        AT,
    )


def test_an_event_of_a_newer_release_is_peeked_and_read() -> None:
    fields = msgspec.to_builtins(STAFF) | {"type": "from.the.future", "extra": [1, 2]}
    raw = msgspec.msgpack.encode(fields)
    assert peek(raw) == Peek("from.the.future", "S001", 3, 5 << 16)
    assert read_envelope(raw).type == "from.the.future"


def test_a_field_of_the_wrong_kind_hides_only_itself() -> None:
    raw = msgspec.msgpack.encode({"type": 5, "store_id": "S002", "seq": True, "hlc": "x"})
    assert peek(raw) == Peek(None, "S002", None, None)


@pytest.mark.parametrize(
    "raw",
    [
        b"\xc1",  # never valid msgpack
        msgspec.msgpack.encode([1, 2]),
        msgspec.msgpack.encode(7),
        b"\x81\xa4type\xa2\xff\xfe",  # {"type": <invalid UTF-8>}
        b"\x91" * 5000 + b"\x00",  # nested too deep
    ],
    ids=["garbage", "list", "int", "bad_utf8", "too_deep"],
)
def test_unreadable_bytes_peek_as_nothing_and_do_not_read(raw: bytes) -> None:
    assert peek(raw) == Peek(None, None, None, None)
    with pytest.raises(msgspec.DecodeError):
        read_envelope(raw)


def test_an_envelope_missing_a_field_does_not_read() -> None:
    fields = msgspec.to_builtins(STAFF)
    del fields["hlc"]
    with pytest.raises(msgspec.ValidationError, match="hlc"):
        read_envelope(msgspec.msgpack.encode(fields))
