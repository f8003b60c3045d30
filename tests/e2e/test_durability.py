"""Every write a tablet was told succeeded survives the store node being killed mid-burst."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from schema.events import decode
from tests.conftest import MANAGER, MANAGER_PASSWORD
from tests.e2e.nodeproc import NodeProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def node(data_dir: Path) -> Iterator[NodeProcess]:
    n = NodeProcess(data_dir)
    n.start()
    yield n
    n.stop()


async def _burst(url: str, token: str, acked: list[str], stop: asyncio.Event) -> None:
    """Writers that go on until the server dies; record names whose write was answered 2xx."""
    headers = {"Authorization": f"Bearer {token}"}
    counter = iter(range(10**9))

    async def writer(w: int) -> None:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=5) as http:
            while not stop.is_set():
                name = f"hall-{w}-{next(counter)}"
                try:
                    r = await http.patch("/api/v1/store", json={"name": name})
                except httpx.TransportError:
                    return  # the node is gone
                if r.status_code == 200:
                    acked.append(name)

    await asyncio.gather(*(writer(w) for w in range(16)))


def test_sigkill_mid_burst_loses_no_acknowledged_write(node: NodeProcess, data_dir: Path) -> None:
    seed = random.randrange(2**32)
    print(f"seed={seed}")
    rng = random.Random(seed)
    token = httpx.post(
        node.url + "/api/v1/auth/login", json={"username": MANAGER, "password": MANAGER_PASSWORD}
    ).json()["access_token"]
    acked: list[str] = []

    async def run() -> None:
        stop = asyncio.Event()
        burst = asyncio.create_task(_burst(node.url, token, acked, stop))
        # Kill after a random number of acknowledged writes, while writers are in flight.
        target = rng.randrange(150, 400)
        deadline = time.monotonic() + 30
        while len(acked) < target and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        node.kill()
        stop.set()
        await burst

    asyncio.run(run())
    assert len(acked) >= 150, "the burst did not get going"

    node.start()  # restart on the same files: recovery must be clean
    db = sqlite3.connect(data_dir / "store.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT seq, type, body FROM events ORDER BY seq").fetchall()
    finally:
        db.close()
    seqs = [r[0] for r in rows]
    assert seqs == list(range(1, len(seqs) + 1)), "the event log has a gap"
    names = {
        e.name
        for e in (decode(r[2]) for r in rows if r[1] == "store.configured")
        if hasattr(e, "name")
    }
    missing = [a for a in acked if a not in names]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:3]}"

    # And the node keeps working after recovery.
    r = httpx.patch(
        node.url + "/api/v1/store",
        json={"name": "after-restart"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    assert msgspec.json.decode(r.content)["name"] == "after-restart"
