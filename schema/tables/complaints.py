"""Projection tables of the complaints domain: each complaint's current state and its timeline.

Both are folded from ``complaint.*`` events only (see
``server.domain.complaints.projectors``).
Raw customer numbers are never stored: only the masked display form and a keyed hash.
"""

from __future__ import annotations

import sqlalchemy as sa

from schema.tables.base import UTCDateTime, metadata, store_id_column

complaints = sa.Table(
    "complaints",
    metadata,
    store_id_column(),
    sa.Column("complaint_id", sa.Uuid, nullable=False),
    sa.Column("number", sa.String(32), nullable=False, comment="reference, e.g. T20261126-003"),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("customer_phone_masked", sa.String(32), nullable=False),
    sa.Column("customer_phone_hash", sa.String(64), nullable=False, comment="HMAC-SHA256 hex"),
    sa.Column("staff_id", sa.Uuid, nullable=True, comment="staff member complained about"),
    sa.Column("ticket_id", sa.Uuid, nullable=True, comment="queue ticket of the visit"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("escalation_level", sa.String(16), nullable=False),
    sa.Column("owner_id", sa.Uuid, nullable=True),
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("opened_day", sa.Date, nullable=False, comment="store-local day of intake"),
    sa.Column("opened_by", sa.String(64), nullable=False),
    sa.Column("first_response_due_at", UTCDateTime, nullable=False),
    sa.Column("resolution_due_at", UTCDateTime, nullable=False, comment="of the current round"),
    sa.Column("first_responded_at", UTCDateTime, nullable=True),
    sa.Column("first_responded_by", sa.String(64), nullable=True),
    sa.Column("first_response_within_sla", sa.Boolean, nullable=True),
    sa.Column("resolved_at", UTCDateTime, nullable=True),
    sa.Column("resolved_day", sa.Date, nullable=True, comment="store-local day of resolution"),
    sa.Column("resolved_by", sa.String(64), nullable=True),
    sa.Column("remedy", sa.Text, nullable=True),
    sa.Column("verified", sa.Boolean, nullable=True),
    sa.Column("counts_against_staff", sa.Boolean, nullable=False),
    sa.Column("resolution_within_sla", sa.Boolean, nullable=True),
    sa.Column("feedback_satisfied", sa.Boolean, nullable=True),
    sa.Column("feedback_rating", sa.SmallInteger, nullable=True, comment="1–5"),
    sa.Column("feedback_comment", sa.Text, nullable=True),
    sa.Column("feedback_at", UTCDateTime, nullable=True),
    sa.Column("closed_at", UTCDateTime, nullable=True),
    sa.Column("reopen_count", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("store_id", "complaint_id"),
    sa.UniqueConstraint("store_id", "number"),
    sa.Index("ix_complaints_store_status", "store_id", "status"),
    sa.Index("ix_complaints_store_opened_day", "store_id", "opened_day"),
    sa.Index("ix_complaints_store_phone_hash", "store_id", "customer_phone_hash"),
    sa.Index("ix_complaints_store_owner", "store_id", "owner_id"),
    sa.Index("ix_complaints_store_staff_resolved", "store_id", "staff_id", "resolved_day"),
)

complaint_steps = sa.Table(
    "complaint_steps",
    metadata,
    store_id_column(),
    sa.Column("step_id", sa.Uuid, nullable=False, comment="id of the event that made the step"),
    sa.Column("complaint_id", sa.Uuid, nullable=False),
    sa.Column(
        "kind",
        sa.String(16),
        nullable=False,
        comment="opened, assigned, responded, escalated, resolved, feedback, closed, reopened",
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("note", sa.Text, nullable=True, comment="description, note, reason, remedy…"),
    sa.Column("owner_id", sa.Uuid, nullable=True, comment="assigned: the new owner"),
    sa.Column("level", sa.String(16), nullable=True, comment="escalated: the level reached"),
    sa.Column("within_sla", sa.Boolean, nullable=True, comment="responded / resolved"),
    sa.Column("verified", sa.Boolean, nullable=True, comment="resolved"),
    sa.Column("satisfied", sa.Boolean, nullable=True, comment="feedback"),
    sa.Column("rating", sa.SmallInteger, nullable=True, comment="feedback, 1–5"),
    sa.Column("due_at", UTCDateTime, nullable=True, comment="reopened: new resolution due"),
    sa.PrimaryKeyConstraint("store_id", "step_id"),
    sa.Index("ix_complaint_steps_store_complaint_at", "store_id", "complaint_id", "at"),
)
