"""What a command handler gets: the open transaction, who acts, the time, and ``emit``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.events import Event
from schema.tables.core import store_info
from server.contact_hash import ContactHasher
from server.domain import projection
from server.domain.log import EventLog
from server.errors import NotFound

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class StoreSettings:
    """The store's operating settings as projected from ``store.configured``."""

    store_id: str
    name: str
    region: str
    tz: str
    open_time: Any
    close_time: Any
    first_response_sla_hours: int
    resolution_sla_hours: int

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


_SETTINGS = sa.select(store_info).where(store_info.c.store_id == sa.bindparam("store_id"))


def load_settings(conn: Connection, store_id: str) -> StoreSettings:
    """Read the store's settings; the store must have been initialised."""
    row = conn.execute(_SETTINGS, {"store_id": store_id}).first()
    if row is None:
        raise NotFound(f"store {store_id} is not configured")
    return StoreSettings(
        store_id=row.store_id,
        name=row.name,
        region=row.region,
        tz=row.tz,
        open_time=row.open_time,
        close_time=row.close_time,
        first_response_sla_hours=row.first_response_sla_hours,
        resolution_sla_hours=row.resolution_sla_hours,
    )


@dataclass
class Ctx:
    """One command's view of the world, valid inside the writer's transaction.

    Handlers read current state through ``conn`` (projections are up to date, including the
    events this command already emitted) and record facts with ``emit``.
    """

    conn: Connection
    log: EventLog
    actor: str
    device: str
    now: datetime
    """UTC-aware time of the command, taken once so all its events agree."""
    contact_key: ContactHasher | None
    """The chain's contact key, for commands run outside the serving writer (set-up, tests,
    simulations); None in the serving writer, whose routes compute tokens before the command
    because a token takes a third of a second (``server.contact_hash``)."""
    emitted: list[Event] = field(default_factory=list)

    @property
    def store_id(self) -> str:
        return self.log.store_id

    def contact_token(self, phone: str, given: str | None) -> str:
        """The matching token of ``phone``: ``given`` (computed by the route off the event
        loop), else computed here when the command runs outside the serving writer."""
        if given is not None:
            return given
        if self.contact_key is None:
            raise RuntimeError("contact tokens are computed by the route, before the command")
        return self.contact_key.token(phone)

    @cached_property
    def store(self) -> StoreSettings:
        return load_settings(self.conn, self.store_id)

    def local(self, moment: datetime) -> datetime:
        """A UTC instant as the store's wall-clock time."""
        return moment.astimezone(self.store.zone)

    @property
    def today(self) -> date:
        """The store-local calendar day of this command."""
        return self.local(self.now).date()

    def emit(self, event_type: type[E], **payload: Any) -> E:
        """Append an event to the log and fold it into the projections, in this transaction.
        Staff-typed text in ``payload`` is masked (``server.domain.stamp``)."""
        event = self.log.append(
            self.conn, event_type, payload, actor=self.actor, device=self.device, now=self.now
        )
        projection.apply(self.conn, event)
        self.emitted.append(event)
        if event_type.__name__ == "StoreConfigured":
            self.__dict__.pop("store", None)  # settings changed: reload on next access
        return event
