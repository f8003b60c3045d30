"""Commands of the store itself: its settings, the staff roster and their logins."""

from __future__ import annotations

from datetime import datetime, time
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection
from uuid_utils.compat import uuid7

from schema.api.store import StaffOut, StaffUpdate, StoreSettingsIn
from schema.events.store import (
    Role,
    StaffAdded,
    StaffDeactivated,
    StaffReactivated,
    StaffRoleChanged,
    StoreConfigured,
)
from schema.tables.core import credentials, staff
from server import tokens
from server.domain.context import Ctx
from server.domain.sql import upsert
from server.domain.store.reads import get_staff
from server.domain.store.rules import check_hours, check_tz
from server.errors import Conflict, UsernameTaken, ValidationFailed


def configure_store(
    ctx: Ctx,
    *,
    name: str,
    region: str,
    tz: str,
    open_time: time = time(8, 0),
    close_time: time = time(20, 0),
    first_response_sla_hours: int = 24,
    resolution_sla_hours: int = 48,
) -> StoreConfigured:
    """Set the store's identity and settings (used by ``store init``)."""
    check_tz(tz)
    check_hours(open_time, close_time)
    return ctx.emit(
        StoreConfigured,
        name=name,
        region=region,
        tz=tz,
        open_time=open_time,
        close_time=close_time,
        first_response_sla_hours=first_response_sla_hours,
        resolution_sla_hours=resolution_sla_hours,
    )


def update_settings(ctx: Ctx, cmd: StoreSettingsIn) -> StoreConfigured:
    """Change some of the store's settings; the rest keep their value."""
    cur = ctx.store
    open_time = cmd.open_time or cur.open_time
    close_time = cmd.close_time or cur.close_time
    check_hours(open_time, close_time)
    return ctx.emit(
        StoreConfigured,
        name=cmd.name or cur.name,
        region=cur.region,
        tz=cur.tz,
        open_time=open_time,
        close_time=close_time,
        first_response_sla_hours=cmd.first_response_sla_hours or cur.first_response_sla_hours,
        resolution_sla_hours=cmd.resolution_sla_hours or cur.resolution_sla_hours,
    )


def add_staff(
    ctx: Ctx, *, username: str, display_name: str, role: Role, password_hash: str
) -> StaffOut:
    """Add a staff member with a login. The password arrives already hashed."""
    exists = ctx.conn.execute(
        sa.select(staff.c.user_id).where(
            staff.c.store_id == ctx.store_id, staff.c.username == username
        )
    ).first()
    if exists is not None:
        raise UsernameTaken(
            f"user name {username!r} is taken (by a current or former staff member; "
            "a former one can be reactivated)",
            field="username",
        )
    event = ctx.emit(
        StaffAdded, user_id=uuid7(), username=username, display_name=display_name, role=role
    )
    set_password(ctx.conn, username, password_hash, ctx.now)
    return get_staff(ctx.conn, ctx.store_id, event.user_id)


def set_password(conn: Connection, username: str, password_hash: str, now: datetime) -> None:
    """Store a login's password hash (node-local, never an event). Tokens issued to the user
    before stop working once the node's roster learns it (``Roster.password_set``)."""
    upsert(
        conn,
        credentials,
        {
            "username": username,
            "password_hash": password_hash,
            "updated_at": now,
            "tokens_valid_from": tokens.now(),
        },
        ["username"],
    )


def change_own_password(ctx: Ctx, username: str, *, verified_hash: str, new_hash: str) -> None:
    """Replace the password the member just proved they know (``verified_hash``) with theirs;
    409 if it changed meanwhile (their own change from another tablet, the manager's reset)."""
    current = ctx.conn.execute(
        sa.select(credentials.c.password_hash).where(credentials.c.username == username)
    ).scalar()
    if current != verified_hash:
        raise Conflict("your password was changed meanwhile; log in again")
    set_password(ctx.conn, username, new_hash, ctx.now)


def update_staff(
    ctx: Ctx, user_id: UUID, cmd: StaffUpdate, *, password_hash: str | None = None
) -> StaffOut:
    """Change a staff member's role, reset their password, deactivate or reactivate them.

    A store always keeps one active manager: the last one cannot be demoted or deactivated.
    Reactivating someone who left needs a new password (``password_hash``).
    """
    current = get_staff(ctx.conn, ctx.store_id, user_id)
    if not current.active:
        if cmd.active is not True:
            raise Conflict(
                f"{current.username} is no longer active; reactivate them first",
                state="inactive",
            )
        if password_hash is None:
            raise ValidationFailed("reactivating needs a new password", field="password")
        ctx.emit(StaffReactivated, user_id=user_id)
        current = get_staff(ctx.conn, ctx.store_id, user_id)
    leaves_managers = current.role == "manager" and (
        cmd.active is False or (cmd.role is not None and cmd.role != "manager")
    )
    if leaves_managers and _active_managers(ctx.conn, ctx.store_id) <= 1:
        raise Conflict("the store's last active manager must stay a manager")
    if cmd.role is not None and cmd.role != current.role:
        ctx.emit(StaffRoleChanged, user_id=user_id, role=cmd.role)
    if cmd.active is False:
        if current.username == ctx.actor:
            raise Conflict("a manager cannot deactivate their own account")
        ctx.emit(StaffDeactivated, user_id=user_id)
    if password_hash is not None:
        set_password(ctx.conn, current.username, password_hash, ctx.now)
    return get_staff(ctx.conn, ctx.store_id, user_id)


def _active_managers(conn: Connection, store_id: str) -> int:
    count: int = conn.execute(
        sa.select(sa.func.count()).where(
            staff.c.store_id == store_id, staff.c.active, staff.c.role == "manager"
        )
    ).scalar_one()
    return count
