"""Events about the store itself: its settings and its staff roster."""

from __future__ import annotations

from datetime import time
from typing import Literal
from uuid import UUID

from schema.api.common import LocalTime
from schema.events.base import Event

Role = Literal["greeter", "clerk", "tech", "admin", "manager"]
"""Staff roles: 前台接待 greeter, 业务员 clerk, 技术支持 tech, 综合管理 admin, 厅长 manager."""

ROLES: tuple[Role, ...] = ("greeter", "clerk", "tech", "admin", "manager")


class StoreConfigured(Event, tag="store.configured", frozen=True):
    """The store's identity and operating settings were set (at init, or changed later)."""

    name: str
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


class StaffAdded(Event, tag="staff.added", frozen=True):
    """A staff member joined the store's roster."""

    user_id: UUID
    username: str
    display_name: str
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


EVENTS = (StoreConfigured, StaffAdded, StaffRoleChanged, StaffDeactivated, StaffReactivated)
