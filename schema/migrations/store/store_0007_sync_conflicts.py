"""sync conflicts: HQ events a store refused after merge, for review on the node and at HQ

Revision ID: store_0007
Revises: store_0006
Create Date: 2026-12-03 19:55:13.469120

An HQ event that the store's own history makes illegal (a role change for a member the hall
manager deactivated, a user name the store already gave to its own staff, …) is kept in
``hq_log`` unapplied and recorded as a ``sync.conflict_recorded`` event; ``sync_conflicts`` is
its projection, on the store node and on central alike (the same table in both histories:
``schema.migrations.sync_conflicts_0007``). New table only: nothing to migrate.
"""

from __future__ import annotations

from collections.abc import Sequence

from schema.migrations import sync_conflicts_0007

revision: str = "store_0007"
down_revision: str | None = "store_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    sync_conflicts_0007.create()


def downgrade() -> None:
    sync_conflicts_0007.drop()
