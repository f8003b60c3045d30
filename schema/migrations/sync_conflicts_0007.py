"""The ``sync_conflicts`` table as its first revision made it, shared by the first revision of
it in each app's history (``store_0007``, ``central_0007``): it is a projection of store events,
held by the store node and by central alike."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from schema.tables.base import UTCDateTime


def create() -> None:
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


def drop() -> None:
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_conflicts_status")
        batch_op.drop_index("ix_sync_conflicts_conflict_id")
    op.drop_table("sync_conflicts")
