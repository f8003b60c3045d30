"""Fixtures shared by every suite: an initialised store node, a harness for domain commands,
and HTTP clients logged in as each role."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from litestar.testing import TestClient
from sqlalchemy import Connection

from server.domain.context import Ctx
from server.logs import CHATTY, NEVER_DEBUG, StderrHandler
from server.store.app import create_app
from server.store.db import make_engine
from server.store.node import init_store, open_store
from server.store.writer import Writer
from tests.contact import CONTACT_KEY

T = TypeVar("T")

STORE_ID = "S001"
TZ = "Asia/Shanghai"
MANAGER = "manager"
MANAGER_PASSWORD = "manager-pass-1"
STAFF_PASSWORD = "staff-pass-123"
ROLES = ("greeter", "clerk", "tech", "admin", "manager")


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Real Argon2id, with the smallest cost parameters: logins in tests take microseconds
    instead of tens of milliseconds. Production keeps argon2-cffi's defaults."""
    from argon2 import PasswordHasher

    from server import passwords

    real, real_dummy = passwords._hasher, passwords._DUMMY
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    passwords._DUMMY = passwords._hasher.hash("not-a-real-password")  # unknown user names
    yield
    passwords._hasher, passwords._DUMMY = real, real_dummy


@pytest.fixture(autouse=True)
def _logging_as_before() -> Iterator[None]:
    """A command run in the test process (click's CliRunner) configures the process's logging
    (``server.logs``); the next test starts from the logging it had before."""
    root = logging.getLogger()
    level, ours = root.level, [h for h in root.handlers if isinstance(h, StderrHandler)]
    levels = {name: logging.getLogger(name).level for name in (*CHATTY, *NEVER_DEBUG)}
    yield
    for handler in root.handlers[:]:
        if isinstance(handler, StderrHandler) and handler not in ours:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, was in levels.items():
        logging.getLogger(name).setLevel(was)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A freshly initialised store node S001 (Asia/Shanghai) with its manager login."""
    d = tmp_path / "node"
    init_store(
        d,
        store_id=STORE_ID,
        name="测试营业厅",
        region="east",
        tz=TZ,
        manager=MANAGER,
        manager_password=MANAGER_PASSWORD,
        contact_key=CONTACT_KEY,
    )
    return d


@dataclass
class Harness:
    """Runs domain commands directly, one transaction each, with a controllable clock."""

    data_dir: Path
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    actor: str = MANAGER

    def __post_init__(self) -> None:
        opened = open_store(self.data_dir)
        self.engine, self.store_id, self.contact_key = (
            opened.engine,
            opened.store_id,
            opened.contact_key,
        )

    def run(
        self, command: Callable[[Ctx], T], *, actor: str | None = None, now: datetime | None = None
    ) -> T:
        """Run a command as ``actor`` at ``now`` (UTC), committing if it succeeds."""
        at = now or self.now
        writer = Writer(self.engine, self.store_id, contact_key=self.contact_key, clock=lambda: at)
        result: T = writer.run_now(command, actor=actor or self.actor, device="test")
        return result

    def read(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn, conn.begin():
            return fn(conn)


@pytest.fixture
def harness(data_dir: Path) -> Iterator[Harness]:
    h = Harness(data_dir)
    yield h
    h.engine.dispose()


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient[Any]]:
    """An HTTP client on the store node app (not logged in)."""
    with TestClient(app=create_app(data_dir)) as c:
        yield c


def login(client: TestClient[Any], username: str, password: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


_keys = itertools.count()


@pytest.fixture
def as_role(client: TestClient[Any]) -> dict[str, dict[str, str]]:
    """Auth headers for one staff member of each role: ``as_role["clerk"]``."""
    headers = {"manager": login(client, MANAGER, MANAGER_PASSWORD)}
    for role in ROLES:
        if role == "manager":
            continue
        r = client.post(
            "/api/v1/staff",
            json={
                "username": f"{role}1",
                "display_name": f"{role} one",
                "role": role,
                "password": STAFF_PASSWORD,
            },
            headers=headers["manager"],
        )
        assert r.status_code == 201, r.text
        headers[role] = login(client, f"{role}1", STAFF_PASSWORD)
    return headers


def engine_for(data_dir: Path) -> Any:
    from server.store.db import db_path

    return make_engine(db_path(data_dir))


def assert_replay_matches(data_dir: Path, tables: list[Any]) -> None:
    """Fold the node's whole event log into a fresh database and check that ``tables`` come out
    identical: projections are a pure function of the log."""
    import sqlalchemy as sa

    from schema.events import decode
    from schema.tables.core import events
    from server.domain.projection import apply_all
    from server.store.db import create_schema, db_path

    source = make_engine(db_path(data_dir))
    fresh_path = data_dir.parent / f"replay-{next(_keys)}.sqlite3"
    fresh = make_engine(fresh_path)
    try:
        create_schema(fresh)
        with source.connect() as src:
            rows = src.execute(sa.select(events.c.body).order_by(events.c.seq)).all()
            log = [decode(r.body) for r in rows]
            with fresh.begin() as dst:
                apply_all(dst, log)
            for table in tables:
                order = list(table.primary_key.columns)
                want = src.execute(sa.select(table).order_by(*order)).all()
                with fresh.connect() as dst:
                    got = dst.execute(sa.select(table).order_by(*order)).all()
                assert got == want, f"replay of the log does not rebuild {table.name}"
    finally:
        source.dispose()
        fresh.dispose()


@pytest.fixture
async def pg_url() -> Any:
    """SQLAlchemy URL of a fresh, empty PostgreSQL database (dropped after the test)."""
    from tests.pg import pg_database

    async for url in pg_database():
        yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that take a PostgreSQL database are marked ``postgres`` (``-m "not postgres"``)."""
    for item in items:
        if "pg_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
