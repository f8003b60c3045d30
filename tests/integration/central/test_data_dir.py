"""Central's secrets on disk: its embedded SQLite database (with its -wal and -shm files) is
private to the user running central whatever the umask, and a store's sync credential is kept
nowhere in central's database in plain text (only its SHA-256), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.central import db
from server.central.db import sqlite_url
from server.central.node import init_central
from server.datadir import private_dir
from sync.frames import Ack
from tests.integration.central import store_events as ev
from tests.integration.central.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    CONTACT_KEY,
    CentralApp,
    Clock,
    open_app,
)
from tests.integration.central.test_ws import hello, push, recv, sync


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_centrals_sqlite_files_are_private_under_the_usual_umask(
    tmp_path: Path, clock: Clock, usual_umask: None
) -> None:
    d = tmp_path / "central"
    private_dir(d)  # as `central init` makes it
    url = sqlite_url(d)
    asyncio.run(
        init_central(
            url,
            data_dir=d,
            admin_username=ADMIN,
            admin_password=ADMIN_PASSWORD,
            contact_key=CONTACT_KEY,
            now=clock(),
        )
    )
    with open_app(url, clock) as client:
        app = CentralApp(client, {}, clock)
        app.admin = app.login(ADMIN, ADMIN_PASSWORD)
        with sync(app, app.enrolled("S001")) as ws:
            hello(ws, "S001")
            push(ws, 1, ev.log("S001", 1, 5))
            assert recv(ws) == Ack(seq=5)
            seen = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [d, *d.iterdir()]}
    assert {"central.sqlite3", "central.sqlite3-wal", "central.sqlite3-shm"} <= set(seen)
    assert seen.pop("central") == 0o700
    assert set(seen.values()) == {0o600}, seen


async def _every_value(url: str) -> list[Any]:
    """Every value of every row of every table in central's database."""
    engine = db.make_engine(url)
    try:
        async with db.read(engine) as conn:
            names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
            values: list[Any] = []
            for name in names:
                table = sa.table(name)
                rows = await conn.execute(sa.select(sa.text("*")).select_from(table))
                values.extend(v for row in rows for v in row)
            return values
    finally:
        await engine.dispose()


def test_a_stores_credential_is_kept_only_as_a_hash(central_url: str, clock: Clock) -> None:
    with open_app(central_url, clock) as client:
        app = CentralApp(client, {}, clock)
        app.admin = app.login(ADMIN, ADMIN_PASSWORD)
        code = app.add_store("S001")
        credential = app.enroll(code).json()["credential"]
        with sync(app, credential) as ws:  # used for sync and restore, as a node does
            hello(ws, "S001")
            push(ws, 1, ev.log("S001", 1, 3))
            assert recv(ws) == Ack(seq=3)
        r = client.get("/api/v1/restore/events", headers={"Authorization": f"Bearer {credential}"})
        assert r.status_code == 200
    secret = credential.split(".")[2]
    values = asyncio.run(_every_value(central_url))
    assert len(values) > 20  # the dump saw the stores, events, users…
    for value in values:
        text = value if isinstance(value, bytes) else str(value).encode()
        assert secret.encode() not in text and code.replace("-", "").encode() not in text
    if db.is_sqlite(central_url):  # and not in any page or WAL frame on disk either
        path = db.sqlite_file(central_url)
        assert path is not None
        for f in path.parent.iterdir():
            assert secret.encode() not in f.read_bytes(), f
