"""The HQ API for data headquarters authors and the stores apply: catalog and prices, the staff
roster, operating rules, and what was published with its delivery progress.

Admins and ops publish; analysts and auditors read what was published. Region-scoped users
address only their regions and the stores in them. Every publish appends one HQ event, which
each addressed store applies in one local transaction and acknowledges; send an
``Idempotency-Key`` so a retried publish does not append a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.api.common import Page
from schema.api.hq import (
    Addressed,
    Audience,
    CatalogItemIn,
    PriceIn,
    PublishedEvent,
    RosterLeaveIn,
    RosterRoleIn,
    RosterStaffIn,
    RulesIn,
)
from schema.events import Event
from schema.events.inventory import ItemDefined, ItemPriceChanged
from schema.events.store import StaffAdded, StaffDeactivated, StaffRoleChanged, StoreRulesSet
from server import idempotency
from server.central import db
from server.central.context import central
from server.central.hq import checks, publish
from server.central.hq import log as hq_log
from server.central.hq.api import HqRequest, Limit, Offset
from server.central.hq.auth import ANY_HQ_ROLE, requires
from server.central.hq.publish import Addressee
from server.errors import ValidationFailed
from server.web.contract import key_replays

log = logging.getLogger(__name__)

PUBLISHERS = requires("ops")
"""Who may publish: ops and admins (``requires`` always admits admins)."""

REPLAYS = key_replays(
    "the event the first attempt published, as it is now (201), instead of publishing another"
)
"""What a retried publish with the same ``Idempotency-Key`` gets (every publish honours it)."""

Check = Callable[[AsyncConnection, Addressee], Awaitable[None]]
"""Raises when the publish must not happen (runs in the publish's transaction)."""


async def _publish(
    request: HqRequest,
    data: Addressed,
    event_type: type[Event],
    payload: dict[str, Any],
    *,
    subject: str | None,
    check: Check | None = None,
) -> Response[PublishedEvent]:
    """Check, stamp and append one HQ event in one transaction; 201 with what was published
    (``Idempotent-Replayed: true`` when a retry found its first attempt's event)."""
    c = central(request)
    user = request.user
    idem = await idempotency.of_request(request, user.username)
    async with db.write(c.engine) as conn:
        await hq_log.lock(conn)  # held to commit: one publish at a time, keys checked under it
        earlier = await publish.replay(conn, user, idem)
        if earlier is not None:
            return Response(earlier, status_code=201, headers=idempotency.REPLAYED_HEADERS)
        to = await publish.resolve(conn, user, data)
        if check is not None:
            await check(conn, to)
        event = publish.stamp(
            event_type,
            newest_hlc=await hq_log.newest_hlc(conn),
            user=user,
            now=c.clock(),
            **payload,
        )
        out = await publish.append(conn, event, to=to, user=user, subject=subject, idem=idem)
    c.hq_notifier.published()  # this replica's connections look now; others hear NOTIFY
    log.info(
        "HQ user %s published %s (%s) to %s %s at cursor %d",
        user.username,
        out.type,
        subject or "-",
        to.audience,
        to.target or "*",
        out.cursor,
    )
    return Response(out, status_code=201)


class HqCatalogController(Controller):
    path = "/api/v1/hq/catalog"
    tags = ["hq publishing"]

    @post("/items", guards=[PUBLISHERS], opt=REPLAYS)
    async def define_item(
        self,
        request: HqRequest,
        data: JSONBody[CatalogItemIn],
    ) -> Response[PublishedEvent]:
        """Define an item in the addressed stores' catalogs, or redefine it with all its fields
        (ops, admin). Publishes ``item.defined``. Refused (409) when the item is serialised
        differently (or, serialised, in another category) in HQ's earlier definition or in a
        store's catalog as central last saw it."""

        async def check(conn: AsyncConnection, to: Addressee) -> None:
            await checks.check_item(conn, to, data)

        return await _publish(
            request,
            data,
            ItemDefined,
            {
                "sku": data.sku,
                "name": data.name,
                "category": data.category,
                "unit_price_cents": data.unit_price_cents,
                "serialised": data.serialised,
                "active": data.active,
            },
            subject=data.sku,
            check=check,
        )

    @post("/items/{sku:str}/price", guards=[PUBLISHERS], opt=REPLAYS)
    async def change_price(
        self,
        request: HqRequest,
        sku: FromPath[str],
        data: JSONBody[PriceIn],
    ) -> Response[PublishedEvent]:
        """Change an item's list price in the addressed stores (ops, admin). Publishes
        ``item.price_changed``; a store without the item ignores it. 404 when neither HQ's
        catalog nor any addressed store (as central last saw it) has the item."""

        async def check(conn: AsyncConnection, to: Addressee) -> None:
            await checks.check_item_known(conn, to, sku)

        return await _publish(
            request,
            data,
            ItemPriceChanged,
            {"sku": sku, "unit_price_cents": data.unit_price_cents},
            subject=sku,
            check=check,
        )


class HqRosterController(Controller):
    path = "/api/v1/hq/roster"
    tags = ["hq publishing"]

    @post("/", guards=[PUBLISHERS], opt=REPLAYS)
    async def add_staff(
        self,
        request: HqRequest,
        data: JSONBody[RosterStaffIn],
    ) -> Response[PublishedEvent]:
        """Put a staff member on the addressed stores' rosters (ops, admin). Publishes
        ``staff.added`` with a user id derived from the user name, so adding them again (to
        more stores, or with a new name or role) updates the same member.

        No password travels: until the hall manager sets one on the node (``PATCH
        /api/v1/staff/{user_id}`` with ``password``), their login is refused like a wrong
        password. A member who left a store comes back there only through its manager. 409
        when the user name belongs to one of an addressed store's own staff."""

        async def check(conn: AsyncConnection, to: Addressee) -> None:
            await checks.check_new_staff(conn, to, data.username)

        return await _publish(
            request,
            data,
            StaffAdded,
            {
                "user_id": checks.hq_staff_id(data.username),
                "username": data.username,
                "display_name": data.display_name,
                "role": data.role,
            },
            subject=data.username,
            check=check,
        )

    @post("/{username:str}/role", guards=[PUBLISHERS], opt=REPLAYS)
    async def change_role(
        self,
        request: HqRequest,
        username: FromPath[str],
        data: JSONBody[RosterRoleIn],
    ) -> Response[PublishedEvent]:
        """Change the role of a staff member HQ added, in the addressed stores (ops, admin).
        Publishes ``staff.role_changed``. 404 for a user name HQ never added."""

        async def check(conn: AsyncConnection, _to: Addressee) -> None:
            await checks.check_hq_staff(conn, username)

        return await _publish(
            request,
            data,
            StaffRoleChanged,
            {"user_id": checks.hq_staff_id(username), "role": data.role},
            subject=username,
            check=check,
        )

    @post("/{username:str}/deactivate", guards=[PUBLISHERS], opt=REPLAYS)
    async def deactivate(
        self,
        request: HqRequest,
        username: FromPath[str],
        data: JSONBody[RosterLeaveIn],
    ) -> Response[PublishedEvent]:
        """Take a staff member HQ added off the addressed stores' active roster (离职; ops,
        admin): they can no longer log in there. Publishes ``staff.deactivated``. 404 for a
        user name HQ never added."""

        async def check(conn: AsyncConnection, _to: Addressee) -> None:
            await checks.check_hq_staff(conn, username)

        return await _publish(
            request,
            data,
            StaffDeactivated,
            {"user_id": checks.hq_staff_id(username)},
            subject=username,
            check=check,
        )


class HqRulesController(Controller):
    path = "/api/v1/hq/rules"
    tags = ["hq publishing"]

    @post("/", guards=[PUBLISHERS], opt=REPLAYS)
    async def set_rules(
        self, request: HqRequest, data: JSONBody[RulesIn]
    ) -> Response[PublishedEvent]:
        """Set business hours and complaint SLA hours of the addressed stores (ops, admin);
        rules left out keep each store's value. Publishes ``store.rules_set``, which never
        touches a store's name, region or time zone. A hall manager's later change on the
        node wins over it, as HQ's later rule wins over the manager's: the last one applied."""
        if (data.open_time is None) != (data.close_time is None):
            missing = "close_time" if data.close_time is None else "open_time"
            raise ValidationFailed("give business hours as a pair", field=missing)
        opens, closes = data.open_time, data.close_time
        if opens is not None and closes is not None and opens >= closes:
            raise ValidationFailed("the hall must open before it closes", field="close_time")
        payload = {
            "open_time": data.open_time,
            "close_time": data.close_time,
            "first_response_sla_hours": data.first_response_sla_hours,
            "resolution_sla_hours": data.resolution_sla_hours,
        }
        if all(v is None for v in payload.values()):
            raise ValidationFailed("set at least one rule", field="body")
        return await _publish(request, data, StoreRulesSet, payload, subject=None)


class HqPublishedController(Controller):
    path = "/api/v1/hq/published"
    tags = ["hq publishing"]

    @get("/", guards=[ANY_HQ_ROLE])
    async def list_published(
        self,
        request: HqRequest,
        type: FromQuery[str | None] = None,
        audience: FromQuery[Audience | None] = None,
        target: FromQuery[str | None] = None,
        subject: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[PublishedEvent]:
        """What HQ published, newest first: the event, its audience, by whom and when, and its
        delivery (active stores addressed, and how many of them applied it). Filter by event
        ``type`` (``item.defined``, ``staff.added``, …), ``audience``, ``target`` or ``subject``
        (a SKU, a user name). Region-scoped users see what reaches their regions, and delivery
        counts only their stores."""
        c = central(request)
        async with db.read(c.engine) as conn:
            return await publish.list_published(
                conn,
                request.user,
                event_type=type,
                audience=audience,
                target=target,
                subject=subject,
                limit=limit,
                offset=offset,
            )


ROUTES = [HqCatalogController, HqRosterController, HqRulesController, HqPublishedController]
