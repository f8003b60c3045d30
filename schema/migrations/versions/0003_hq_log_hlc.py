"""hq log: the HQ event's HLC

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 04:00:00.000000

A store node resumes its hybrid logical clock from the highest HLC on disk. HQ events it applied
append nothing to its own log, so their clocks were forgotten on restart, and the first event
after it could be stamped before an HQ event it follows. ``hq_log.hlc`` keeps each one's clock.
Rows applied before are filled from their bodies where they can be read.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


class _Stamp(msgspec.Struct):
    hlc: int | None = None


def upgrade() -> None:
    with op.batch_alter_table("hq_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "hlc",
                sa.BigInteger(),
                nullable=True,
                comment="the HQ event's hybrid logical clock, observed by the node; null if "
                "unreadable",
            )
        )
    conn = op.get_bind()
    hq_log = sa.table(
        "hq_log",
        sa.column("store_id", sa.String),
        sa.column("cursor", sa.BigInteger),
        sa.column("body", sa.LargeBinary),
        sa.column("hlc", sa.BigInteger),
    )
    rows = conn.execute(sa.select(hq_log.c.store_id, hq_log.c.cursor, hq_log.c.body)).all()
    stamped = []
    for store_id, cursor, body in rows:
        try:
            hlc = msgspec.msgpack.decode(body, type=_Stamp).hlc
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
        if hlc is not None:
            stamped.append({"s": store_id, "c": cursor, "h": hlc})
    if stamped:
        conn.execute(
            hq_log.update()
            .where(hq_log.c.store_id == sa.bindparam("s"), hq_log.c.cursor == sa.bindparam("c"))
            .values(hlc=sa.bindparam("h")),
            stamped,
        )


def downgrade() -> None:
    with op.batch_alter_table("hq_log", schema=None) as batch_op:
        batch_op.drop_column("hlc")
