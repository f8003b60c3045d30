"""One process per data directory, with real processes: a second node on a served directory is
refused at start, naming the process that holds it, and the first one keeps working."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import MANAGER, MANAGER_PASSWORD, STAFF_PASSWORD
from tests.e2e.nodeproc import NodeProcess, free_port

pytestmark = pytest.mark.slow

ENV = {
    **os.environ,
    "HALLSYNC_MANAGER_PASSWORD": MANAGER_PASSWORD,
    "HALLSYNC_HQ_ADMIN_PASSWORD": "hq-admin-pass-1",
    "HALLSYNC_LOG_LEVEL": "warning",
}
ENV.pop("HALLSYNC_DATABASE_URL", None)


def hallsync(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a ``hallsync`` command to its end (a refused ``serve`` ends at once)."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_store_node_on_a_served_directory_is_refused(data_dir: Path) -> None:
    first = NodeProcess(data_dir)
    first.start()
    try:
        assert first.proc is not None
        pid = first.proc.pid
        second = hallsync("store", "serve", "--data-dir", str(data_dir), "--port", str(free_port()))
        assert second.returncode == 1
        assert f"is in use by `hallsync store serve` (PID {pid})" in second.stderr
        assert "Traceback" not in second.stderr

        # Syncing is the serving node's job while it runs; a second syncer is refused too.
        sync = hallsync("store", "sync", "--once", "--data-dir", str(data_dir))
        assert sync.returncode == 1 and f"(PID {pid})" in sync.stderr

        # The first node still answers writes.
        with httpx.Client(base_url=first.url) as http:
            r = http.post(
                "/api/v1/auth/login", json={"username": MANAGER, "password": MANAGER_PASSWORD}
            )
            auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
            added = http.post(
                "/api/v1/staff",
                headers=auth,
                json={"username": "clerk1", "display_name": "c", "role": "clerk",
                      "password": STAFF_PASSWORD},
            )  # fmt: skip
            assert added.status_code == 201, added.text

        # Pointing a new node's --central at this store node says what it is.
        enroll = hallsync(
            "store", "init", "--data-dir", str(data_dir.parent / "new"), "--enroll", "CODE",
            "--central", first.url.replace("http://", "ws://"),
        )  # fmt: skip
        assert enroll.returncode == 1
        assert f"{first.url} is store node S001, not central" in enroll.stderr
        assert not (data_dir.parent / "new").exists()
    finally:
        first.kill()  # even a SIGKILLed holder frees the directory

    again = NodeProcess(data_dir)
    again.start()
    again.stop()


def test_a_second_central_on_an_embedded_database_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "central"
    init = hallsync("central", "init", "--data-dir", str(data))
    assert init.returncode == 0, init.stderr
    port = free_port()
    log = (tmp_path / "central.log").open("wb")
    first = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "central", "serve", "--data-dir", str(data),
         "--port", str(port)],
        env=ENV, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        holder = data / "hallsync.lock"
        # The lock is taken before the app starts: wait until the first holds it.
        for _ in range(600):
            if holder.exists() and holder.read_text().startswith(f"{first.pid} "):
                break
            assert first.poll() is None, (tmp_path / "central.log").read_text()
            time.sleep(0.1)
        second = hallsync("central", "serve", "--data-dir", str(data), "--port", str(free_port()))
        assert second.returncode == 1
        assert f"is in use by `hallsync central serve` (PID {first.pid})" in second.stderr
        # HQ's everyday commands still run beside the serving central.
        code = hallsync("central", "enroll-store", "S002", "--data-dir", str(data), "--name",
                        "n", "--region", "north")  # fmt: skip
        assert code.returncode == 0, code.stderr
    finally:
        first.terminate()
        first.wait(timeout=20)
        log.close()
