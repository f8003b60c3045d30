"""Staff authentication on the store node: bearer tokens (JWT) and role guards.

A token names the store, the user and their role at login. Every request re-checks the user
against the roster held in memory (refreshed when roster events commit), so a deactivated user
or a changed role takes effect at once, without a database read per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token
from sqlalchemy import Connection

from schema.events import Event
from schema.events.store import Role, StaffAdded, StaffDeactivated, StaffRoleChanged
from schema.tables.core import staff
from server.errors import Forbidden

TOKEN_TTL = timedelta(hours=12)
"""A token lasts a working day (8:00–20:30 with margin); staff log in once per shift."""


@dataclass(frozen=True)
class StaffUser:
    """The authenticated staff member of a request."""

    user_id: UUID
    username: str
    role: Role
    store_id: str


class Roster:
    """Active staff by user id, kept current from committed roster events."""

    def __init__(self, store_id: str) -> None:
        self.store_id = store_id
        self._users: dict[UUID, StaffUser] = {}

    def load(self, conn: Connection) -> None:
        rows = conn.execute(
            sa.select(staff).where(staff.c.store_id == self.store_id, staff.c.active)
        ).all()
        self._users = {
            r.user_id: StaffUser(r.user_id, r.username, r.role, self.store_id) for r in rows
        }

    def get(self, user_id: UUID) -> StaffUser | None:
        return self._users.get(user_id)

    def on_commit(self, events: Iterable[Event]) -> None:
        for e in events:
            if isinstance(e, StaffAdded):
                self._users[e.user_id] = StaffUser(e.user_id, e.username, e.role, e.store_id)
            elif isinstance(e, StaffRoleChanged) and e.user_id in self._users:
                u = self._users[e.user_id]
                self._users[e.user_id] = StaffUser(u.user_id, u.username, e.role, u.store_id)
            elif isinstance(e, StaffDeactivated):
                self._users.pop(e.user_id, None)


def make_jwt_auth(secret: str, roster: Roster, exclude: list[str]) -> JWTAuth[StaffUser, Token]:
    """The bearer-token auth of the tablet API, bound to this node's secret and roster."""

    def retrieve(token: Token, _conn: ASGIConnection[Any, Any, Any, Any]) -> StaffUser | None:
        if token.extras.get("store_id") != roster.store_id:
            return None
        try:
            return roster.get(UUID(token.sub))
        except ValueError:
            return None

    return JWTAuth[StaffUser, Token](
        retrieve_user_handler=retrieve,
        token_secret=secret,
        default_token_expiration=TOKEN_TTL,
        exclude=exclude,
        description="Staff bearer token from POST /api/v1/auth/login",
    )


def requires(*roles: Role) -> Any:
    """A guard admitting only the given roles (a manager is always admitted)."""
    allowed = frozenset((*roles, "manager"))

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _h: BaseRouteHandler) -> None:
        user: StaffUser = connection.user
        if user.role not in allowed:
            raise Forbidden(
                f"role {user.role!r} may not do this; needs one of {sorted(allowed)}",
                role=user.role,
            )

    guard.__name__ = "requires_" + "_".join(sorted(allowed))
    return guard


ALL_ROLES = requires("greeter", "clerk", "tech", "admin")
"""Any logged-in staff member."""
