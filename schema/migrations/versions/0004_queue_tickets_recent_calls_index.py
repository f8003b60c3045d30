"""queue tickets: an index for the day's latest calls

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 04:20:00.000000

The live queue state and the display board show the day's latest calls. Without an index on
the call time, every read sorted all of the day's tickets: about 1.5 ms per read at 2,000
tickets, on every board refresh. With it, SQLite reads the newest few index entries.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_queue_tickets_recent_calls",
        "queue_tickets",
        ["store_id", "day", "last_called_at", "ticket_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_queue_tickets_recent_calls", table_name="queue_tickets")
