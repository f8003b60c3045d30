"""The frames of the sync protocol: msgspec tagged unions carried as msgpack over websockets.

Events travel as ``msgspec.Raw``: the exact msgpack bytes the store logged. Central decodes
each one on its own, so one event it cannot read is quarantined without failing the batch.

Upload (store → central)::

    Hello(store_id, versions, hq_cursor) → Welcome(high_water)
    Push(first_seq, events)…             → Ack(seq)  |  Resend(from_seq)

Download (central → store)::

    HqBatch(items, upto)                 → HqAck(cursor)

Either side may send ``Error`` and close; ``Error.retryable`` says whether to reconnect.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

import msgspec

MAX_FRAME = 4 * 1024 * 1024
"""The largest frame either side accepts, in bytes (bigger ones are ``FrameTooLarge``)."""

PROTOCOL_VERSION = 1
"""Version of these frames and their rules. Central accepts this one and the previous one."""

NonNegative = Annotated[int, msgspec.Meta(ge=0)]
Positive = Annotated[int, msgspec.Meta(ge=1)]


class Frame(msgspec.Struct, frozen=True, tag_field="t", forbid_unknown_fields=False):
    """Base of every frame."""


# ------------------------------------------------------------------ store → central


class Hello(Frame, frozen=True, tag="hello"):
    """First frame of a connection: who the store is and which versions it speaks."""

    store_id: str
    protocol: int
    """``PROTOCOL_VERSION`` of the store's software."""
    schema: int
    """``schema.events.SCHEMA_VERSION`` of the store's software."""
    hq_cursor: NonNegative
    """The HQ log cursor up to which the store has applied HQ events."""
    local_seq: NonNegative = 0
    """The store's newest seq, for central's lag metrics."""


class Push(Frame, frozen=True, tag="push"):
    """A batch of consecutive store events: ``first_seq``, ``first_seq + 1``, …"""

    first_seq: Positive
    events: list[msgspec.Raw]
    """Each item is one event's msgpack bytes as logged by the store."""


class HqAck(Frame, frozen=True, tag="hq_ack"):
    """The store applied every HQ event up to this cursor, durably."""

    cursor: NonNegative


# ------------------------------------------------------------------ central → store


class Welcome(Frame, frozen=True, tag="welcome"):
    """Central accepted the hello; upload resumes after ``high_water``."""

    protocol: int
    schema: int
    high_water: NonNegative
    """Central holds every event of this store with ``seq <= high_water``."""


class Ack(Frame, frozen=True, tag="ack"):
    """Central durably holds every event of this store up to ``seq`` (contiguous)."""

    seq: NonNegative
    quarantined: NonNegative = 0
    """How many of the acknowledged events went to quarantine instead of being applied."""


class Resend(Frame, frozen=True, tag="resend"):
    """Central saw a gap: send again starting at ``from_seq``."""

    from_seq: Positive


class HqItem(msgspec.Struct, frozen=True, array_like=True):
    """One HQ event and its position in central's HQ log."""

    cursor: Positive
    event: msgspec.Raw


class HqBatch(Frame, frozen=True, tag="hq_batch"):
    """HQ events addressed to this store, in cursor order.

    ``upto`` is the cursor the store may record once it applied ``items``: it can be past the
    last item when central skipped HQ events addressed to other stores.
    """

    items: list[HqItem]
    upto: NonNegative


class Error(Frame, frozen=True, tag="error"):
    """The sender is closing the connection for this reason."""

    code: str
    message: str
    retryable: bool


ClientFrame = Union[Hello, Push, HqAck, Error]  # noqa: UP007 - msgspec needs a Union object
ServerFrame = Union[Welcome, Ack, Resend, HqBatch, Error]  # noqa: UP007
AnyFrame = Union[Hello, Push, HqAck, Welcome, Ack, Resend, HqBatch, Error]  # noqa: UP007

_encoder = msgspec.msgpack.Encoder()
_client_decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(ClientFrame)
_server_decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(ServerFrame)


def encode(frame: Frame) -> bytes:
    return _encoder.encode(frame)


def decode_client_frame(data: bytes) -> Hello | Push | HqAck | Error:
    """Decode a frame a store sent; raises ``msgspec.DecodeError`` (``ValidationError`` is one)
    and nothing else, whatever the bytes."""
    try:
        frame: Hello | Push | HqAck | Error = _client_decoder.decode(data)
    except UnicodeDecodeError as exc:
        raise _bad_text(exc) from exc
    except RecursionError:
        raise _too_deep() from None
    return frame


def decode_server_frame(data: bytes) -> Welcome | Ack | Resend | HqBatch | Error:
    """Decode a frame central sent; raises ``msgspec.DecodeError`` and nothing else."""
    try:
        frame: Welcome | Ack | Resend | HqBatch | Error = _server_decoder.decode(data)
    except UnicodeDecodeError as exc:
        raise _bad_text(exc) from exc
    except RecursionError:
        raise _too_deep() from None
    return frame


def _bad_text(exc: UnicodeDecodeError) -> msgspec.DecodeError:
    # msgspec lets invalid UTF-8 in a msgpack str escape as UnicodeDecodeError, which is not a
    # msgspec.DecodeError: adapters that catch only msgspec errors (as documented) would crash
    # the connection on such a frame instead of answering ProtocolViolation.
    return msgspec.DecodeError(f"invalid UTF-8 in a string: {exc.reason}")


def _too_deep() -> msgspec.DecodeError:
    # msgspec gives up on arrays or maps nested about a thousand deep (even inside a skipped
    # unknown field or an event carried as Raw) with a RecursionError: without this, such a
    # frame would kill the connection's reader (close 4500, no Error frame) instead of being
    # answered as the undecodable frame it is.
    return msgspec.DecodeError("frame nested too deeply to decode")
