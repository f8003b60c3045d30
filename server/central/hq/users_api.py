"""The HQ API of HQ users: admins manage accounts (``/api/v1/hq/users``); every user sees
their own account and changes their own password (``/api/v1/hq/auth/me``, ``…/password``).

Only admins over every region manage users: an account may span regions, so a region-scoped
admin could otherwise hand out access beyond their own. An admin-set password (a new user's, a
reset) lets the user do nothing but change it; any password change ends the user's earlier
tokens, on every replica at once.
"""

from __future__ import annotations

import logging
from typing import Annotated

from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from schema.api.common import Page
from schema.api.hq_users import (
    HqLoginOut,
    HqRole,
    HqUserIn,
    HqUserOut,
    HqUserUpdate,
    PasswordResetIn,
)
from schema.api.store import PasswordChangeIn
from server import idempotency
from server.central import db
from server.central.context import central
from server.central.hq import users
from server.central.hq.api import HqRequest, Limit, Offset
from server.central.hq.auth import CHAIN_ADMIN, OWN_ACCOUNT, TOKEN_TTL
from server.domain.paging import paginate
from server.errors import Unauthorized, ValidationFailed
from server.passwords import hash_password
from server.web.contract import key_not_used, key_replays, problems
from server.web.logins import PASSWORD_CHANGED_ONCE

log = logging.getLogger(__name__)

USER_ADMINS = [CHAIN_ADMIN]
"""Guards of user management: an admin whose regions are every region."""


class HqUsersController(Controller):
    path = "/api/v1/hq/users"
    tags = ["hq users"]
    # Guards go on each handler, not the controller: Litestar gives a controller's guards to
    # the OPTIONS handler it adds, which authentication skips, so they would find no user.

    @post(
        "/",
        guards=USER_ADMINS,
        status_code=201,
        opt=key_replays(
            "the user the first attempt created, as the user is now (201), instead of a 409"
        ),
    )
    async def create_user(
        self,
        request: HqRequest,
        data: JSONBody[HqUserIn],
    ) -> Response[HqUserOut]:
        """Create an HQ user with an initial password to hand to them (admin over every
        region). Until they choose their own (``POST /api/v1/hq/auth/password``), every other
        endpoint answers them 403 ``password_change_required``. ``regions: []`` is every
        region; each region named must have a store on central."""
        c = central(request)
        # The fingerprint leaves the password out: central keeps no fast hash of it.
        secret_free = idempotency.fingerprint_body(data, password="")
        idem = await idempotency.of_request(request, request.user.username, secret_free)
        pw_hash = await central(request).logins.pool.run(hash_password, data.password)
        async with db.write(c.engine) as conn:
            out, replayed = await users.create_user(
                conn,
                data,
                password_hash=pw_hash,
                now=c.clock(),
                created_by=request.user.username,
                idempotency=idem,
            )
        if replayed:
            return Response(out, status_code=201, headers=idempotency.REPLAYED_HEADERS)
        log.info("HQ user %s created %s (%s)", request.user.username, out.username, out.role)
        return Response(out, status_code=201)

    @get("/", guards=USER_ADMINS)
    async def list_users(
        self,
        request: HqRequest,
        role: Annotated[HqRole | None, QueryParameter(description="filter by role")] = None,
        active: Annotated[bool | None, QueryParameter(description="filter by active flag")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[HqUserOut]:
        """HQ users by user name, filtered by role or active flag (admin over every region)."""
        query = users.list_query(role=role, active=active)
        return await db.run_read(
            central(request).engine,
            lambda conn: paginate(conn, query, users.user_out, limit=limit, offset=offset),
        )

    @get("/{username:str}", guards=USER_ADMINS)
    async def get_user(self, request: HqRequest, username: FromPath[str]) -> HqUserOut:
        """One HQ user (admin over every region)."""
        async with db.read(central(request).engine) as conn:
            return await users.get_user(conn, username)

    @patch(
        "/{username:str}",
        guards=USER_ADMINS,
        opt=key_not_used("a change sets the values sent, so a retry sets the same values again"),
    )
    async def update_user(
        self, request: HqRequest, username: FromPath[str], data: JSONBody[HqUserUpdate]
    ) -> HqUserOut:
        """Change a user's display name, role, regions (``[]``: every region) or active flag
        (admin over every region). Deactivating ends their tokens at once. Refused (409) when
        it would leave no active admin over every region: nobody could then manage users."""
        async with db.write(central(request).engine) as conn:
            out = await users.update_user(conn, username, data)
        log.info("HQ user %s changed %s", request.user.username, username)
        return out

    @post(
        "/{username:str}/password",
        guards=USER_ADMINS,
        status_code=200,
        opt=key_not_used(
            "a retry sets the same password again, and again ends the user's earlier tokens"
        ),
    )
    async def reset_password(
        self, request: HqRequest, username: FromPath[str], data: JSONBody[PasswordResetIn]
    ) -> HqUserOut:
        """Reset a user's password (admin over every region), e.g. when they forgot it. Their
        earlier tokens stop working, and they must choose their own password at their next
        login before doing anything else. Sending it again sets it again."""
        pw_hash = await central(request).logins.pool.run(hash_password, data.password)
        async with db.write(central(request).engine) as conn:
            out = await users.set_password(conn, username, pw_hash, by_admin=True)
        log.info("HQ user %s reset the password of %s", request.user.username, username)
        return out


class HqAccountController(Controller):
    """What any logged-in HQ user may do with their own account, even before they chose their
    own password."""

    path = "/api/v1/hq/auth"
    tags = ["hq"]

    @get("/me", guards=[OWN_ACCOUNT])
    async def me(self, request: HqRequest) -> HqUserOut:
        """The account the token belongs to (``must_change_password`` says whether the user
        must first choose their own password)."""
        async with db.read(central(request).engine) as conn:
            return await users.get_user(conn, request.user.username)

    @post(
        "/password",
        guards=[OWN_ACCOUNT],
        status_code=200,
        responses=problems(429),
        opt=key_not_used(PASSWORD_CHANGED_ONCE),
    )
    async def change_password(
        self, request: HqRequest, data: JSONBody[PasswordChangeIn]
    ) -> HqLoginOut:
        """Change your own password with your current one. Every token issued before,
        the one sending this included, stops working; the answer carries a new one. Wrong
        current password (422) counts as a failed login (429 after too many)."""
        c = central(request)
        username = request.user.username

        async def find() -> tuple[str, str] | None:
            async with db.read(c.engine) as conn:
                found = await users.password_hash(conn, username)
            return (found, found) if found is not None else None

        try:
            current = await c.logins.verify(request, username, data.current_password, find)
        except Unauthorized as exc:
            raise ValidationFailed(
                "the current password is wrong", field="current_password"
            ) from exc
        if data.new_password == data.current_password:
            raise ValidationFailed(
                "choose a password other than the current one", field="new_password"
            )
        new_hash = await c.logins.pool.run(hash_password, data.new_password)
        async with db.write(c.engine) as conn:
            await users.change_own_password(
                conn, username, verified_hash=current, new_hash=new_hash
            )
        user = request.user
        token = request.app.state.jwt_auth.create_token(
            identifier=username, token_extras={"aud_kind": "hq", "role": user.role}
        )
        log.info("HQ user %s changed their password", username)
        return HqLoginOut(
            access_token=token,
            token_type="bearer",
            expires_in=int(TOKEN_TTL.total_seconds()),
            username=username,
            role=user.role,  # type: ignore[arg-type]
            regions=list(user.regions),
        )


ROUTES = [HqUsersController, HqAccountController]
