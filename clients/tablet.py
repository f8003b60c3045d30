"""Typed async client of the store node's tablet API: one method per endpoint.

    TabletClient                              this module: login, store, staff, KPIs
    ├── QueueApi        tablet_queue.py       windows, tickets, appointments, live state
    ├── InventoryApi    tablet_inventory.py   items, stock, movements, serials, adjustments, counts
    ├── ShiftsApi       tablet_shifts.py      shifts and attendance
    ├── ComplaintsApi   tablet_complaints.py  complaints
    └── OpsApi          tablet_ops.py         checklists, faults, fire safety, trainings

Conventions, the same on every method:

- Path ids come first and positionally (``UUID``; SKUs, serials and item codes as ``str``), then
  the request body as its ``schema.api`` ``...In`` struct; a body whose fields all have
  defaults may be left out (none is sent, and the server applies the defaults).
- Writes take ``idempotency_key=``: sending a logical operation again with the same key returns
  the first answer and records nothing new. Without one, ``HttpCore`` makes a fresh key per call
  (and reuses it for its own retries).
- List methods take the server's filters and ``limit``/``offset`` as keyword arguments (``None``
  means the server's default) and return one ``Page``; ``iterate`` walks every page. Day ranges
  are ``date_from``/``date_to`` here (the server's ``from``/``to``: store-local days, both
  inclusive; a reversed range is ``validation_failed``).
- Errors arrive as ``clients.http.ApiError`` whose ``code`` is the server's stable error code.

    async with TabletClient("http://node:8000") as tablet:
        await tablet.login("clerk1", "…")
        ticket = await tablet.call_next(window_id)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from clients.tablet_complaints import ComplaintsApi
from clients.tablet_inventory import InventoryApi
from clients.tablet_ops import OpsApi
from clients.tablet_queue import QueueApi
from clients.tablet_shifts import ShiftsApi
from schema.api.common import Page
from schema.api.kpis import StoreKpisOut
from schema.api.store import (
    LoginIn,
    LoginOut,
    PasswordChangeIn,
    StaffIn,
    StaffOut,
    StaffUpdate,
    StoreOut,
    StoreSettingsIn,
)
from schema.api.sync import SyncStatusOut
from schema.events.store import Role

__all__ = [
    "ComplaintsApi",
    "InventoryApi",
    "OpsApi",
    "QueueApi",
    "ShiftsApi",
    "TabletClient",
    "iterate",
]

T = TypeVar("T")


async def iterate(
    list_method: Callable[..., Awaitable[Page[T]]], /, **filters: Any
) -> AsyncIterator[T]:
    """Every item of a list endpoint, page after page: ``iterate(tablet.list_tickets,
    status="done")``. ``limit`` sets the page size; ``offset`` where to start.

    Pages are read as the walk goes, so rows added or removed meanwhile may shift it.
    """
    offset: int | None = filters.pop("offset", None)
    while True:
        page = await list_method(**filters, offset=offset)
        for item in page.items:
            yield item
        if page.next_offset is None or not page.items:
            return
        offset = page.next_offset


class TabletClient(QueueApi, InventoryApi, ShiftsApi, ComplaintsApi, OpsApi):
    """One staff member's tablet against one store node. Log in first; the token is kept."""

    # ---------------------------------------------------------------- login (登录)

    async def login(self, username: str, password: str) -> LoginOut:
        """Exchange a user name and password for a bearer token, used from now on."""
        self.token = None
        out = await self.request(
            "POST",
            "/api/v1/auth/login",
            LoginOut,
            body=LoginIn(username=username, password=password),
        )
        self.token = out.access_token
        return out

    async def me(self) -> StaffOut:
        """The staff member the token belongs to."""
        return await self.request("GET", "/api/v1/auth/me", StaffOut)

    async def change_password(self, current_password: str, new_password: str) -> LoginOut:
        """Change the logged-in member's own password; the new token the node answers with is
        used from now on (every earlier one stops working)."""
        out = await self.request(
            "POST",
            "/api/v1/auth/password",
            LoginOut,
            body=PasswordChangeIn(current_password=current_password, new_password=new_password),
        )
        self.token = out.access_token
        return out

    async def sync_status(self) -> SyncStatusOut:
        """Where the node's sync with central stands: events pending upload, last success
        (manager)."""
        return await self.request("GET", "/api/v1/sync/status", SyncStatusOut)

    # ---------------------------------------------------------------- store settings

    async def get_store(self) -> StoreOut:
        """The store's identity and settings: business hours, SLA hours, time zone, today."""
        return await self.request("GET", "/api/v1/store", StoreOut)

    async def update_store(
        self, body: StoreSettingsIn, *, idempotency_key: str | None = None
    ) -> StoreOut:
        """Change business hours or complaint SLA hours (manager)."""
        return await self.request(
            "PATCH", "/api/v1/store", StoreOut, body=body, idempotency_key=idempotency_key
        )

    # ---------------------------------------------------------------- staff roster (员工)

    async def list_staff(
        self,
        *,
        role: Role | None = None,
        active: bool | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[StaffOut]:
        params = {"role": role, "active": active, "limit": limit, "offset": offset}
        return await self.request("GET", "/api/v1/staff", Page[StaffOut], params=params)

    async def add_staff(self, body: StaffIn, *, idempotency_key: str | None = None) -> StaffOut:
        """Add a staff member with a login (manager)."""
        return await self.request(
            "POST", "/api/v1/staff", StaffOut, body=body, idempotency_key=idempotency_key
        )

    async def get_staff(self, user_id: UUID) -> StaffOut:
        return await self.request("GET", f"/api/v1/staff/{user_id}", StaffOut)

    async def update_staff(
        self, user_id: UUID, body: StaffUpdate, *, idempotency_key: str | None = None
    ) -> StaffOut:
        """Change a role, or deactivate for good (manager)."""
        return await self.request(
            "PATCH",
            f"/api/v1/staff/{user_id}",
            StaffOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    # ---------------------------------------------------------------- KPIs (门店指标)

    async def get_kpis(self, *, day: date | None = None) -> StoreKpisOut:
        """The store's KPIs of a store-local day, today by default (manager)."""
        return await self.request("GET", "/api/v1/kpis", StoreKpisOut, params={"day": day})
