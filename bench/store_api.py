"""Store node API benchmark: a mixed tablet workload against a real store node, compared in the
same run with a bare Litestar JSON endpoint served the same way (uvicorn, uvloop, httptools).

    python bench/store_api.py [--seconds 10] [--concurrency 16] [--rate 50] [--rounds 5]

Prints requests/s and p50/p99 latency for: the bare endpoint at peak, the store node at peak
(closed loop, every request a durable write or a read of the live queue), and the store node at
a steady ``--rate`` (open loop: latency is measured from when each request was due, so a slow
answer is not hidden by the next request waiting for it). Everything runs on loopback, so
each line also says how busy the client and the server process were (CPU seconds per wall
second, 1.00 = one core): on a small machine the client can be the limit, not the server.
The two peak figures are measured in turns, ``--rounds`` slices each, so that load from other
work on a shared machine weighs on both alike and their ratio stays comparable across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-pass-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HALLSYNC_LOG_LEVEL": "warning", "HALLSYNC_MANAGER_PASSWORD": PASSWORD}
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)


async def wait_ready(url: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            try:
                async with s.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0
    wall: float = 0.0
    """Seconds measured (the sum of the slices, when merged)."""
    client_cpu: float | None = None
    """CPU seconds the benchmark process used while timed (not logging in: Argon2 is slow)."""
    server_cpu: float | None = None
    """CPU seconds the server process used while timed (Linux only)."""
    server_pid: int = 0
    _cpu_at_start: tuple[float, float | None] = (0.0, None)

    def start(self) -> None:
        self.started = time.perf_counter()
        self._cpu_at_start = (time.process_time(), process_cpu(self.server_pid))

    def stop(self) -> None:
        self.ended = time.perf_counter()
        self.wall = self.ended - self.started
        client, server = self._cpu_at_start
        self.client_cpu = time.process_time() - client
        server_now = process_cpu(self.server_pid)
        if server is not None and server_now is not None:
            self.server_cpu = server_now - server

    @classmethod
    def merged(cls, parts: list[Stats]) -> Stats:
        """The slices of one measurement taken in turns (see ``--rounds``), as one."""
        out = cls(server_pid=parts[0].server_pid)
        out.client_cpu = out.server_cpu = 0.0
        for part in parts:
            out.latencies += part.latencies
            for k, v in part.errors.items():
                out.errors[k] = out.errors.get(k, 0) + v
            out.wall += part.wall
            out.client_cpu += part.client_cpu or 0.0
            if part.server_cpu is None:
                out.server_cpu = None
            elif out.server_cpu is not None:
                out.server_cpu += part.server_cpu
        return out

    def line(self, label: str) -> str:
        lat = sorted(self.latencies)
        n = len(lat)
        wall = self.wall
        rps = n / wall
        p50 = lat[n // 2] * 1000 if n else float("nan")
        p99 = lat[min(n - 1, int(n * 0.99))] * 1000 if n else float("nan")
        errs = f"  unexpected={self.errors}" if self.errors else ""
        cpu = ""
        if self.client_cpu is not None:
            cpu += f"   cpu client {self.client_cpu / wall:.2f}"
        if self.server_cpu is not None and n:
            cpu += f" server {self.server_cpu / wall:.2f} ({1000 * self.server_cpu / n:.2f} ms/req)"
        return (
            f"{label:<34} {rps:>9.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
            f"n={n}{cpu}{errs}"
        )

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used so far, from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Api:
    """One logged-in tablet: timed JSON requests against the node."""

    def __init__(self, session: aiohttp.ClientSession, base: str, stats: Stats) -> None:
        self.s, self.base, self.stats = session, base, stats
        self.headers: dict[str, str] = {}

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        due: float | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> tuple[int, Any]:
        t0 = due if due is not None else time.perf_counter()
        headers = dict(self.headers)
        if method == "POST":
            headers["Idempotency-Key"] = f"{random.getrandbits(96):x}"
        async with self.s.request(method, self.base + path, json=body, headers=headers) as r:
            data = await r.json(content_type=None)
            status = r.status
        self.stats.latencies.append(time.perf_counter() - t0)
        if status not in ok:
            key = f"{method} {re.sub(r'[0-9a-f-]{36}', '{id}', path)} {status}"
            self.stats.errors[key] = self.stats.errors.get(key, 0) + 1
        return status, data

    async def login(self, username: str) -> None:
        async with self.s.post(
            self.base + "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        ) as r:
            token = (await r.json())["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}


Pace = Callable[[], Awaitable[float | None]]


async def clerk_day(
    greeter: Api, clerk: Api, manager: Api, window_id: str, clerk_id: str, pace: Pace, stop: float
) -> None:
    """One clerk's loop: tickets through the window, sales, clock-ins, complaint steps."""
    i = 0
    clocked_in = False
    while time.perf_counter() < stop:
        i += 1
        await greeter.call("POST", "/api/v1/queue/tickets", {"category": "billing"}, await pace())
        status, t = await clerk.call(
            "POST",
            f"/api/v1/queue/windows/{window_id}/call-next",
            None,
            await pace(),
            ok=(200, 201, 409),
        )
        if status in (200, 201):
            tid = t["ticket_id"]
            await clerk.call("POST", f"/api/v1/queue/tickets/{tid}/start", None, await pace())
            await clerk.call(
                "POST",
                f"/api/v1/queue/tickets/{tid}/finish",
                {"outcome": "completed"},
                await pace(),
            )
        await clerk.call(
            "POST", "/api/v1/stock/sell", {"lines": [{"sku": "CABLE", "qty": 1}]}, await pace()
        )
        await greeter.call("GET", "/api/v1/queue/state", None, await pace())
        if i % 5 == 0:
            path = "/api/v1/attendance/clock-out" if clocked_in else "/api/v1/attendance/clock-in"
            await clerk.call("POST", path, {}, await pace(), ok=(200, 201, 409))
            clocked_in = not clocked_in
        if i % 10 == 0:
            _, c = await greeter.call(
                "POST",
                "/api/v1/complaints",
                {
                    "channel": "in_store",
                    "category": "waiting_time",
                    "description": "排队时间太长",
                    "customer_phone": "13800138000",
                },
                await pace(),
            )
            cid = c["complaint_id"]
            await manager.call(
                "POST", f"/api/v1/complaints/{cid}/assign", {"owner_id": clerk_id}, await pace()
            )
            await clerk.call(
                "POST", f"/api/v1/complaints/{cid}/respond", {"note": "已致电客户"}, await pace()
            )
            await clerk.call(
                "POST",
                f"/api/v1/complaints/{cid}/resolve",
                {"remedy": "赠送流量", "verified": False},
                await pace(),
            )


async def setup_store(base: str, clerks: int) -> tuple[list[str], list[str]]:
    """Staff, windows and stock for the workload; returns window ids and clerk user ids."""
    async with aiohttp.ClientSession() as s:
        m = Api(s, base, Stats())
        await m.login("manager")
        for name, role in [("greeter1", "greeter"), ("admin1", "admin")] + [
            (f"clerk{i}", "clerk") for i in range(clerks)
        ]:
            await m.call(
                "POST",
                "/api/v1/staff",
                {"username": name, "display_name": name, "role": role, "password": PASSWORD},
            )
        await m.call(
            "POST",
            "/api/v1/items",
            {"sku": "CABLE", "name": "数据线", "category": "accessory", "unit_price_cents": 1900},
        )
        await m.call(
            "POST",
            "/api/v1/stock/receive",
            {"supplier": "总仓", "lines": [{"sku": "CABLE", "qty": 100_000}]},
        )
        windows, clerk_ids = [], []
        for i in range(clerks):
            _, w = await m.call(
                "POST",
                "/api/v1/queue/windows",
                {"code": f"W{i}", "name": f"窗口{i}", "kind": "business"},
            )
            c = Api(s, base, Stats())
            await c.login(f"clerk{i}")
            await c.call("POST", f"/api/v1/queue/windows/{w['window_id']}/open")
            _, me = await c.call("GET", "/api/v1/auth/me")
            windows.append(w["window_id"])
            clerk_ids.append(me["user_id"])
        if m.stats.errors:
            raise RuntimeError(f"set-up failed: {m.stats.errors}")
        return windows, clerk_ids


async def run_store(
    base: str,
    windows: list[str],
    clerk_ids: list[str],
    seconds: float,
    rate: float | None,
    server_pid: int,
) -> Stats:
    stats = Stats(server_pid=server_pid)
    conns = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conns) as s:
        greeter, manager = Api(s, base, stats), Api(s, base, stats)
        await greeter.login("greeter1")
        await manager.login("manager")
        clerks = []
        for i in range(len(windows)):
            c = Api(s, base, stats)
            await c.login(f"clerk{i}")
            clerks.append(c)
        stats.start()
        stop = stats.started + seconds

        def pacer(i: int) -> Pace:
            if rate is None:

                async def free() -> float | None:
                    return None

                return free
            interval = len(windows) / rate
            due = stats.started + i * interval / len(windows)

            async def paced() -> float | None:
                nonlocal due
                due += interval
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                return due

            return paced

        await asyncio.gather(
            *(
                clerk_day(greeter, clerks[i], manager, windows[i], clerk_ids[i], pacer(i), stop)
                for i in range(len(windows))
            )
        )
        stats.stop()
    return stats


async def run_bare(base: str, concurrency: int, seconds: float, server_pid: int) -> Stats:
    stats = Stats(server_pid=server_pid)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        api = Api(s, base, stats)
        stats.start()
        stop = stats.started + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                await api.call("POST", "/ping", {"category": "billing"})

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        stats.stop()
    return stats


async def group_commit(base: str) -> str:
    async with aiohttp.ClientSession() as s, s.get(base + "/metrics") as r:
        text = await r.text()

    def metric(name: str) -> float:
        m = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
        return float(m.group(1)) if m else 0.0

    n = metric("hallsync_store_commit_batch_commands_count")
    cmds = metric("hallsync_store_commit_batch_commands_sum")
    secs = metric("hallsync_store_commit_seconds_sum")
    return (
        f"group commit: {cmds:.0f} commands in {n:.0f} transactions "
        f"({cmds / max(n, 1):.1f} per fsync, {1000 * secs / max(n, 1):.2f} ms per commit)"
    )


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="hallsync-bench-"))
    data = tmp / "node"
    py = sys.executable
    subprocess.run(  # noqa: ASYNC221 - set-up, before any load
        [
            py,
            "-m",
            "server.cli",
            "store",
            "init",
            "--data-dir",
            str(data),
            "--store-id",
            "B001",
            "--name",
            "压测营业厅",
            "--region",
            "bench",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "HALLSYNC_MANAGER_PASSWORD": PASSWORD},
    )
    node_port, bare_port = free_port(), free_port()
    node = spawn(
        [
            py,
            "-m",
            "server.cli",
            "store",
            "serve",
            "--data-dir",
            str(data),
            "--port",
            str(node_port),
        ],
        tmp / "node.log",
    )
    bare = spawn(
        [
            py,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(bare_port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        tmp / "bare.log",
    )
    node_url, bare_url = f"http://127.0.0.1:{node_port}", f"http://127.0.0.1:{bare_port}"
    try:
        await wait_ready(node_url + "/ready")
        await wait_ready(bare_url + "/ping")
        windows, clerk_ids = await setup_store(node_url, args.concurrency)
        print(
            f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
            f"{platform.python_version()}, {platform.machine()}; client, servers on loopback"
        )
        await run_bare(bare_url, args.concurrency, 1, bare.pid)  # warm-up
        await run_store(node_url, windows, clerk_ids, 1, None, node.pid)  # warm-up
        # Bare and store in turns, slice by slice: on a shared machine both then see the same
        # background load, and their ratio stays meaningful when the absolute figures do not.
        slice_ = args.seconds / args.rounds
        bare_parts, peak_parts = [], []
        for _ in range(args.rounds):
            bare_parts.append(await run_bare(bare_url, args.concurrency, slice_, bare.pid))
            peak_parts.append(await run_store(node_url, windows, clerk_ids, slice_, None, node.pid))
        bare_stats, peak = Stats.merged(bare_parts), Stats.merged(peak_parts)
        print(bare_stats.line(f"bare litestar POST, {args.concurrency} conns"))
        print(peak.line(f"store node mixed, {args.concurrency} conns"))
        steady = await run_store(node_url, windows, clerk_ids, args.seconds, args.rate, node.pid)
        print(steady.line(f"store node mixed, steady {args.rate:g}/s"))
        print(await group_commit(node_url))
        print(
            f"ratio store/bare peak: {peak.rps / bare_stats.rps:.3f} (target >= 0.10); "
            f"steady p99 target < 25 ms"
        )
    finally:
        for p in (node, bare):
            p.terminate()
            p.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument(
        "--rounds", type=int, default=5, help="bare and store peak measured in turns, this often"
    )
    uvloop.run(main(parser.parse_args()))
