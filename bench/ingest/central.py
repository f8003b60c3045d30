"""Central for the benchmark: ``hallsync central serve`` as a real process, and the stores
created and enrolled over HTTP as a store node enrolls."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.ingest import ROOT
from bench.ingest.processes import env


def start_central(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    import httpx

    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "central",
                "serve",
                "--data-dir",
                str(data_dir),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"central exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("central did not become ready")


async def enroll_stores(url: str, base: str, store_ids: Sequence[str]) -> dict[str, str]:
    """Create the stores with one-time codes (what ``central enroll-store`` does), then trade
    each code for its credential at ``POST /api/v1/enroll``."""
    from datetime import UTC, datetime

    import httpx

    from server.central import db, enrollment

    engine = db.make_engine(url)
    codes: dict[str, str] = {}
    try:
        async with db.write(engine) as conn:
            for i, store_id in enumerate(store_ids):
                await enrollment.create_store(
                    conn,
                    store_id=store_id,
                    name=f"压测营业厅 {store_id}",
                    region=("east", "north", "south", "west")[i % 4],
                    tz="Asia/Shanghai",
                )
                issued = await enrollment.issue_code(conn, store_id, now=datetime.now(UTC))
                codes[store_id] = issued.code
    finally:
        await engine.dispose()
    credentials = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for store_id, code in codes.items():
            r = await http.post("/api/v1/enroll", json={"code": code, "restore": False})
            r.raise_for_status()
            credentials[store_id] = r.json()["credential"]
    return credentials
