"""The event log, the store's settings and staff, and each node's own bookkeeping (the staff's
passwords and Idempotency-Key answers are the store node's only: ``schema.tables.databases``)."""

from __future__ import annotations

import sqlalchemy as sa

from schema.tables.base import UTCDateTime, metadata, store_id_column

events = sa.Table(
    "events",
    metadata,
    store_id_column(),
    sa.Column("seq", sa.BigInteger, nullable=False, comment="gapless per store, from 1"),
    sa.Column("id", sa.Uuid, nullable=False, unique=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("hlc", sa.BigInteger, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("device", sa.String(64), nullable=False),
    sa.Column("v", sa.SmallInteger, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False, comment="the event as msgpack"),
    sa.PrimaryKeyConstraint("store_id", "seq"),
)

store_info = sa.Table(
    "store_info",
    metadata,
    store_id_column(),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("region", sa.String(64), nullable=False),
    sa.Column("tz", sa.String(64), nullable=False),
    sa.Column("open_time", sa.Time, nullable=False, comment="hall opens, store-local"),
    sa.Column("close_time", sa.Time, nullable=False, comment="hall closes, store-local"),
    sa.Column("first_response_sla_hours", sa.Integer, nullable=False),
    sa.Column("resolution_sla_hours", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("store_id"),
)

staff = sa.Table(
    "staff",
    metadata,
    store_id_column(),
    sa.Column("user_id", sa.Uuid, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("store_id", "user_id"),
    sa.UniqueConstraint("store_id", "username"),
)

# Node-local, never an event: a password hash must not travel in the synced log.
credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column(
        "tokens_valid_from",
        UTCDateTime,
        nullable=True,
        comment="tokens issued before are refused (real time): set with every new password",
    ),
    sa.PrimaryKeyConstraint("username"),
)

# Node-local: the first answer to each Idempotency-Key of each user, committed with the events it
# caused. Keys are per user (two tablets may count keys alike) and forgotten after a week.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False, comment="sha256 of method, path, body"),
    sa.Column("status_code", sa.SmallInteger, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
    sa.PrimaryKeyConstraint("username", "key"),
)

# Node-local key/value facts about this node: which store it is, its token secret.
node_meta = sa.Table(
    "node_meta",
    metadata,
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("key"),
)
