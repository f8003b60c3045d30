"""All event types, gathered into one tagged union decoded in one place.

Each domain module lists its event classes in ``EVENTS``; this module joins them so that the
event log, the projections and sync decode exactly the same set.
"""

from __future__ import annotations

from typing import Any, Union

import msgspec

from schema.events import complaints, conflicts, inventory, ops, queue, shifts, store
from schema.events.base import Event

SCHEMA_VERSION = 1
"""Version of the event schema as a whole; sync peers accept this one and the previous one."""

EVENT_TYPES: tuple[type[Event], ...] = (
    *store.EVENTS,
    *queue.EVENTS,
    *inventory.EVENTS,
    *shifts.EVENTS,
    *complaints.EVENTS,
    *ops.EVENTS,
    *conflicts.EVENTS,
)

# msgspec decodes a tagged union into the right subclass by its ``type`` field.
AnyEvent: Any = Union[EVENT_TYPES]  # noqa: UP007 - built at run time from the registry

_msgpack_decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(AnyEvent)
_msgpack_encoder = msgspec.msgpack.Encoder()


def encode(event: Event) -> bytes:
    """The canonical msgpack bytes of one event (what the log stores and sync carries)."""
    return _msgpack_encoder.encode(event)


def decode(data: bytes) -> Event:
    """Decode one event from msgpack; raises a ``msgspec.DecodeError`` (or its subclass
    ``ValidationError``) on unknown or bad data, and nothing else."""
    try:
        event: Event = _msgpack_decoder.decode(data)
    except UnicodeDecodeError as exc:  # invalid UTF-8 in a string: bad data like any other
        raise msgspec.DecodeError(f"invalid UTF-8 in event: {exc.reason}") from exc
    except RecursionError:  # nested about a thousand deep: msgspec gives up, not a DecodeError
        raise msgspec.DecodeError("event nested too deeply to decode") from None
    return event


def tag_of(event: Event | type[Event]) -> str:
    """The stable type name of an event, e.g. ``"ticket.issued"``."""
    tag = event.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


BY_TAG: dict[str, type[Event]] = {tag_of(t): t for t in EVENT_TYPES}
"""Event class by its stable type name."""

__all__ = [
    "BY_TAG",
    "EVENT_TYPES",
    "SCHEMA_VERSION",
    "AnyEvent",
    "Event",
    "decode",
    "encode",
    "tag_of",
]
