"""HQ users of central: accounts, bearer tokens (JWT), role guards and region scopes.

A token names the user; every request re-reads the user from ``hq_users`` (one indexed row),
so a deactivated user or a changed role or region takes effect at once on every replica,
without any replica holding state of its own. A token issued before the user's password was
last set is refused (``server.tokens``); a user whose password an admin set may do nothing but
change it (``must_change_password``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from schema.tables.sync import central_stores, hq_users
from server import tokens
from server.central import db
from server.errors import Conflict, Forbidden, PasswordChangeRequired, ValidationFailed
from server.web.guards import RoleGuard, bearer_auth

TOKEN_TTL = timedelta(hours=12)
ROLES = ("admin", "ops", "analyst", "auditor")
USERNAME = re.compile(r"[a-z0-9_.-]{2,64}\Z")


@dataclass(frozen=True)
class HqUser:
    """The authenticated HQ user of a request."""

    username: str
    role: str
    regions: tuple[str, ...]
    """Regions the user may see; empty means every region."""
    must_change_password: bool = False
    """An admin set the password: the user may only change it."""

    def sees(self, region: str) -> bool:
        return not self.regions or region in self.regions

    def store_scope(self) -> Any:
        """SQL: the ``central_stores`` row is in the user's regions (true for every region)."""
        return central_stores.c.region.in_(self.regions) if self.regions else sa.true()


def _user(row: Any) -> HqUser:
    return HqUser(row.username, row.role, tuple(row.regions or ()), bool(row.must_change_password))


async def create_hq_user(
    conn: AsyncConnection,
    *,
    username: str,
    display_name: str,
    role: str,
    regions: list[str],
    password_hash: str,
    now: datetime,
    must_change_password: bool = False,
    created_by: str | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> None:
    """Add an HQ account (``regions=[]``: every region). ``must_change_password``: someone
    else chose the password, so the user must choose their own first."""
    if not USERNAME.match(username):
        raise ValidationFailed(
            "user name: 2–64 lower-case letters, digits, '.', '_' or '-'", field="username"
        )
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {list(ROLES)}", field="role")
    exists = await conn.execute(
        sa.select(hq_users.c.username).where(hq_users.c.username == username)
    )
    if exists.first() is not None:
        raise Conflict(f"HQ user {username} already exists")
    await conn.execute(
        hq_users.insert().values(
            username=username,
            display_name=display_name,
            role=role,
            regions=sorted(set(regions)),
            password_hash=password_hash,
            active=True,
            created_at=now,
            tokens_valid_from=tokens.now(),
            must_change_password=must_change_password,
            created_by=created_by,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
    )


async def find_login(conn: AsyncConnection, username: str) -> tuple[HqUser, str] | None:
    """The active user and their password hash, for a login."""
    row = (
        await conn.execute(
            sa.select(hq_users).where(hq_users.c.username == username, hq_users.c.active)
        )
    ).first()
    return (_user(row), row.password_hash) if row is not None else None


async def token_user(conn: AsyncConnection, token: Token) -> HqUser | None:
    """The active user a token names, unless the token was issued before their password was
    last set (by them or an admin)."""
    row = (
        await conn.execute(
            sa.select(hq_users).where(hq_users.c.username == token.sub, hq_users.c.active)
        )
    ).first()
    if row is None or tokens.issued_before(token, row.tokens_valid_from):
        return None
    return _user(row)


def make_hq_jwt_auth(
    secret: str, engine: Callable[[], AsyncEngine], exclude: list[str]
) -> JWTAuth[HqUser, tokens.IssuedToken]:
    """Bearer-token auth of the HQ API; ``engine`` gives the running app's database."""

    async def retrieve(
        token: tokens.IssuedToken, _conn: ASGIConnection[Any, Any, Any, Any]
    ) -> HqUser | None:
        if token.extras.get("aud_kind") != "hq":
            return None
        async with db.read(engine()) as conn:
            return await token_user(conn, token)

    return bearer_auth(
        retrieve,
        secret=secret,
        token_cls=tokens.IssuedToken,
        ttl=TOKEN_TTL,
        exclude=exclude,
        description="HQ bearer token from POST /api/v1/hq/auth/login",
    )


@dataclass(frozen=True)
class HqRoles(RoleGuard):
    """A guard admitting HQ users of the given roles (``requires``): only once they have
    chosen their own password (unless ``before_own_password``), and only an admin over every
    region when ``every_region``."""

    before_own_password: bool = False
    """Admit a user who must still change the password an admin set (their own account)."""
    every_region: bool = False
    """Refuse a region-scoped user."""

    def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], _h: BaseRouteHandler
    ) -> None:
        user: HqUser = connection.user
        if user.must_change_password and not self.before_own_password:
            raise PasswordChangeRequired(
                "an admin set your password: choose your own first (POST /api/v1/hq/auth/password)"
            )
        if user.role not in self.roles:
            raise Forbidden(
                f"role {user.role!r} may not do this; needs one of {sorted(self.roles)}",
                role=user.role,
            )
        if self.every_region and user.regions:
            raise Forbidden(
                "only admins over every region manage HQ users (an account may span regions)",
                regions=list(user.regions),
            )


def requires(*roles: str) -> HqRoles:
    """A guard admitting only the given HQ roles (an admin is always admitted), and only once
    the user has chosen their own password."""
    allowed = {*roles, "admin"}
    return HqRoles(tuple(r for r in ROLES if r in allowed))


ANY_HQ_ROLE = requires(*ROLES)
ADMIN = requires()
CHAIN_ADMIN = HqRoles(("admin",), note="over every region", every_region=True)
"""Who manages HQ users: an admin whose regions are every region (an account may span
regions, so a region-scoped admin could otherwise hand out access beyond their own)."""
OWN_ACCOUNT = HqRoles(
    ROLES,
    note="any HQ user, even one who must still choose their own password",
    before_own_password=True,
)
"""Any logged-in HQ user, on their own account."""
