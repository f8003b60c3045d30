"""The HQ API of central: login, store sync status by region scope, quarantine, admin-only
store management, and the ops endpoints."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from schema.tables.sync import hq_users
from server.central import db
from server.central.hq.auth import create_hq_user
from server.passwords import hash_password
from tests.integration.central import store_events as ev
from tests.integration.central.conftest import CentralApp
from tests.integration.central.test_ws import hello, push, recv, sync

PASSWORD = "hq-user-pass-1"


def add_user(app: CentralApp, username: str, role: str, regions: list[str]) -> dict[str, str]:
    """Create an HQ user straight in the database and log them in."""
    url = app.client.app.state.central.url

    async def create() -> None:
        engine = db.make_engine(url)
        try:
            async with db.write(engine) as conn:
                await create_hq_user(
                    conn,
                    username=username,
                    display_name=username,
                    role=role,
                    regions=regions,
                    password_hash=hash_password(PASSWORD),
                    now=app.clock(),
                )
        finally:
            await engine.dispose()

    asyncio.run(create())
    return app.login(username, PASSWORD)


def stores(app: CentralApp, headers: dict[str, str], query: str = "") -> Any:
    r = app.client.get(f"/api/v1/hq/stores{query}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_login(app: CentralApp) -> None:
    r = app.client.post("/api/v1/hq/auth/login", json={"username": "admin", "password": "nope"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = app.client.post(
        "/api/v1/hq/auth/login", json={"username": "admin", "password": "hq-admin-pass-1"}
    )
    body = r.json()
    assert (body["role"], body["regions"], body["token_type"]) == ("admin", [], "bearer")
    assert app.client.get("/api/v1/hq/stores").status_code == 401
    bad = {"Authorization": "Bearer hs1.S001.not-a-jwt"}
    assert app.client.get("/api/v1/hq/stores", headers=bad).status_code == 401


def test_store_status_paged_and_filtered_by_region(app: CentralApp) -> None:
    for n, region in enumerate(["east", "east", "west", "north"], start=1):
        app.add_store(f"S00{n}", region)
    page = stores(app, app.admin, "?limit=3")
    assert (page["total"], len(page["items"]), page["next_offset"]) == (4, 3, 3)
    assert page["items"][0]["status"] == "pending"
    east = stores(app, app.admin, "?region=east")
    assert [s["store_id"] for s in east["items"]] == ["S001", "S002"]
    assert stores(app, app.admin, "?status=active")["total"] == 0


def test_region_scoped_users_see_only_their_regions(app: CentralApp) -> None:
    cred = {s: app.enrolled(s, r) for s, r in [("S001", "east"), ("S002", "west")]}
    for store_id, credential in cred.items():
        with sync(app, credential) as ws:
            hello(ws, store_id)
            push(ws, 1, [*ev.log(store_id, 1, 2), ev.unknown_type(store_id, 3)])
            recv(ws)
    west = add_user(app, "west.ops", "ops", ["west"])
    assert [s["store_id"] for s in stores(app, west)["items"]] == ["S002"]
    r = app.client.get("/api/v1/hq/stores?region=east", headers=west)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    q = app.client.get("/api/v1/hq/quarantine", headers=west).json()
    assert [(i["store_id"], i["seq"]) for i in q["items"]] == [("S002", 3)]
    everything = app.client.get("/api/v1/hq/quarantine?limit=1", headers=app.admin).json()
    assert (everything["total"], everything["next_offset"]) == (2, 1)
    one = app.client.get("/api/v1/hq/quarantine?store_id=S001", headers=app.admin).json()
    assert [(i["store_id"], i["event_type"], i["size"] > 0) for i in one["items"]] == [
        ("S001", "ticket.teleported", True)
    ]


def test_only_admins_manage_stores(app: CentralApp) -> None:
    app.add_store("S001", "east")
    ops = add_user(app, "ops1", "ops", [])
    body = {"store_id": "S002", "name": "n", "region": "east"}
    r = app.client.post("/api/v1/hq/stores", json=body, headers=ops)
    assert r.status_code == 403
    assert app.client.post("/api/v1/hq/stores/S001/revoke", headers=ops).status_code == 403
    east_admin = add_user(app, "east.admin", "admin", ["east"])
    west = {"store_id": "S003", "name": "n", "region": "west"}
    assert app.client.post("/api/v1/hq/stores", json=west, headers=east_admin).status_code == 403
    r = app.client.post("/api/v1/hq/stores/S404/revoke", headers=app.admin)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    dup = {"store_id": "S001", "name": "n", "region": "east"}
    assert app.client.post("/api/v1/hq/stores", json=dup, headers=app.admin).status_code == 409
    bad = {"store_id": "S 1", "name": "n", "region": "east"}
    r = app.client.post("/api/v1/hq/stores", json=bad, headers=app.admin)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body.store_id"


def test_a_deactivated_user_is_locked_out_at_once(app: CentralApp) -> None:
    ops = add_user(app, "ops1", "ops", [])
    assert app.client.get("/api/v1/hq/stores", headers=ops).status_code == 200
    url = app.client.app.state.central.url

    async def deactivate() -> None:
        engine = db.make_engine(url)
        try:
            async with db.write(engine) as conn:
                await conn.execute(
                    sa.update(hq_users).where(hq_users.c.username == "ops1").values(active=False)
                )
        finally:
            await engine.dispose()

    asyncio.run(deactivate())
    assert app.client.get("/api/v1/hq/stores", headers=ops).status_code == 401


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics", "/schema/openapi.json"])
def test_ops_endpoints_are_public(app: CentralApp, path: str) -> None:
    assert app.client.get(path).status_code == 200


def test_openapi_lists_the_api(app: CentralApp) -> None:
    paths = app.client.get("/schema/openapi.json").json()["paths"]
    for path in ["/api/v1/enroll", "/api/v1/restore/events", "/api/v1/hq/stores"]:
        assert path in paths


# ---------------------------------------------------------------- a store's KPIs


def test_a_stores_kpis_on_central_equal_the_nodes_own(app: CentralApp, tmp_path: Any) -> None:
    """A simulated day synced to central: HQ reads the store's KPIs of that day, and they are
    the figures the node computes from the same log."""
    import msgspec

    from schema.events import decode
    from server.central.fold.ingest import ingest
    from server.domain.kpis import store_kpis
    from server.domain.projection import apply_all
    from server.store.db import create_schema, make_engine
    from server.store.simulation import record_day

    day = record_day("S001", events=600, seed=2, day=date(2026, 11, 25))
    app.enrolled("S001")
    url = app.client.app.state.central.url

    async def upload() -> None:
        engine = db.make_engine(url)
        try:
            raws = [body for _, body in day.records]
            async with db.write(engine) as conn:
                await ingest(conn, "S001", 1, raws, now=app.clock())
        finally:
            await engine.dispose()

    r = app.client.get("/api/v1/hq/stores/S001/kpis", headers=app.admin)
    assert r.status_code == 404 and "has not synced" in r.json()["detail"]
    asyncio.run(upload())

    node = make_engine(tmp_path / "node.sqlite3")
    create_schema(node)
    with node.begin() as conn:
        apply_all(conn, [decode(body) for _, body in day.records])
        want = msgspec.to_builtins(store_kpis(conn, "S001", app.clock(), day.day))
    node.dispose()

    r = app.client.get("/api/v1/hq/stores/S001/kpis?day=2026-11-25", headers=app.admin)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got == want
    assert got["queue"]["visits"] > 50 and got["sales"]["units"] > 0

    # Scoped users see only their regions' stores; a bad day is a clear 400.
    north = add_user(app, "ana-north", "analyst", ["north"])
    assert app.client.get("/api/v1/hq/stores/S001/kpis", headers=north).status_code == 404
    r = app.client.get("/api/v1/hq/stores/S001/kpis?day=yesterday", headers=app.admin)
    assert r.status_code == 400
