"""Enrollment on central: stores, one-time codes, credentials, revocation (SQLite and
PostgreSQL), and the HTTP endpoints a store node calls (enroll, restore)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.api.enrollment import RestorePage
from schema.tables.sync import central_stores
from server.central import db, enrollment
from server.central.node import init_central, load_secrets
from server.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from tests.contact import key_dir
from tests.integration.central import store_events as ev
from tests.integration.central.conftest import ADMIN_PASSWORD, CONTACT_KEY, CentralApp, Clock


async def new_store(engine: AsyncEngine, clock: Clock, store_id: str = "S001") -> str:
    async with db.write(engine) as conn:
        await enrollment.create_store(
            conn, store_id=store_id, name="人民路营业厅", region="east", tz="Asia/Shanghai"
        )
        return (await enrollment.issue_code(conn, store_id, now=clock())).code


async def enroll(engine: AsyncEngine, code: str, clock: Clock, *, restore: bool = False) -> str:
    async with db.write(engine) as conn:
        return (
            await enrollment.enroll(
                conn, code, restore=restore, contact_key=CONTACT_KEY, now=clock()
            )
        ).credential


async def authenticate(engine: AsyncEngine, credential: str) -> str | None:
    async with db.read(engine) as conn:
        row = await enrollment.authenticate(conn, credential)
    return row.store_id if row is not None else None


async def test_a_code_is_traded_once_for_a_credential(engine: AsyncEngine, clock: Clock) -> None:
    code = await new_store(engine, clock)
    async with db.read(engine) as conn:
        assert (await conn.execute(sa.select(central_stores.c.status))).scalar() == "pending"
    async with db.write(engine) as conn:
        out = await enrollment.enroll(
            conn, code.lower(), restore=False, contact_key=CONTACT_KEY, now=clock()
        )
    assert out.store_id == "S001" and out.region == "east" and out.contact_key == CONTACT_KEY
    prefix, store_id, secret = out.credential.split(".")
    assert (prefix, store_id) == ("hs1", "S001") and len(secret) >= 43
    async with db.read(engine) as conn:
        row = (await conn.execute(sa.select(central_stores))).one()
    assert row.status == "active"
    assert row.credential_hash == hashlib.sha256(out.credential.encode()).hexdigest()
    assert await authenticate(engine, out.credential) == "S001"
    with pytest.raises(Unauthorized):
        await enroll(engine, code, clock)  # one-time


async def test_codes_expire_after_seven_days(engine: AsyncEngine, clock: Clock) -> None:
    code = await new_store(engine, clock)
    clock.advance(days=7, seconds=1)
    with pytest.raises(Unauthorized):
        await enroll(engine, code, clock)


async def test_wrong_or_malformed_credentials_are_refused(
    engine: AsyncEngine, clock: Clock
) -> None:
    credential = await enroll(engine, await new_store(engine, clock), clock)
    assert await authenticate(engine, credential + "x") is None
    assert await authenticate(engine, credential.replace("S001", "S002")) is None
    assert await authenticate(engine, "Bearer nonsense") is None
    assert await authenticate(engine, "") is None


async def test_a_replaced_node_re_enrolls_and_locks_the_old_one_out(
    engine: AsyncEngine, clock: Clock
) -> None:
    old = await enroll(engine, await new_store(engine, clock), clock)
    async with db.write(engine) as conn:
        first = (await enrollment.issue_code(conn, "S001", now=clock())).code
        second = (await enrollment.issue_code(conn, "S001", now=clock())).code
    with pytest.raises(Unauthorized):
        await enroll(engine, first, clock)  # a newer code retires older unused ones
    new = await enroll(engine, second, clock)
    assert await authenticate(engine, old) is None
    assert await authenticate(engine, new) == "S001"


async def test_a_node_that_does_not_restore_may_not_take_over_a_store_with_history(
    engine: AsyncEngine, clock: Clock
) -> None:
    from server.central.fold.ingest import ingest

    await enroll(engine, await new_store(engine, clock), clock)
    async with db.write(engine) as conn:
        await ingest(conn, "S001", 1, ev.log("S001", 1, 3), now=clock())
        code = (await enrollment.issue_code(conn, "S001", now=clock())).code
    with pytest.raises(Conflict):
        await enroll(engine, code, clock)
    async with db.write(engine) as conn:
        out = await enrollment.enroll(
            conn, code, restore=True, contact_key=CONTACT_KEY, now=clock()
        )
    assert out.high_water == 3


async def test_revoking_locks_a_store_out_for_good(engine: AsyncEngine, clock: Clock) -> None:
    credential = await enroll(engine, await new_store(engine, clock), clock)
    async with db.write(engine) as conn:
        pending = (await enrollment.issue_code(conn, "S001", now=clock())).code
        await enrollment.revoke(conn, "S001", now=clock())
    assert await authenticate(engine, credential) is None
    with pytest.raises(Unauthorized):
        await enroll(engine, pending, clock)
    async with db.write(engine) as conn:
        with pytest.raises(Conflict):
            await enrollment.issue_code(conn, "S001", now=clock())


async def test_store_details_are_checked(engine: AsyncEngine, clock: Clock) -> None:
    await new_store(engine, clock)
    bad = [
        ({"store_id": "S001"}, Conflict),
        ({"store_id": "S 002"}, ValidationFailed),
        ({"store_id": "S002", "tz": "Mars/Olympus"}, ValidationFailed),
        ({"store_id": "S002", "region": " "}, ValidationFailed),
    ]
    for over, error in bad:
        fields = {"store_id": "S002", "name": "n", "region": "east", "tz": "Asia/Shanghai", **over}
        with pytest.raises(error):
            async with db.write(engine) as conn:
                await enrollment.create_store(conn, **fields)
    async with db.write(engine) as conn:
        with pytest.raises(NotFound):
            await enrollment.issue_code(conn, "S404", now=clock())


async def test_central_is_initialised_once(
    central_url: str, engine: AsyncEngine, clock: Clock
) -> None:
    secrets = await load_secrets(engine, key_dir())
    assert secrets.contact_key.spec == CONTACT_KEY and len(secrets.jwt_secret) >= 32
    with pytest.raises(Conflict):
        await init_central(
            central_url,
            data_dir=key_dir(),
            admin_username="admin2",
            admin_password=ADMIN_PASSWORD,
            now=clock(),
        )
    with pytest.raises(ValidationFailed):
        await init_central(
            central_url,
            data_dir=key_dir(),
            admin_username="a",
            admin_password=ADMIN_PASSWORD,
            contact_key="short",
            now=clock(),
        )


# ------------------------------------------------------------------ HTTP


def test_enroll_endpoint(app: CentralApp) -> None:
    code = app.add_store("S001")
    r = app.enroll(code)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["store_id"] == "S001" and body["contact_key"] == CONTACT_KEY
    assert body["credential"].startswith("hs1.S001.")
    again = app.enroll(code)
    assert again.status_code == 401
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["code"] == "unauthorized"


def test_a_revoked_store_cannot_enroll_or_restore(app: CentralApp) -> None:
    credential = app.enrolled("S001")
    auth = {"Authorization": f"Bearer {credential}"}
    assert app.client.get("/api/v1/restore/events", headers=auth).status_code == 200
    r = app.client.post("/api/v1/hq/stores/S001/revoke", headers=app.admin)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    r = app.client.get("/api/v1/restore/events", headers=auth)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = app.client.post("/api/v1/hq/stores/S001/enrollment-code", headers=app.admin)
    assert r.status_code == 409


def test_restore_endpoint_pages_the_stores_own_log(app: CentralApp) -> None:
    from tests.integration.central.test_ws import hello, push, recv, sync

    credential = app.enrolled("S001")
    other = app.enrolled("S002")
    raws = ev.log("S001", 1, 7)
    with sync(app, credential) as ws:
        hello(ws, "S001")
        push(ws, 1, raws)
        assert recv(ws).seq == 7  # type: ignore[union-attr]
    with sync(app, other) as ws:
        hello(ws, "S002")
        push(ws, 1, ev.log("S002", 1, 3))
        recv(ws)
    auth = {"Authorization": f"Bearer {credential}"}
    got: list[bytes] = []
    after: int | None = 0
    while after is not None:
        r = app.client.get(f"/api/v1/restore/events?after={after}&limit=3", headers=auth)
        assert r.status_code == 200 and r.headers["content-type"] == "application/msgpack"
        page = msgspec.msgpack.decode(r.content, type=RestorePage)
        assert page.high_water == 7
        got += [bytes(e) for e in page.events]
        after = page.next_after
    assert got == raws
    assert app.client.get("/api/v1/restore/events").status_code == 401
    assert app.client.get("/api/v1/restore/events?limit=0", headers=auth).status_code == 400


def test_the_hq_api_issues_a_code_valid_for_seven_days(app: CentralApp) -> None:
    r = app.client.post(
        "/api/v1/hq/stores",
        json={"store_id": "S009", "name": "x", "region": "west", "tz": "Asia/Shanghai"},
        headers=app.admin,
    )
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["expires_at"]) == app.clock() + timedelta(days=7)
