"""sync conflicts: HQ events a store refused after merge, for review on the node and at HQ

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 19:55:13.469120

An HQ event that the store's own history makes illegal (a role change for a member the hall
manager deactivated, a user name the store already gave to its own staff, …) is kept in
``hq_log`` unapplied and recorded as a ``sync.conflict_recorded`` event; ``sync_conflicts`` is
its projection, on the store node and on central alike. New table only: nothing to migrate.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from schema.tables.base import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_conflicts",
        sa.Column("store_id", sa.String(length=16), nullable=False),
        sa.Column("conflict_id", sa.Uuid(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False, comment="staff | item | store"),
        sa.Column(
            "entity_id", sa.String(length=64), nullable=False, comment="user id, SKU, store id"
        ),
        sa.Column("reason", sa.String(length=32), nullable=False, comment="stable code"),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("hq_event_id", sa.Uuid(), nullable=False),
        sa.Column("hq_event_type", sa.String(length=64), nullable=False),
        sa.Column("hq_cursor", sa.BigInteger(), nullable=False, comment="position in the HQ log"),
        sa.Column(
            "hq_actor", sa.String(length=64), nullable=False, comment="HQ user who published it"
        ),
        sa.Column("hq_at", UTCDateTime(), nullable=False, comment="when HQ published it"),
        sa.Column(
            "store_event_id", sa.Uuid(), nullable=True, comment="the store event collided with"
        ),
        sa.Column("store_event_seq", sa.BigInteger(), nullable=True),
        sa.Column("store_event_type", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column(
            "recorded_seq", sa.BigInteger(), nullable=False, comment="seq of conflict_recorded"
        ),
        sa.Column("status", sa.String(length=16), nullable=False, comment="open | resolved"),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column(
            "resolved_by", sa.String(length=64), nullable=True, comment="manager or HQ user name"
        ),
        sa.Column("resolved_side", sa.String(length=8), nullable=True, comment="store | hq"),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("store_id", "conflict_id", name=op.f("pk_sync_conflicts")),
        sa.UniqueConstraint(
            "store_id", "hq_event_id", name=op.f("uq_sync_conflicts_store_id_hq_event_id")
        ),
    )
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.create_index("ix_sync_conflicts_conflict_id", ["conflict_id"], unique=False)
        batch_op.create_index(
            "ix_sync_conflicts_status", ["store_id", "status", "recorded_seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_conflicts_status")
        batch_op.drop_index("ix_sync_conflicts_conflict_id")
    op.drop_table("sync_conflicts")
