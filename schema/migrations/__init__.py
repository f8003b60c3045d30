"""Schema migrations (Alembic), runnable from code so every node upgrades itself at start.

The store node and central share one migration history: the projection tables are the same on
both (central keeps every store's rows, keyed by ``store_id``).

Developers make a new revision with ``make migration MSG="what changed"``, then review it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).parent


def config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at this package, optionally bound to an open connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("version_locations", str(HERE / "versions"))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` up to ``revision``."""
    with engine.begin() as conn:
        command.upgrade(config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database behind ``engine`` down to ``revision`` (``"base"`` for empty)."""
    with engine.begin() as conn:
        command.downgrade(config(conn), revision)


def upgrade_connection(conn: Connection, revision: str = "head") -> None:
    """Migrate through an open connection (e.g. ``AsyncConnection.run_sync``)."""
    command.upgrade(config(conn), revision)


def downgrade_connection(conn: Connection, revision: str) -> None:
    command.downgrade(config(conn), revision)


async def upgrade_async(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate an async engine's database (central on PostgreSQL) up to ``revision``."""
    async with engine.begin() as conn:
        await conn.run_sync(upgrade_connection, revision)
