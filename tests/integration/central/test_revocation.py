"""Revoking a store ends its open sync sessions on every replica at once, and nothing more is
sent to it: not even when the news of the revocation never reaches the replica serving it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient, WebSocketTestSession

from server.central import db, enrollment
from server.central.app import create_app
from server.central.node import init_central, read_secrets
from server.central.storage import CentralStorage
from sync.central_ws import sync_route
from sync.frames import Error, HqAck, HqBatch, encode
from tests.contact import key_dir
from tests.integration.central.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    CONTACT_KEY,
    CentralApp,
    Clock,
    open_app,
    publish_raw,
)
from tests.integration.central.test_ws import closed_with, hello, recv, sync

HOUR = 3600.0
"""HQ poll period of the replicas here: nothing but the revocation itself may close a session."""


def revoke_elsewhere(url: str, store_id: str) -> None:
    """Revoke as ``hallsync central revoke-store`` does: another process, the same database."""

    async def step() -> None:
        engine = db.make_engine(url)
        try:
            async with db.write(engine) as conn:
                await enrollment.revoke(conn, store_id, now=datetime.now(UTC))
        finally:
            await engine.dispose()

    asyncio.run(step())


def assert_revoked(ws: WebSocketTestSession) -> None:
    """The next frame is the revocation's Error, then the socket closes with its code."""
    error = recv(ws)
    assert isinstance(error, Error), error
    assert (error.code, error.retryable) == ("unauthorized", False)
    assert closed_with(ws) == 4001


@pytest.fixture
def quiet_app(app_url: str, clock: Clock) -> Iterator[CentralApp]:
    """Central on SQLite that looks for HQ events only hourly."""
    with open_app(app_url, clock, hq_poll=HOUR) as client:
        c = CentralApp(client, {}, clock)
        c.admin = c.login(ADMIN, ADMIN_PASSWORD)
        yield c


def test_revoking_through_the_hq_api_closes_the_stores_open_session(
    quiet_app: CentralApp,
) -> None:
    app = quiet_app
    other = app.enrolled("S002")
    with sync(app, app.enrolled("S001")) as ws, sync(app, other) as bystander:
        hello(ws, "S001")
        hello(bystander, "S002")
        r = app.client.post("/api/v1/hq/stores/S001/revoke", headers=app.admin)
        assert r.status_code == 200, r.text
        assert_revoked(ws)  # without the store sending anything
        # The other store's session goes on: it still gets what HQ publishes.
        url = app.client.app.state.central.url
        cursor = publish_raw(url, app.clock(), "all", "")
        app.client.app.state.central.hq_notifier.published()
        batch = recv(bystander)
        assert isinstance(batch, HqBatch) and [i.cursor for i in batch.items] == [cursor]


def test_revoking_from_another_process_closes_the_session_on_sqlite(
    quiet_app: CentralApp,
) -> None:
    app = quiet_app
    with sync(app, app.enrolled("S001")) as ws:
        hello(ws, "S001")
        revoke_elsewhere(app.client.app.state.central.url, "S001")
        assert_revoked(ws)


def test_enrolling_a_replacement_node_closes_the_old_nodes_session(
    quiet_app: CentralApp,
) -> None:
    app = quiet_app
    old = app.enrolled("S001")
    with sync(app, old) as ws:
        hello(ws, "S001")
        r = app.client.post("/api/v1/hq/stores/S001/enrollment-code", headers=app.admin)
        assert r.status_code == 201, r.text
        assert app.enroll(r.json()["code"], restore=True).status_code == 200
        assert_revoked(ws)


def _sync_only_app(url: str, clock: Clock) -> TestClient[Any]:
    """Central's sync route on its real storage, but deaf to revocations: as a replica whose
    notification was lost."""
    from contextlib import asynccontextmanager

    state: dict[str, Any] = {}
    storage = CentralStorage(lambda: state["engine"], clock)

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> Any:
        state["engine"] = db.make_engine(url)
        yield
        await state["engine"].dispose()

    route = sync_route(authenticate=storage.authenticate, storage=storage, hq_poll=0.05)
    return TestClient(app=Litestar(route_handlers=[route], lifespan=[lifespan]))


def test_nothing_is_sent_after_a_revocation_the_replica_never_heard_of(
    quiet_app: CentralApp, clock: Clock
) -> None:
    url = quiet_app.client.app.state.central.url
    credential = quiet_app.enrolled("S001")
    before = publish_raw(url, clock(), "all", "")
    with _sync_only_app(url, clock) as deaf:
        deaf_app = CentralApp(deaf, {}, clock)
        with sync(deaf_app, credential) as ws:
            hello(ws, "S001")
            batch = recv(ws)
            assert isinstance(batch, HqBatch) and [i.cursor for i in batch.items] == [before]
            ws.send_bytes(encode(HqAck(cursor=batch.upto)))
            revoke_elsewhere(url, "S001")
            publish_raw(url, clock(), "all", "")  # found by the next poll, never sent
            assert_revoked(ws)


# ------------------------------------------------------------ replicas on PostgreSQL


@pytest.fixture
async def pg_central(pg_url: str, clock: Clock) -> str:
    await init_central(
        pg_url,
        data_dir=key_dir(),
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        contact_key=CONTACT_KEY,
        now=clock(),
    )
    return pg_url


def _listening(client: TestClient[Any]) -> bool:
    listening: bool = client.app.state.central.hq_notifier.listening
    return listening


@pytest.mark.parametrize("where", ["hq api on the other replica", "another process"])
def test_revocation_closes_the_stores_sessions_on_every_replica(
    pg_central: str, clock: Clock, where: str
) -> None:
    secrets = asyncio.run(read_secrets(pg_central, key_dir()))
    with (
        TestClient(app=create_app(pg_central, secrets, clock=clock, hq_poll=HOUR)) as a_client,
        TestClient(app=create_app(pg_central, secrets, clock=clock, hq_poll=HOUR)) as b_client,
    ):
        a = CentralApp(a_client, {}, clock)
        a.admin = a.login(ADMIN, ADMIN_PASSWORD)
        b = CentralApp(b_client, a.admin, clock)
        credential = a.enrolled("S001")
        deadline = time.monotonic() + 10
        while not (_listening(a_client) and _listening(b_client)):
            assert time.monotonic() < deadline, "the replicas never started listening"
            time.sleep(0.02)
        with sync(a, credential) as on_a, sync(b, credential) as on_b:
            hello(on_a, "S001")
            hello(on_b, "S001")
            if where == "another process":
                revoke_elsewhere(pg_central, "S001")
            else:
                r = a.client.post("/api/v1/hq/stores/S001/revoke", headers=a.admin)
                assert r.status_code == 200, r.text
            assert_revoked(on_b)
            assert_revoked(on_a)
