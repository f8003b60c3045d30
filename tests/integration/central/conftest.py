"""Fixtures of central's tests: an initialised central database on SQLite and on PostgreSQL,
an engine on it, and a running app with an HQ admin logged in."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from server.central import db
from server.central.app import create_app
from server.central.db import SQLITE_FILE, make_engine, sqlite_url
from server.central.hq import log as hq_log
from server.central.node import init_central, read_secrets
from tests.contact import CONTACT_KEY, key_dir

ADMIN = "admin"
METRICS_TOKEN = "scraper-token-0123456789"
ADMIN_PASSWORD = "hq-admin-pass-1"


@dataclass
class Clock:
    """A wall clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 2, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL: embedded SQLite, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        from tests.pg import pg_database

        async for url in pg_database():
            yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def central_url(db_url: str, clock: Clock) -> str:
    """A database set up by ``central init`` (admin login, contact key)."""
    await init_central(
        db_url,
        data_dir=key_dir(),
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        contact_key=CONTACT_KEY,
        now=clock(),
    )
    return db_url


@pytest.fixture
async def engine(central_url: str) -> AsyncIterator[AsyncEngine]:
    e = make_engine(central_url)
    yield e
    await e.dispose()


@dataclass
class CentralApp:
    """A running central app, with an HQ admin's auth headers and store helpers."""

    client: TestClient[Any]
    admin: dict[str, str]
    clock: Clock

    def login(self, username: str, password: str) -> dict[str, str]:
        r = self.client.post(
            "/api/v1/hq/auth/login", json={"username": username, "password": password}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def add_store(self, store_id: str, region: str = "east") -> str:
        """Create the store and return its one-time enrollment code."""
        r = self.client.post(
            "/api/v1/hq/stores",
            json={"store_id": store_id, "name": f"营业厅 {store_id}", "region": region},
            headers=self.admin,
        )
        assert r.status_code == 201, r.text
        code: str = r.json()["code"]
        return code

    def enroll(self, code: str, *, restore: bool = False) -> Any:
        return self.client.post("/api/v1/enroll", json={"code": code, "restore": restore})

    def enrolled(self, store_id: str, region: str = "east") -> str:
        """Create and enroll the store; returns its sync credential."""
        r = self.enroll(self.add_store(store_id, region))
        assert r.status_code == 200, r.text
        credential: str = r.json()["credential"]
        return credential


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised SQLite central, made once: copying it is much faster than migrating."""
    d = tmp_path_factory.mktemp("central-template")
    asyncio.run(
        init_central(
            sqlite_url(d),
            data_dir=key_dir(),
            admin_username=ADMIN,
            admin_password=ADMIN_PASSWORD,
            contact_key=CONTACT_KEY,
            now=Clock().now,
        )
    )
    return d / SQLITE_FILE


@pytest.fixture
def app_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh initialised central on SQLite (a copy of the template)."""
    d = tmp_path / "central"
    d.mkdir()
    shutil.copyfile(sqlite_template, d / SQLITE_FILE)
    return sqlite_url(d)


def open_app(
    url: str, clock: Clock, *, hq_poll: float = 0.05, metrics_token: str | None = None
) -> TestClient[Any]:
    """A test client on a central app over ``url``, HQ events polled every ``hq_poll`` s."""
    secrets = asyncio.run(read_secrets(url, key_dir()))
    return TestClient(
        app=create_app(url, secrets, clock=clock, hq_poll=hq_poll, metrics_token=metrics_token)
    )


@pytest.fixture
def app(app_url: str, clock: Clock) -> Iterator[CentralApp]:
    """Central on a fresh SQLite database with the HQ admin logged in."""
    with open_app(app_url, clock) as client:
        c = CentralApp(client, {}, clock)
        c.admin = c.login(ADMIN, ADMIN_PASSWORD)
        yield c


def publish_raw(url: str, now: datetime, audience: str, target: str) -> int:
    """Append a small HQ event straight to the database, as any process sharing it could (no
    replica is told but through the database); returns its cursor."""

    async def append() -> int:
        engine = db.make_engine(url)
        try:
            async with db.write(engine) as conn:
                return await hq_log.publish(
                    conn,
                    audience=audience,  # type: ignore[arg-type]
                    target=target,
                    event_type="catalog.priced",
                    body=msgspec.msgpack.encode({"type": "catalog.priced", "to": target}),
                    created_by="admin",
                    now=now,
                )
        finally:
            await engine.dispose()

    return asyncio.run(append())
