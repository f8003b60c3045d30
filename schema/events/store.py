"""Events about the store itself: its settings and its staff roster."""

from __future__ import annotations

from datetime import time
from typing import Literal
from uuid import UUID

from schema.api.common import LocalTime
from schema.events.base import Event, FreeText

Role = Literal["greeter", "clerk", "tech", "admin", "manager"]
"""Staff roles: 前台接待 greeter, 业务员 clerk, 技术支持 tech, 综合管理 admin, 厅长 manager."""

ROLES: tuple[Role, ...] = ("greeter", "clerk", "tech", "admin", "manager")


class StoreConfigured(Event, tag="store.configured", frozen=True):
    """The store's identity and operating settings were set (at init, or changed later)."""

    name: FreeText
    region: str
    tz: str
    """IANA time zone of the hall, e.g. ``Asia/Shanghai``; store-local days use it."""
    open_time: LocalTime = time(8, 0)
    """Hall opens (营业开始), store-local."""
    close_time: LocalTime = time(20, 0)
    """Hall closes (营业结束), store-local."""
    first_response_sla_hours: int = 24
    """Complaint first response due this many hours after it was opened."""
    resolution_sla_hours: int = 48
    """Complaint resolution due this many hours after it was opened."""


class StoreRulesSet(Event, tag="store.rules_set", frozen=True):
    """Headquarters set some of the store's operating rules (营业时间, 投诉时限); the fields left
    null keep the store's current value.

    Not a ``store.configured``: that one carries the store's name, region and time zone, and an
    HQ rule addressed to many stores must not overwrite those. Business hours come as a pair
    (both or neither), so no store can end up closing before it opens.
    """

    open_time: LocalTime | None = None
    """Hall opens (营业开始), store-local; given together with ``close_time``."""
    close_time: LocalTime | None = None
    """Hall closes (营业结束), store-local."""
    first_response_sla_hours: int | None = None
    """Complaint first response due this many hours after it was opened."""
    resolution_sla_hours: int | None = None
    """Complaint resolution due this many hours after it was opened."""


class StaffAdded(Event, tag="staff.added", frozen=True):
    """A staff member joined the store's roster.

    Added by headquarters, the same member (same ``user_id``) may be added again, to more
    stores or with a new name or role; their login password is node-local and never travels,
    so the hall manager sets it on the node before they can log in.
    """

    user_id: UUID
    username: str
    display_name: FreeText
    role: Role


class StaffRoleChanged(Event, tag="staff.role_changed", frozen=True):
    """A staff member's role changed."""

    user_id: UUID
    role: Role


class StaffDeactivated(Event, tag="staff.deactivated", frozen=True):
    """A staff member left; they can no longer log in."""

    user_id: UUID


class StaffReactivated(Event, tag="staff.reactivated", frozen=True):
    """A staff member who had left came back; they can log in again (with a new password)."""

    user_id: UUID


EVENTS = (
    StoreConfigured,
    StoreRulesSet,
    StaffAdded,
    StaffRoleChanged,
    StaffDeactivated,
    StaffReactivated,
)
