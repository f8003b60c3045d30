"""Login, roles and the roster over HTTP."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.conftest import MANAGER, MANAGER_PASSWORD, STAFF_PASSWORD, login


def test_login_gives_bearer_token(client: TestClient[Any]) -> None:
    r = client.post("/api/v1/auth/login", json={"username": MANAGER, "password": MANAGER_PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "manager"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == MANAGER


def test_wrong_password_is_401_problem(client: TestClient[Any]) -> None:
    r = client.post("/api/v1/auth/login", json={"username": MANAGER, "password": "nope-nope"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "unauthorized"


def test_no_token_is_401(client: TestClient[Any]) -> None:
    r = client.get("/api/v1/staff")
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"


def test_only_manager_adds_staff(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    r = client.post(
        "/api/v1/staff",
        json={"username": "x1", "display_name": "X", "role": "clerk", "password": STAFF_PASSWORD},
        headers=as_role["clerk"],
    )
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_validation_error_names_field(client: TestClient[Any]) -> None:
    h = login(client, MANAGER, MANAGER_PASSWORD)
    r = client.post(
        "/api/v1/staff",
        json={"username": "ok1", "display_name": "X", "role": "boss", "password": STAFF_PASSWORD},
        headers=h,
    )
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "validation_failed"
    assert any("role" in (e["field"] or "") or "role" in e["message"] for e in body["errors"])


def test_idempotent_post_replays(client: TestClient[Any]) -> None:
    h = login(client, MANAGER, MANAGER_PASSWORD)
    payload = {"username": "c9", "display_name": "C", "role": "clerk", "password": STAFF_PASSWORD}
    first = client.post("/api/v1/staff", json=payload, headers={**h, "Idempotency-Key": "k1"})
    again = client.post("/api/v1/staff", json=payload, headers={**h, "Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post(
        "/api/v1/staff", json={**payload, "username": "c10"}, headers={**h, "Idempotency-Key": "k1"}
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_deactivated_staff_loses_access(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    me = client.get("/api/v1/auth/me", headers=as_role["clerk"]).json()
    r = client.patch(
        f"/api/v1/staff/{me['user_id']}", json={"active": False}, headers=as_role["manager"]
    )
    assert r.status_code == 200
    assert client.get("/api/v1/auth/me", headers=as_role["clerk"]).status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "clerk1", "password": STAFF_PASSWORD})
    assert r.status_code == 401


def test_staff_list_pages(client: TestClient[Any], as_role: dict[str, dict[str, str]]) -> None:
    r = client.get("/api/v1/staff?limit=2", headers=as_role["greeter"])
    body = r.json()
    assert body["total"] == 5 and len(body["items"]) == 2 and body["next_offset"] == 2
    r = client.get("/api/v1/staff?limit=0", headers=as_role["greeter"])
    assert r.status_code == 400


def test_openapi_served(client: TestClient[Any]) -> None:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/staff" in r.json()["paths"]


def test_replay_rebuilds_roster(
    client: TestClient[Any], as_role: dict[str, dict[str, str]], data_dir: Any
) -> None:
    from schema.tables.core import staff, store_info
    from tests.conftest import assert_replay_matches

    assert_replay_matches(data_dir, [staff, store_info])


def test_reactivate_with_new_password(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    me = client.get("/api/v1/auth/me", headers=as_role["tech"]).json()
    url = f"/api/v1/staff/{me['user_id']}"
    assert client.patch(url, json={"active": False}, headers=as_role["manager"]).status_code == 200
    r = client.post(
        "/api/v1/staff",
        json={"username": "tech1", "display_name": "T", "role": "tech", "password": STAFF_PASSWORD},
        headers=as_role["manager"],
    )
    assert r.status_code == 409 and "reactivated" in r.json()["detail"]
    r = client.patch(url, json={"active": True}, headers=as_role["manager"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "password"
    r = client.patch(
        url, json={"active": True, "password": "new-pass-456"}, headers=as_role["manager"]
    )
    assert r.status_code == 200 and r.json()["active"] is True
    assert login(client, "tech1", "new-pass-456")
    r = client.post("/api/v1/auth/login", json={"username": "tech1", "password": STAFF_PASSWORD})
    assert r.status_code == 401


def test_last_manager_cannot_be_demoted(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    me = client.get("/api/v1/auth/me", headers=as_role["manager"]).json()
    r = client.patch(
        f"/api/v1/staff/{me['user_id']}", json={"role": "clerk"}, headers=as_role["manager"]
    )
    assert r.status_code == 409
    assert "last active manager" in r.json()["detail"]


def test_opening_hours_are_store_local_times_without_offset(client: TestClient[Any]) -> None:
    h = login(client, MANAGER, MANAGER_PASSWORD)
    r = client.patch("/api/v1/store", json={"open_time": "08:00:00+08:00"}, headers=h)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (400, "body.open_time")
    r = client.patch("/api/v1/store", json={"close_time": "21:00:00"}, headers=h)
    assert (r.status_code, r.json()["close_time"]) == (200, "21:00:00")
