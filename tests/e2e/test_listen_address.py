"""Where the servers listen: loopback unless told otherwise (``--host`` or ``HALLSYNC_HOST``),
so a hall's tablets reach the node only once the installer chooses to let them.

Tests connect only to loopback; what a server listens on is read from the kernel's table of
listening sockets."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.store.node import init_store
from tests.e2e.nodeproc import NodeProcess, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table"),
]


def listening(port: int) -> set[str]:
    """IPv4 addresses with a socket listening on ``port`` (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
            found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    d = tmp_path / "node"
    init_store(
        d,
        store_id="S001",
        name="测试营业厅",
        region="east",
        tz="Asia/Shanghai",
        manager="manager",
        manager_password="manager-pass-1",
    )
    return d


def test_store_node_listens_on_loopback_by_default(
    node_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HALLSYNC_HOST", raising=False)
    node = NodeProcess(node_dir)
    try:
        node.start(timeout=90)  # a loaded machine may take a while to start a node
        assert listening(node.port) == {"127.0.0.1"}
    finally:
        node.stop()


def test_store_node_serves_the_halls_lan_with_host(node_dir: Path) -> None:
    node = NodeProcess(node_dir, args=("--host", "0.0.0.0"))
    try:
        node.start(timeout=90)  # a loaded machine may take a while to start a node
        assert listening(node.port) == {"0.0.0.0"}  # every interface: the hall's LAN too
        r = httpx.get(f"http://127.0.0.1:{node.port}/health", timeout=5)
        assert r.json() == {"status": "ok"}
    finally:
        node.stop()


def test_central_listens_where_hallsync_host_says(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HALLSYNC_HQ_ADMIN_PASSWORD": "hq-admin-pass-1",
        "HALLSYNC_CONTACT_KEY": "chain-contact-key-0123456789",
        "HALLSYNC_LOG_LEVEL": "warning",
    }
    env.pop("HALLSYNC_DATABASE_URL", None)
    data = str(tmp_path / "central")
    cli = [sys.executable, "-m", "server.cli", "central"]
    subprocess.run([*cli, "init", "--data-dir", data], env=env, check=True, timeout=60)
    port = free_port()
    proc = subprocess.Popen(
        [*cli, "serve", "--data-dir", data, "--port", str(port)],
        env={**env, "HALLSYNC_HOST": "0.0.0.0"},
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, "central exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "central did not become ready"
            time.sleep(0.1)
        assert listening(port) == {"0.0.0.0"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
