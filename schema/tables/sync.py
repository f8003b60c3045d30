"""Tables of sync: the store node's side (its progress, the HQ events it applied) and central's
side (enrolled stores and their credentials, quarantine, the HQ event log, HQ users). Each
app's database holds only its own side (``schema.tables.databases``)."""

from __future__ import annotations

import sqlalchemy as sa

from schema.tables.base import UTCDateTime, metadata, store_id_column

# ------------------------------------------------------------------ store node

sync_state = sa.Table(
    "sync_state",
    metadata,
    store_id_column(),
    sa.Column("acked_seq", sa.BigInteger, nullable=False, comment="central holds seq <= this"),
    sa.Column("hq_cursor", sa.BigInteger, nullable=False, comment="HQ events applied up to"),
    sa.Column("last_attempt_at", UTCDateTime, nullable=True),
    sa.Column("last_success_at", UTCDateTime, nullable=True, comment="last time caught up"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("quarantined", sa.Integer, nullable=False, comment="events central quarantined"),
    sa.PrimaryKeyConstraint("store_id"),
)

hq_log = sa.Table(
    "hq_log",
    metadata,
    store_id_column(),
    sa.Column("cursor", sa.BigInteger, nullable=False, comment="position in central's HQ log"),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False, comment="the HQ event as msgpack"),
    sa.Column("applied_at", UTCDateTime, nullable=False),
    sa.Column(
        "applied_after_seq",
        sa.BigInteger,
        nullable=False,
        comment="the store's log seq when applied: where it stands in a replay",
    ),
    sa.Column(
        "hlc",
        sa.BigInteger,
        nullable=True,
        comment="the HQ event's hybrid logical clock, observed by the node; null if unreadable",
    ),
    sa.PrimaryKeyConstraint("store_id", "cursor"),
)

# ------------------------------------------------------------------ central

central_stores = sa.Table(
    "central_stores",
    metadata,
    store_id_column(),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("region", sa.String(64), nullable=False),
    sa.Column("tz", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="pending | active | revoked"),
    sa.Column("credential_hash", sa.String(128), nullable=True, comment="sha256 of the secret"),
    sa.Column("enrolled_at", UTCDateTime, nullable=True),
    sa.Column("high_water", sa.BigInteger, nullable=False, comment="contiguous seq held"),
    sa.Column("hq_acked", sa.BigInteger, nullable=False, comment="HQ cursor the store applied"),
    sa.Column("local_seq", sa.BigInteger, nullable=False, comment="store's newest seq, reported"),
    sa.Column("quarantined", sa.Integer, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=True),
    sa.Column("last_ingest_at", UTCDateTime, nullable=True),
    sa.PrimaryKeyConstraint("store_id"),
    sa.Index("ix_central_stores_region", "region"),
    sa.Index("ix_central_stores_credential_hash", "credential_hash", unique=True),
)

central_enrollments = sa.Table(
    "central_enrollments",
    metadata,
    sa.Column("code_hash", sa.String(128), nullable=False, comment="sha256 of the one-time code"),
    store_id_column(),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
    sa.PrimaryKeyConstraint("code_hash"),
    sa.Index("ix_central_enrollments_store", "store_id"),
)

central_quarantine = sa.Table(
    "central_quarantine",
    metadata,
    sa.Column(
        "quarantine_id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.Identity(),
        nullable=False,
    ),
    store_id_column(),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("event_type", sa.String(64), nullable=True, comment="when it could be read"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=False, comment="the bytes as received"),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("replayed_at", UTCDateTime, nullable=True),
    sa.PrimaryKeyConstraint("quarantine_id"),
    sa.UniqueConstraint("store_id", "seq"),
)

hq_events = sa.Table(
    "hq_events",
    metadata,
    sa.Column(
        "cursor", sa.BigInteger().with_variant(sa.Integer, "sqlite"), sa.Identity(), nullable=False
    ),
    sa.Column("id", sa.Uuid, nullable=False, unique=True),
    sa.Column("audience", sa.String(8), nullable=False, comment="all | region | store"),
    sa.Column("target", sa.String(64), nullable=False, comment="region or store id; '' for all"),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False, comment="the HQ event as msgpack"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column(
        "subject",
        sa.String(64),
        nullable=True,
        comment="what it is about: the SKU, the staff user name; null for store rules",
    ),
    sa.Column(
        "idempotency_key",
        sa.String(255),
        nullable=True,
        comment="the publisher's Idempotency-Key; one event per (created_by, key)",
    ),
    sa.Column(
        "request_hash",
        sa.String(64),
        nullable=True,
        comment="sha256 of the publishing request, to refuse a key reused for another",
    ),
    sa.PrimaryKeyConstraint("cursor"),
    sa.Index("ix_hq_events_audience", "audience", "target", "cursor"),
    sa.Index("ix_hq_events_subject", "type", "subject", "cursor"),
    sa.Index("ix_hq_events_idempotency", "created_by", "idempotency_key", unique=True),
)

hq_users = sa.Table(
    "hq_users",
    metadata,
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("role", sa.String(16), nullable=False, comment="admin | ops | analyst | auditor"),
    sa.Column("regions", sa.JSON, nullable=False, comment="[] means every region"),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column(
        "tokens_valid_from",
        UTCDateTime,
        nullable=True,
        comment="tokens issued before are refused (real time): set with every new password "
        "and on deactivation",
    ),
    sa.Column(
        "must_change_password",
        sa.Boolean,
        nullable=False,
        server_default=sa.false(),
        comment="set by an admin's create or reset: only a password change is allowed",
    ),
    sa.Column("created_by", sa.String(64), nullable=True, comment="the admin; null: CLI"),
    sa.Column(
        "idempotency_key",
        sa.String(255),
        nullable=True,
        comment="the creating admin's Idempotency-Key; one user per (created_by, key)",
    ),
    sa.Column(
        "request_hash",
        sa.String(64),
        nullable=True,
        comment="sha256 of the creating request without its password",
    ),
    sa.PrimaryKeyConstraint("username"),
    sa.Index("ix_hq_users_idempotency", "created_by", "idempotency_key", unique=True),
)
