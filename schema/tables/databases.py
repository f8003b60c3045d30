"""Which tables each app's database holds: the store node's SQLite and central's database.

Every table is declared once, on the one ``metadata`` (``schema.tables.base``), and queried
through that declaration. Most are in both databases: the event log, ``node_meta`` (each node's
own facts and secrets) and every projection, which the store and central fold alike. A few
belong to one app only, listed here; a table not listed is shared, so a new projection is in
both databases without a word here.

``store_metadata`` and ``central_metadata`` hold copies of each app's tables: they are what
each app's migration history builds and what its no-drift test compares with, not something to
query through.
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa

# Through the package, which declares every domain's tables before SHARED is worked out.
from schema.tables import core, sync
from schema.tables.base import NAMING_CONVENTION, metadata

App = Literal["store", "central"]
APPS: tuple[App, ...] = ("store", "central")

STORE_ONLY: tuple[sa.Table, ...] = (
    core.credentials,  # staff passwords: never leave the node
    core.idempotency_keys,  # first answers to the tablets' Idempotency-Keys
    sync.sync_state,  # how far the node's sync got
    sync.hq_log,  # the HQ events the node applied
)
"""Node-local bookkeeping: central never reads or writes these."""

CENTRAL_ONLY: tuple[sa.Table, ...] = (
    sync.central_stores,
    sync.central_enrollments,
    sync.central_quarantine,
    sync.hq_events,
    sync.hq_users,
)
"""Headquarters' own tables: enrolled stores, quarantine, the HQ event log, HQ users."""

SHARED: tuple[sa.Table, ...] = tuple(
    t for t in metadata.sorted_tables if t not in STORE_ONLY and t not in CENTRAL_ONLY
)
"""In both databases: ``events``, ``node_meta`` and the projections."""


def _metadata_of(tables: tuple[sa.Table, ...]) -> sa.MetaData:
    md = sa.MetaData(naming_convention=NAMING_CONVENTION)
    for table in tables:
        table.to_metadata(md)
    return md


store_metadata = _metadata_of(SHARED + STORE_ONLY)
"""Every table of a store node's SQLite database."""
central_metadata = _metadata_of(SHARED + CENTRAL_ONLY)
"""Every table of central's database (PostgreSQL, or SQLite for the one-machine demo)."""


def metadata_of(app: App) -> sa.MetaData:
    """The tables ``app``'s database holds."""
    return store_metadata if app == "store" else central_metadata


def only_in(app: App) -> tuple[sa.Table, ...]:
    """The tables only ``app``'s database holds."""
    return STORE_ONLY if app == "store" else CENTRAL_ONLY
