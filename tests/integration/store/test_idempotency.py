"""A retried POST with the same Idempotency-Key records its events once, even concurrently."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from schema.tables.core import events
from server.store.app import create_app
from tests.conftest import MANAGER, MANAGER_PASSWORD, STAFF_PASSWORD, engine_for


def _count(data_dir: Path, event_type: str) -> int:
    engine = engine_for(data_dir)
    try:
        with engine.connect() as c:
            q = sa.select(sa.func.count()).where(events.c.type == event_type)
            return int(c.execute(q).scalar_one())
    finally:
        engine.dispose()


async def test_same_key_five_times_concurrently_is_one_event(data_dir: Path) -> None:
    async with AsyncTestClient(app=create_app(data_dir)) as client:
        r = await client.post(
            "/api/v1/auth/login", json={"username": MANAGER, "password": MANAGER_PASSWORD}
        )
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        payload = {
            "username": "clerk7",
            "display_name": "Clerk Seven",
            "role": "clerk",
            "password": STAFF_PASSWORD,
        }
        headers = {**auth, "Idempotency-Key": "add-clerk7"}

        async def send() -> Any:
            return await client.post("/api/v1/staff", json=payload, headers=headers)

        concurrent = await asyncio.gather(*(send() for _ in range(5)))
        sequential = [await send() for _ in range(5)]

    answers = concurrent + sequential
    assert {a.status_code for a in answers} == {201}
    assert len({a.text for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 9
    assert _count(data_dir, "staff.added") == 2  # the manager from init, and clerk7 once


async def test_without_key_each_post_is_a_new_request(data_dir: Path) -> None:
    async with AsyncTestClient(app=create_app(data_dir)) as client:
        r = await client.post(
            "/api/v1/auth/login", json={"username": MANAGER, "password": MANAGER_PASSWORD}
        )
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        payload = {
            "username": "clerk8",
            "display_name": "Clerk Eight",
            "role": "clerk",
            "password": STAFF_PASSWORD,
        }
        first = await client.post("/api/v1/staff", json=payload, headers=auth)
        second = await client.post("/api/v1/staff", json=payload, headers=auth)
    assert first.status_code == 201
    assert second.status_code == 409  # the user name is taken: the domain rule, not a replay
    assert second.json()["code"] == "username_taken"


async def test_an_empty_or_blank_key_is_refused_not_ignored(data_dir: Path) -> None:
    """`-H "Idempotency-Key: $(uuidgen)"` on a machine without uuidgen sends an empty key: a
    retry would then record the request twice, so it is refused up front."""
    async with AsyncTestClient(app=create_app(data_dir)) as client:
        r = await client.post(
            "/api/v1/auth/login", json={"username": MANAGER, "password": MANAGER_PASSWORD}
        )
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        payload = {
            "username": "clerk9",
            "display_name": "Clerk Nine",
            "role": "clerk",
            "password": STAFF_PASSWORD,
        }
        for blank in ("", " ", "\t"):
            refused = await client.post(
                "/api/v1/staff", json=payload, headers={**auth, "Idempotency-Key": blank}
            )
            assert (refused.status_code, refused.json()["code"]) == (400, "bad_request")
            assert refused.json()["errors"][0]["field"] == "header"
    assert _count(data_dir, "staff.added") == 1  # only the manager from init


async def test_remembered_requests_keep_no_quick_hash_of_a_password_or_phone(
    data_dir: Path,
) -> None:
    """A fingerprint is a sha256 kept for 7 days: over a body holding a password or a phone
    number it would give them away to a quick search. Those fields are left out (a password)
    or replaced by their slow token (a phone number), and retries still replay."""
    import hashlib

    from schema.tables.core import idempotency_keys

    async with AsyncTestClient(app=create_app(data_dir)) as client:
        r = await client.post(
            "/api/v1/auth/login", json={"username": MANAGER, "password": MANAGER_PASSWORD}
        )
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        staff = {
            "username": "clerk8",
            "display_name": "八",
            "role": "clerk",
            "password": "pw-8-secret",
        }
        ticket = {"category": "billing", "customer_phone": "13912345678"}
        sent = []
        for path, body, key in [
            ("/api/v1/staff", staff, "k-staff"),
            ("/api/v1/queue/tickets", ticket, "k-ticket"),
        ]:
            for _ in range(2):
                r = await client.post(path, json=body, headers={**auth, "Idempotency-Key": key})
                assert r.status_code == 201, r.text
            assert r.headers.get("Idempotent-Replayed") == "true"
            sent.append(r.request.content)
    engine = engine_for(data_dir)
    try:
        with engine.connect() as c:
            prints = {row.fingerprint for row in c.execute(sa.select(idempotency_keys))}
            stored = b"".join(row.body for row in c.execute(sa.select(idempotency_keys)))
    finally:
        engine.dispose()
    for raw in sent:
        for path in ("/api/v1/staff", "/api/v1/queue/tickets"):
            quick = hashlib.sha256(b"\0".join([b"POST", path.encode(), raw])).hexdigest()
            assert quick not in prints
    assert b"pw-8-secret" not in stored and b"13912345678" not in stored
