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


# ---------------------------------------------------------------- absurd dates and times


@pytest.mark.parametrize(
    "slot",
    [
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "9999-12-31T23:59:59",
    ],
)
def test_appointment_times_at_the_ends_of_the_calendar_are_422(
    client: TestClient[Any], as_role: dict[str, dict[str, str]], slot: str
) -> None:
    r = client.post(
        "/api/v1/queue/appointments",
        json={
            "category": "billing",
            "slot_start": slot,
            "customer_name": "张三",
            "customer_phone": "13812345678",
        },
        headers=as_role["greeter"],
    )
    assert_refused(r, 422, "slot_start")


def test_days_far_from_today_are_refused_with_a_clear_message(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    manager, admin = as_role["manager"], as_role["admin"]
    staff = client.get("/api/v1/staff", headers=manager).json()["items"][0]["user_id"]
    shift = {"user_id": staff, "start_time": "09:00:00", "end_time": "12:00:00"}
    for day in ("9999-12-31", "2400-01-01"):
        r = client.post("/api/v1/shifts", json={**shift, "day": day}, headers=manager)
        assert_refused(r, 422, "day")
        assert f"{day} is more than a year from today" in r.json()["detail"]
    r = client.post(
        "/api/v1/shifts/bulk", json={"shifts": [{**shift, "day": "9999-12-31"}]}, headers=manager
    )
    assert_refused(r, 422, "shifts[0].day")
    drill = {
        "start_time": "09:00:00",
        "end_time": "09:20:00",
        "scenario": "电气火灾",
        "participants": [staff],
        "conducted_by": "王丽",
    }
    r = client.post("/api/v1/fire-drills", json={**drill, "day": "0001-01-01"}, headers=admin)
    assert_refused(r, 422, "day")
    r = client.post(
        "/api/v1/fire-inspections",
        json={"day": "0001-01-01", "inspector": "消防检查员", "passed": True},
        headers=admin,
    )
    assert_refused(r, 422, "day")
    training = {
        "topic": "新业务培训",
        "kind": "product",
        "start_time": "14:00:00",
        "duration_min": 60,
        "trainer": "王丽",
        "invited": [staff],
    }
    r = client.post("/api/v1/trainings", json={**training, "day": "9999-12-31"}, headers=admin)
    assert_refused(r, 422, "day")
    for at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"):
        r = client.post(
            "/api/v1/attendance/clock-in",
            json={"user_id": staff, "reason": "补录", "at": at},
            headers=manager,
        )
        assert r.status_code == 422, r.text
    assert client.get("/api/v1/shifts", headers=manager).json()["total"] == 0
