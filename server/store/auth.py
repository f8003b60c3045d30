"""Staff authentication on the store node: bearer tokens (JWT) and role guards.

A token names the store, the user and their role at login. Every request re-checks the user
against the roster held in memory (refreshed when roster events commit), so a deactivated user
or a changed role takes effect at once, without a database read per request. The roster also
knows when each password was last set: a token issued before is refused (``server.tokens``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Self
from uuid import UUID

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth
from sqlalchemy import Connection

from schema.events import Event
from schema.events.store import (
    ROLES,
    Role,
    StaffAdded,
    StaffDeactivated,
    StaffReactivated,
    StaffRoleChanged,
)
from schema.tables.core import credentials, staff
from server.errors import Forbidden
from server.tokens import IssuedToken, issued_before
from server.web.guards import RoleGuard, bearer_auth

TOKEN_TTL = timedelta(hours=12)
"""A token lasts a working day (8:00–20:30 with margin); staff log in once per shift."""

VERIFIED_TOKENS = 4096
"""Most verified tokens remembered (a hall has tens of staff, each with a token a shift)."""


class StaffToken(IssuedToken):
    """A staff bearer token whose verified decoding is remembered until the token expires.

    Checking the signature is most of the cost of authenticating a request, and a tablet sends
    the same token all day: each distinct token (per signing secret) is verified once, and
    until its ``exp`` passes its decoding is served from memory. Who the token names is still
    looked up in the roster on every request, so deactivation takes effect at once.
    """

    _verified: ClassVar[dict[tuple[str, str, str], StaffToken]] = {}

    @classmethod
    def decode(
        cls,
        encoded_token: str,
        secret: str,
        algorithm: str,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        require_claims: Sequence[str] | None = None,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        strict_audience: bool = False,
    ) -> Self:
        plain = not (audience or issuer or require_claims or strict_audience)
        if not (plain and verify_exp and verify_nbf):  # not how this node checks tokens
            return super().decode(
                encoded_token,
                secret,
                algorithm,
                audience,
                issuer,
                require_claims,
                verify_exp,
                verify_nbf,
                strict_audience,
            )
        key = (secret, algorithm, encoded_token)
        known = cls._verified.get(key)
        if isinstance(known, cls) and datetime.now(UTC) < known.exp:
            return known
        token = super().decode(encoded_token, secret, algorithm)  # raises unless valid
        if len(cls._verified) >= VERIFIED_TOKENS:
            cls._verified.clear()  # rare: tokens in use are simply verified again
        cls._verified[key] = token
        return token


@dataclass(frozen=True)
class StaffUser:
    """The authenticated staff member of a request."""

    user_id: UUID
    username: str
    role: Role
    store_id: str


class Roster:
    """Staff by user id, and who is active, kept current from committed roster events."""

    def __init__(self, store_id: str) -> None:
        self.store_id = store_id
        self._users: dict[UUID, StaffUser] = {}
        self._active: set[UUID] = set()
        self._tokens_from: dict[str, datetime] = {}

    def load(self, conn: Connection) -> None:
        rows = conn.execute(sa.select(staff).where(staff.c.store_id == self.store_id)).all()
        self._users = {
            r.user_id: StaffUser(r.user_id, r.username, r.role, self.store_id) for r in rows
        }
        self._active = {r.user_id for r in rows if r.active}
        stamps = conn.execute(sa.select(credentials.c.username, credentials.c.tokens_valid_from))
        self._tokens_from = {
            r.username: r.tokens_valid_from for r in stamps if r.tokens_valid_from is not None
        }

    def get(self, user_id: UUID) -> StaffUser | None:
        """The staff member if they are active, else None."""
        return self._users.get(user_id) if user_id in self._active else None

    def password_set(self, username: str, tokens_from: datetime | None) -> None:
        """The user's password was set: tokens issued before ``tokens_from`` are refused.

        Called by the command that sets it, before its commit: should the commit fail, the
        user's older tokens are refused all the same and they log in again.
        """
        if tokens_from is not None:
            self._tokens_from[username] = tokens_from

    def admits(self, user: StaffUser, token: IssuedToken) -> bool:
        """False if the token was issued before the user's password was last set."""
        return not issued_before(token, self._tokens_from.get(user.username))

    def on_commit(self, events: Iterable[Event]) -> None:
        for e in events:
            if isinstance(e, StaffAdded):
                self._users[e.user_id] = StaffUser(e.user_id, e.username, e.role, e.store_id)
                self._active.add(e.user_id)
            elif isinstance(e, StaffRoleChanged) and e.user_id in self._users:
                u = self._users[e.user_id]
                self._users[e.user_id] = StaffUser(u.user_id, u.username, e.role, u.store_id)
            elif isinstance(e, StaffDeactivated):
                self._active.discard(e.user_id)
            elif isinstance(e, StaffReactivated):
                self._active.add(e.user_id)


def make_jwt_auth(
    secret: str, roster: Roster, exclude: list[str]
) -> JWTAuth[StaffUser, StaffToken]:
    """The bearer-token auth of the tablet API, bound to this node's secret and roster."""

    # Async although it only reads memory: Litestar runs a sync handler in a worker thread.
    async def retrieve(
        token: StaffToken, _conn: ASGIConnection[Any, Any, Any, Any]
    ) -> StaffUser | None:
        if token.extras.get("store_id") != roster.store_id:
            return None
        try:
            user = roster.get(UUID(token.sub))
        except ValueError:
            return None
        return user if user is not None and roster.admits(user, token) else None

    return bearer_auth(
        retrieve,
        secret=secret,
        token_cls=StaffToken,
        ttl=TOKEN_TTL,
        exclude=exclude,
        description="Staff bearer token from POST /api/v1/auth/login",
    )


@dataclass(frozen=True)
class StaffRoles(RoleGuard):
    """A guard admitting staff of the given roles (``requires``)."""

    # Async: Litestar runs a sync guard in a worker thread, a hop every request would pay.
    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], _h: BaseRouteHandler
    ) -> None:
        user: StaffUser = connection.user
        if user.role not in self.roles:
            raise Forbidden(
                f"role {user.role!r} may not do this; needs one of {sorted(self.roles)}",
                role=user.role,
            )


def requires(*roles: Role) -> StaffRoles:
    """A guard admitting only the given roles (a manager is always admitted)."""
    allowed = {*roles, "manager"}
    return StaffRoles(tuple(r for r in ROLES if r in allowed))


ALL_ROLES = requires("greeter", "clerk", "tech", "admin")
"""Any logged-in staff member."""
