"""hq events: subject and idempotency key

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 21:19:54.091349

HQ events published through the HQ API name what they are about (``subject``: the SKU, the
staff user name) and remember the publisher's ``Idempotency-Key`` with a hash of the request,
so a retried publish does not append a second event. Rows published before have nulls.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hq_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "subject",
                sa.String(length=64),
                nullable=True,
                comment="what it is about: the SKU, the staff user name; null for store rules",
            )
        )
        batch_op.add_column(
            sa.Column(
                "idempotency_key",
                sa.String(length=255),
                nullable=True,
                comment="the publisher's Idempotency-Key; one event per (created_by, key)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "request_hash",
                sa.String(length=64),
                nullable=True,
                comment="sha256 of the publishing request, to refuse a key reused for another",
            )
        )
        batch_op.create_index(
            "ix_hq_events_idempotency", ["created_by", "idempotency_key"], unique=True
        )
        batch_op.create_index("ix_hq_events_subject", ["type", "subject", "cursor"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hq_events", schema=None) as batch_op:
        batch_op.drop_index("ix_hq_events_subject")
        batch_op.drop_index("ix_hq_events_idempotency")
        batch_op.drop_column("request_hash")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("subject")
