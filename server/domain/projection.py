"""Events → projection rows. The one fold both the store node and central run.

Each domain's ``projectors`` module (``server.domain.queue.projectors``, …) registers a projector
per event type with ``@projects``; this registry imports those modules only, never a domain's
commands or reads, so central folds without loading them. A projector is a plain function over
a synchronous SQLAlchemy ``Connection`` that writes only from the event's own fields, so
replaying the log from scratch rebuilds the same rows on any node; central runs the same
functions over its async connections through ``AsyncConnection.run_sync``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import Connection

from schema.events import Event

E = TypeVar("E", bound=Event)
Projector = Callable[[Connection, Any], None]

_PROJECTORS: dict[type[Event], Projector] = {}
_DOMAINS = ("store", "queue", "inventory", "shifts", "complaints", "ops")
_loaded = False


def projects(
    *types: type[E],
) -> Callable[[Callable[[Connection, E], None]], Callable[[Connection, E], None]]:
    """Register the decorated function as the projector of the given event types."""

    def register(fn: Callable[[Connection, E], None]) -> Callable[[Connection, E], None]:
        for t in types:
            if t in _PROJECTORS:
                raise RuntimeError(f"two projectors for {t.__name__}")
            _PROJECTORS[t] = fn
        return fn

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in _DOMAINS:
            importlib.import_module(f"server.domain.{name}.projectors")
        _loaded = True


def projected_types() -> frozenset[type[Event]]:
    """Every event type that has a projector (the others change no projection)."""
    _load()
    return frozenset(_PROJECTORS)


def apply(conn: Connection, event: Event) -> None:
    """Fold one event into the projection tables (inside the caller's transaction)."""
    _load()
    projector = _PROJECTORS.get(type(event))
    if projector is not None:
        projector(conn, event)


def apply_all(conn: Connection, events: Iterable[Event]) -> None:
    """Fold events in the given order (callers pass them in ``seq`` order)."""
    for event in events:
        apply(conn, event)
