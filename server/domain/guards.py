"""Guards every domain shares: state machines, blank text, who is acting and what they may do.

One home for the checks the queue, inventory, shifts, complaints and ops domains would
otherwise each write their own copy of, so that "illegal transition", "blank text", "who is
acting", "only a manager may" and "no such staff member" read and answer the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.tables.core import staff
from server.domain.sql import find_row
from server.errors import Forbidden, IllegalTransition, ValidationFailed

# ---------------------------------------------------------------- state machines


def require_state(
    current: str, allowed: Iterable[str], action: str, what: str, *, hint: str = ""
) -> None:
    """Refuse ``action`` on ``what`` unless its state ``current`` is one of ``allowed``.

    The 409 ``illegal_transition`` names the current state in its detail and as ``extra.state``
    (one convention for every domain), e.g. "cannot close complaint T…-001: it is open".
    """
    allowed = tuple(allowed)
    if current in allowed:
        return
    detail = f"cannot {action} {what}: it is {current}"
    detail += f"; {hint}" if hint else f" (needs {' or '.join(allowed)})"
    raise IllegalTransition(detail, state=current)


# ---------------------------------------------------------------- text


def blank_checked(text: str, field: str) -> str:
    """``text`` without surrounding blanks; 422 naming ``field`` when nothing is left."""
    value = text.strip()
    if not value:
        raise ValidationFailed(f"{field} must not be blank", field=field)
    return value


# ---------------------------------------------------------------- staff


_ACTIVE_STAFF_BY_USERNAME = sa.select(staff).where(
    staff.c.store_id == sa.bindparam("store_id"),
    staff.c.username == sa.bindparam("username"),
    staff.c.active,
)


def actor_staff(conn: Connection, store_id: str, username: str) -> Any:
    """The active roster row of the staff member acting (None for ``system``, unknown or
    deactivated users): their ``user_id``, ``role``, names."""
    return conn.execute(
        _ACTIVE_STAFF_BY_USERNAME, {"store_id": store_id, "username": username}
    ).first()


def actor_role(conn: Connection, store_id: str, username: str) -> str | None:
    """The role of the staff member acting, or None when the actor is not active staff."""
    row = actor_staff(conn, store_id, username)
    return None if row is None else str(row.role)


def require_manager(conn: Connection, store_id: str, username: str, action: str) -> None:
    """403 unless the actor is the store's manager: "only a manager may {action}"."""
    if actor_role(conn, store_id, username) != "manager":
        raise Forbidden(f"only a manager may {action}")


def staff_member(
    conn: Connection, store_id: str, user_id: UUID, *, field: str, active: bool = True
) -> Any:
    """The roster row of a staff member named in a request (active unless told), else 422
    naming ``field``."""
    row = find_row(conn, staff, store_id, staff.c.user_id, user_id)
    if row is None:
        raise ValidationFailed(f"no staff member {user_id} in this store", field=field)
    if active and not row.active:
        raise ValidationFailed(f"staff member {row.username} is no longer active", field=field)
    return row


def known_staff(
    conn: Connection, store_id: str, user_ids: Iterable[UUID], *, field: str, active: bool
) -> tuple[UUID, ...]:
    """The given user ids, de-duplicated in order, refusing (422 naming ``field``) any not on
    the store's roster or, with ``active``, no longer working there."""
    wanted = tuple(dict.fromkeys(user_ids))
    q = sa.select(staff.c.user_id).where(staff.c.store_id == store_id, staff.c.user_id.in_(wanted))
    if active:
        q = q.where(staff.c.active)
    found = set(conn.execute(q).scalars())
    unknown = [str(u) for u in wanted if u not in found]
    if unknown:
        raise ValidationFailed(
            f"not {'active ' if active else ''}staff of this store: {', '.join(unknown)}",
            field=field,
        )
    return wanted
