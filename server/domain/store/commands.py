"""The store itself: settings and staff roster (commands, projectors, reads)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    StoreRulesSet,
)
from schema.tables.core import credentials, staff, store_info
from server import tokens
from server.domain.common import find_row, upsert
from server.domain.context import Ctx
from server.domain.projection import projects
from server.errors import Conflict, NotFound, UsernameTaken, ValidationFailed

# ---------------------------------------------------------------- projectors


@projects(StoreConfigured)
def _configured(conn: Connection, e: StoreConfigured) -> None:
    upsert(
        conn,
        store_info,
        {
            "store_id": e.store_id,
            "name": e.name,
            "region": e.region,
            "tz": e.tz,
            "open_time": e.open_time,
            "close_time": e.close_time,
            "first_response_sla_hours": e.first_response_sla_hours,
            "resolution_sla_hours": e.resolution_sla_hours,
            "updated_at": e.at,
        },
        ["store_id"],
    )


@projects(StoreRulesSet)
def _rules_set(conn: Connection, e: StoreRulesSet) -> None:
    # Only the rules the event gives change; name, region and time zone are never touched.
    # HQ's rules and the store's own settings (``store.configured``, which re-states every
    # setting from the current row) compose by the order the node applies them: the last one
    # applied wins. Not by HLC: the hall lives by the settings it holds now, the node applies
    # an HQ event only after observing its HLC (so every later local change is ordered after
    # it), and ``hq_log.applied_after_seq`` records where each HQ event sits among the store's
    # own events, so a replay interleaving the two reproduces this state exactly.
    given = {
        "open_time": e.open_time,
        "close_time": e.close_time,
        "first_response_sla_hours": e.first_response_sla_hours,
        "resolution_sla_hours": e.resolution_sla_hours,
    }
    values = {k: v for k, v in given.items() if v is not None}
    if values:
        conn.execute(
            store_info.update()
            .where(store_info.c.store_id == e.store_id)
            .values(**values, updated_at=e.at)
        )


@projects(StaffAdded)
def _staff_added(conn: Connection, e: StaffAdded) -> None:
    # A store adds each member once (``add_staff`` refuses a taken user name). Headquarters may
    # add the same member again (to more stores, or with a new name or role): that refreshes the
    # roster row of someone still active, but never brings back someone who left (only the hall
    # manager does, with a new password) nor takes another member's user name.
    # Two key lookups rather than one ``user_id = … OR username = …``: central folds a batch's
    # writes together and can answer a key lookup itself, where the OR query is a round trip.
    by_id = find_row(conn, staff, e.store_id, staff.c.user_id, e.user_id)
    by_name = find_row(conn, staff, e.store_id, staff.c.username, e.username)
    if by_id is None and by_name is None:
        conn.execute(
            _INSERT_STAFF,
            {
                "store_id": e.store_id,
                "user_id": e.user_id,
                "username": e.username,
                "display_name": e.display_name,
                "role": e.role,
                "active": True,
                "created_at": e.at,
            },
        )
        return
    if by_id is None or (by_name is not None and by_name.user_id != e.user_id):
        raise Conflict(f"user name {e.username!r} belongs to another staff member here")
    if not by_id.active:
        raise Conflict(f"{e.username} left this store; the hall manager reactivates them")
    conn.execute(
        _UPDATE_STAFF,
        {
            "b_store_id": e.store_id,
            "b_user_id": e.user_id,
            "display_name": e.display_name,
            "role": e.role,
        },
    )


_INSERT_STAFF = staff.insert()
_UPDATE_STAFF = staff.update().where(
    staff.c.store_id == sa.bindparam("b_store_id"), staff.c.user_id == sa.bindparam("b_user_id")
)


@projects(StaffRoleChanged)
def _role_changed(conn: Connection, e: StaffRoleChanged) -> None:
    conn.execute(
        staff.update()
        .where(staff.c.store_id == e.store_id, staff.c.user_id == e.user_id)
        .values(role=e.role)
    )


@projects(StaffReactivated)
def _reactivated(conn: Connection, e: StaffReactivated) -> None:
    conn.execute(
        staff.update()
        .where(staff.c.store_id == e.store_id, staff.c.user_id == e.user_id)
        .values(active=True)
    )


@projects(StaffDeactivated)
def _deactivated(conn: Connection, e: StaffDeactivated) -> None:
    conn.execute(
        staff.update()
        .where(staff.c.store_id == e.store_id, staff.c.user_id == e.user_id)
        .values(active=False)
    )


# ---------------------------------------------------------------- commands


def check_tz(tz: str) -> str:
    """Refuse a time zone name the system does not know."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {tz!r}", field="tz") from exc
    return tz


def _check_hours(open_time: time, close_time: time) -> None:
    if open_time >= close_time:
        raise ValidationFailed("the hall must open before it closes", field="close_time")


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
    _check_hours(open_time, close_time)
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
    _check_hours(open_time, close_time)
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


def tokens_valid_from(conn: Connection, username: str) -> datetime | None:
    """Since when the user's tokens are valid: their password's last change."""
    found: datetime | None = conn.execute(
        sa.select(credentials.c.tokens_valid_from).where(credentials.c.username == username)
    ).scalar()
    return found


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


# ---------------------------------------------------------------- reads


def _staff_out(row: Any) -> StaffOut:
    return StaffOut(
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        active=row.active,
        created_at=row.created_at,
    )


def get_staff(conn: Connection, store_id: str, user_id: UUID) -> StaffOut:
    row = conn.execute(
        sa.select(staff).where(staff.c.store_id == store_id, staff.c.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound(f"no staff member {user_id}")
    return _staff_out(row)


def find_login(conn: Connection, store_id: str, username: str) -> tuple[StaffOut, str] | None:
    """The active staff member with this user name and their password hash, if any."""
    row = conn.execute(
        sa.select(staff, credentials.c.password_hash)
        .join(credentials, credentials.c.username == staff.c.username)
        .where(staff.c.store_id == store_id, staff.c.username == username, staff.c.active)
    ).first()
    if row is None:
        return None
    return _staff_out(row), row.password_hash


def list_staff(
    conn: Connection, store_id: str, *, role: str | None, active: bool | None
) -> sa.Select[Any]:
    """The roster query, filtered; the API layer pages it."""
    q = sa.select(staff).where(staff.c.store_id == store_id)
    if role is not None:
        q = q.where(staff.c.role == role)
    if active is not None:
        q = q.where(staff.c.active == active)
    return q.order_by(staff.c.username)


def staff_row_out(row: Any) -> StaffOut:
    return _staff_out(row)
