"""Which HQ events a store refuses after merge, and why: the transitions its own history makes
illegal.

Central checks a publish against what it knows (HQ's earlier events, each store's data as of its
last upload), but a store may have changed meanwhile, offline. When an HQ event arrives, the
store checks it against its state now, before folding it:

- ``staff.added`` under a user name one of the store's own staff has (``username_taken``), or
  for a member who left this store (``staff_inactive``: only the hall manager brings them back,
  with a new password);
- ``staff.role_changed`` for a member who left (``staff_inactive``), or demoting the store's
  last active manager (``last_manager``);
- ``staff.deactivated`` of the store's last active manager (``last_manager``);
- ``item.defined`` for an item the store holds serialised differently or, serialised, in another
  category (``item_shape``): its serials would no longer fit.

What is not a conflict: an HQ change about a member or an item the store does not have (HQ
addresses whole regions; a price change for an item a store does not carry is ignored), a
deactivation of someone who already left, HQ's operating rules (the last one applied wins, by
design), a discontinued item the store still sells from stock (allowed).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa

from schema.events import Event, decode, tag_of
from schema.events.conflicts import ConflictEntity, ConflictReason
from schema.events.inventory import ItemDefined, ItemPriceChanged
from schema.events.store import StaffAdded, StaffDeactivated, StaffReactivated, StaffRoleChanged
from schema.tables.core import events, staff
from schema.tables.inventory import inventory_items
from server.domain.context import Ctx

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Collision:
    """Why the store refuses an HQ event, and the store's own event it collided with."""

    entity: ConflictEntity
    entity_id: str
    reason: ConflictReason
    detail: str
    store_event: Event | None = None


def collision(ctx: Ctx, event: Event) -> Collision | None:
    """Why the store must refuse this HQ event, given its state now; None when it applies."""
    match event:
        case StaffAdded():
            return _staff_added(ctx, event)
        case StaffRoleChanged():
            return _role_changed(ctx, event)
        case StaffDeactivated():
            return _deactivated(ctx, event)
        case ItemDefined():
            return _item_defined(ctx, event)
    return None


def not_applied(event: Event, error: BaseException) -> Collision:
    """An HQ event the projections refused although no rule above foresaw it."""
    entity, entity_id = subject_of(event)
    reason = getattr(error, "detail", None) or type(error).__name__
    return Collision(entity, entity_id, "not_applied", f"the store could not apply it: {reason}")


def subject_of(event: Event) -> tuple[ConflictEntity, str]:
    """What an HQ event is about."""
    match event:
        case StaffAdded() | StaffRoleChanged() | StaffDeactivated() | StaffReactivated():
            return "staff", str(event.user_id)
        case ItemDefined() | ItemPriceChanged():
            return "item", event.sku
    return "store", event.store_id


# ------------------------------------------------------------------ staff


def _member(ctx: Ctx, **key: Any) -> Any:
    return ctx.conn.execute(
        sa.select(staff).where(
            staff.c.store_id == ctx.store_id, *(staff.c[k] == v for k, v in key.items())
        )
    ).first()


def _active_managers(ctx: Ctx) -> int:
    count: int = ctx.conn.execute(
        sa.select(sa.func.count()).where(
            staff.c.store_id == ctx.store_id, staff.c.active, staff.c.role == "manager"
        )
    ).scalar_one()
    return count


def _left(ctx: Ctx, member: Any, what: str) -> Collision:
    # The store's own deactivation, unless its latest say on the member was to bring them
    # back (then HQ's own earlier deactivation is what HQ collides with).
    last = _latest_own(
        ctx, (StaffDeactivated, StaffReactivated), lambda e: e.user_id == member.user_id
    )
    return Collision(
        "staff",
        str(member.user_id),
        "staff_inactive",
        f"{member.username} left this store; {what} waits until the hall manager reactivates them",
        last if isinstance(last, StaffDeactivated) else None,
    )


def _staff_added(ctx: Ctx, e: StaffAdded) -> Collision | None:
    by_name = _member(ctx, username=e.username)
    if by_name is not None and by_name.user_id != e.user_id:
        own = _latest_own(ctx, (StaffAdded,), lambda s: s.user_id == by_name.user_id)
        return Collision(
            "staff",
            str(e.user_id),
            "username_taken",
            f"the user name {e.username!r} belongs to another staff member of this store",
            own,
        )
    by_id = by_name if by_name is not None else _member(ctx, user_id=e.user_id)
    if by_id is not None and not by_id.active:
        return _left(ctx, by_id, "adding them again")
    return None


def _last_manager(ctx: Ctx, member: Any, what: str) -> Collision | None:
    if member.role != "manager" or not member.active or _active_managers(ctx) > 1:
        return None
    return Collision(
        "staff",
        str(member.user_id),
        "last_manager",
        f"{member.username} is the store's last active manager; {what} would leave the store "
        "without one",
    )


def _role_changed(ctx: Ctx, e: StaffRoleChanged) -> Collision | None:
    member = _member(ctx, user_id=e.user_id)
    if member is None or member.role == e.role:
        return None
    if not member.active:
        return _left(ctx, member, f"making them {e.role}")
    if e.role != "manager":
        return _last_manager(ctx, member, f"making them {e.role}")
    return None


def _deactivated(ctx: Ctx, e: StaffDeactivated) -> Collision | None:
    member = _member(ctx, user_id=e.user_id)
    if member is None:
        return None
    return _last_manager(ctx, member, "deactivating them")


# ------------------------------------------------------------------ catalog


def _item_defined(ctx: Ctx, e: ItemDefined) -> Collision | None:
    held = ctx.conn.execute(
        sa.select(inventory_items.c.serialised, inventory_items.c.category).where(
            inventory_items.c.store_id == ctx.store_id, inventory_items.c.sku == e.sku
        )
    ).first()
    if held is None:
        return None
    if held.serialised == e.serialised and (not held.serialised or held.category == e.category):
        return None
    here = f"{'serialised' if held.serialised else 'non-serialised'} {held.category}"
    there = f"{'serialised' if e.serialised else 'non-serialised'} {e.category}"
    return Collision(
        "item",
        e.sku,
        "item_shape",
        f"{e.sku} is a {here} here and HQ defines it as a {there}; serialised items keep "
        "that and their category",
        _latest_own(ctx, (ItemDefined,), lambda d: d.sku == e.sku),
    )


# ------------------------------------------------------------------ the store's log


def _latest_own(
    ctx: Ctx, types: tuple[type[Event], ...], match: Callable[[Any], bool]
) -> Event | None:
    """The newest event of the store's own log of one of ``types`` that ``match`` picks: the
    store event an HQ event collided with. Only on a collision, so a scan of one event type's
    rows (staff and catalog changes are few) costs nothing that matters."""
    tags = {tag_of(t) for t in types}
    # Events of this write batch wait to be inserted until just before it commits.
    pending = [row["body"] for row in reversed(ctx.log.unwritten) if row["type"] in tags]
    stored = ctx.conn.execute(
        sa.select(events.c.body)
        .where(events.c.store_id == ctx.store_id, events.c.type.in_(tags))
        .order_by(events.c.seq.desc())
    ).scalars()
    for body in itertools.chain(pending, stored):
        try:
            event = decode(body)
        except msgspec.DecodeError:  # a newer software's event: not one this build made
            continue
        if match(event):
            return event
    return None
