"""HQ user accounts: create, list, change, deactivate, set passwords. Used by the HQ API
(``/api/v1/hq/users``) and by ``hallsync central user …``, so both keep the same rules:

- a region given to a user must be the region of a store central knows (a typo would otherwise
  scope the user to nothing, silently);
- the chain keeps at least one active admin over every region: without one, nobody could
  manage HQ users or address every store again (short of the database);
- a password someone else set (a new user's, an admin's reset) must be replaced by the user's
  own before they may do anything else; setting any password ends the user's earlier tokens.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.api.hq_users import HqUserIn, HqUserOut, HqUserUpdate
from schema.tables.sync import central_stores, hq_users
from server import tokens
from server.central.hq.auth import create_hq_user
from server.errors import Conflict, NotFound, ValidationFailed
from server.idempotency import Idempotency


def user_out(row: Any) -> HqUserOut:
    return HqUserOut(
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        regions=list(row.regions or ()),
        active=row.active,
        must_change_password=row.must_change_password,
        created_at=row.created_at,
    )


async def _row(conn: AsyncConnection, username: str, *, lock: bool = False) -> Any:
    query = sa.select(hq_users).where(hq_users.c.username == username)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound(f"no HQ user {username}", username=username)
    return row


async def get_user(conn: AsyncConnection, username: str) -> HqUserOut:
    return user_out(await _row(conn, username))


def list_query(*, role: str | None, active: bool | None) -> sa.Select[Any]:
    """HQ users by user name, filtered; the API pages it."""
    query = sa.select(hq_users)
    if role is not None:
        query = query.where(hq_users.c.role == role)
    if active is not None:
        query = query.where(hq_users.c.active == active)
    return query.order_by(hq_users.c.username)


async def check_regions(conn: AsyncConnection, regions: Iterable[str]) -> list[str]:
    """The regions, sorted and without repeats, if central has a store in each; else 422."""
    wanted = sorted(set(regions))
    if not wanted:
        return wanted
    known = set(
        (
            await conn.execute(
                sa.select(central_stores.c.region)
                .where(central_stores.c.region.in_(wanted))
                .distinct()
            )
        ).scalars()
    )
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise ValidationFailed(
            f"no store is in region(s) {unknown}; a region exists once a store in it is "
            "created (POST /api/v1/hq/stores)",
            field="regions",
        )
    return wanted


async def create_user(
    conn: AsyncConnection,
    data: HqUserIn,
    *,
    password_hash: str,
    now: datetime,
    created_by: str | None,
    idempotency: Idempotency | None = None,
) -> tuple[HqUserOut, bool]:
    """Create a user who must choose their own password at first login. With ``idempotency``
    (the admin's key, kept with the user), a retry answers with the user the first attempt
    created; the bool says so."""
    if idempotency is not None:
        earlier = (
            await conn.execute(
                sa.select(hq_users).where(
                    hq_users.c.created_by == created_by,
                    hq_users.c.idempotency_key == idempotency.key,
                )
            )
        ).first()
        if earlier is not None:
            idempotency.check_replay(earlier.request_hash)
            return user_out(earlier), True
    regions = await check_regions(conn, data.regions)
    await create_hq_user(
        conn,
        username=data.username,
        display_name=data.display_name,
        role=data.role,
        regions=regions,
        password_hash=password_hash,
        now=now,
        must_change_password=True,
        created_by=created_by,
        idempotency_key=idempotency.key if idempotency else None,
        request_hash=idempotency.fingerprint if idempotency else None,
    )
    return await get_user(conn, data.username), False


def _unscoped_admin(row: Any) -> bool:
    return bool(row.active and row.role == "admin" and not row.regions)


async def update_user(conn: AsyncConnection, username: str, data: HqUserUpdate) -> HqUserOut:
    """Change a user's display name, role, regions or active flag; the rest keep their value.
    Deactivating ends the user's tokens for good (reactivating does not revive them).

    Refuses (409) to leave the chain without an active admin over every region.
    """
    row = await _row(conn, username, lock=True)
    values: dict[str, Any] = {}
    if data.display_name is not None:
        values["display_name"] = data.display_name
    if data.role is not None:
        values["role"] = data.role
    if data.regions is not None:
        values["regions"] = await check_regions(conn, data.regions)
    if data.active is not None:
        values["active"] = data.active
        if not data.active:
            # Tokens issued before stay refused should the account be reactivated.
            values["tokens_valid_from"] = tokens.now()
    if _unscoped_admin(row) and not _unscoped_admin(_Row(row._asdict() | values)):
        # The other admins' rows are locked, so two admins demoting each other at once cannot
        # both pass (SQLite's write transaction already runs alone).
        others = (
            await conn.execute(
                sa.select(hq_users.c.role, hq_users.c.regions, hq_users.c.active)
                .where(
                    hq_users.c.active,
                    hq_users.c.role == "admin",
                    hq_users.c.username != username,
                )
                .with_for_update()
            )
        ).all()
        if not any(_unscoped_admin(o) for o in others):
            raise Conflict(
                f"{username} is the last active admin over every region: without one, nobody "
                "could manage HQ users or address every store; make another user such an admin "
                "first",
                username=username,
            )
    if values:
        await conn.execute(
            hq_users.update().where(hq_users.c.username == username).values(**values)
        )
    return await get_user(conn, username)


class _Row:
    """Attribute access over a dict, for checking a row as it would be after an update."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


async def set_password(
    conn: AsyncConnection, username: str, password_hash: str, *, by_admin: bool
) -> HqUserOut:
    """Set a user's password, ending every token issued before. Set by an admin, the user must
    choose their own before doing anything else."""
    await _row(conn, username, lock=True)
    await conn.execute(
        hq_users.update()
        .where(hq_users.c.username == username)
        .values(
            password_hash=password_hash,
            tokens_valid_from=tokens.now(),
            must_change_password=by_admin,
        )
    )
    return await get_user(conn, username)


async def password_hash(conn: AsyncConnection, username: str) -> str | None:
    """The active user's password hash (None if they are not active)."""
    found: str | None = (
        await conn.execute(
            sa.select(hq_users.c.password_hash).where(
                hq_users.c.username == username, hq_users.c.active
            )
        )
    ).scalar()
    return found


async def change_own_password(
    conn: AsyncConnection, username: str, *, verified_hash: str, new_hash: str
) -> HqUserOut:
    """Replace the password the user just proved they know (``verified_hash``) with theirs;
    409 if it changed meanwhile (another session or an admin's reset)."""
    row = await _row(conn, username, lock=True)
    if row.password_hash != verified_hash or not row.active:
        raise Conflict("your password was changed meanwhile; log in again")
    return await set_password(conn, username, new_hash, by_admin=False)
