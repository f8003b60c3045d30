"""Building a store's uploaded events for central's tests: real event types, encoded exactly as
a store node logs them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from schema.events import encode
from schema.events.conflicts import ConflictRecorded, ConflictResolved
from schema.events.store import StaffAdded, StoreConfigured
from sync.clock import pack

T0 = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


def envelope(store_id: str, seq: int, **over: Any) -> dict[str, Any]:
    at = T0 + timedelta(seconds=seq)
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "store_id": store_id,
        "seq": seq,
        "hlc": pack(int(at.timestamp() * 1000), 0),
        "at": at,
        "actor": "manager",
        "device": "test",
    }
    fields.update(over)
    return fields


def configured(store_id: str, seq: int = 1, **over: Any) -> bytes:
    return encode(
        StoreConfigured(
            **envelope(store_id, seq, **over), name="测试营业厅", region="east", tz="Asia/Shanghai"
        )
    )


def staff(store_id: str, seq: int, *, username: str | None = None, **over: Any) -> bytes:
    """A ``staff.added`` event (one row in ``staff`` when applied)."""
    return encode(
        StaffAdded(
            **envelope(store_id, seq, **over),
            user_id=uuid.uuid4(),
            username=username or f"clerk{seq}",
            display_name=f"clerk {seq}",
            role="clerk",
        )
    )


def conflict(store_id: str, seq: int, *, conflict_id: uuid.UUID, **over: Any) -> bytes:
    """A ``sync.conflict_recorded`` event: the store refused an HQ role change for a member
    its manager deactivated (one row in ``sync_conflicts`` when applied)."""
    payload: dict[str, Any] = {
        "entity": "staff",
        "entity_id": str(uuid.uuid4()),
        "reason": "staff_inactive",
        "detail": "wang.li left this store",
        "hq_event_id": uuid.uuid4(),
        "hq_event_type": "staff.role_changed",
        "hq_cursor": seq,
        "hq_actor": "hq.ops",
        "hq_at": T0,
    }
    payload.update({k: over.pop(k) for k in list(over) if k in payload})
    return encode(
        ConflictRecorded(
            **envelope(store_id, seq, actor="sync", device="node", **over),
            conflict_id=conflict_id,
            **payload,
        )
    )


def conflict_resolved(
    store_id: str, seq: int, *, conflict_id: uuid.UUID, by: str = "manager"
) -> bytes:
    """The store's manager resolved a conflict."""
    return encode(
        ConflictResolved(
            **envelope(store_id, seq, actor=by),
            conflict_id=conflict_id,
            note="已处理",
            resolved_by=by,
            side="store",
        )
    )


def log(store_id: str, first: int, count: int) -> list[bytes]:
    """Events ``first…first+count-1`` of a store: the configuration, then staff joining."""
    return [
        configured(store_id, seq) if seq == 1 else staff(store_id, seq)
        for seq in range(first, first + count)
    ]


def unknown_type(store_id: str, seq: int) -> bytes:
    """Valid msgpack an older central cannot read: an event type it does not know."""
    fields = envelope(store_id, seq)
    fields["id"] = str(fields["id"])
    return msgspec.msgpack.encode({"type": "ticket.teleported", **fields})
