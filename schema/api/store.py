"""REST types for login, the store's settings and its staff roster."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated
from uuid import UUID

import msgspec

from schema.api.common import LocalTime, Name
from schema.events.store import Role

Username = Annotated[str, msgspec.Meta(min_length=2, max_length=64, pattern=r"^[a-z0-9_.-]+\Z")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]


class LoginIn(msgspec.Struct, kw_only=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class PasswordChangeIn(msgspec.Struct, kw_only=True):
    """Change one's own password (on a store node, and at HQ)."""

    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    new_password: Password
    """8 to 256 characters, not the current one."""


class LoginOut(msgspec.Struct, kw_only=True):
    """OAuth2-style bearer token for the tablet to send as ``Authorization: Bearer …``."""

    access_token: str
    token_type: str
    expires_in: int
    """Seconds until the token expires."""
    username: str
    role: Role
    store_id: str


class StaffIn(msgspec.Struct, kw_only=True):
    username: Username
    display_name: Name
    role: Role
    password: Password


class StaffUpdate(msgspec.Struct, kw_only=True):
    role: Role | None = None
    active: bool | None = None
    """``false`` deactivates (离职); ``true`` reactivates someone who left (needs ``password``)."""
    password: Password | None = None
    """A new password (reset by the manager)."""


class StaffOut(msgspec.Struct, kw_only=True):
    user_id: UUID
    username: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime


class StoreSettingsIn(msgspec.Struct, kw_only=True):
    """Change the store's operating settings; omitted fields keep their value."""

    name: Name | None = None
    open_time: LocalTime | None = None
    """Hall opens, store-local (``HH:MM:SS``, no UTC offset)."""
    close_time: LocalTime | None = None
    """Hall closes, store-local."""
    first_response_sla_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] | None = None
    resolution_sla_hours: Annotated[int, msgspec.Meta(ge=1, le=2160)] | None = None


class StoreOut(msgspec.Struct, kw_only=True):
    store_id: str
    name: str
    region: str
    tz: str
    open_time: time
    close_time: time
    first_response_sla_hours: int
    resolution_sla_hours: int
    today: str
    """The store-local date now (ISO), the day "today" endpoints use."""
