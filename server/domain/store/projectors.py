"""Store events → ``store_info`` and the ``staff`` roster rows."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.events.store import (
    StaffAdded,
    StaffDeactivated,
    StaffReactivated,
    StaffRoleChanged,
    StoreConfigured,
    StoreRulesSet,
)
from schema.tables.core import staff, store_info
from server.domain.projection import projects
from server.domain.sql import find_row, upsert
from server.errors import Conflict


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
