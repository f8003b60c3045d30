"""Every event, a store's or HQ's, is stamped in one place: the envelope and the masking."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from schema.events.store import StaffAdded
from server.domain.stamp import stamp
from sync.clock import HybridClock, unpack

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _payload() -> dict[str, object]:
    return {
        "user_id": uuid4(),
        "username": "li.na",
        "display_name": "李娜 13812345678",
        "role": "clerk",
    }


def test_the_envelope_is_filled_in_from_the_log_and_the_clock() -> None:
    clock = HybridClock(0)
    first = stamp(
        StaffAdded, _payload(), store_id="S001", seq=7, clock=clock, now=NOW, actor="boss",
        device="tablet-3",
    )  # fmt: skip
    assert (first.store_id, first.seq, first.at, first.actor, first.device) == (
        "S001", 7, NOW, "boss", "tablet-3",
    )  # fmt: skip
    assert first.id.version == 7
    assert unpack(first.hlc)[0] == int(NOW.timestamp() * 1000)
    # Same wall-clock millisecond: the clock still moves on, so events stay ordered.
    hq = stamp(
        StaffAdded, _payload(), store_id="*", seq=0, clock=clock, now=NOW, actor="hq-admin",
        device="hq",
    )  # fmt: skip
    assert hq.hlc > first.hlc and hq.id != first.id


def test_typed_numbers_are_masked_in_the_event_and_its_payload() -> None:
    payload = _payload()
    event = stamp(
        StaffAdded, payload, store_id="S001", seq=1, clock=HybridClock(), now=NOW, actor="boss",
        device="tablet-3",
    )  # fmt: skip
    assert "13812345678" not in event.display_name
    assert event.display_name.startswith("李娜 ")
    assert payload["display_name"] == event.display_name
