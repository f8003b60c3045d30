"""The store's part of the day: before opening, the node is set up with the store and its
staff."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from schema.events.store import Role
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.store.simulation.fixtures import PASSWORD_HASH, ROSTER, TZ
from server.store.simulation.hall import Hall


def set_up(hall: Hall, now: datetime, *, name: str, region: str) -> None:
    """The system configures the store and adds the manager, who adds everyone else."""
    hall.run(
        "system",
        now,
        lambda c: store_domain.configure_store(c, name=name, region=region, tz=TZ),
    )
    for username, role in ROSTER:
        out = hall.run(
            "system" if username == "manager" else "manager",
            now,
            partial(_add_staff, username=username, role=role),
        )
        hall.users[username] = out.user_id


def _add_staff(ctx: Ctx, *, username: str, role: Role) -> Any:
    return store_domain.add_staff(
        ctx, username=username, display_name=username, role=role, password_hash=PASSWORD_HASH
    )
