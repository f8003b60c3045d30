"""What the store node refuses at its door: control characters in any text a request carries
(body, query, path, headers) with a 422 naming the field, bodies nested absurdly deep with a
400, and database failures answered without the database's own words."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from tests.conftest import engine_for

WINDOW = {"code": "W1", "name": "一号窗口", "kind": "business"}
CONTROL = ["\x00", "\x01", "\x1b", "\r", "\x7f", "\x85"]


def windows(client: TestClient[Any], headers: dict[str, str]) -> int:
    r = client.get("/api/v1/queue/windows", headers=headers)
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


def assert_refused(r: Any, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["errors"][0]["field"] == field, body
    assert body["code"] in ("validation_failed", "bad_request")


@pytest.mark.parametrize("char", CONTROL, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_in_a_body_are_refused_naming_the_field(
    client: TestClient[Any], as_role: dict[str, dict[str, str]], char: str
) -> None:
    manager = as_role["manager"]
    r = client.post(
        "/api/v1/queue/windows", json={**WINDOW, "name": f"一号{char}窗口"}, headers=manager
    )
    assert_refused(r, 422, "body.name")
    assert f"U+{ord(char):04X}" in r.json()["detail"]
    assert windows(client, manager) == 0  # nothing recorded

    # Deep inside a list, and in a key of an object.
    staff = client.get("/api/v1/staff", headers=manager).json()["items"][0]["user_id"]
    shift = {"user_id": staff, "day": "2099-01-01", "start_time": "09:00:00"}
    r = client.post(
        "/api/v1/shifts/bulk",
        json={"shifts": [{**shift, "end_time": "12:00:00", "note": f"早班{char}"}]},
        headers=manager,
    )
    assert_refused(r, 422, "body.shifts[0].note")
    r = client.post("/api/v1/queue/windows", json={**WINDOW, f"x{char}": 1}, headers=manager)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("body.'x")


def test_newline_and_tab_are_text(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    clerk = as_role["clerk"]
    r = client.post(
        "/api/v1/complaints",
        json={
            "category": "billing",
            "channel": "in_store",
            "description": "第一行\n第二行\t附注",
            "customer_phone": "13812345678",
        },
        headers=clerk,
    )
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "第一行\n第二行\t附注"


def test_control_characters_in_query_path_and_headers_are_refused(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    manager = as_role["manager"]
    r = client.get("/api/v1/items?category=phone%00", headers=manager)
    assert_refused(r, 422, "query.category")
    r = client.get("/api/v1/stock?q=A%01B", headers=manager)
    assert_refused(r, 422, "query.q")
    r = client.get("/api/v1/items/CASE%00-01", headers=manager)
    assert_refused(r, 422, "path.sku")
    # The device id a tablet sends ends up in every event it records.
    r = client.post(
        "/api/v1/queue/windows", json=WINDOW, headers={**manager, "X-Device-Id": "tab\x00let"}
    )
    assert_refused(r, 422, "header.x-device-id")
    r = client.post(
        "/api/v1/queue/windows", json=WINDOW, headers={**manager, "Idempotency-Key": "k\x1bey"}
    )
    assert_refused(r, 422, "header.idempotency-key")
    assert windows(client, manager) == 0


@pytest.mark.parametrize("depth", [33, 1_000, 10_000])
def test_deeply_nested_bodies_are_a_bad_request(
    client: TestClient[Any], as_role: dict[str, dict[str, str]], depth: int
) -> None:
    manager = as_role["manager"]
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        r = client.post(
            "/api/v1/queue/windows",
            content=body,
            headers={**manager, "content-type": "application/json"},
        )
        assert_refused(r, 400, "body")
        assert "nests deeper than 32 levels" in r.json()["detail"]
    # A request of ordinary depth still works.
    r = client.post("/api/v1/queue/windows", json=WINDOW, headers=manager)
    assert r.status_code == 201, r.text


def test_a_database_failure_is_retryable_and_says_nothing_of_the_database(
    client: TestClient[Any], as_role: dict[str, dict[str, str]], data_dir: Any
) -> None:
    manager = as_role["manager"]
    engine = engine_for(data_dir)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE queue_windows"))
    engine.dispose()
    r = client.get("/api/v1/queue/windows", headers=manager)
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "storage_unavailable" and r.json()["retryable"] is True
    assert "queue_windows" not in r.text and "no such table" not in r.text.lower()
    r = client.post("/api/v1/queue/windows", json=WINDOW, headers=manager)
    assert r.status_code == 503, r.text
    assert "queue_windows" not in r.text and "no such table" not in r.text.lower()
