"""central tables only: central's database drops the store node's tables

Revision ID: central_0006
Revises: 0005
Create Date: 2026-12-05 10:00:00.000000

The first revision of central's own history (branch ``central``). Up to 0005 every database held
every table; central's carried the store node's four (staff passwords, Idempotency-Key answers,
sync progress, the HQ events a node applied), always empty at central. They are dropped, unless
one holds rows: that one is kept, with a warning (``schema.migrations.leftovers``). Downgrading
makes the missing ones again, empty, as they were at 0005.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schema.tables.base
from schema.migrations.leftovers import drop_if_empty, exists

revision: str = "central_0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = ("central",)
depends_on: str | Sequence[str] | None = None

STORE_ONLY = ("credentials", "hq_log", "idempotency_keys", "sync_state")


def upgrade() -> None:
    drop_if_empty(STORE_ONLY, app="central")


def downgrade() -> None:
    utc = schema.tables.base.UTCDateTime(timezone=True)
    if not exists("credentials"):
        op.create_table(
            "credentials",
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column("password_hash", sa.String(length=255), nullable=False),
            sa.Column("updated_at", utc, nullable=False),
            sa.Column(
                "tokens_valid_from",
                utc,
                nullable=True,
                comment="tokens issued before are refused (real time): set with every new password",
            ),
            sa.PrimaryKeyConstraint("username", name=op.f("pk_credentials")),
        )
    if not exists("hq_log"):
        op.create_table(
            "hq_log",
            sa.Column("store_id", sa.String(length=16), nullable=False),
            sa.Column(
                "cursor", sa.BigInteger(), nullable=False, comment="position in central's HQ log"
            ),
            sa.Column("type", sa.String(length=64), nullable=False),
            sa.Column("body", sa.LargeBinary(), nullable=False, comment="the HQ event as msgpack"),
            sa.Column("applied_at", utc, nullable=False),
            sa.Column(
                "applied_after_seq",
                sa.BigInteger(),
                nullable=False,
                comment="the store's log seq when applied: where it stands in a replay",
            ),
            sa.Column(
                "hlc",
                sa.BigInteger(),
                nullable=True,
                comment="the HQ event's hybrid logical clock, observed by the node; null if "
                "unreadable",
            ),
            sa.PrimaryKeyConstraint("store_id", "cursor", name=op.f("pk_hq_log")),
        )
    if not exists("idempotency_keys"):
        op.create_table(
            "idempotency_keys",
            sa.Column("key", sa.String(length=255), nullable=False),
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column(
                "fingerprint",
                sa.String(length=64),
                nullable=False,
                comment="sha256 of method, path, body",
            ),
            sa.Column("status_code", sa.SmallInteger(), nullable=False),
            sa.Column("body", sa.LargeBinary(), nullable=False),
            sa.Column("created_at", utc, nullable=False),
            sa.PrimaryKeyConstraint("username", "key", name=op.f("pk_idempotency_keys")),
        )
        op.create_index(
            op.f("ix_idempotency_keys_created_at"),
            "idempotency_keys",
            ["created_at"],
            unique=False,
        )
    if not exists("sync_state"):
        op.create_table(
            "sync_state",
            sa.Column("store_id", sa.String(length=16), nullable=False),
            sa.Column(
                "acked_seq", sa.BigInteger(), nullable=False, comment="central holds seq <= this"
            ),
            sa.Column(
                "hq_cursor", sa.BigInteger(), nullable=False, comment="HQ events applied up to"
            ),
            sa.Column("last_attempt_at", utc, nullable=True),
            sa.Column("last_success_at", utc, nullable=True, comment="last time caught up"),
            sa.Column("last_error", sa.Text(), nullable=True),
            sa.Column(
                "quarantined", sa.Integer(), nullable=False, comment="events central quarantined"
            ),
            sa.PrimaryKeyConstraint("store_id", name=op.f("pk_sync_state")),
        )
