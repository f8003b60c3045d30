"""Events of the shifts domain."""

from __future__ import annotations

from schema.events.base import Event

EVENTS: tuple[type[Event], ...] = ()
