"""HQ user management on central: an admin over every region creates, lists, changes,
deactivates HQ users and resets their passwords; every user changes their own password; tokens
of a deactivated user, or issued before a password was set, stop working."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.api.hq_users import HqUserIn, HqUserUpdate
from server.central import db, enrollment
from server.central.hq import users as hq_users
from server.errors import Conflict
from server.idempotency import Idempotency
from tests.integration.central.conftest import ADMIN, ADMIN_PASSWORD, CentralApp

USERS = "/api/v1/hq/users"
INITIAL = "initial-pass-1"
OWN = "my-own-pass-22"
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def create(app: CentralApp, username: str, role: str = "analyst", regions: Any = (), **kw: Any):
    body = {
        "username": username,
        "display_name": f"用户 {username}",
        "role": role,
        "regions": list(regions),
        "password": INITIAL,
    }
    return app.client.post(USERS, json=body, headers={**app.admin, **kw.get("headers", {})})


def change_own(app: CentralApp, headers: dict[str, str], current: str, new: str) -> Any:
    return app.client.post(
        "/api/v1/hq/auth/password",
        json={"current_password": current, "new_password": new},
        headers=headers,
    )


def onboard(
    app: CentralApp, username: str, role: str = "analyst", regions: Any = ()
) -> dict[str, str]:
    """Create the user, log in with the initial password, choose their own; their headers."""
    r = create(app, username, role, regions)
    assert r.status_code == 201, r.text
    r = change_own(app, app.login(username, INITIAL), INITIAL, OWN)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_new_user_must_choose_their_own_password_first(app: CentralApp) -> None:
    r = create(app, "li.na", "ops")
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["role"] == "ops" and made["regions"] == [] and made["must_change_password"]
    assert "password" not in made and "password_hash" not in made

    first = app.login("li.na", INITIAL)
    r = app.client.get("/api/v1/hq/stores", headers=first)
    assert r.status_code == 403 and r.json()["code"] == "password_change_required"
    me = app.client.get("/api/v1/hq/auth/me", headers=first)
    assert me.status_code == 200 and me.json()["must_change_password"] is True

    r = change_own(app, first, INITIAL, OWN)
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert app.client.get("/api/v1/hq/stores", headers=fresh).status_code == 200
    # The token from before the change is refused, on every endpoint.
    assert app.client.get("/api/v1/hq/auth/me", headers=first).status_code == 401
    assert (
        app.client.get("/api/v1/hq/auth/me", headers=fresh).json()["must_change_password"] is False
    )
    assert (
        app.client.post(
            "/api/v1/hq/auth/login", json={"username": "li.na", "password": INITIAL}
        ).status_code
        == 401
    )
    app.login("li.na", OWN)


def test_admin_lists_users_with_filters_and_pages(app: CentralApp) -> None:
    for name, role in [("a.one", "ops"), ("b.two", "analyst"), ("c.three", "analyst")]:
        assert create(app, name, role).status_code == 201
    r = app.client.get(USERS, params={"limit": 2}, headers=app.admin)
    assert r.status_code == 200, r.text
    page = r.json()
    assert [u["username"] for u in page["items"]] == ["a.one", ADMIN]
    assert (page["total"], page["limit"], page["offset"], page["next_offset"]) == (4, 2, 0, 2)
    r = app.client.get(USERS, params={"role": "analyst"}, headers=app.admin)
    assert [u["username"] for u in r.json()["items"]] == ["b.two", "c.three"]
    app.client.patch(f"{USERS}/b.two", json={"active": False}, headers=app.admin)
    r = app.client.get(USERS, params={"active": "false"}, headers=app.admin)
    assert [u["username"] for u in r.json()["items"]] == ["b.two"]
    r = app.client.get(f"{USERS}/c.three", headers=app.admin)
    assert r.status_code == 200 and r.json()["display_name"] == "用户 c.three"
    r = app.client.get(f"{USERS}/nobody", headers=app.admin)
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_a_role_or_region_change_takes_effect_on_the_users_next_request(app: CentralApp) -> None:
    app.add_store("S001", "east")
    app.add_store("S002", "north")
    headers = onboard(app, "zhao", "analyst")
    assert app.client.get("/api/v1/hq/stores", headers=headers).json()["total"] == 2

    r = app.client.patch(f"{USERS}/zhao", json={"regions": ["west"]}, headers=app.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "regions"
    r = app.client.patch(
        f"{USERS}/zhao", json={"regions": ["north", "north"], "role": "ops"}, headers=app.admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["regions"] == ["north"] and r.json()["role"] == "ops"
    seen = app.client.get("/api/v1/hq/stores", headers=headers).json()["items"]
    assert [s["store_id"] for s in seen] == ["S002"]

    r = app.client.patch(f"{USERS}/zhao", json={"regions": []}, headers=app.admin)
    assert r.json()["regions"] == []
    assert app.client.get("/api/v1/hq/stores", headers=headers).json()["total"] == 2
    assert create(app, "qian", regions=["nowhere"]).json()["errors"][0]["field"] == "regions"


def test_deactivating_ends_the_users_tokens_and_logins(app: CentralApp) -> None:
    headers = onboard(app, "sun")
    r = app.client.patch(f"{USERS}/sun", json={"active": False}, headers=app.admin)
    assert r.status_code == 200 and r.json()["active"] is False
    assert app.client.get("/api/v1/hq/stores", headers=headers).status_code == 401
    r = app.client.post("/api/v1/hq/auth/login", json={"username": "sun", "password": OWN})
    assert r.status_code == 401
    r = app.client.patch(f"{USERS}/sun", json={"active": True}, headers=app.admin)
    assert r.status_code == 200 and r.json()["active"] is True
    app.login("sun", OWN)


def test_the_last_admin_over_every_region_cannot_be_demoted_or_deactivated(
    app: CentralApp,
) -> None:
    app.add_store("S001", "east")
    for change in ({"role": "ops"}, {"active": False}, {"regions": ["east"]}):
        r = app.client.patch(f"{USERS}/{ADMIN}", json=change, headers=app.admin)
        assert r.status_code == 409, r.text
        assert "last active admin over every region" in r.json()["detail"]
    # A region-scoped or inactive admin does not count.
    create(app, "east.admin", "admin", ["east"])
    create(app, "gone.admin", "admin")
    app.client.patch(f"{USERS}/gone.admin", json={"active": False}, headers=app.admin)
    assert (
        app.client.patch(f"{USERS}/{ADMIN}", json={"role": "ops"}, headers=app.admin).status_code
        == 409
    )
    # With another admin over every region, the first may step down.
    create(app, "zhou", "admin")
    r = app.client.patch(f"{USERS}/{ADMIN}", json={"role": "ops"}, headers=app.admin)
    assert r.status_code == 200 and r.json()["role"] == "ops"
    r = app.client.patch(
        f"{USERS}/zhou", json={"active": False}, headers=app.login("zhou", INITIAL)
    )
    assert r.status_code == 403  # zhou must choose a password first
    assert app.client.get(USERS, headers=app.admin).status_code == 403  # admin is ops now


def test_a_reset_ends_old_tokens_and_forces_a_new_password(app: CentralApp) -> None:
    headers = onboard(app, "wu")
    r = app.client.post(
        f"{USERS}/wu/password", json={"password": "reset-pass-33"}, headers=app.admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["must_change_password"] is True
    assert app.client.get("/api/v1/hq/auth/me", headers=headers).status_code == 401
    r = app.client.post("/api/v1/hq/auth/login", json={"username": "wu", "password": OWN})
    assert r.status_code == 401
    after = app.login("wu", "reset-pass-33")
    r = app.client.get("/api/v1/hq/stores", headers=after)
    assert r.json()["code"] == "password_change_required"
    assert change_own(app, after, "reset-pass-33", "wu-chose-this").status_code == 200
    r = app.client.post(
        f"{USERS}/nobody/password", json={"password": "reset-pass-33"}, headers=app.admin
    )
    assert r.status_code == 404


def test_changing_ones_own_password_checks_the_current_one(app: CentralApp) -> None:
    headers = onboard(app, "zheng")
    r = change_own(app, headers, "not-my-password", "another-pass-1")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "current_password"
    r = change_own(app, headers, OWN, OWN)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "new_password"
    r = change_own(app, headers, OWN, "short")
    assert r.status_code == 400
    # The admin's own account works the same way.
    r = change_own(app, app.admin, ADMIN_PASSWORD, "new-admin-pass-1")
    assert r.status_code == 200 and r.json()["role"] == "admin"
    # Guessing the current password is throttled like guessing at the login (from an address
    # the user has logged in from, after the address's 10 free failures).
    for _ in range(10):
        change_own(app, headers, "guess-guess", "another-pass-1")
    r = change_own(app, headers, OWN, "another-pass-1")
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    assert app.client.get(USERS, headers=app.admin).status_code == 401


@pytest.mark.parametrize("role", ["ops", "analyst", "auditor"])
def test_only_admins_manage_users(app: CentralApp, role: str) -> None:
    headers = onboard(app, f"not.{role}", role)
    assert app.client.get(USERS, headers=headers).status_code == 403
    r = app.client.post(
        USERS,
        json={"username": "x.y", "display_name": "x", "role": "admin", "password": INITIAL},
        headers=headers,
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = app.client.patch(f"{USERS}/not.{role}", json={"role": "admin"}, headers=headers)
    assert r.status_code == 403


def test_a_region_scoped_admin_does_not_manage_users(app: CentralApp) -> None:
    app.add_store("S001", "east")
    headers = onboard(app, "east.admin", "admin", ["east"])
    r = app.client.post(
        USERS,
        json={"username": "x.y", "display_name": "x", "role": "admin", "password": INITIAL},
        headers=headers,
    )
    assert r.status_code == 403
    assert "every region" in r.json()["detail"]
    assert app.client.get(USERS, headers=headers).status_code == 403


def test_creating_is_safe_to_retry_with_an_idempotency_key(app: CentralApp) -> None:
    key = {"Idempotency-Key": "create-feng-1"}
    first = create(app, "feng", headers=key)
    assert first.status_code == 201
    again = create(app, "feng", headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    r = create(app, "feng.other", headers=key)
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    r = create(app, "feng")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert app.client.get(USERS, headers=app.admin).json()["total"] == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", "Bad Name"), ("role", "root"), ("password", "short"), ("regions", [""])],
)
def test_bad_user_fields_are_refused(app: CentralApp, field: str, value: Any) -> None:
    body = {"username": "ok.name", "display_name": "x", "role": "ops", "password": INITIAL}
    r = app.client.post(USERS, json={**body, field: value}, headers=app.admin)
    assert r.status_code == 400, r.text
    assert field in r.json()["errors"][0]["field"]
    assert app.client.get(f"{USERS}/ok.name", headers=app.admin).status_code == 404


def test_reactivating_does_not_revive_tokens_from_before(app: CentralApp) -> None:
    headers = onboard(app, "chen")
    app.client.patch(f"{USERS}/chen", json={"active": False}, headers=app.admin)
    app.client.patch(f"{USERS}/chen", json={"active": True}, headers=app.admin)
    assert app.client.get("/api/v1/hq/stores", headers=headers).status_code == 401
    assert app.client.get("/api/v1/hq/stores", headers=app.login("chen", OWN)).status_code == 200


async def test_user_rules_hold_on_both_databases(engine: AsyncEngine) -> None:
    """The same rules on SQLite and PostgreSQL (row locks, JSON regions, booleans)."""
    data = HqUserIn(username="he", display_name="何", role="admin", regions=[], password=INITIAL)
    key = Idempotency("k", ADMIN, "h")
    async with db.write(engine) as conn:
        await enrollment.create_store(conn, store_id="S001", name="店", region="east", tz="UTC")
        out, replayed = await hq_users.create_user(
            conn, data, password_hash="x", now=NOW, created_by=ADMIN, idempotency=key
        )
        assert not replayed and out.must_change_password
        again, replayed = await hq_users.create_user(
            conn, data, password_hash="x", now=NOW, created_by=ADMIN, idempotency=key
        )
        assert replayed and again == out
        await hq_users.update_user(conn, "he", HqUserUpdate(regions=["east", "east"]))
        with pytest.raises(Conflict):
            await hq_users.update_user(conn, ADMIN, HqUserUpdate(active=False))
        await hq_users.update_user(conn, "he", HqUserUpdate(regions=[]))
        await hq_users.update_user(conn, ADMIN, HqUserUpdate(active=False))
        with pytest.raises(Conflict):
            await hq_users.update_user(conn, "he", HqUserUpdate(role="ops"))
    async with db.read(engine) as conn:
        assert (await hq_users.get_user(conn, ADMIN)).active is False
        rows = (await conn.execute(hq_users.list_query(role="admin", active=True))).all()
        assert [hq_users.user_out(r).username for r in rows] == ["he"]
