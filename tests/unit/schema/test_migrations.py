"""Migrations: each app's history (``schema.migrations``) goes upgrade → downgrade → upgrade,
leaves exactly that app's tables and matches them (no drift), and takes a database of the
releases that kept every table (0005) to its app's tables with its rows intact."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from schema.migrations import WrongDatabase, downgrade, upgrade
from schema.tables import metadata
from schema.tables.core import events, node_meta
from schema.tables.databases import APPS, CENTRAL_ONLY, STORE_ONLY, App, metadata_of
from schema.tables.sync import central_enrollments, hq_users, sync_state

PREVIOUS_RELEASE = "0005"
"""The newest revision of the history both apps shared, when every database held every table."""
SINCE_PREVIOUS_RELEASE = {"sync_conflicts"}
"""Tables made by revisions after it, in each app's history."""
AT_PREVIOUS_RELEASE = set(metadata.tables) - SINCE_PREVIOUS_RELEASE
"""Every table a database of that release held."""
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

each_app = pytest.mark.parametrize("app", APPS)


def _engine(tmp_path: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")


def tables_in(conn: sa.Connection | sa.Engine) -> set[str]:
    return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}


def drift(conn: sa.Connection, app: App) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(ctx, metadata_of(app)))


def version(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(MigrationContext.configure(conn).get_current_heads())


@each_app
def test_upgrade_downgrade_upgrade(tmp_path: Path, app: App) -> None:
    engine = _engine(tmp_path)
    upgrade(engine, app)
    assert tables_in(engine) == set(metadata_of(app).tables)
    downgrade(engine, app, PREVIOUS_RELEASE)
    assert tables_in(engine) == AT_PREVIOUS_RELEASE  # as the earlier releases left it
    downgrade(engine, app, "base")
    assert tables_in(engine) == set()
    upgrade(engine, app)
    assert tables_in(engine) == set(metadata_of(app).tables)
    assert [v.split("_")[0] for v in version(engine)] == [app]
    engine.dispose()


@each_app
def test_autogenerate_finds_no_drift(tmp_path: Path, app: App) -> None:
    engine = _engine(tmp_path)
    upgrade(engine, app)
    with engine.connect() as conn:
        diff = drift(conn, app)
    engine.dispose()
    assert diff == [], f"{app}'s tables and migrations differ: {diff}"


def test_neither_database_holds_the_other_apps_tables(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "c").mkdir()
    store, central = _engine(tmp_path / "s"), _engine(tmp_path / "c")
    upgrade(store, "store")
    upgrade(central, "central")
    assert tables_in(store) & {t.name for t in CENTRAL_ONLY} == set()
    assert tables_in(central) & {t.name for t in STORE_ONLY} == set()
    assert {"events", "node_meta", "queue_tickets"} <= tables_in(store) & tables_in(central)
    store.dispose()
    central.dispose()


def _previous_release_rows(app: App) -> dict[sa.Table, list[dict[str, Any]]]:
    """Rows a database of the previous release held: shared ones, and ones of ``app`` only."""
    own = (
        {sync_state: [{"store_id": "S001", "acked_seq": 4, "hq_cursor": 2, "quarantined": 0}]}
        if app == "store"
        else {
            hq_users: [
                {
                    "username": "admin",
                    "display_name": "管理员",
                    "role": "admin",
                    "regions": [],
                    "password_hash": "$argon2id$x",
                    "active": True,
                    "created_at": NOW,
                }
            ]
        }
    )
    return {
        node_meta: [{"key": "jwt_secret", "value": "s3cret"}],
        events: [
            {
                "store_id": "S001",
                "seq": 1,
                "id": uuid.UUID(int=1),
                "type": "store.configured",
                "hlc": 1,
                "at": NOW,
                "actor": "system",
                "device": "cli",
                "v": 1,
                "body": b"\x80",
            }
        ],
        **own,
    }


def _insert(engine: sa.Engine, rows: dict[sa.Table, list[dict[str, Any]]]) -> None:
    with engine.begin() as conn:
        for table, values in rows.items():
            conn.execute(table.insert(), values)


def _read(engine: sa.Engine, tables: Any) -> dict[str, list[Any]]:
    with engine.connect() as conn:
        return {t.name: conn.execute(sa.select(t)).all() for t in tables}


@each_app
def test_a_database_of_the_previous_release_keeps_its_rows(tmp_path: Path, app: App) -> None:
    engine = _engine(tmp_path)
    upgrade(engine, app, PREVIOUS_RELEASE)
    assert tables_in(engine) == AT_PREVIOUS_RELEASE
    rows = _previous_release_rows(app)
    _insert(engine, rows)
    before = _read(engine, rows)

    upgrade(engine, app)

    assert tables_in(engine) == set(metadata_of(app).tables)
    assert _read(engine, rows) == before
    assert all(before.values())
    with engine.connect() as conn:
        assert drift(conn, app) == []
    engine.dispose()


@each_app
def test_a_leftover_table_holding_rows_is_kept_with_a_warning(
    tmp_path: Path, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    engine = _engine(tmp_path)
    upgrade(engine, app, PREVIOUS_RELEASE)
    # A row in one of the other app's tables, which no release ever wrote there.
    stray, row = (
        (
            central_enrollments,
            {"code_hash": "h", "store_id": "S001", "created_at": NOW, "expires_at": NOW},
        )
        if app == "store"
        else (sync_state, {"store_id": "S001", "acked_seq": 1, "hq_cursor": 0, "quarantined": 0})
    )
    _insert(engine, {stray: [row]})

    with caplog.at_level(logging.WARNING, logger="schema.migrations"):
        upgrade(engine, app)

    assert tables_in(engine) == set(metadata_of(app).tables) | {stray.name}
    assert _read(engine, [stray])[stray.name] != []
    assert [r for r in caplog.records if stray.name in r.getMessage()], caplog.text

    # Down and up again: the kept table stays as it is, the others come and go.
    downgrade(engine, app, PREVIOUS_RELEASE)
    assert tables_in(engine) == AT_PREVIOUS_RELEASE
    upgrade(engine, app)
    assert tables_in(engine) == set(metadata_of(app).tables) | {stray.name}
    engine.dispose()


def test_an_app_refuses_the_other_apps_database(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    upgrade(engine, "store")
    with pytest.raises(WrongDatabase, match="store database"):
        upgrade(engine, "central")
    with pytest.raises(WrongDatabase):
        downgrade(engine, "central", "base")
    assert tables_in(engine) == set(metadata_of("store").tables)
    engine.dispose()


@pytest.mark.postgres
async def test_central_migrations_on_postgresql(pg_url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from schema.migrations import downgrade_connection, upgrade_async, upgrade_connection

    engine = create_async_engine(pg_url)
    try:
        await upgrade_async(engine, "central", PREVIOUS_RELEASE)
        async with engine.begin() as conn:
            assert await conn.run_sync(tables_in) == AT_PREVIOUS_RELEASE
            for table, values in _previous_release_rows("central").items():
                await conn.execute(table.insert(), values)
        await upgrade_async(engine, "central")
        async with engine.begin() as conn:
            assert await conn.run_sync(tables_in) == set(metadata_of("central").tables)
            users = (await conn.execute(sa.select(hq_users.c.username))).scalars().all()
            assert users == ["admin"]
            await conn.run_sync(downgrade_connection, "central", PREVIOUS_RELEASE)
            await conn.run_sync(downgrade_connection, "central", "base")
            assert await conn.run_sync(tables_in) == set()
            await conn.run_sync(upgrade_connection, "central")
            assert await conn.run_sync(tables_in) == set(metadata_of("central").tables)
            assert await conn.run_sync(drift, "central") == []
    finally:
        await engine.dispose()
