"""An event's envelope, read from its msgpack bytes without decoding its payload.

Sync, ingest, quarantine and restore handle event bytes that this software may not be able to
decode as any event it knows (a type from a newer release, a bad payload, garbage): what they
need from such bytes is the envelope, and this is the one place that reads it.

- ``peek(raw)`` never raises: the envelope fields it could read (``type``, ``store_id``,
  ``seq``, ``hlc``), each None when absent or not of its kind. For labels and quick checks
  (which store an uploaded event claims, the type to record for an event in quarantine).
- ``read_envelope(raw)`` is strict: the whole envelope, validated, or ``msgspec.DecodeError``.
  For writing the log row of an event whose payload may be unknown here (restore).

The fields and their meaning are those of ``schema.events.base.Event``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec


class Peek(NamedTuple):
    """What ``peek`` could read of an event's envelope; None where it could not."""

    type: str | None
    store_id: str | None
    seq: int | None
    hlc: int | None


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """The envelope of a logged event: enough to store its row even if its payload is unknown."""

    type: str
    id: UUID
    store_id: str
    seq: int
    hlc: int
    at: datetime
    actor: str
    device: str
    v: int = 1


class _Loose(msgspec.Struct):
    # Any: a field of the wrong kind must not hide the others (each is checked on its own).
    type: Any = None
    store_id: Any = None
    seq: Any = None
    hlc: Any = None


_NOTHING = Peek(None, None, None, None)
_loose = msgspec.msgpack.Decoder(_Loose)
_strict = msgspec.msgpack.Decoder(Envelope)


def peek(raw: bytes) -> Peek:
    """The envelope fields readable in ``raw``; all None when it is not a msgpack map."""
    try:
        found = _loose.decode(raw)
    # Invalid UTF-8 and nesting too deep escape msgspec as other errors: still unreadable.
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return _NOTHING
    return Peek(_text(found.type), _text(found.store_id), _integer(found.seq), _integer(found.hlc))


def read_envelope(raw: bytes) -> Envelope:
    """The whole envelope of an event; raises ``msgspec.DecodeError`` (``ValidationError`` is
    one) when a field is missing or not of its type, and nothing else."""
    try:
        envelope: Envelope = _strict.decode(raw)
    except UnicodeDecodeError as exc:
        raise msgspec.DecodeError(f"invalid UTF-8 in event: {exc.reason}") from exc
    except RecursionError:
        raise msgspec.DecodeError("event nested too deeply to decode") from None
    return envelope


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value: object) -> int | None:
    # msgpack booleans decode as bool, an int subclass; an envelope's numbers are never one.
    return value if isinstance(value, int) and not isinstance(value, bool) else None
