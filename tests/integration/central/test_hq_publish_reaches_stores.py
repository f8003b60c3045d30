"""End to end: HQ publishes through central's HTTP API, real store nodes sync with central over
a real websocket, and each applies what addresses it, and only that, in its projections.

Central runs under uvicorn in a thread (its own event loop) on a loopback port; each store node
is created by ``init_enrolled`` with a one-time code, as ``hallsync store init --enroll`` does,
and synced by ``SyncService.run_once``, as ``hallsync store sync --once`` does. A staff member
HQ added logs in on the node once the hall manager has set their password.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from litestar.testing import TestClient

from schema.tables.core import staff, store_info
from schema.tables.inventory import inventory_items
from server.central.app import create_app as create_central
from server.central.node import read_secrets
from server.store.app import create_app as create_store
from server.store.db import Reader
from server.store.enrollment import init_enrolled
from server.store.node import open_store
from server.store.sync_service import SyncService, read_enrollment
from server.store.writer import Writer
from sync.progress import SyncOptions
from tests.conftest import MANAGER, MANAGER_PASSWORD, login
from tests.contact import key_dir
from tests.integration.central.conftest import ADMIN, ADMIN_PASSWORD

FAST = SyncOptions(settle=0.3, save_interval=0.0, ping_interval=None)
STORES = {"S001": "east", "S002": "east", "S003": "west"}


@dataclass
class LiveCentral:
    """Central on a real port, and an HTTP client logged in as the HQ admin."""

    url: str
    http: httpx.Client
    admin: dict[str, str] = field(default_factory=dict)

    def publish(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.http.post(f"/api/v1/hq{path}", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    def enrollment_code(self, store_id: str, region: str) -> str:
        body = {"store_id": store_id, "name": f"营业厅 {store_id}", "region": region}
        r = self.http.post("/api/v1/hq/stores", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        code: str = r.json()["code"]
        return code


@pytest.fixture
def central(app_url: str) -> Iterator[LiveCentral]:
    secrets = asyncio.run(read_secrets(app_url, key_dir()))
    app = create_central(app_url, secrets, hq_poll=0.05)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, ws="websockets-sansio", log_level="warning", access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "central did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=10) as http:
        live = LiveCentral(url, http)
        r = http.post("/api/v1/hq/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        live.admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        yield live
    server.should_exit = True
    thread.join(10)
    sock.close()


def enrolled_nodes(central: LiveCentral, tmp_path: Path, *store_ids: str) -> dict[str, Path]:
    """Store nodes enrolled with central (regions from ``STORES``), as ``hallsync store init
    --enroll CODE`` makes them."""
    dirs = {}
    for store_id in store_ids:
        dirs[store_id] = tmp_path / store_id
        init_enrolled(
            dirs[store_id],
            central_url=central.url,
            code=central.enrollment_code(store_id, STORES[store_id]),
            manager=MANAGER,
            manager_password=MANAGER_PASSWORD,
        )
    return dirs


def sync_once(data_dir: Path) -> int:
    """``hallsync store sync --once``: upload, apply HQ events, return the HQ cursor reached."""

    async def run() -> int:
        opened = open_store(data_dir)
        writer = Writer(opened.engine, opened.store_id, contact_key=opened.contact_key)
        reader = Reader(opened.engine)
        writer.start()
        try:
            enrollment = reader.run_sync(read_enrollment)
            assert enrollment is not None
            service = SyncService(writer, reader, enrollment, options=FAST)
            return (await service.run_once()).hq_cursor
        finally:
            writer.stop()
            opened.engine.dispose()

    return asyncio.run(run())


def read(data_dir: Path, query: sa.Select[Any]) -> list[Any]:
    engine = open_store(data_dir).engine
    try:
        with engine.connect() as conn:
            return list(conn.execute(query).all())
    finally:
        engine.dispose()


def prices(data_dir: Path) -> dict[str, int]:
    rows = read(data_dir, sa.select(inventory_items.c.sku, inventory_items.c.unit_price_cents))
    return {r.sku: r.unit_price_cents for r in rows}


def roster(data_dir: Path) -> dict[str, tuple[str, bool]]:
    rows = read(data_dir, sa.select(staff.c.username, staff.c.role, staff.c.active))
    return {r.username: (r.role, r.active) for r in rows}


def rules(data_dir: Path) -> tuple[Any, ...]:
    [row] = read(data_dir, sa.select(store_info))
    return (
        row.name,
        row.region,
        row.open_time,
        row.close_time,
        row.first_response_sla_hours,
        row.resolution_sla_hours,
    )


def test_published_data_reaches_only_the_addressed_stores(
    central: LiveCentral, tmp_path: Path
) -> None:
    nodes = enrolled_nodes(central, tmp_path, *STORES)
    for data_dir in nodes.values():
        sync_once(data_dir)  # each store's own log is up at central
    item = {"sku": "CASE-01", "name": "手机壳", "category": "accessory", "unit_price_cents": 2900}
    to_all = central.publish("/catalog/items", {"audience": "all", **item})
    central.publish(
        "/catalog/items/CASE-01/price",
        {"audience": "region", "target": "east", "unit_price_cents": 2500},
    )
    central.publish(
        "/roster",
        {
            "audience": "store",
            "target": "S001",
            "username": "wang.li",
            "display_name": "王丽",
            "role": "clerk",
        },
    )
    newest = central.publish(
        "/rules",
        {
            "audience": "region",
            "target": "west",
            "open_time": "09:00:00",
            "close_time": "21:00:00",
            "resolution_sla_hours": 36,
        },
    )
    before = {sid: rules(d) for sid, d in nodes.items()}

    for data_dir in nodes.values():
        assert sync_once(data_dir) == newest["cursor"]

    s1, s2, s3 = nodes["S001"], nodes["S002"], nodes["S003"]
    assert (prices(s1), prices(s2), prices(s3)) == (
        {"CASE-01": 2500},
        {"CASE-01": 2500},
        {"CASE-01": 2900},
    )
    assert roster(s1) == {MANAGER: ("manager", True), "wang.li": ("clerk", True)}
    assert roster(s2) == roster(s3) == {MANAGER: ("manager", True)}
    assert rules(s1) == before["S001"] and rules(s2) == before["S002"]
    name, region, *_ = before["S003"]
    assert rules(s3) == (name, region, clock_time(9, 0), clock_time(21, 0), 24, 36)

    listed = central.http.get("/api/v1/hq/published", headers=central.admin).json()
    delivery = {i["cursor"]: i["delivery"] for i in listed["items"]}
    assert delivery[to_all["cursor"]] == {"addressed": 3, "applied": 3}
    assert delivery[newest["cursor"]] == {"addressed": 1, "applied": 1}
    assert all(d["addressed"] == d["applied"] for d in delivery.values())


def test_a_staff_member_added_by_hq_logs_in_once_the_manager_sets_a_password(
    central: LiveCentral, tmp_path: Path
) -> None:
    nodes = enrolled_nodes(central, tmp_path, "S001")
    central.publish(
        "/roster",
        {
            "audience": "region",
            "target": "east",
            "username": "wang.li",
            "display_name": "王丽",
            "role": "clerk",
        },
    )
    sync_once(nodes["S001"])
    with TestClient(app=create_store(nodes["S001"])) as store:
        attempt = {"username": "wang.li", "password": "anything-at-all"}
        r = store.post("/api/v1/auth/login", json=attempt)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"  # no password yet
        manager = login(store, MANAGER, MANAGER_PASSWORD)
        listed = store.get("/api/v1/staff?role=clerk", headers=manager).json()["items"]
        [member] = [m for m in listed if m["username"] == "wang.li"]
        r = store.patch(
            f"/api/v1/staff/{member['user_id']}",
            json={"password": "wang-li-pass-1"},
            headers=manager,
        )
        assert r.status_code == 200, r.text
        clerk = login(store, "wang.li", "wang-li-pass-1")
        me = store.get("/api/v1/auth/me", headers=clerk).json()
        assert (me["username"], me["role"], me["display_name"]) == ("wang.li", "clerk", "王丽")

    # HQ takes them off the east's rosters: the next sync locks them out of S001.
    central.publish("/roster/wang.li/deactivate", {"audience": "region", "target": "east"})
    sync_once(nodes["S001"])
    with TestClient(app=create_store(nodes["S001"])) as store:
        r = store.post(
            "/api/v1/auth/login", json={"username": "wang.li", "password": "wang-li-pass-1"}
        )
        assert r.status_code == 401


def test_a_conflict_on_a_store_reaches_hq_and_hqs_resolution_comes_back(
    central: LiveCentral, tmp_path: Path
) -> None:
    """HQ changes the role of a member the hall manager has just taken off the roster: the
    node keeps its roster, records the conflict and syncs on past it; HQ lists the conflict and
    resolves it; the resolution comes down, is recorded by the store, and goes back up."""
    s1 = enrolled_nodes(central, tmp_path, "S001")["S001"]
    central.publish(
        "/roster",
        {
            "audience": "store",
            "target": "S001",
            "username": "wang.li",
            "display_name": "王丽",
            "role": "clerk",
        },
    )
    sync_once(s1)
    with TestClient(app=create_store(s1)) as store:
        manager = login(store, MANAGER, MANAGER_PASSWORD)
        listed = store.get("/api/v1/staff?role=clerk", headers=manager).json()["items"]
        [member] = [m for m in listed if m["username"] == "wang.li"]
        r = store.patch(
            f"/api/v1/staff/{member['user_id']}", json={"active": False}, headers=manager
        )
        assert r.status_code == 200, r.text
    change = central.publish(
        "/roster/wang.li/role", {"audience": "store", "target": "S001", "role": "admin"}
    )

    assert sync_once(s1) == change["cursor"]  # past the refused event: sync is not wedged
    assert roster(s1)["wang.li"] == ("clerk", False)
    listed = central.http.get("/api/v1/hq/conflicts", headers=central.admin).json()
    [conflict] = listed["items"]
    assert (conflict["store_id"], conflict["status"], conflict["reason"]) == (
        "S001",
        "open",
        "staff_inactive",
    )
    assert conflict["entity_id"] == member["user_id"]
    assert conflict["hq_event"]["cursor"] == change["cursor"]
    assert conflict["hq_event"]["id"] == change["id"]
    assert conflict["store_event"]["type"] == "staff.deactivated"

    url = f"/api/v1/hq/conflicts/{conflict['conflict_id']}/resolve"
    r = central.http.post(url, json={"note": "总部确认离职"}, headers=central.admin)
    assert r.status_code == 200, r.text
    assert r.json()["hq_resolution"]["delivered"] is False
    sync_once(s1)
    [after] = central.http.get("/api/v1/hq/conflicts", headers=central.admin).json()["items"]
    assert after["status"] == "resolved" and after["hq_resolution"]["delivered"] is True
    assert {k: after["resolution"][k] for k in ("by", "side", "note")} == {
        "by": ADMIN,
        "side": "hq",
        "note": "总部确认离职",
    }
    with TestClient(app=create_store(s1)) as store:
        manager = login(store, MANAGER, MANAGER_PASSWORD)
        [on_node] = store.get("/api/v1/sync/conflicts", headers=manager).json()["items"]
    assert on_node["status"] == "resolved" and on_node["resolution"] == after["resolution"]
