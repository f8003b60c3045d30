"""A burst of logins does not blow up a real store node's memory: password checks (64 MiB of
Argon2 each) run a bounded few at a time, and the excess is refused with 429 at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.nodeproc import NodeProcess

pytestmark = pytest.mark.slow

LOGINS = 100
MAX_RSS_MIB = 400


@pytest.fixture
def node(data_dir: Path) -> Iterator[NodeProcess]:
    n = NodeProcess(data_dir)
    n.start()
    yield n
    n.stop()


def peak_rss_mib(pid: int) -> float:
    """The process's resident-memory high-water mark (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


async def login_from(url: str, address: str) -> httpx.Response:
    """One login with a random user name from its own loopback address, as a crowd of
    different clients would (so the per-address and per-user tallies let each one through
    to the password check)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=120) as http:
        return await http.post(
            "/api/v1/auth/login",
            json={"username": f"u-{uuid.uuid4().hex[:12]}", "password": "Password123"},
        )


def test_a_hundred_concurrent_logins_keep_the_node_under_400_mib(node: NodeProcess) -> None:
    assert node.proc is not None
    before = peak_rss_mib(node.proc.pid)

    async def burst() -> list[httpx.Response]:
        return await asyncio.gather(
            *(login_from(node.url, f"127.0.{1 + n // 250}.{1 + n % 250}") for n in range(LOGINS))
        )

    answers = asyncio.run(burst())
    peak = peak_rss_mib(node.proc.pid)
    print(f"peak RSS before {before:.0f} MiB, after {LOGINS} concurrent logins {peak:.0f} MiB")
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) <= {401, 429}, statuses
    for r in answers:
        if r.status_code == 429:
            assert r.json()["code"] == "busy" and int(r.headers["Retry-After"]) >= 1
    assert peak < MAX_RSS_MIB
