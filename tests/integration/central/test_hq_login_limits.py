"""HQ logins on central share the store node's limits: concurrent guesses meet 429s, the
delay ends for the rightful user, and spraying user names is slowed per client address."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.central.app import create_app
from server.central.node import read_secrets
from server.web.logins import LoginGate, LoginThrottle
from tests.contact import key_dir
from tests.integration.central.conftest import ADMIN, ADMIN_PASSWORD, Clock
from tests.integration.store.test_login_limits import Clock as Seconds
from tests.integration.store.test_login_limits import assert_too_many, client_at

LOGIN = "/api/v1/hq/auth/login"


@asynccontextmanager
async def running(url: str, seconds: Seconds) -> AsyncIterator[Litestar]:
    secrets = await read_secrets(url, key_dir())
    logins = LoginGate(throttle=LoginThrottle(clock=seconds))
    app = create_app(url, secrets, clock=Clock(), logins=logins)
    async with AsyncTestClient(app=app):
        yield app


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


async def test_concurrent_wrong_hq_passwords_meet_429s_and_the_admin_then_gets_in(
    app_url: str,
) -> None:
    seconds = Seconds()
    async with running(app_url, seconds) as app, client_at(app, "203.0.113.7") as http:
        answers = await asyncio.gather(*(login(http, ADMIN, f"guess-{n}") for n in range(40)))
        statuses = [r.status_code for r in answers]
        assert (statuses.count(401), statuses.count(429)) == (5, 35)
        for r in answers:
            if r.status_code == 429:
                assert_too_many(r)
        wait = assert_too_many(await login(http, ADMIN, ADMIN_PASSWORD))
        seconds.now += wait
        assert (await login(http, ADMIN, ADMIN_PASSWORD)).status_code == 200


async def test_spraying_hq_user_names_is_slowed_for_that_address(app_url: str) -> None:
    seconds = Seconds()
    async with (
        running(app_url, seconds) as app,
        client_at(app, "203.0.113.7") as attacker,
        client_at(app, "198.51.100.1") as office,
    ):
        statuses = [(await login(attacker, f"hq{n}", "Password123")).status_code for n in range(30)]
        assert (statuses.count(401), statuses.count(429)) == (5, 25)
        assert (await login(office, ADMIN, ADMIN_PASSWORD)).status_code == 200
