"""End to end: ``hallsync central`` set up from the command line, served by uvicorn, and a store
syncing over a real websocket (permessage-deflate, HTTP 401 on a refused upgrade)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from schema.events import SCHEMA_VERSION
from sync.frames import PROTOCOL_VERSION, Ack, Hello, Push, Welcome, decode_server_frame, encode
from tests.contact import CONTACT_KEY
from tests.e2e.nodeproc import free_port
from tests.integration.central import store_events as ev

pytestmark = pytest.mark.slow

ENV = {
    **os.environ,
    "HALLSYNC_HQ_ADMIN_PASSWORD": "hq-admin-pass-1",
    "HALLSYNC_CONTACT_KEY": CONTACT_KEY,
    "HALLSYNC_LOG_LEVEL": "warning",
}
ENV.pop("HALLSYNC_DATABASE_URL", None)


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "central", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def central(tmp_path: Path) -> Iterator[str]:
    """``central init`` + ``central serve`` on a loopback port; yields the base URL."""
    data = tmp_path / "central"
    cli("init", "--data-dir", str(data))
    port = free_port()
    log = (tmp_path / "central.log").open("wb")
    args = ["serve", "--data-dir", str(data), "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "central", *args],
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, (tmp_path / "central.log").read_text()
            try:
                if httpx.get(url + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "central did not become ready"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


async def test_a_store_enrolls_and_syncs_with_a_served_central(
    central: str, tmp_path: Path
) -> None:
    data = str(tmp_path / "central")
    code = cli(
        "enroll-store", "S001", "--data-dir", data, "--name", "人民路营业厅", "--region", "east"
    )
    code = code.splitlines()[0].strip()
    async with httpx.AsyncClient(base_url=central) as http:
        r = await http.post("/api/v1/enroll", json={"code": code})
        assert r.status_code == 200, r.text
        credential = r.json()["credential"]
    ws_url = central.replace("http", "ws") + "/sync/v1"
    auth = {"Authorization": f"Bearer {credential}"}
    async with connect(ws_url, additional_headers=auth, compression="deflate") as ws:
        hello = Hello(
            store_id="S001", protocol=PROTOCOL_VERSION, schema=SCHEMA_VERSION, hq_cursor=0
        )
        await ws.send(encode(hello))
        welcome = decode_server_frame(await ws.recv(decode=False))
        assert isinstance(welcome, Welcome) and welcome.high_water == 0
        raws = [msgspec.Raw(r) for r in ev.log("S001", 1, 50)]
        await ws.send(encode(Push(first_seq=1, events=raws)))
        assert decode_server_frame(await ws.recv(decode=False)) == Ack(seq=50)

    cli("revoke-store", "S001", "--data-dir", data)
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url, additional_headers=auth):
            pass
    assert refused.value.response.status_code == 401


async def test_init_remembers_a_postgresql_url_for_later_commands(
    pg_url: str, tmp_path: Path
) -> None:
    from server.central.db import config_path, make_engine, read
    from server.central.enrollment import store_exists

    data = tmp_path / "central"
    cli("init", "--data-dir", str(data), "--database-url", pg_url)
    assert config_path(data).stat().st_mode & 0o077 == 0  # it may hold a password
    cli("enroll-store", "S007", "--data-dir", str(data), "--name", "n", "--region", "west")
    engine = make_engine(pg_url)
    try:
        async with read(engine) as conn:
            assert await store_exists(conn, "S007")
    finally:
        await engine.dispose()
    assert not (data / "central.sqlite3").exists()
