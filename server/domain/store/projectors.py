"""Store events → ``store_info`` and the ``staff`` roster rows."""

from __future__ import annotations

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
from server.domain.rows import Rows
from server.errors import Conflict

_STORE_SETTINGS = (
    "name",
    "region",
    "tz",
    "open_time",
    "close_time",
    "first_response_sla_hours",
    "resolution_sla_hours",
    "updated_at",
)


@projects(StoreConfigured)
def _configured(rows: Rows, e: StoreConfigured) -> None:
    rows.upsert(
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
        set=_STORE_SETTINGS,
    )


@projects(StoreRulesSet)
def _rules_set(rows: Rows, e: StoreRulesSet) -> None:
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
        rows.update(store_info, {"store_id": e.store_id}, set={**values, "updated_at": e.at})


def _staff_key(e: StaffAdded | StaffRoleChanged) -> dict[str, object]:
    return {"store_id": e.store_id, "user_id": e.user_id}


@projects(StaffAdded, reads=lambda e: [(staff, _staff_key(e))])
def _staff_added(rows: Rows, e: StaffAdded) -> None:
    # A store adds each member once (``add_staff`` refuses a taken user name). Headquarters may
    # add the same member again (to more stores, or with a new name or role): that refreshes the
    # roster row of someone still active, but never brings back someone who left (only the hall
    # manager does, with a new password) nor takes another member's user name.
    by_id = rows.get(staff, _staff_key(e))
    by_name = rows.get(staff, {"store_id": e.store_id, "username": e.username})
    if by_id is None and by_name is None:
        rows.insert(
            staff,
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
    if by_id is None or (by_name is not None and by_name["user_id"] != e.user_id):
        raise Conflict(f"user name {e.username!r} belongs to another staff member here")
    if not by_id["active"]:
        raise Conflict(f"{e.username} left this store; the hall manager reactivates them")
    rows.update(staff, _staff_key(e), set={"display_name": e.display_name, "role": e.role})


@projects(StaffRoleChanged)
def _role_changed(rows: Rows, e: StaffRoleChanged) -> None:
    rows.update(staff, _staff_key(e), set={"role": e.role})


@projects(StaffReactivated)
def _reactivated(rows: Rows, e: StaffReactivated) -> None:
    rows.update(staff, {"store_id": e.store_id, "user_id": e.user_id}, set={"active": True})


@projects(StaffDeactivated)
def _deactivated(rows: Rows, e: StaffDeactivated) -> None:
    rows.update(staff, {"store_id": e.store_id, "user_id": e.user_id}, set={"active": False})
