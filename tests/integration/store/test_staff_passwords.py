"""Staff passwords on the node: a member changes their own; a password set by anyone ends the
tokens issued before it, also after the node restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from server.store.app import create_app
from tests.conftest import MANAGER, MANAGER_PASSWORD, STAFF_PASSWORD, login

MINE = "clerk-own-pass-9"


def change_own(client: TestClient[Any], headers: dict[str, str], current: str, new: str) -> Any:
    return client.post(
        "/api/v1/auth/password",
        json={"current_password": current, "new_password": new},
        headers=headers,
    )


def bearer(r: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_member_changes_their_own_password(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    old = as_role["clerk"]
    r = change_own(client, old, STAFF_PASSWORD, MINE)
    assert r.status_code == 200, r.text
    assert r.json()["username"] == "clerk1" and r.json()["role"] == "clerk"
    # The token that asked, and any other from before, is refused; the new one works.
    assert client.get("/api/v1/auth/me", headers=old).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(r)).json()["username"] == "clerk1"
    r = client.post("/api/v1/auth/login", json={"username": "clerk1", "password": STAFF_PASSWORD})
    assert r.status_code == 401
    login(client, "clerk1", MINE)
    # Nobody else's tokens are touched.
    assert client.get("/api/v1/auth/me", headers=as_role["greeter"]).status_code == 200


def test_changing_needs_the_current_password(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    h = as_role["greeter"]
    r = change_own(client, h, "not-the-password", MINE)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "current_password"
    r = change_own(client, h, STAFF_PASSWORD, STAFF_PASSWORD)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "new_password"
    assert change_own(client, h, STAFF_PASSWORD, "short").status_code == 400
    for _ in range(10):  # throttled like logins: an address the member uses has 10 free
        change_own(client, h, "guess-guess", MINE)
    r = change_own(client, h, STAFF_PASSWORD, MINE)
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    assert client.get("/api/v1/auth/me", headers=h).status_code == 200  # still logged in
    assert change_own(client, {}, STAFF_PASSWORD, MINE).status_code == 401


def test_the_managers_reset_ends_the_members_tokens(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    clerk = as_role["clerk"]
    me = client.get("/api/v1/auth/me", headers=clerk).json()
    r = client.patch(
        f"/api/v1/staff/{me['user_id']}",
        json={"password": "reset-pass-77"},
        headers=as_role["manager"],
    )
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/auth/me", headers=clerk).status_code == 401
    login(client, "clerk1", "reset-pass-77")
    # A change of role alone leaves tokens alone.
    tech = as_role["tech"]
    tech_id = client.get("/api/v1/auth/me", headers=tech).json()["user_id"]
    client.patch(f"/api/v1/staff/{tech_id}", json={"role": "clerk"}, headers=as_role["manager"])
    assert client.get("/api/v1/auth/me", headers=tech).status_code == 200


def test_old_tokens_stay_refused_after_a_restart(data_dir: Path) -> None:
    with TestClient(app=create_app(data_dir)) as client:
        before = login(client, MANAGER, MANAGER_PASSWORD)
        kept = login(client, MANAGER, MANAGER_PASSWORD)
        r = change_own(client, kept, MANAGER_PASSWORD, "manager-new-pass")
        after = bearer(r)
    with TestClient(app=create_app(data_dir)) as client:
        assert client.get("/api/v1/auth/me", headers=before).status_code == 401
        assert client.get("/api/v1/auth/me", headers=after).status_code == 200
