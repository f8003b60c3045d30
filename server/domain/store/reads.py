"""Reads of the store itself: the staff roster, logins and since when a login's tokens hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.store import StaffOut
from schema.tables.core import credentials, staff
from server.errors import NotFound


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


def tokens_valid_from(conn: Connection, username: str) -> datetime | None:
    """Since when the user's tokens are valid: their password's last change."""
    found: datetime | None = conn.execute(
        sa.select(credentials.c.tokens_valid_from).where(credentials.c.username == username)
    ).scalar()
    return found
