"""REST types of HQ users on central: logging in (``/api/v1/hq/auth/login``) and user
management (``/api/v1/hq/users``); changing one's own password (``/api/v1/hq/auth/password``)
takes the store's ``PasswordChangeIn``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schema.api.common import Name, Region
from schema.api.store import Password, Username

HqRole = Literal["admin", "ops", "analyst", "auditor"]
"""admin: everything, users included; ops: publishes to stores; analyst, auditor: read."""

Regions = Annotated[list[Region], msgspec.Meta(max_length=200)]


class HqLoginIn(msgspec.Struct, kw_only=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class HqLoginOut(msgspec.Struct, kw_only=True):
    """Bearer token for ``Authorization: Bearer …`` on the HQ API."""

    access_token: str
    token_type: str
    expires_in: int
    """Seconds until the token expires."""
    username: str
    role: HqRole
    regions: list[str]
    """Regions the user may see; empty means every region."""


class HqUserIn(msgspec.Struct, kw_only=True):
    """A new HQ user (admin). They must choose their own password before doing anything else."""

    username: Username
    display_name: Name
    role: HqRole
    regions: Regions = msgspec.field(default_factory=list)
    """Regions the user may see and address; empty: every region. Each must be the region of
    a store central knows."""
    password: Password
    """The initial password (8 to 256 characters), to hand to the user."""


class HqUserUpdate(msgspec.Struct, kw_only=True):
    """Change an HQ user (admin); omitted fields keep their value."""

    display_name: Name | None = None
    role: HqRole | None = None
    regions: Regions | None = None
    """The new regions; ``[]``: every region."""
    active: bool | None = None
    """``false`` deactivates: every token of the user stops working at once; ``true`` lets
    them log in again."""


class HqUserOut(msgspec.Struct, kw_only=True):
    username: str
    display_name: str
    role: HqRole
    regions: list[str]
    """Regions the user may see; empty means every region."""
    active: bool
    must_change_password: bool
    """True after an admin set the password: the user may only change it (403
    ``password_change_required`` elsewhere)."""
    created_at: datetime


class PasswordResetIn(msgspec.Struct, kw_only=True):
    """A new password an admin (or a hall's manager) sets for someone else."""

    password: Password
