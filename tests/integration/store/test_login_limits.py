"""Login limits of the store node over HTTP: concurrent guesses meet 429s, delays end, the
manager is never locked out, spraying user names is slowed per client address, and a flood of
password checks beyond the pool is refused with 429 instead of queued."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.hashing import HashPool
from server.store.app import create_app
from server.web.logins import LoginGate, LoginThrottle
from tests.conftest import MANAGER, MANAGER_PASSWORD

LOGIN = "/api/v1/auth/login"
ATTACKER = "203.0.113.7"
TABLET = "192.168.1.20"


class Clock:
    """Monotonic seconds for the login throttle, moved by hand: no test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def running(
    data_dir: Path,
    clock: Clock,
    *,
    pool: HashPool | None = None,
    trusted_proxies: Iterable[str] = (),
) -> AsyncIterator[Litestar]:
    logins = LoginGate(
        throttle=LoginThrottle(clock=clock), pool=pool, trusted_proxies=trusted_proxies
    )
    app = create_app(data_dir, logins=logins)
    async with AsyncTestClient(app=app):  # runs the app's startup and shutdown
        yield app


@asynccontextmanager
async def client_at(app: Litestar, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose requests reach the app from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
        yield client


async def login(
    client: httpx.AsyncClient, username: str, password: str, forwarded_for: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return await client.post(
        LOGIN, json={"username": username, "password": password}, headers=headers
    )


def assert_too_many(r: httpx.Response, code: str = "too_many_attempts") -> int:
    """The response is a retryable 429 problem with ``Retry-After``; returns its seconds."""
    body = r.json()
    assert (r.status_code, body["code"], body["retryable"]) == (429, code, True), r.text
    seconds = int(r.headers["Retry-After"])
    assert seconds >= 1
    return seconds


async def test_concurrent_wrong_passwords_meet_429s_and_the_delay_then_ends(
    data_dir: Path,
) -> None:
    clock = Clock()
    async with running(data_dir, clock) as app, client_at(app, ATTACKER) as http:
        answers = await asyncio.gather(*(login(http, MANAGER, f"guess-{n}") for n in range(40)))
        statuses = [r.status_code for r in answers]
        assert (statuses.count(401), statuses.count(429)) == (5, 35)
        waits = {assert_too_many(r) for r in answers if r.status_code == 429}
        assert waits == {1}
        assert_too_many(await login(http, MANAGER, MANAGER_PASSWORD))
        clock.now += 1
        assert (await login(http, MANAGER, MANAGER_PASSWORD)).status_code == 200


async def test_an_attack_neither_locks_the_manager_out_nor_keeps_guessing_fast(
    data_dir: Path,
) -> None:
    clock = Clock()
    async with (
        running(data_dir, clock) as app,
        client_at(app, ATTACKER) as attacker,
        client_at(app, TABLET) as tablet,
        client_at(app, "198.51.100.1") as new_tablet,
    ):
        assert (await login(tablet, MANAGER, MANAGER_PASSWORD)).status_code == 200

        async def attack(rounds: int) -> int:
            """Guess again the moment each delay ends; returns the seconds waited."""
            waited = 0
            for n in range(rounds):
                r = await login(attacker, MANAGER, f"guess-{n}")
                if r.status_code == 429:
                    wait = assert_too_many(r)
                    clock.now += wait
                    waited += wait
                    r = await login(attacker, MANAGER, f"guess-{n}")
                assert r.status_code == 401
            return waited

        # The delays double up to five minutes: 20 guesses take over half an hour.
        assert await attack(20) >= 1800
        # The manager's own tablet is not held back by failures elsewhere ...
        assert (await login(tablet, MANAGER, MANAGER_PASSWORD)).status_code == 200
        # ... and from a new tablet they wait at most the longest delay, never more.
        await attack(20)
        wait = assert_too_many(await login(new_tablet, MANAGER, MANAGER_PASSWORD))
        assert wait <= 300
        clock.now += wait
        assert (await login(new_tablet, MANAGER, MANAGER_PASSWORD)).status_code == 200


async def test_spraying_user_names_is_slowed_for_that_address_only(data_dir: Path) -> None:
    clock = Clock()
    async with (
        running(data_dir, clock) as app,
        client_at(app, ATTACKER) as attacker,
        client_at(app, TABLET) as tablet,
    ):
        statuses = [
            (await login(attacker, f"staff{n}", "Password123")).status_code for n in range(30)
        ]
        assert (statuses.count(401), statuses.count(429)) == (5, 25)
        assert (await login(tablet, "staff99", "Password123")).status_code == 401
        assert (await login(tablet, MANAGER, MANAGER_PASSWORD)).status_code == 200


async def test_behind_a_trusted_proxy_each_forwarded_client_is_tallied_alone(
    data_dir: Path,
) -> None:
    clock = Clock()
    async with (
        running(data_dir, clock, trusted_proxies=["127.0.0.1"]) as app,
        client_at(app, "127.0.0.1") as proxy,
        client_at(app, ATTACKER) as direct,
    ):
        for n in range(6):
            r = await login(proxy, f"staff{n}", "Password123", forwarded_for=ATTACKER)
        assert_too_many(r)
        r = await login(proxy, "staff9", "Password123", forwarded_for="198.51.100.1")
        assert r.status_code == 401
        # A client not behind the proxy cannot pick its address by writing the header.
        for n in range(6):
            r = await login(direct, f"staff{n}", "Password123", forwarded_for=f"10.9.9.{n}")
        assert_too_many(r)


async def test_password_checks_beyond_the_pool_are_refused_not_queued(data_dir: Path) -> None:
    clock = Clock()
    pool = HashPool(workers=1, waiting=1)
    release = threading.Event()
    try:
        async with running(data_dir, clock, pool=pool) as app, client_at(app, TABLET) as tablet:
            # Two long password checks fill the pool's one worker and its one waiting place.
            busy = [asyncio.ensure_future(pool.run(release.wait, 10)) for _ in range(2)]
            await asyncio.sleep(0)
            refusals = [await login(tablet, MANAGER, MANAGER_PASSWORD) for _ in range(8)]
            for r in refusals:
                assert_too_many(r, code="busy")
            release.set()
            await asyncio.gather(*busy)
            # Refused checks counted nothing against the manager or the tablet.
            assert (await login(tablet, MANAGER, MANAGER_PASSWORD)).status_code == 200
    finally:
        release.set()
        pool.close()
