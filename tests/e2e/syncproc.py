"""Central and store nodes as real processes for the sync end-to-end tests: set-up through the
``hallsync`` command line, a backlog recorded offline, and both sides' copies of a log."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from schema.events.store import StoreConfigured
from server.central.hq.notify import asyncpg_dsn
from server.domain.context import Ctx
from server.store.node import open_store
from server.store.writer import Writer
from tests.contact import CONTACT_KEY
from tests.e2e.nodeproc import free_port

ENV = {
    **os.environ,
    "HALLSYNC_HQ_ADMIN_PASSWORD": "hq-admin-pass-1",
    "HALLSYNC_CONTACT_KEY": CONTACT_KEY,
    "HALLSYNC_MANAGER_PASSWORD": "manager-pass-1",
    "HALLSYNC_LOG_LEVEL": "warning",
}
ENV.pop("HALLSYNC_DATABASE_URL", None)
EX_TEMPFAIL = 75


def hallsync(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def spawn(*args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "server.cli", *args],
            env=ENV,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@dataclass
class Central:
    """A central server process over SQLite in ``data`` or over PostgreSQL at ``database_url``."""

    data: Path
    database_url: str | None = None

    def __post_init__(self) -> None:
        self.port = free_port()
        self.log = self.data.parent / "central.log"
        self.proc: subprocess.Popen[bytes] | None = None
        extra = ["--database-url", self.database_url] if self.database_url else []
        done = hallsync("central", "init", "--data-dir", str(self.data), *extra)
        assert done.returncode == 0, done.stderr

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def enroll(self, store_id: str) -> str:
        done = hallsync(
            "central", "enroll-store", store_id, "--data-dir", str(self.data),
            "--name", "人民路营业厅", "--region", "east",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()[0].strip()

    def start(self) -> None:
        self.proc = spawn(
            "central", "serve", "--data-dir", str(self.data), "--port", str(self.port),
            log=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            try:
                r = httpx.get(f"http://127.0.0.1:{self.port}/ready", timeout=1)
                if r.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError("central did not become ready")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush — as if the power went."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def log_of(self, store_id: str) -> list[tuple[int, bytes]]:
        """The store's events as central holds them: ``(seq, body)`` in seq order."""
        query = "SELECT seq, body FROM events WHERE store_id = $1 ORDER BY seq"
        if self.database_url is None:
            with sqlite3.connect(self.data / "central.sqlite3") as db:
                return db.execute(query.replace("$1", "?"), (store_id,)).fetchall()

        async def fetch() -> list[tuple[int, bytes]]:
            conn = await asyncpg.connect(asyncpg_dsn(self.database_url or ""))
            try:
                return [(r["seq"], bytes(r["body"])) for r in await conn.fetch(query, store_id)]
            finally:
                await conn.close()

        return asyncio.run(fetch())

    def count_of(self, store_id: str) -> int:
        return len(self.log_of(store_id))


def init_store(store_dir: Path, code: str, central_url: str) -> None:
    done = hallsync(
        "store", "init", "--data-dir", str(store_dir), "--enroll", code, "--central", central_url
    )
    assert done.returncode == 0, done.stderr


def set_central_url(store_dir: Path, url: str) -> None:
    """Point an enrolled node at another address of central (e.g. through a proxy that may cut
    the very check ``set-central`` makes, hence unchecked)."""
    done = hallsync("store", "set-central", "--no-check", "--data-dir", str(store_dir), url)
    assert done.returncode == 0, done.stderr


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


def sync_once(store_dir: Path, *, attempts: int, log: Path) -> int:
    """``hallsync store sync --once`` until it succeeds (at most ``attempts`` runs); every
    failure must be a retryable one. Returns the number of runs it took."""
    for attempt in range(1, attempts + 1):
        done = hallsync("store", "sync", "--once", "--data-dir", str(store_dir))
        with log.open("a") as out:
            out.write(f"--- run {attempt}: exit {done.returncode}\n{done.stdout}{done.stderr}")
        if done.returncode == 0:
            return attempt
        assert done.returncode == EX_TEMPFAIL, done.stdout + done.stderr
    raise AssertionError(f"not caught up after {attempts} runs; see {log}")
