"""End to end between real processes: a store node uploads a backlog to central over a real
websocket while central is killed with SIGKILL and restarted; afterwards central holds exactly
the store's log (same seqs, same bytes), once each."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from schema.events.store import StoreConfigured
from server.domain.context import Ctx
from server.store.node import open_store
from server.store.writer import Writer
from tests.e2e.nodeproc import free_port

pytestmark = pytest.mark.slow

ENV = {
    **os.environ,
    "HALLSYNC_HQ_ADMIN_PASSWORD": "hq-admin-pass-1",
    "HALLSYNC_CONTACT_KEY": "chain-contact-key-0123456789",
    "HALLSYNC_MANAGER_PASSWORD": "manager-pass-1",
    "HALLSYNC_LOG_LEVEL": "warning",
}
ENV.pop("HALLSYNC_DATABASE_URL", None)
BACKLOG = 6000


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )


def start_central(data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "central",
                "serve",
                "--data-dir",
                str(data),
                "--port",
                str(port),
            ],
            env=ENV,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-2000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError("central did not become ready")


def write_backlog(store_dir: Path, n: int) -> None:
    """Record ``n`` events on the (stopped) store node, as tablets would have offline."""
    opened = open_store(store_dir)
    writer = Writer(
        opened.engine,
        opened.store_id,
        contact_key=opened.contact_key,
        clock=lambda: datetime.now(UTC),
    )

    def burst(ctx: Ctx) -> None:
        s = ctx.store
        for i in range(n):
            ctx.emit(
                StoreConfigured,
                name=f"hall-{i}",
                region=s.region,
                tz=s.tz,
                open_time=s.open_time,
                close_time=s.close_time,
                first_response_sla_hours=s.first_response_sla_hours,
                resolution_sla_hours=s.resolution_sla_hours,
            )

    writer.run_now(burst, actor="manager", device="test")
    opened.engine.dispose()


def store_log(store_dir: Path) -> list[tuple[int, bytes]]:
    with sqlite3.connect(store_dir / "store.sqlite3") as db:
        return db.execute("SELECT seq, body FROM events ORDER BY seq").fetchall()


def central_log(central_dir: Path, store_id: str) -> list[tuple[int, bytes]]:
    with sqlite3.connect(central_dir / "central.sqlite3") as db:
        return db.execute(
            "SELECT seq, body FROM events WHERE store_id = ? ORDER BY seq", (store_id,)
        ).fetchall()


@pytest.mark.skip(
    reason="known bug under investigation: about 1 run in 5, a `store sync --once` after the "
    "central restart never reaches caught-up and hangs; drop this mark to reproduce"
)
def test_central_killed_mid_upload_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    central_dir, store_dir = tmp_path / "central", tmp_path / "S001"
    assert run("central", "init", "--data-dir", str(central_dir)).returncode == 0
    enrolled = run(
        "central",
        "enroll-store",
        "S001",
        "--data-dir",
        str(central_dir),
        "--name",
        "人民路营业厅",
        "--region",
        "east",
    )
    assert enrolled.returncode == 0, enrolled.stderr
    code = enrolled.stdout.splitlines()[0].strip()
    port = free_port()
    log = tmp_path / "central.log"
    central = start_central(central_dir, port, log)
    try:
        init = run(
            "store",
            "init",
            "--data-dir",
            str(store_dir),
            "--enroll",
            code,
            "--central",
            f"ws://127.0.0.1:{port}",
        )
        assert init.returncode == 0, init.stderr
        write_backlog(store_dir, BACKLOG)

        # Upload in the background and kill central while it is ingesting.
        sync_log = (tmp_path / "sync.log").open("wb")
        sync = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "store",
                "sync",
                "--once",
                "--data-dir",
                str(store_dir),
            ],
            env=ENV,
            stdout=sync_log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(central_log(central_dir, "S001")) < 500:
            time.sleep(0.02)
        central.send_signal(signal.SIGKILL)
        central.wait()
        sync.wait(timeout=60)
        sync_log.close()
        held_at_kill = len(central_log(central_dir, "S001"))
        assert 0 < held_at_kill < BACKLOG + 2, "the kill did not land mid-upload"

        central = start_central(central_dir, port, log)
        for _ in range(5):
            done = run("store", "sync", "--once", "--data-dir", str(store_dir))
            (tmp_path / "sync-retry.log").write_text(done.stdout + done.stderr)
            if done.returncode == 0:
                break
            assert done.returncode == 75, done.stdout + done.stderr  # retryable only
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        central.terminate()
        central.wait(timeout=10)

    mine, theirs = store_log(store_dir), central_log(central_dir, "S001")
    assert [s for s, _ in theirs] == list(range(1, len(mine) + 1))
    assert theirs == mine  # every event once, byte for byte
