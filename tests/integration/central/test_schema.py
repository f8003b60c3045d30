"""Central's database (SQLite and PostgreSQL) holds central's tables and none of the store
node's; a database made by an earlier release (every table, schema 0005) opens with central's
tables and its data intact."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

from schema.migrations import downgrade_connection
from schema.tables.databases import STORE_ONLY, central_metadata
from server.central import db
from sync.frames import Ack
from tests.integration.central import store_events as ev
from tests.integration.central.conftest import ADMIN, ADMIN_PASSWORD, CentralApp, Clock, open_app
from tests.integration.central.test_ws import hello, push, recv, sync
from tests.unit.schema.test_migrations import AT_PREVIOUS_RELEASE


def _tables_in(conn: sa.Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}


async def tables_in(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        async with db.read(engine) as conn:
            return await conn.run_sync(_tables_in)
    finally:
        await engine.dispose()


async def every_row(url: str) -> dict[str, list[Any]]:
    engine = db.make_engine(url)
    try:
        async with db.read(engine) as conn:
            present = set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
            found = {}
            for t in central_metadata.sorted_tables:
                if t.name not in present:  # a later revision adds it
                    continue
                order = list(t.primary_key.columns) or list(t.columns)
                found[t.name] = (await conn.execute(sa.select(t).order_by(*order))).all()
            return found
    finally:
        await engine.dispose()


async def to_previous_release(url: str) -> None:
    """Take the database back to schema 0005, as releases up to it left every database."""
    engine = db.make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(downgrade_connection, "central", "0005")
    finally:
        await engine.dispose()


def test_centrals_database_holds_no_store_table(central_url: str) -> None:
    found = asyncio.run(tables_in(central_url))
    assert found == set(central_metadata.tables)
    assert found & {t.name for t in STORE_ONLY} == set()


def test_a_central_of_an_earlier_release_opens_with_centrals_tables_and_its_data(
    central_url: str, clock: Clock
) -> None:
    with open_app(central_url, clock) as client:
        app = CentralApp(client, {}, clock)
        app.admin = app.login(ADMIN, ADMIN_PASSWORD)
        with sync(app, app.enrolled("S001")) as ws:
            hello(ws, "S001")
            push(ws, 1, ev.log("S001", 1, 5))
            assert recv(ws) == Ack(seq=5)
    asyncio.run(to_previous_release(central_url))
    assert asyncio.run(tables_in(central_url)) == AT_PREVIOUS_RELEASE
    before = asyncio.run(every_row(central_url))
    assert before["central_stores"] and before["hq_users"] and len(before["events"]) == 5

    with open_app(central_url, clock) as client:  # migrates, as every replica does at start
        app = CentralApp(client, {}, clock)
        app.login(ADMIN, ADMIN_PASSWORD)
    assert asyncio.run(tables_in(central_url)) == set(central_metadata.tables)
    after = asyncio.run(every_row(central_url))
    assert {name: after[name] for name in before} == before
