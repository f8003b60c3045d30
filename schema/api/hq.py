"""REST types of the data headquarters publishes to the stores: catalog and prices, the staff
roster, operating rules, and the record of what was published and how far it has been applied.

Every publish names its audience: every store (``all``), one region, or one store. Central turns
it into one HQ event that each addressed store folds into its own projections.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from schema.api.common import Code, LocalTime, Name
from schema.api.inventory import Cents
from schema.api.store import Username
from schema.events.inventory import ItemCategory
from schema.events.store import Role

Audience = Literal["all", "region", "store"]
"""Who receives an HQ event: every store, the stores of one region, or one store."""

Target = Annotated[str, msgspec.Meta(max_length=64)]
FirstResponseHours = Annotated[int, msgspec.Meta(ge=1, le=720)]
ResolutionHours = Annotated[int, msgspec.Meta(ge=1, le=2160)]


class Addressed(msgspec.Struct, kw_only=True):
    """The audience of a publish; every publishing request has these two fields."""

    audience: Audience
    """``all`` stores, one ``region``, or one ``store``."""
    target: Target = ""
    """The region (``audience: region``) or the store id (``audience: store``); empty for
    ``all``. Region-scoped HQ users may only address their regions or stores in them."""


class CatalogItemIn(Addressed, kw_only=True):
    """Define an item (商品) in the addressed stores' catalogs, or redefine it with all its
    fields. ``serialised`` never changes once an item exists, nor does the category of a
    serialised item (the serial format hangs on it)."""

    sku: Code
    name: Name
    category: ItemCategory
    unit_price_cents: Cents
    """List price per unit, in fen (分)."""
    serialised: bool = False
    """Track each unit by serial: IMEI for phones, ICCID for SIM cards (only those two)."""
    active: bool = True
    """``false`` discontinues the item (停售): no more receiving; remaining stock may still go."""


class PriceIn(Addressed, kw_only=True):
    """Change an item's list price in the addressed stores."""

    unit_price_cents: Cents
    """The new list price per unit, in fen (分)."""


class RosterStaffIn(Addressed, kw_only=True):
    """Put a staff member on the addressed stores' rosters (or refresh their name and role
    where they already are). No password travels: the hall manager sets one on the node."""

    username: Username
    """Their login, the same in every store; it identifies them to later roster changes."""
    display_name: Name
    role: Role


class RosterRoleIn(Addressed, kw_only=True):
    """Change an HQ-added staff member's role in the addressed stores."""

    role: Role


class RosterLeaveIn(Addressed, kw_only=True):
    """Take an HQ-added staff member off the addressed stores' active roster (离职): they can
    no longer log in there; only the hall manager can reactivate them, with a new password."""


class RulesIn(Addressed, kw_only=True):
    """Set operating rules of the addressed stores; omitted rules keep each store's value.
    Business hours come as a pair. A store's manager may change them later on the node: the
    last change applied there wins."""

    open_time: LocalTime | None = None
    """Hall opens (营业开始), store-local ``HH:MM:SS``; give ``close_time`` with it."""
    close_time: LocalTime | None = None
    """Hall closes (营业结束), store-local."""
    first_response_sla_hours: FirstResponseHours | None = None
    """Complaint first response due this many hours after it was opened."""
    resolution_sla_hours: ResolutionHours | None = None
    """Complaint resolution due this many hours after it was opened."""


class Delivery(msgspec.Struct, kw_only=True):
    """How far an HQ event has been applied by the stores it addresses."""

    addressed: int
    """Active stores the event addresses (of those the caller may see)."""
    applied: int
    """Of those, how many applied it (their acknowledged HQ cursor reached it)."""


class PublishedEvent(msgspec.Struct, kw_only=True):
    """One HQ event as published: what, to whom, by whom, when, and how far it has come."""

    cursor: int
    """Its position in central's HQ log; stores apply HQ events in this order."""
    id: UUID
    type: str
    """The event type, e.g. ``item.defined``, ``staff.added``, ``store.rules_set``."""
    audience: Audience
    target: str
    subject: str | None
    """What it is about: the SKU, the staff member's user name; null for rules."""
    created_by: str
    created_at: datetime
    event: dict[str, Any]
    """The event itself as the stores receive it (``store_id`` is ``*``: each store applies
    it as its own)."""
    delivery: Delivery
