"""Login, the store's settings and the staff roster."""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from anyio import to_thread
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter

from schema.api.common import Page
from schema.api.store import (
    LoginIn,
    LoginOut,
    StaffIn,
    StaffOut,
    StaffUpdate,
    StoreOut,
    StoreSettingsIn,
)
from schema.events.store import Role
from server.api_contract import problems
from server.domain import store as domain
from server.domain.context import Ctx, StoreSettings, load_settings
from server.domain.paging import paginate
from server.errors import TooManyAttempts, Unauthorized
from server.passwords import hash_password, verify_password
from server.store.api.common import AnyRequest, PagingDep, node, read, submit
from server.store.auth import ALL_ROLES, TOKEN_TTL, LoginThrottle, requires


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", status_code=200, security=[], responses=problems(401, 429))
    async def login(self, request: Request[Any, Any, State], data: JSONBody[LoginIn]) -> LoginOut:
        """Exchange a user name and password for a bearer token (登录)."""
        n = node(request)
        throttle: LoginThrottle = request.app.state.login_throttle
        wait = throttle.retry_after(data.username, time.monotonic())
        if wait > 0:
            raise TooManyAttempts(
                f"too many failed logins for this user; try again in {math.ceil(wait)} s",
                retry_after=math.ceil(wait),
            )
        found = await read(request, lambda c: domain.find_login(c, n.store_id, data.username))
        ok = await to_thread.run_sync(verify_password, found[1] if found else None, data.password)
        if not ok or found is None:
            throttle.failed(data.username, time.monotonic())
            raise Unauthorized("wrong user name or password")
        throttle.succeeded(data.username)
        user = found[0]
        token = request.app.state.jwt_auth.create_token(
            identifier=str(user.user_id),
            token_extras={"store_id": n.store_id, "role": user.role, "username": user.username},
        )
        return LoginOut(
            access_token=token,
            token_type="bearer",
            expires_in=int(TOKEN_TTL.total_seconds()),
            username=user.username,
            role=user.role,
            store_id=n.store_id,
        )

    @get("/me", guards=[ALL_ROLES])
    async def me(self, request: AnyRequest) -> StaffOut:
        """Who the token belongs to."""
        u = request.user
        return await read(request, lambda c: domain.get_staff(c, u.store_id, u.user_id))


def _store_out(s: StoreSettings, now: datetime) -> StoreOut:
    return StoreOut(
        store_id=s.store_id,
        name=s.name,
        region=s.region,
        tz=s.tz,
        open_time=s.open_time,
        close_time=s.close_time,
        first_response_sla_hours=s.first_response_sla_hours,
        resolution_sla_hours=s.resolution_sla_hours,
        today=now.astimezone(s.zone).date().isoformat(),
    )


class StoreController(Controller):
    path = "/api/v1/store"
    tags = ["store"]

    @get("/", guards=[ALL_ROLES])
    async def get_store(self, request: AnyRequest) -> StoreOut:
        """The store's identity and settings (business hours, SLA hours, time zone)."""
        n = node(request)
        settings = await read(request, lambda c: load_settings(c, n.store_id))
        return _store_out(settings, n.writer.clock())

    @patch("/", guards=[requires()])
    async def update_store(
        self, request: AnyRequest, data: JSONBody[StoreSettingsIn]
    ) -> Response[StoreOut]:
        """Change business hours or complaint SLA hours (manager)."""

        def command(ctx: Ctx) -> StoreOut:
            domain.update_settings(ctx, data)
            return _store_out(ctx.store, ctx.now)

        return await submit(request, command, status_code=200)


class StaffController(Controller):
    path = "/api/v1/staff"
    tags = ["staff"]

    @get("/", guards=[ALL_ROLES])
    async def list_staff(
        self,
        request: AnyRequest,
        paging: PagingDep,
        role: Annotated[Role | None, QueryParameter(description="filter by role")] = None,
        active: Annotated[bool | None, QueryParameter(description="filter by active flag")] = None,
    ) -> Page[StaffOut]:
        """The roster (员工名单), filtered by role or active flag."""
        n = node(request)
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.list_staff(c, n.store_id, role=role, active=active),
                domain.staff_row_out,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @post("/", guards=[requires()])
    async def add_staff(self, request: AnyRequest, data: JSONBody[StaffIn]) -> Response[StaffOut]:
        """Add a staff member with a login (manager)."""
        pw_hash = await to_thread.run_sync(hash_password, data.password)
        return await submit(
            request,
            lambda ctx: domain.add_staff(
                ctx,
                username=data.username,
                display_name=data.display_name,
                role=data.role,
                password_hash=pw_hash,
            ),
        )

    @get("/{user_id:uuid}", guards=[ALL_ROLES])
    async def get_staff(self, request: AnyRequest, user_id: FromPath[UUID]) -> StaffOut:
        n = node(request)
        return await read(request, lambda c: domain.get_staff(c, n.store_id, user_id))

    @patch("/{user_id:uuid}", guards=[requires()])
    async def update_staff(
        self, request: AnyRequest, user_id: FromPath[UUID], data: JSONBody[StaffUpdate]
    ) -> Response[StaffOut]:
        """Change a role, reset a password, deactivate or reactivate (manager)."""
        pw_hash = await to_thread.run_sync(hash_password, data.password) if data.password else None
        return await submit(
            request,
            lambda ctx: domain.update_staff(ctx, user_id, data, password_hash=pw_hash),
            status_code=200,
        )


ROUTES = [AuthController, StoreController, StaffController]
