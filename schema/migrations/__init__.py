"""Schema migrations (Alembic)."""

from __future__ import annotations

from sqlalchemy import Engine

from schema.tables import metadata


def upgrade(engine: Engine) -> None:
    metadata.create_all(engine)
