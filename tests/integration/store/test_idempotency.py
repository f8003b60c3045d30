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
