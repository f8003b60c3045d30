"""store tables only: the node's SQLite drops central's tables

Revision ID: store_0006
Revises: 0005
Create Date: 2026-12-05 10:00:00.000000

The first revision of the store node's own history (branch ``store``). Up to 0005 every
database held every table; a store node's SQLite carried central's five (enrolled stores,
enrollment codes, quarantine, the HQ event log, HQ users), always empty on a node. They are
dropped, unless one holds rows: that one is kept, with a warning (``schema.migrations.leftovers``).
Downgrading makes the missing ones again, empty, as they were at 0005.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schema.tables.base
from schema.migrations.leftovers import drop_if_empty, exists

revision: str = "store_0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = ("store",)
depends_on: str | Sequence[str] | None = None

CENTRAL_ONLY = (
    "central_enrollments",
    "central_quarantine",
    "central_stores",
    "hq_events",
    "hq_users",
)


def upgrade() -> None:
    drop_if_empty(CENTRAL_ONLY, app="store node's")


def downgrade() -> None:
    utc = schema.tables.base.UTCDateTime(timezone=True)
    if not exists("central_enrollments"):
        op.create_table(
            "central_enrollments",
            sa.Column(
                "code_hash",
                sa.String(length=128),
                nullable=False,
                comment="sha256 of the one-time code",
            ),
            sa.Column("store_id", sa.String(length=16), nullable=False),
            sa.Column("created_at", utc, nullable=False),
            sa.Column("expires_at", utc, nullable=False),
            sa.Column("used_at", utc, nullable=True),
            sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_central_enrollments")),
        )
        op.create_index(
            "ix_central_enrollments_store", "central_enrollments", ["store_id"], unique=False
        )
    if not exists("central_quarantine"):
        op.create_table(
            "central_quarantine",
            sa.Column(
                "quarantine_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                sa.Identity(always=False),
                nullable=False,
            ),
            sa.Column("store_id", sa.String(length=16), nullable=False),
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.Column(
                "event_type", sa.String(length=64), nullable=True, comment="when it could be read"
            ),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("raw", sa.LargeBinary(), nullable=False, comment="the bytes as received"),
            sa.Column("received_at", utc, nullable=False),
            sa.Column("replayed_at", utc, nullable=True),
            sa.PrimaryKeyConstraint("quarantine_id", name=op.f("pk_central_quarantine")),
            sa.UniqueConstraint("store_id", "seq", name=op.f("uq_central_quarantine_store_id_seq")),
        )
    if not exists("central_stores"):
        op.create_table(
            "central_stores",
            sa.Column("store_id", sa.String(length=16), nullable=False),
            sa.Column("name", sa.String(length=120), nullable=False),
            sa.Column("region", sa.String(length=64), nullable=False),
            sa.Column("tz", sa.String(length=64), nullable=False),
            sa.Column(
                "status",
                sa.String(length=16),
                nullable=False,
                comment="pending | active | revoked",
            ),
            sa.Column(
                "credential_hash",
                sa.String(length=128),
                nullable=True,
                comment="sha256 of the secret",
            ),
            sa.Column("enrolled_at", utc, nullable=True),
            sa.Column("high_water", sa.BigInteger(), nullable=False, comment="contiguous seq held"),
            sa.Column(
                "hq_acked", sa.BigInteger(), nullable=False, comment="HQ cursor the store applied"
            ),
            sa.Column(
                "local_seq",
                sa.BigInteger(),
                nullable=False,
                comment="store's newest seq, reported",
            ),
            sa.Column("quarantined", sa.Integer(), nullable=False),
            sa.Column("last_seen_at", utc, nullable=True),
            sa.Column("last_ingest_at", utc, nullable=True),
            sa.PrimaryKeyConstraint("store_id", name=op.f("pk_central_stores")),
        )
        op.create_index(
            "ix_central_stores_credential_hash", "central_stores", ["credential_hash"], unique=True
        )
        op.create_index("ix_central_stores_region", "central_stores", ["region"], unique=False)
    if not exists("hq_events"):
        op.create_table(
            "hq_events",
            sa.Column(
                "cursor",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                sa.Identity(always=False),
                nullable=False,
            ),
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column(
                "audience", sa.String(length=8), nullable=False, comment="all | region | store"
            ),
            sa.Column(
                "target",
                sa.String(length=64),
                nullable=False,
                comment="region or store id; '' for all",
            ),
            sa.Column("type", sa.String(length=64), nullable=False),
            sa.Column("body", sa.LargeBinary(), nullable=False, comment="the HQ event as msgpack"),
            sa.Column("created_at", utc, nullable=False),
            sa.Column("created_by", sa.String(length=64), nullable=False),
            sa.Column(
                "subject",
                sa.String(length=64),
                nullable=True,
                comment="what it is about: the SKU, the staff user name; null for store rules",
            ),
            sa.Column(
                "idempotency_key",
                sa.String(length=255),
                nullable=True,
                comment="the publisher's Idempotency-Key; one event per (created_by, key)",
            ),
            sa.Column(
                "request_hash",
                sa.String(length=64),
                nullable=True,
                comment="sha256 of the publishing request, to refuse a key reused for another",
            ),
            sa.PrimaryKeyConstraint("cursor", name=op.f("pk_hq_events")),
            sa.UniqueConstraint("id", name=op.f("uq_hq_events_id")),
        )
        op.create_index(
            "ix_hq_events_audience", "hq_events", ["audience", "target", "cursor"], unique=False
        )
        op.create_index(
            "ix_hq_events_idempotency",
            "hq_events",
            ["created_by", "idempotency_key"],
            unique=True,
        )
        op.create_index(
            "ix_hq_events_subject", "hq_events", ["type", "subject", "cursor"], unique=False
        )
    if not exists("hq_users"):
        op.create_table(
            "hq_users",
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column("display_name", sa.String(length=120), nullable=False),
            sa.Column(
                "role",
                sa.String(length=16),
                nullable=False,
                comment="admin | ops | analyst | auditor",
            ),
            sa.Column("regions", sa.JSON(), nullable=False, comment="[] means every region"),
            sa.Column("password_hash", sa.String(length=255), nullable=False),
            sa.Column("active", sa.Boolean(), nullable=False),
            sa.Column("created_at", utc, nullable=False),
            sa.Column(
                "tokens_valid_from",
                utc,
                nullable=True,
                comment="tokens issued before are refused (real time): set with every new "
                "password and on deactivation",
            ),
            sa.Column(
                "must_change_password",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
                comment="set by an admin's create or reset: only a password change is allowed",
            ),
            sa.Column(
                "created_by", sa.String(length=64), nullable=True, comment="the admin; null: CLI"
            ),
            sa.Column(
                "idempotency_key",
                sa.String(length=255),
                nullable=True,
                comment="the creating admin's Idempotency-Key; one user per (created_by, key)",
            ),
            sa.Column(
                "request_hash",
                sa.String(length=64),
                nullable=True,
                comment="sha256 of the creating request without its password",
            ),
            sa.PrimaryKeyConstraint("username", name=op.f("pk_hq_users")),
        )
        op.create_index(
            "ix_hq_users_idempotency", "hq_users", ["created_by", "idempotency_key"], unique=True
        )
