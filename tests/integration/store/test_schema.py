"""A store node's SQLite holds the store's tables and none of central's; a node made by an
earlier release (every table, schema 0005) opens with the store's tables and its data intact,
and a node refuses central's database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from schema.migrations import downgrade, upgrade
from schema.tables.databases import CENTRAL_ONLY, store_metadata
from server.errors import Conflict
from server.store.app import create_app
from server.store.db import db_path, make_engine
from server.store.node import open_store
from tests.conftest import STAFF_PASSWORD, login
from tests.integration.store.test_data_dir import init, write_something
from tests.unit.schema.test_migrations import AT_PREVIOUS_RELEASE


def tables_in(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def every_row(engine: sa.Engine) -> dict[str, list[Any]]:
    """Every row of each store table the database has (a later revision adds some)."""
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        return {
            t.name: conn.execute(sa.select(t)).all()
            for t in store_metadata.sorted_tables
            if t.name in present
        }


def test_a_nodes_database_holds_no_central_table(tmp_path: Path) -> None:
    d = tmp_path / "node"
    init(d)
    engine = make_engine(db_path(d))
    try:
        assert tables_in(engine) == set(store_metadata.tables)
        assert tables_in(engine) & {t.name for t in CENTRAL_ONLY} == set()
    finally:
        engine.dispose()


def test_a_node_of_an_earlier_release_opens_with_the_stores_tables_and_its_data(
    tmp_path: Path,
) -> None:
    d = tmp_path / "node"
    init(d)
    with TestClient(app=create_app(d)) as client:
        write_something(client)  # a clerk with a password: staff, credentials, events
    engine = make_engine(db_path(d))
    downgrade(engine, "store", "0005")  # the file as releases up to 0005 left it
    assert tables_in(engine) == AT_PREVIOUS_RELEASE
    before = every_row(engine)
    engine.dispose()
    assert before["credentials"] and before["staff"] and before["events"]

    node = open_store(d)
    try:
        assert tables_in(node.engine) == set(store_metadata.tables)
        after = every_row(node.engine)
        assert {name: after[name] for name in before} == before
    finally:
        node.engine.dispose()
    with TestClient(app=create_app(d)) as client:
        login(client, "clerk1", STAFF_PASSWORD)


def test_a_node_refuses_centrals_database(tmp_path: Path) -> None:
    d = tmp_path / "node"
    init(d)
    engine = make_engine(db_path(d))
    downgrade(engine, "store", "base")
    upgrade(engine, "central")  # someone copied central's SQLite file over the node's
    engine.dispose()
    with pytest.raises(Conflict, match="central database"):
        open_store(d)
