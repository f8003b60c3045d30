"""user passwords: when each was set, a forced change, idempotent HQ user creation

Revision ID: 0005_user_passwords
Revises: 0004
Create Date: 2026-12-03 16:18:20.798306

Tokens issued before a user's password was last set (or, at HQ, before the account was
deactivated) are refused, on the node and at HQ: ``credentials.tokens_valid_from`` and
``hq_users.tokens_valid_from`` say from when (null for passwords set before this revision: their
tokens stay valid until they expire). An HQ user an
admin created or whose password an admin reset must choose their own before doing anything
else (``must_change_password``). An admin's retried ``POST /api/v1/hq/users`` finds the user
its first attempt created by its ``Idempotency-Key``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from schema.tables.base import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tokens_valid_from",
                UTCDateTime(),
                nullable=True,
                comment="tokens issued before are refused (real time): set with every new "
                "password",
            )
        )
    with op.batch_alter_table("hq_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tokens_valid_from",
                UTCDateTime(),
                nullable=True,
                comment="tokens issued before are refused (real time): set with every new "
                "password and on deactivation",
            )
        )
        batch_op.add_column(
            sa.Column(
                "must_change_password",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
                comment="set by an admin's create or reset: only a password change is allowed",
            )
        )
        batch_op.add_column(
            sa.Column(
                "created_by", sa.String(length=64), nullable=True, comment="the admin; null: CLI"
            )
        )
        batch_op.add_column(
            sa.Column(
                "idempotency_key",
                sa.String(length=255),
                nullable=True,
                comment="the creating admin's Idempotency-Key; one user per (created_by, key)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "request_hash",
                sa.String(length=64),
                nullable=True,
                comment="sha256 of the creating request without its password",
            )
        )
        batch_op.create_index(
            "ix_hq_users_idempotency", ["created_by", "idempotency_key"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("hq_users", schema=None) as batch_op:
        batch_op.drop_index("ix_hq_users_idempotency")
        batch_op.drop_column("request_hash")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("created_by")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("tokens_valid_from")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_column("tokens_valid_from")
