"""What central checks before publishing catalog and roster data, so that an HQ event is not
refused by the stores it addresses.

Central knows two things: what HQ published before (the HQ log, by ``subject``), and each
store's own data as of its last upload (the projections it folds from uploaded events). Both can
lag what a store holds right now, so these checks catch the mistakes HQ can see; a store still
refuses, on its own, an HQ event that would break its data (the event is kept in its ``hq_log``,
unapplied, and never blocks it).
"""

from __future__ import annotations

import uuid
from typing import TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.api.hq import CatalogItemIn
from schema.events import Event, decode, tag_of
from schema.events.inventory import ItemDefined
from schema.events.store import StaffAdded
from schema.tables.core import staff
from schema.tables.inventory import inventory_items
from schema.tables.sync import hq_events
from server.central.hq.publish import Addressee, addressed_stores
from server.domain.inventory.rules import SERIALISABLE
from server.errors import Conflict, NotFound, UsernameTaken, ValidationFailed

E = TypeVar("E", bound=Event)

STAFF_NAMESPACE = uuid.UUID("6f1c6a9e-2b8e-5d0c-9a53-0d6f3c1b7e42")
"""Namespace of the user ids of HQ-added staff."""

MAX_NAMED = 20
"""Most store ids an error lists."""


def hq_staff_id(username: str) -> uuid.UUID:
    """The user id of the staff member HQ knows by ``username``, the same in every store and
    every time: later roster changes name them by user name, and no central table is needed to
    find the id again. (A store's own staff have random ids, so the two never collide.)"""
    return uuid.uuid5(STAFF_NAMESPACE, username)


async def latest_published(conn: AsyncConnection, event_type: type[E], subject: str) -> E | None:
    """The newest HQ event of this type about ``subject``, if any."""
    body = (
        await conn.execute(
            sa.select(hq_events.c.body)
            .where(hq_events.c.type == tag_of(event_type), hq_events.c.subject == subject)
            .order_by(hq_events.c.cursor.desc())
            .limit(1)
        )
    ).scalar()
    if body is None:
        return None
    try:
        event = decode(body)
    except msgspec.DecodeError:
        return None
    return event if isinstance(event, event_type) else None


def _named(stores: list[str]) -> str:
    shown = ", ".join(stores[:MAX_NAMED])
    return shown + (f" and {len(stores) - MAX_NAMED} more" if len(stores) > MAX_NAMED else "")


async def check_item(conn: AsyncConnection, to: Addressee, item: CatalogItemIn) -> None:
    """Only phones and SIM cards are serialised; an item never changes ``serialised``, nor a
    serialised item its category (its serials would no longer fit)."""
    if item.serialised and item.category not in SERIALISABLE:
        raise ValidationFailed(
            "only phones (IMEI) and SIM cards (ICCID) can be serialised", field="serialised"
        )

    def clashes(serialised: bool, category: str) -> bool:
        return serialised != item.serialised or (serialised and category != item.category)

    earlier = await latest_published(conn, ItemDefined, item.sku)
    if earlier is not None and clashes(earlier.serialised, earlier.category):
        raise Conflict(
            f"HQ defined {item.sku} as a{'' if earlier.serialised else ' non'}-serialised "
            f"{earlier.category}; serialised items keep that and their category",
            field="serialised" if earlier.serialised != item.serialised else "category",
        )
    rows = await conn.execute(
        sa.select(
            inventory_items.c.store_id, inventory_items.c.serialised, inventory_items.c.category
        )
        .where(
            inventory_items.c.sku == item.sku,
            inventory_items.c.store_id.in_(addressed_stores(to)),
        )
        .order_by(inventory_items.c.store_id)
    )
    bad = [r.store_id for r in rows if clashes(r.serialised, r.category)]
    if bad:
        raise Conflict(
            f"{item.sku} is defined differently (serialised or category) in store(s) "
            f"{_named(bad)}; serialised items keep that and their category",
            field="serialised",
            stores=bad[:MAX_NAMED],
        )


async def check_item_known(conn: AsyncConnection, to: Addressee, sku: str) -> None:
    """A price change needs an item to reprice: one HQ defined, or one an addressed store has."""
    if await latest_published(conn, ItemDefined, sku) is not None:
        return
    held = (
        await conn.execute(
            sa.select(inventory_items.c.store_id)
            .where(
                inventory_items.c.sku == sku,
                inventory_items.c.store_id.in_(addressed_stores(to)),
            )
            .limit(1)
        )
    ).first()
    if held is None:
        raise NotFound(f"no item {sku} in HQ's catalog or in the addressed stores")


async def check_new_staff(conn: AsyncConnection, to: Addressee, username: str) -> None:
    """The user name must not belong to one of an addressed store's own staff members."""
    rows = await conn.execute(
        sa.select(staff.c.store_id)
        .where(
            staff.c.username == username,
            staff.c.user_id != hq_staff_id(username),
            staff.c.store_id.in_(addressed_stores(to)),
        )
        .order_by(staff.c.store_id)
    )
    taken = [r.store_id for r in rows]
    if taken:
        raise UsernameTaken(
            f"user name {username!r} belongs to a staff member of store(s) {_named(taken)}",
            field="username",
            stores=taken[:MAX_NAMED],
        )


async def check_hq_staff(conn: AsyncConnection, username: str) -> None:
    """Roster changes from HQ concern the staff HQ added (a store's own staff are its own)."""
    if await latest_published(conn, StaffAdded, username) is None:
        raise NotFound(f"HQ never added a staff member {username!r}")
