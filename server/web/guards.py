"""Who may call: the bearer-token auth and the route guards that say whom they admit, for the
store node and central alike.

``bearer_auth`` is the one way both apps check a bearer JWT (HS256 with the app's secret, the
expiry, then the app's own lookup of the user: the store's roster in memory, central's HQ users
in its database).

A guard that decides by the caller's role is a ``RoleGuard``: its roles are data, so the API
documents list them on every operation it guards (``x-roles``, ``server.web.contract``) and
cannot drift from what the guard enforces. Each app subclasses it with its own check
(``server.store.auth.StaffRoles``, ``server.central.hq.auth.HqRoles``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token


def bearer_auth(
    retrieve: Callable[[Any, ASGIConnection[Any, Any, Any, Any]], Awaitable[Any]],
    *,
    secret: str,
    token_cls: type[Token],
    ttl: timedelta,
    exclude: list[str],
    description: str,
) -> JWTAuth[Any, Any]:
    """The bearer-token auth of an app: tokens of ``token_cls`` signed with ``secret``, valid
    ``ttl``, the user found by ``retrieve`` (None refuses the token); ``exclude`` are the
    paths left open."""
    return JWTAuth[Any, Any](
        retrieve_user_handler=retrieve,
        token_secret=secret,
        token_cls=token_cls,
        default_token_expiration=ttl,
        exclude=exclude,
        description=description,
    )


@dataclass(frozen=True)
class RoleGuard:
    """Base of the guards that admit a caller by role."""

    roles: tuple[str, ...]
    """The roles admitted, in the app's order of roles."""
    note: str = ""
    """What else the guard asks of a caller, as the API documents say it ("over every
    region"); empty when the role is all it asks."""


@dataclass(frozen=True)
class Admitted:
    """Who an operation's role guards admit together."""

    roles: tuple[str, ...]
    notes: tuple[str, ...]


def admitted(guards: Iterable[object]) -> Admitted | None:
    """The roles that every ``RoleGuard`` among ``guards`` admits (each guard must let the
    caller through), with their notes; None when no guard decides by role."""
    role_guards = [g for g in guards if isinstance(g, RoleGuard)]
    if not role_guards:
        return None
    roles = role_guards[0].roles
    for guard in role_guards[1:]:
        roles = tuple(r for r in roles if r in guard.roles)
    return Admitted(roles, tuple(g.note for g in role_guards if g.note))
