"""Events of sync conflicts: an HQ event the store could not apply after merge, and its review.

When an HQ event reaches a store whose own history makes it illegal (HQ changes the role of a
member the hall manager deactivated; HQ adds a member under a user name the store already gave
to one of its own staff), the store keeps its state, keeps the HQ event in ``hq_log`` and
records ``sync.conflict_recorded`` in its own log, in the same transaction. Like every store
event it syncs up, so central folds the same conflict for HQ to see.

A conflict is resolved once, by the hall manager on the node or by HQ (whose resolution comes
down as an HQ ``sync.conflict_resolved`` that the store records as its own event, so central
learns of every resolution the same way: from the store's log).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from schema.events.base import Event, FreeText

ConflictEntity = Literal["staff", "item", "store"]
"""What an HQ event was about: a staff member (by user id), a catalog item (by SKU), the store
itself (its rules)."""

ConflictReason = Literal[
    "username_taken", "staff_inactive", "last_manager", "item_shape", "not_applied"
]
"""Why the store refused an HQ event:

- ``username_taken``: HQ adds a member under a user name one of the store's own staff has;
- ``staff_inactive``: HQ adds again, or changes the role of, a member who left this store (only
  the hall manager brings them back, with a new password);
- ``last_manager``: HQ demotes or deactivates the store's last active manager (a store always
  keeps one);
- ``item_shape``: HQ defines an item the store holds serialised differently (or, serialised, in
  another category): its serials would no longer fit;
- ``not_applied``: the store's projections refused the event for a reason not foreseen here.
"""

ResolvedBy = Literal["store", "hq"]
"""Where a conflict was resolved: on the node by its manager, or at HQ."""


class ConflictRecorded(Event, tag="sync.conflict_recorded", frozen=True):
    """The store refused an HQ event that its own history makes illegal; kept for review."""

    conflict_id: UUID
    """New conflict's id (UUIDv7)."""
    entity: ConflictEntity
    """What the HQ event was about."""
    entity_id: str
    """Which one: the staff member's user id, the SKU, the store id."""
    reason: ConflictReason
    """Why the store refused it (a stable code)."""
    detail: FreeText
    """The same in words, for the people who review it."""
    hq_event_id: UUID
    """The HQ event refused (it stays in the store's ``hq_log``, unapplied)."""
    hq_event_type: str
    """Its type, e.g. ``staff.role_changed``."""
    hq_cursor: int
    """Its position in central's HQ log."""
    hq_actor: str
    """The HQ user who published it."""
    hq_at: datetime
    """When HQ published it (UTC)."""
    store_event_id: UUID | None = None
    """The store's own event the HQ event collided with (e.g. its ``staff.deactivated``); null
    when the store's state did not come from one event of its own (HQ's earlier events, or a
    count such as the last active manager)."""
    store_event_seq: int | None = None
    """That event's ``seq`` in the store's log."""
    store_event_type: str | None = None
    """That event's type."""


class ConflictResolved(Event, tag="sync.conflict_resolved", frozen=True):
    """A conflict was reviewed and closed, with a note; the first resolution counts.

    Recorded by the store: for its manager, or when HQ's resolution (an HQ event of this type)
    reaches it.
    """

    conflict_id: UUID
    """The conflict resolved."""
    note: FreeText
    """What was decided or done (the member reactivated, HQ republished under another name)."""
    resolved_by: str
    """User name of who resolved it: the hall manager, or the HQ user."""
    side: ResolvedBy
    """Resolved on the node (``store``) or at HQ (``hq``)."""


EVENTS = (ConflictRecorded, ConflictResolved)
