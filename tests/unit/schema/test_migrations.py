"""Migrations: upgrade → downgrade → upgrade works, and the tables match the models exactly."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from schema.migrations import downgrade, upgrade
from schema.tables import metadata


def _engine(tmp_path: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    upgrade(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert set(metadata.tables) <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_autogenerate_finds_no_drift(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    upgrade(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


async def test_migrations_on_postgresql(pg_url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from schema.migrations import downgrade_connection, upgrade_async, upgrade_connection

    engine = create_async_engine(pg_url)
    try:
        await upgrade_async(engine)
        async with engine.begin() as conn:
            await conn.run_sync(downgrade_connection, "base")
            await conn.run_sync(upgrade_connection, "head")

            def drift(c: sa.Connection) -> list[object]:
                ctx = MigrationContext.configure(c, opts={"compare_type": True})
                return list(compare_metadata(ctx, metadata))

            assert await conn.run_sync(drift) == []
    finally:
        await engine.dispose()
