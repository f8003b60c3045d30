"""Projection table of sync conflicts: HQ events a store refused after merge, and their review.

Folded from ``sync.conflict_*`` events only (``server.domain.conflicts.projectors``), on the
store node (its own conflicts) and on central (every store's, for HQ).
"""

from __future__ import annotations

import sqlalchemy as sa

from schema.tables.base import UTCDateTime, metadata, store_id_column

sync_conflicts = sa.Table(
    "sync_conflicts",
    metadata,
    store_id_column(),
    sa.Column("conflict_id", sa.Uuid, nullable=False),
    sa.Column("entity", sa.String(16), nullable=False, comment="staff | item | store"),
    sa.Column("entity_id", sa.String(64), nullable=False, comment="user id, SKU, store id"),
    sa.Column("reason", sa.String(32), nullable=False, comment="stable code"),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("hq_event_id", sa.Uuid, nullable=False),
    sa.Column("hq_event_type", sa.String(64), nullable=False),
    sa.Column("hq_cursor", sa.BigInteger, nullable=False, comment="position in the HQ log"),
    sa.Column("hq_actor", sa.String(64), nullable=False, comment="HQ user who published it"),
    sa.Column("hq_at", UTCDateTime, nullable=False, comment="when HQ published it"),
    sa.Column("store_event_id", sa.Uuid, nullable=True, comment="the store event collided with"),
    sa.Column("store_event_seq", sa.BigInteger, nullable=True),
    sa.Column("store_event_type", sa.String(64), nullable=True),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("recorded_seq", sa.BigInteger, nullable=False, comment="seq of conflict_recorded"),
    sa.Column("status", sa.String(16), nullable=False, comment="open | resolved"),
    sa.Column("resolved_at", UTCDateTime, nullable=True),
    sa.Column("resolved_by", sa.String(64), nullable=True, comment="manager or HQ user name"),
    sa.Column("resolved_side", sa.String(8), nullable=True, comment="store | hq"),
    sa.Column("resolution_note", sa.Text, nullable=True),
    sa.PrimaryKeyConstraint("store_id", "conflict_id"),
    # One conflict per HQ event and store: an HQ event delivered again (after a restore)
    # finds the conflict it caused and records no second one.
    sa.UniqueConstraint("store_id", "hq_event_id"),
    sa.Index("ix_sync_conflicts_status", "store_id", "status", "recorded_seq"),
    # HQ resolves a conflict by its id alone.
    sa.Index("ix_sync_conflicts_conflict_id", "conflict_id"),
)
