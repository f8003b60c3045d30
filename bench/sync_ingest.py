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
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402

from bench.ingest.central import enroll_stores, start_central  # noqa: E402
from bench.ingest.clients import client_main  # noqa: E402
from bench.ingest.days import StoreLog, derive, record, wire_sizes  # noqa: E402
from bench.ingest.postgres import (  # noqa: E402
    backend_pids,
    copy_baseline,
    create_database,
    drop_database,
    server_info,
    verify,
    with_database,
)
from bench.ingest.processes import cli, env, free_port, machine_busy, proc_cpu  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/test"


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
