"""Making an event: its envelope filled in, its staff-typed text masked. The one way events
are made, by a store node (``EventLog.append``, from ``Ctx.emit``) and by HQ on central
(``server.central.hq.publish``), so both carry the same envelope, stamped the same way.

The envelope (``schema.events.base.Event``): ``id`` a fresh UUIDv7; ``store_id`` and ``seq``
given by the log the event goes to (a store's own log: its id and the next seq; central's HQ
log: ``*`` and 0); ``hlc`` the next tick of the caller's hybrid logical clock at ``now``;
``at`` the time of the command, UTC; ``actor`` and ``device`` who and what recorded it; ``v``
the event type's version.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, TypeVar

import msgspec
from uuid_utils.compat import uuid7

from schema.events import Event
from schema.events.base import FREE_TEXT
from server.privacy import redact_text
from sync.clock import HybridClock

E = TypeVar("E", bound=Event)


def stamp(
    event_type: type[E],
    payload: dict[str, Any],
    *,
    store_id: str,
    seq: int,
    clock: HybridClock,
    now: datetime,
    actor: str,
    device: str,
) -> E:
    """A new event of ``event_type`` with ``payload`` (masked in place, ``redact_free_text``)
    and its envelope; advances ``clock``."""
    redact_free_text(event_type, payload)
    return event_type(
        id=uuid7(),
        store_id=store_id,
        seq=seq,
        hlc=clock.now(int(now.timestamp() * 1000)),
        at=now,
        actor=actor,
        device=device,
        **payload,
    )


# ------------------------------------------------------------------ staff-typed text


def _is_free_text(t: msgspec.inspect.Type) -> bool:
    if isinstance(t, msgspec.inspect.Metadata):
        return bool((t.extra or {}).get(FREE_TEXT)) or _is_free_text(t.type)
    if isinstance(t, msgspec.inspect.UnionType):
        return any(_is_free_text(u) for u in t.types)
    if isinstance(t, msgspec.inspect.ListType):
        return _is_free_text(t.item_type)
    return False


@functools.cache
def free_text_fields(event_type: type[Event]) -> tuple[str, ...]:
    """Names of the fields of an event type that hold staff-typed text (``FreeText``)."""
    info = msgspec.inspect.type_info(event_type)
    assert isinstance(info, msgspec.inspect.StructType)
    return tuple(f.name for f in info.fields if _is_free_text(f.type))


def redact_free_text(event_type: type[Event], payload: dict[str, Any]) -> None:
    """Mask phone and ID numbers in the staff-typed text fields of an event's payload, in
    place: for every event a node or HQ records."""
    for name in free_text_fields(event_type):
        if name in payload:
            payload[name] = _redacted(payload[name])


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list | tuple):
        return type(value)(redact_text(v) if isinstance(v, str) else v for v in value)
    return value
