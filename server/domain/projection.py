"""Events → projection rows. The one fold both the store node and central run.

Each domain's ``projectors`` module (``server.domain.queue.projectors``, …) registers a projector
per event type with ``@projects``; this registry imports those modules only, never a domain's
commands or reads, so central folds without loading them.

A projector is a plain function ``(rows, event)`` that says what it changes as typed row
operations (``server.domain.rows``) and writes only from the event's own fields and the rows it
reads, so replaying the log from scratch rebuilds the same rows on any node. The store node
applies the operations at once (``ConnectionRows``); central records a batch's and applies them
set-based (``server.central.fold.batch_rows``). A projector that reads rows (``rows.get``) declares
which (``reads=``), so central can read them for a whole batch in one statement.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.events import Event
from server.domain.rows import ConnectionRows, Rows, key_of

E = TypeVar("E", bound=Event)
Projector = Callable[[Rows, Any], None]
Reads = Callable[[Any], Iterable[tuple[sa.Table, dict[str, Any]]]]
"""The rows (table, key) a projector will ``get`` for an event."""

_PROJECTORS: dict[type[Event], Projector] = {}
_READS: dict[type[Event], Reads] = {}
_DOMAINS = ("store", "queue", "inventory", "shifts", "complaints", "ops", "conflicts")
_loaded = False


def projects(
    *types: type[E], reads: Callable[[E], Iterable[tuple[sa.Table, dict[str, Any]]]] | None = None
) -> Callable[[Callable[[Rows, E], None]], Callable[[Rows, E], None]]:
    """Register the decorated function as the projector of the given event types; ``reads``
    names the rows it will ``get`` for an event."""

    def register(fn: Callable[[Rows, E], None]) -> Callable[[Rows, E], None]:
        for t in types:
            if t in _PROJECTORS:
                raise RuntimeError(f"two projectors for {t.__name__}")
            _PROJECTORS[t] = fn
            if reads is not None:
                _READS[t] = reads
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


def reads_of(events: Iterable[Event]) -> dict[sa.Table, list[tuple[Any, ...]]]:
    """Per table, the primary keys of the rows the projectors of ``events`` will read."""
    _load()
    wanted: dict[sa.Table, list[tuple[Any, ...]]] = {}
    for event in events:
        reads = _READS.get(type(event))
        if reads is not None:
            for table, key in reads(event):
                wanted.setdefault(table, []).append(key_of(table, key))
    return wanted


def apply(target: Connection | Rows, event: Event) -> None:
    """Fold one event into the projection tables: on a connection (inside the caller's
    transaction), or through a ``Rows``."""
    _load()
    projector = _PROJECTORS.get(type(event))
    if projector is not None:
        projector(ConnectionRows(target) if isinstance(target, Connection) else target, event)


def apply_all(target: Connection | Rows, events: Iterable[Event]) -> None:
    """Fold events in the given order (callers pass them in ``seq`` order)."""
    rows = ConnectionRows(target) if isinstance(target, Connection) else target
    for event in events:
        apply(rows, event)
