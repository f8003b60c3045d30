"""Login, the store's settings and the staff roster."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import Connection

from schema.api.common import Page
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
from schema.events.store import Role
from server.domain import store as domain
from server.domain.context import Ctx, StoreSettings, load_settings
from server.domain.paging import paginate
from server.errors import Unauthorized, ValidationFailed
from server.idempotency import fingerprint_body
from server.passwords import hash_password
from server.store.api.common import (
    DEVICE_HEADER,
    AnyRequest,
    PagingDep,
    node,
    read,
    submit,
)
from server.store.auth import ALL_ROLES, TOKEN_TTL, requires
from server.web.contract import key_not_used, problems
from server.web.logins import LOGIN_RECORDS_NOTHING, PASSWORD_CHANGED_ONCE, LoginGate


async def _hash(request: AnyRequest, password: str) -> str:
    """Hash a new password in the pool that bounds Argon2's memory (as logins do)."""
    logins: LoginGate = request.app.state.logins
    return await logins.pool.run(hash_password, password)


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/login",
        status_code=200,
        security=[],
        responses=problems(401, 429),
        opt=key_not_used(LOGIN_RECORDS_NOTHING),
    )
    async def login(self, request: Request[Any, Any, State], data: JSONBody[LoginIn]) -> LoginOut:
        """Exchange a user name and password for a bearer token (登录)."""
        n = node(request)
        logins: LoginGate = request.app.state.logins
        user = await logins.verify(
            request,
            data.username,
            data.password,
            lambda: read(request, lambda c: domain.find_login(c, n.store_id, data.username)),
        )
        return _login_out(request, n.store_id, user)

    @get("/me", guards=[ALL_ROLES])
    async def me(self, request: AnyRequest) -> StaffOut:
        """Who the token belongs to."""
        u = request.user
        return await read(request, lambda c: domain.get_staff(c, u.store_id, u.user_id))

    @post(
        "/password",
        guards=[ALL_ROLES],
        status_code=200,
        responses=problems(429),
        opt=key_not_used(PASSWORD_CHANGED_ONCE),
    )
    async def change_password(
        self, request: AnyRequest, data: JSONBody[PasswordChangeIn]
    ) -> LoginOut:
        """Change your own password with your current one (改密码). Every token issued
        before, the one sending this included, stops working; the answer carries a new one. A
        wrong current password (422) counts as a failed login (429 after too many)."""
        n = node(request)
        user = request.user
        logins: LoginGate = request.app.state.logins

        def find(c: Connection) -> tuple[tuple[StaffOut, str], str] | None:
            found = domain.find_login(c, n.store_id, user.username)
            return (found, found[1]) if found else None

        try:
            _, current = await logins.verify(
                request, user.username, data.current_password, lambda: read(request, find)
            )
        except Unauthorized as exc:
            raise ValidationFailed(
                "the current password is wrong", field="current_password"
            ) from exc
        if data.new_password == data.current_password:
            raise ValidationFailed(
                "choose a password other than the current one", field="new_password"
            )
        new_hash = await _hash(request, data.new_password)

        def command(ctx: Ctx) -> None:
            domain.change_own_password(ctx, user.username, verified_hash=current, new_hash=new_hash)
            n.roster.password_set(user.username, domain.tokens_valid_from(ctx.conn, user.username))

        # Not through ``submit``: its Idempotency-Key record would keep a fast hash of a body
        # holding both passwords. A retry after success is refused anyway (its token is dead).
        await n.writer.submit(
            command,
            actor=user.username,
            device=request.headers.get(DEVICE_HEADER, "tablet")[:64],
            status_code=200,
        )
        return _login_out(request, n.store_id, user)


def _login_out(
    request: AnyRequest | Request[Any, Any, State], store_id: str, user: Any
) -> LoginOut:
    """A fresh bearer token for ``user`` (a ``StaffOut`` or the token's ``StaffUser``)."""
    token = request.app.state.jwt_auth.create_token(
        identifier=str(user.user_id),
        token_extras={"store_id": store_id, "role": user.role, "username": user.username},
    )
    return LoginOut(
        access_token=token,
        token_type="bearer",
        expires_in=int(TOKEN_TTL.total_seconds()),
        username=user.username,
        role=user.role,
        store_id=store_id,
    )


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
        pw_hash = await _hash(request, data.password)
        return await submit(
            request,
            lambda ctx: domain.add_staff(
                ctx,
                username=data.username,
                display_name=data.display_name,
                role=data.role,
                password_hash=pw_hash,
            ),
            fingerprinted=fingerprint_body(data, password=PASSWORD_IN_FINGERPRINT),
        )

    @get("/{user_id:uuid}", guards=[ALL_ROLES])
    async def get_staff(self, request: AnyRequest, user_id: FromPath[UUID]) -> StaffOut:
        n = node(request)
        return await read(request, lambda c: domain.get_staff(c, n.store_id, user_id))

    @patch("/{user_id:uuid}", guards=[requires()])
    async def update_staff(
        self, request: AnyRequest, user_id: FromPath[UUID], data: JSONBody[StaffUpdate]
    ) -> Response[StaffOut]:
        """Change a role, reset a password, deactivate or reactivate (manager). A reset ends
        the member's earlier tokens; they need not change the password afterwards (a hall's
        manager hands it over in person) but may (``POST /api/v1/auth/password``)."""
        n = node(request)
        pw_hash = await _hash(request, data.password) if data.password else None

        def command(ctx: Ctx) -> StaffOut:
            out = domain.update_staff(ctx, user_id, data, password_hash=pw_hash)
            if pw_hash is not None:
                tokens_from = domain.tokens_valid_from(ctx.conn, out.username)
                n.roster.password_set(out.username, tokens_from)
            return out

        return await submit(
            request,
            command,
            status_code=200,
            fingerprinted=fingerprint_body(
                data, password=PASSWORD_IN_FINGERPRINT if data.password else None
            ),
        )


PASSWORD_IN_FINGERPRINT = "(password)"
"""What a retry's fingerprint holds for a password: a retry with the same key is the same
request whatever password it carries, and no hash of the password is kept."""


ROUTES = [AuthController, StoreController, StaffController]
