"""What central refuses at its door, on SQLite and PostgreSQL alike: control characters in any
text of a request (a NUL would otherwise reach PostgreSQL and come back as a 503 quoting the
driver), absurdly nested bodies, and database failures told in the database's own words."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from server.central import db
from tests.integration.central.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    CentralApp,
    Clock,
    open_app,
)


@pytest.fixture
def hq(central_url: str, clock: Clock) -> Iterator[CentralApp]:
    """Central over SQLite, then over PostgreSQL, with the HQ admin logged in."""
    with open_app(central_url, clock) as client:
        c = CentralApp(client, {}, clock)
        c.admin = c.login(ADMIN, ADMIN_PASSWORD)
        yield c


def assert_refused(r: Any, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == field, r.text


def test_nul_and_other_control_characters_are_422_naming_the_field(hq: CentralApp) -> None:
    c, admin = hq.client, hq.admin
    r = c.post("/api/v1/hq/auth/login", json={"username": "ad\x00min", "password": "x"})
    assert_refused(r, 422, "body.username")
    r = c.post(
        "/api/v1/hq/stores",
        json={"store_id": "S001", "name": "人民路\x00营业厅", "region": "east"},
        headers=admin,
    )
    assert_refused(r, 422, "body.name")
    r = c.get("/api/v1/hq/quarantine?store_id=S001%00", headers=admin)
    assert_refused(r, 422, "query.store_id")
    r = c.get("/api/v1/hq/stores?region=ea%1bst", headers=admin)
    assert_refused(r, 422, "query.region")
    r = c.get("/api/v1/hq/stores/S0%0001/kpis", headers=admin)
    assert_refused(r, 422, "path.store_id")
    r = c.post(
        "/api/v1/hq/roster",
        json={
            "audience": "all",
            "username": "wang.li",
            "display_name": "王\x07丽",
            "role": "clerk",
        },
        headers=admin,
    )
    assert_refused(r, 422, "body.display_name")
    r = c.post("/api/v1/enroll", json={"code": "abc\x00"})
    assert_refused(r, 422, "body.code")
    # Nothing was created, and the ordinary request still works.
    assert c.get("/api/v1/hq/stores", headers=admin).json()["total"] == 0
    r = c.post(
        "/api/v1/hq/stores",
        json={"store_id": "S001", "name": "人民路营业厅", "region": "east"},
        headers=admin,
    )
    assert r.status_code == 201, r.text


def test_deeply_nested_bodies_are_a_bad_request(hq: CentralApp) -> None:
    for depth in (33, 10_000):
        r = hq.client.post(
            "/api/v1/hq/catalog/items",
            content="[" * depth + "]" * depth,
            headers={**hq.admin, "content-type": "application/json"},
        )
        assert_refused(r, 400, "body")


def test_a_database_failure_is_a_retryable_503_without_the_drivers_words(
    hq: CentralApp, central_url: str
) -> None:
    async def drop() -> None:
        engine = db.make_engine(central_url)
        try:
            async with db.write(engine) as conn:
                await conn.execute(sa.text("DROP TABLE central_quarantine"))
        finally:
            await engine.dispose()

    asyncio.run(drop())
    r = hq.client.get("/api/v1/hq/quarantine", headers=hq.admin)
    assert r.status_code == 503, r.text
    body = r.json()
    assert (body["code"], body["retryable"]) == ("storage_unavailable", True)
    assert body["detail"] == "central's database failed; retry"
    text = r.text.lower()
    assert "central_quarantine" not in text and "relation" not in text
    assert "no such table" not in text and "error" not in body["detail"]
