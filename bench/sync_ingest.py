"""Sync ingest benchmark: N stores upload a business day each, concurrently, over websockets to
a central on PostgreSQL; compared in the same run with a raw bulk COPY of the same rows.

    python bench/sync_ingest.py [--stores 50] [--events 5000] [--database-url URL] [--keep]

Set-up: a fresh PostgreSQL database on the server of ``--database-url`` (its database is only
used to create and drop ours), ``hallsync central init`` on it (the real CLI), N stores created
with one-time codes (the functions ``hallsync central enroll-store`` calls) and enrolled over
HTTP (code → credential), then ``hallsync central serve`` as a real process on a free loopback
port.

Events: each store's day is recorded through the store node's real commands on a throwaway
node (``server/store/simulation/``); ``--distinct-days`` of them are recorded (in parallel, one per
core), the other stores' days are copies with their own ``store_id`` and new UUIDv7 ids.

Timed: the raw COPY (asyncpg ``copy_records_to_table`` of every row, in one transaction, into a
bare *logged* table with the columns of ``events`` and no index: the physical limit; and, for
reference, into one with the events' keys), then a CHECKPOINT, then the real thing: the stores'
uploads through the real store-side client (``sync.store_ws.run_once`` with in-memory ports
serving the recorded bytes), in ``--client-procs`` processes, from the first connect until the
last store is acknowledged caught up. Afterwards central must hold exactly every event once,
nothing quarantined, every ticket projected, or the benchmark fails (exit 1).

Also printed: bytes per event as logged (msgpack), in Push frames, deflated, on the wire (TCP
payload the clients sent, permessage-deflate on, read from the sockets' ``TCP_INFO``), and as
JSON; and where the CPU went during the upload (central, clients, PostgreSQL's backends and
writers, the rest of the machine). ``--profile FILE`` records central with py-spy meanwhile
(``pip install py-spy``; it slows central down, so its numbers are not comparable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402

ADMIN_PASSWORD = "bench-admin-pass-1"
CONTACT_KEY = "hc2$argon2id$m=8,t=1$YmVuY2gtY2hhaW4tY29udGFjdC1rZXktMDAwMQ"
"""A cheap chain key (``ContactHasher.cheap``): the benchmark measures sync, not Argon2."""
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/test"
COLUMNS = ["store_id", "seq", "id", "type", "hlc", "at", "actor", "device", "v", "body"]


# ------------------------------------------------------------------ helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env() -> dict[str, str]:
    e = {
        **os.environ,
        "HALLSYNC_HQ_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "HALLSYNC_CONTACT_KEY": CONTACT_KEY,
        "HALLSYNC_LOG_LEVEL": "warning",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    e.pop("HALLSYNC_DATABASE_URL", None)
    return e


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise SystemExit(f"hallsync {' '.join(args[:2])} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def with_database(url: str, name: str, *, driver: str | None = None) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0] + (f"+{driver}" if driver else "")
    return urlunsplit((scheme, parts.netloc, f"/{name}", "", ""))


def uuid7_at(ms: int, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 whose timestamp is ``ms`` (an event's own time)."""
    value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64
    return uuid.UUID(int=value | 0b10 << 62 | rng.getrandbits(62))


def _tcp_bytes(sock: Any) -> tuple[int, int]:
    """``(bytes sent and acknowledged, bytes received)`` of a TCP socket (Linux TCP_INFO)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    if len(info) < 136:
        return 0, 0
    acked, received = struct.unpack_from("QQ", info, 120)
    return int(acked), int(received)


# ------------------------------------------------------------------ CPU accounting

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process used so far, 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy() -> float:
    """CPU seconds all cores spent not idle, since boot."""
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    idle = cpu[3] + cpu[4]
    return (sum(cpu[:8]) - idle) / TICK


# ------------------------------------------------------------------ the events


@dataclass
class StoreLog:
    store_id: str
    credential: str
    records: list[tuple[int, bytes]]


def record(store_id: str, events: int, seed: int) -> tuple[Any, float]:
    """Record one store's day (in a worker process); returns it and the seconds it took."""
    from server.store.simulation import record_day

    t0 = time.perf_counter()
    from server.contact_hash import ContactHasher

    key = ContactHasher.parse(CONTACT_KEY)
    day = record_day(store_id, events=events, seed=seed, contact_key=key)
    return day, time.perf_counter() - t0


def derive(
    records: Sequence[tuple[int, bytes]], store_id: str, seed: int
) -> list[tuple[int, bytes]]:
    """Another store's copy of a recorded day: its ``store_id`` and fresh UUIDv7 ids."""
    from schema.events import decode, encode

    rng = random.Random(seed)
    out = []
    for seq, raw in records:
        e = decode(raw)
        new_id = uuid7_at(int(e.at.timestamp() * 1000), rng)
        out.append((seq, encode(msgspec.structs.replace(e, store_id=store_id, id=new_id))))
    return out


def wire_sizes(logs: Sequence[StoreLog], batch: int = 500) -> dict[str, float]:
    """Bytes per event: as logged, in Push frames of ``batch``, and as JSON; each also
    compressed the way permessage-deflate does (one deflate stream per connection, a sync
    flush per message)."""
    from schema.events import decode
    from sync.frames import Push, encode

    n = logged = framed = framed_z = as_json = json_z = 0
    for log in logs:
        z_frames = zlib.compressobj(6, zlib.DEFLATED, -15, 5)
        z_json = zlib.compressobj(6, zlib.DEFLATED, -15, 5)
        for i in range(0, len(log.records), batch):
            chunk = log.records[i : i + batch]
            frame = encode(Push(first_seq=chunk[0][0], events=[msgspec.Raw(b) for _, b in chunk]))
            framed += len(frame)
            framed_z += len(z_frames.compress(frame) + z_frames.flush(zlib.Z_SYNC_FLUSH)) - 4
            doc = msgspec.json.encode(
                {"t": "push", "first_seq": chunk[0][0], "events": [decode(b) for _, b in chunk]}
            )
            as_json += len(doc)
            json_z += len(z_json.compress(doc) + z_json.flush(zlib.Z_SYNC_FLUSH)) - 4
            logged += sum(len(b) for _, b in chunk)
            n += len(chunk)
    return {
        "logged": logged / n,
        "framed": framed / n,
        "framed_deflate": framed_z / n,
        "json": as_json / n,
        "json_deflate": json_z / n,
    }


# ------------------------------------------------------------------ PostgreSQL


async def create_database(admin_url: str) -> str:
    import asyncpg

    name = f"hallsync_bench_{secrets.token_hex(5)}"
    conn = await asyncpg.connect(with_database(admin_url, urlsplit(admin_url).path.lstrip("/")))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(with_database(admin_url, urlsplit(admin_url).path.lstrip("/")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def copy_baseline(url: str, logs: Sequence[StoreLog]) -> tuple[float, float]:
    """Seconds to COPY every row into a bare logged table with the events' columns (no index),
    and into one with the events' keys (primary key and unique id), each one transaction."""
    import asyncpg

    from schema.events import decode, tag_of

    rows = []
    for log in logs:
        for seq, raw in log.records:
            e = decode(raw)
            rows.append(
                (e.store_id, seq, e.id, tag_of(e), e.hlc, e.at, e.actor, e.device, e.v, raw)
            )
    conn = await asyncpg.connect(url)
    try:
        times = []
        for table, like in (("copy_bare", ""), ("copy_keyed", " INCLUDING INDEXES")):
            await conn.execute(f"CREATE TABLE {table} (LIKE events{like})")
            t0 = time.perf_counter()
            async with conn.transaction():
                await conn.copy_records_to_table(table, records=rows, columns=COLUMNS)
            times.append(time.perf_counter() - t0)
            await conn.execute(f"DROP TABLE {table}")
        with contextlib.suppress(asyncpg.PostgresError):
            await conn.execute("CHECKPOINT")  # the upload starts without COPY's dirty pages
    finally:
        await conn.close()
    return times[0], times[1]


async def backend_pids(url: str, name: str) -> list[int]:
    """PostgreSQL processes working for the benchmark: our database's backends and the
    server's writers (WAL writer, checkpointer, background writer)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE (datname = $1 AND pid <> pg_backend_pid()) "
            "OR backend_type IN ('walwriter', 'checkpointer', 'background writer')",
            name,
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


async def verify(url: str, logs: Sequence[StoreLog], tickets: int) -> tuple[int, int, list[str]]:
    """``(events held, quarantined, what is wrong)`` of central's copy."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        held = {
            r["store_id"]: r
            for r in await conn.fetch(
                "SELECT e.store_id, count(*) AS n, min(e.seq) AS lo, max(e.seq) AS hi, "
                "max(s.high_water) AS hw FROM events e JOIN central_stores s USING (store_id) "
                "GROUP BY e.store_id"
            )
        }
        quarantined = await conn.fetchval("SELECT count(*) FROM central_quarantine")
        projected = await conn.fetchval("SELECT count(*) FROM queue_tickets")
    finally:
        await conn.close()
    problems = []
    for log in logs:
        n = len(log.records)
        r = held.get(log.store_id)
        if r is None or (r["n"], r["lo"], r["hi"], r["hw"]) != (n, 1, n, n):
            got = None if r is None else dict(r)
            problems.append(f"store {log.store_id}: expected seq 1…{n} once each, got {got}")
    if quarantined:
        problems.append(f"{quarantined} events quarantined")
    if projected != tickets:
        problems.append(f"{projected} tickets projected, {tickets} issued")
    return sum(int(r["n"]) for r in held.values()), int(quarantined), problems


async def server_info(url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        version = await conn.fetchval("SHOW server_version")
        settings = {
            name: await conn.fetchval(f"SHOW {name}")
            for name in ("synchronous_commit", "shared_buffers", "autovacuum")
        }
    finally:
        await conn.close()
    return f"PostgreSQL {version} ({', '.join(f'{k}={v}' for k, v in settings.items())})"


# ------------------------------------------------------------------ central


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


# ------------------------------------------------------------------ the client processes


class MemoryOutbox:
    """The store's log, in memory: the recorded bytes."""

    def __init__(self, records: list[tuple[int, bytes]]) -> None:
        self.records = records

    def max_seq(self) -> int:
        return len(self.records)

    def read(self, after_seq: int, max_count: int, max_bytes: int) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        size = 0
        for rec in self.records[after_seq : after_seq + max_count]:
            if out and size + len(rec[1]) > max_bytes:
                break
            out.append(rec)
            size += len(rec[1])
        return out


class NoHq:
    """HQ sink of a store that expects no HQ events (there are none)."""

    applied = 0

    def cursor(self) -> int:
        return 0

    async def apply(self, items: list[Any], upto: int) -> None:
        self.applied += len(items)


def client_main(job_path: str) -> None:
    """A client process: upload the stores of the job concurrently once told to go."""
    import uvloop

    import sync.store_ws as store_ws
    from sync.ports import Ports
    from sync.store_ws import SyncOptions, run_once

    job = msgspec.msgpack.decode(Path(job_path).read_bytes())
    stores = [
        (s["store_id"], s["credential"], [(int(q), bytes(b)) for q, b in s["records"]])
        for s in job["stores"]
    ]
    wire = {"sent": 0, "received": 0}
    real_connect = store_ws.connect  # type: ignore[attr-defined]

    class CountingConnect:
        """``websockets`` connect that notes the socket's TCP byte counters before closing."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.inner = real_connect(*args, **kwargs)

        async def __aenter__(self) -> Any:
            self.ws = await self.inner.__aenter__()
            return self.ws

        async def __aexit__(self, *exc: Any) -> Any:
            sock = self.ws.transport.get_extra_info("socket")
            if sock is not None:
                sent, received = _tcp_bytes(sock)
                wire["sent"] += sent
                wire["received"] += received
            return await self.inner.__aexit__(*exc)

    store_ws.connect = CountingConnect  # type: ignore[attr-defined,assignment]
    print("ready", flush=True)
    sys.stdin.readline()

    async def upload(store_id: str, credential: str, records: list[tuple[int, bytes]]) -> Any:
        done: dict[str, float] = {}
        n = len(records)

        def progress(acked: int, _local: int) -> None:
            if acked >= n and "at" not in done:
                done["at"] = time.monotonic()

        ports = Ports(store_id=store_id, outbox=MemoryOutbox(records), hq=NoHq())
        result = await run_once(
            job["url"], credential, ports, options=SyncOptions(settle=0.2), on_progress=progress
        )
        return {
            "store_id": store_id,
            "acked": result.acked_seq,
            "quarantined": result.quarantined,
            "caught_up_at": done.get("at", time.monotonic()),
        }

    async def all_stores() -> Any:
        return await asyncio.gather(*(upload(*s) for s in stores))

    cpu0, start = time.process_time(), time.monotonic()
    results = uvloop.run(all_stores())
    cpu = time.process_time() - cpu0
    print(json.dumps({"start": start, "cpu": cpu, "stores": results, "wire": wire}), flush=True)


# ------------------------------------------------------------------ the run


def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="hallsync-bench-sync-"))
    store_ids = [f"B{i:03d}" for i in range(1, args.stores + 1)]
    distinct = max(1, min(args.distinct_days, args.stores))
    cores = os.cpu_count() or 1
    print(
        f"machine: {cores} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}, "
        f"{asyncio.run(server_info(args.database_url))}; clients, central and PostgreSQL "
        "share the cores, all on loopback"
    )

    # The days: recorded through the store node's commands, then copied to the other stores.
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=min(distinct, cores)) as pool:
        futures = [
            pool.submit(record, store_ids[i], args.events, args.seed + i) for i in range(distinct)
        ]
        days = [f.result()[0] for f in futures]
    logs = []
    for i, store_id in enumerate(store_ids):
        day = days[i % distinct]
        records = day.records if i < distinct else derive(day.records, store_id, args.seed + i)
        logs.append(StoreLog(store_id, "", records))
    total = sum(len(log.records) for log in logs)
    tickets = sum(days[i % distinct].kinds.get("ticket.issued", 0) for i in range(args.stores))
    kinds: dict[str, int] = {}
    for day in days:
        for k, v in day.kinds.items():
            kinds[k] = kinds.get(k, 0) + v
    top = sorted(kinds.items(), key=lambda kv: -kv[1])
    mix = ", ".join(f"{k} {100 * v / sum(kinds.values()):.0f}%" for k, v in top[:8])
    print(
        f"events: {args.stores} stores x {total / args.stores:,.0f} = {total:,} "
        f"({distinct} day(s) of {days[0].customers} customers recorded through the store's "
        f"domain commands in {time.perf_counter() - t0:.0f} s, "
        + (
            f"the other {args.stores - distinct} stores' days copied with their own store_id "
            "and new UUIDv7 ids)"
            if args.stores > distinct
            else "one per store)"
        )
    )
    print(f"  mix: {mix}, … ({len(kinds)} types)")
    sizes = wire_sizes(logs)

    admin_url = args.database_url
    name = asyncio.run(create_database(admin_url))
    url = with_database(admin_url, name, driver="asyncpg")
    raw_url = with_database(admin_url, name)
    central: subprocess.Popen[bytes] | None = None
    clients: list[subprocess.Popen[str]] = []
    profiler: subprocess.Popen[bytes] | None = None
    try:
        data_dir = tmp / "central"
        cli("central", "init", "--data-dir", str(data_dir), "--database-url", url)
        port = free_port()
        central = start_central(data_dir, port, tmp / "central.log")
        credentials = asyncio.run(enroll_stores(url, f"http://127.0.0.1:{port}", store_ids))
        for log in logs:
            log.credential = credentials[log.store_id]

        copy_s, keyed_s = asyncio.run(copy_baseline(raw_url, logs))

        per_proc = [logs[i :: args.client_procs] for i in range(args.client_procs)]
        for i, group in enumerate(per_proc):
            job = tmp / f"clients-{i}.msgpack"
            job.write_bytes(
                msgspec.msgpack.encode(
                    {
                        "url": f"ws://127.0.0.1:{port}/sync/v1",
                        "stores": [
                            {
                                "store_id": g.store_id,
                                "credential": g.credential,
                                "records": g.records,
                            }
                            for g in group
                        ],
                    }
                )
            )
            clients.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--client-job", str(job)],
                    cwd=ROOT,
                    env=env(),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for c in clients:
            assert c.stdout is not None
            if c.stdout.readline().strip() != "ready":
                raise SystemExit("a client process failed to start")
        if args.profile:
            profiler = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--pid",
                    str(central.pid),
                    "--rate",
                    "200",
                    "--format",
                    args.profile_format,
                    "--output",
                    args.profile,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)

        pg_pids = asyncio.run(backend_pids(raw_url, name))
        pg0 = {pid: proc_cpu(pid) for pid in pg_pids}
        central0, busy0 = proc_cpu(central.pid), machine_busy()
        for c in clients:
            assert c.stdin is not None
            c.stdin.write("go\n")
            c.stdin.flush()
        outputs = []
        for c in clients:
            out, _ = c.communicate(timeout=args.timeout)
            if c.returncode != 0:
                raise SystemExit(f"a client process failed (exit {c.returncode})")
            outputs.append(json.loads(out.strip().splitlines()[-1]))
        busy = machine_busy() - busy0
        central_cpu = proc_cpu(central.pid) - central0
        pg_pids = sorted(set(pg_pids) | set(asyncio.run(backend_pids(raw_url, name))))
        pg_cpu = sum(proc_cpu(pid) - pg0.get(pid, 0.0) for pid in pg_pids)
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)

        start = min(o["start"] for o in outputs)
        end = max(s["caught_up_at"] for o in outputs for s in o["stores"])
        elapsed = end - start
        client_cpu = sum(o["cpu"] for o in outputs)
        wire_sent = sum(o["wire"]["sent"] for o in outputs)
        expected = {g.store_id: len(g.records) for g in logs}
        problems = [
            f"store {s['store_id']}: client saw ack {s['acked']}, quarantined {s['quarantined']}"
            for o in outputs
            for s in o["stores"]
            if s["acked"] != expected[s["store_id"]] or s["quarantined"]
        ]
        held, quarantined, wrong = asyncio.run(verify(raw_url, logs, tickets))
        problems += wrong

        copy_rate, e2e_rate = total / copy_s, total / elapsed
        ratio = e2e_rate / copy_rate
        width = 62
        print(
            f"{'raw COPY into a bare logged table (the events columns)':<{width}}"
            f"{copy_rate:>9,.0f} rows/s   ({copy_s:.2f} s)"
        )
        print(
            f"{'raw COPY into a logged table with the events keys':<{width}}"
            f"{total / keyed_s:>9,.0f} rows/s   ({keyed_s:.2f} s)"
        )
        print(
            f"{f'end to end: {args.stores} stores, websockets, central, PostgreSQL':<{width}}"
            f"{e2e_rate:>9,.0f} events/s ({elapsed:.2f} s, first connect to last caught up)"
        )
        print(
            f"ratio end-to-end / raw COPY: {ratio:.3f} (target >= 0.10: "
            f"{'met' if ratio >= 0.1 else 'not met'})"
        )
        print(
            f"bytes/event: msgpack {sizes['logged']:.0f} (in Push frames {sizes['framed']:.0f}), "
            f"deflated {sizes['framed_deflate']:.0f} (zlib as permessage-deflate), on the wire "
            f"{wire_sent / total:.0f} (TCP payload the clients sent); JSON {sizes['json']:.0f}, "
            f"deflated {sizes['json_deflate']:.0f}"
        )
        other = max(busy - central_cpu - client_cpu - pg_cpu, 0.0)
        print(
            f"CPU during the upload: central {central_cpu:.1f} s "
            f"({1e6 * central_cpu / total:.0f} us/event), PostgreSQL {pg_cpu:.1f} s "
            f"({1e6 * pg_cpu / total:.0f} us/event), clients {client_cpu:.1f} s "
            f"({1e6 * client_cpu / total:.0f} us/event), other processes {other:.1f} s; "
            f"{elapsed * cores:.1f} core-seconds in all ({cores} x {elapsed:.1f} s)"
        )
        print(
            f"central holds {held:,} events (expected {total:,}: each store's seq 1…n once, "
            f"high-water n); quarantined: {quarantined}; tickets projected: {tickets:,} (= issued)"
        )
        if problems:
            print("FAILED:\n  " + "\n  ".join(problems[:20]))
            return 1
        return 0
    finally:
        for c in clients:
            if c.poll() is None:
                c.kill()
                c.wait()
        if profiler is not None and profiler.poll() is None:
            profiler.kill()
        if central is not None:
            central.terminate()
            try:
                central.wait(timeout=15)
            except subprocess.TimeoutExpired:
                central.kill()
        if args.keep:
            print(f"kept: database {name}, central's data and log in {tmp}")
        else:
            asyncio.run(drop_database(admin_url, name))
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--events", type=int, default=5000, help="about this many per store")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DB,
        help="a PostgreSQL server and an existing database on it, used only to create and "
        f"drop the benchmark's own database [{DEFAULT_DB}]",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and data dir")
    parser.add_argument(
        "--distinct-days",
        type=int,
        default=2,
        help="days recorded through the domain commands; the other stores get copies [2]",
    )
    parser.add_argument("--client-procs", type=int, default=1, help="client processes [1]")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--profile", help="record central with py-spy into this file")
    parser.add_argument("--profile-format", default="flamegraph", help="py-spy's --format")
    parser.add_argument("--client-job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client_job:
        client_main(args.client_job)
        return
    sys.exit(run(args))


if __name__ == "__main__":
    main()
