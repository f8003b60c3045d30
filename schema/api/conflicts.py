"""REST types of sync conflicts: HQ events a store refused after merge, listed and resolved by
the hall manager on the node (``/api/v1/sync/conflicts``) and by HQ on central
(``/api/v1/hq/conflicts``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from schema.events.conflicts import ConflictEntity, ConflictReason, ResolvedBy

Note = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]

ConflictStatus = Literal["open", "resolved"]
"""A conflict is ``open`` until someone resolves it, on the node or at HQ."""


class HqEventRef(msgspec.Struct, frozen=True, kw_only=True):
    """The HQ event the store refused (kept in its ``hq_log``, unapplied)."""

    id: UUID
    type: str
    """E.g. ``staff.role_changed``."""
    cursor: int
    """Its position in central's HQ log."""
    actor: str
    """The HQ user who published it."""
    at: datetime
    """When HQ published it (UTC)."""


class StoreEventRef(msgspec.Struct, frozen=True, kw_only=True):
    """The store's own event the HQ event collided with."""

    id: UUID
    seq: int
    """Its position in the store's log."""
    type: str


class Resolution(msgspec.Struct, frozen=True, kw_only=True):
    """How a conflict was closed."""

    at: datetime
    by: str
    """User name of the hall manager or the HQ user."""
    side: ResolvedBy
    """``store`` (on the node) or ``hq``."""
    note: str


class ConflictOut(msgspec.Struct, frozen=True, kw_only=True):
    """One conflict: an HQ event the store's own history made illegal, and its review."""

    conflict_id: UUID
    entity: ConflictEntity
    """What the HQ event was about: ``staff``, ``item`` or ``store``."""
    entity_id: str
    """Which one: a staff member's user id, a SKU, the store id."""
    reason: ConflictReason
    """Why the store refused it (stable code)."""
    detail: str
    """The same in words."""
    hq_event: HqEventRef
    store_event: StoreEventRef | None
    """Null when the store's state did not come from one event of its own."""
    recorded_at: datetime
    """When the store refused the HQ event (UTC)."""
    status: ConflictStatus
    resolution: Resolution | None


class ConflictResolveIn(msgspec.Struct, kw_only=True):
    """Resolve a conflict: say what was decided or done."""

    note: Note


class SentResolution(msgspec.Struct, frozen=True, kw_only=True):
    """HQ's resolution of a conflict, on its way to the store: the conflict shows ``resolved``
    once the store has recorded it and synced (unless the hall manager resolved it first)."""

    cursor: int
    """The HQ event carrying it."""
    by: str
    at: datetime
    note: str
    delivered: bool
    """Whether the store has applied HQ events up to ``cursor``."""


class HqConflictOut(ConflictOut, frozen=True, kw_only=True):
    """A conflict as HQ sees it: of which store, and HQ's own resolution if one was sent."""

    store_id: str
    region: str
    hq_resolution: SentResolution | None
