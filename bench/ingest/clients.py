"""A client process: the real store-side sync client (``sync.store_ws.run_once``) uploading
recorded days from memory, several stores at once, counting the bytes its sockets sent."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

from bench.ingest.processes import tcp_bytes


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
    from sync.progress import SyncOptions
    from sync.store_ws import run_once

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
                sent, received = tcp_bytes(sock)
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
