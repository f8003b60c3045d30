"""The event envelope shared by every domain event.

An event is one immutable fact a store (or HQ) recorded. Every write a tablet makes becomes one
or more events; state everywhere is a fold of them. The envelope fields are the same for all
events; each domain adds its payload fields in a subclass with a stable ``tag``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

FREE_TEXT = "free_text"

FreeText = Annotated[str, msgspec.Meta(extra={FREE_TEXT: True})]
"""Text a person typed (a note, a description, a reason, a name, a reference). Before such a field
is recorded, phone and ID numbers in it are masked (``server.domain.stamp``), so none
reaches the log, the sync or an answer.

The rule for a text field: it is ``FreeText`` unless the system relies on its exact value, as an
identifier it matches, joins on or hands to another system (user names, store ids, SKUs, window
and checklist codes, IMEI/ICCID serials, numbers the node makes up) or it holds a value already
masked or hashed. Names, labels and typed references are free text even though they look
structured: nothing keys on them, and masking is deterministic, so the same typed reference
still matches itself (a transfer note quoted by the receiving store)."""


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Envelope: identity, origin, order and time of one fact.

    Subclasses declare ``tag="domain.verb"``; unknown fields are ignored on decode so an older
    reader tolerates a newer writer's additions.
    """

    id: UUID
    """UUIDv7 generated where the fact was recorded; the global idempotency key."""
    store_id: str
    """The store the fact belongs to (HQ events use the addressed store or ``"*"``)."""
    seq: int
    """Gapless position in the store node's log, assigned on append (1, 2, 3, …)."""
    hlc: int
    """Hybrid logical clock: ``physical_ms << 16 | logical``; orders facts across store and HQ."""
    at: datetime
    """Store wall-clock time of the fact, UTC-aware; used for business metrics."""
    actor: str
    """User name of who did it (``"system"`` for the node itself)."""
    device: str
    """Device or client that sent the request (tablet id, ``"cli"``, ``"node"``)."""
    v: int = 1
    """Payload version of this event type."""
