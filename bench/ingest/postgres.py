"""The benchmark's PostgreSQL: its own database created and dropped, the raw COPY baseline,
the backends whose CPU is counted, and the check that central holds every event once."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from bench.ingest.days import StoreLog

COLUMNS = ["store_id", "seq", "id", "type", "hlc", "at", "actor", "device", "v", "body"]


def with_database(url: str, name: str, *, driver: str | None = None) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0] + (f"+{driver}" if driver else "")
    return urlunsplit((scheme, parts.netloc, f"/{name}", "", ""))


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
