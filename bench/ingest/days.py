"""The days the stores upload: recorded through the store node's real commands
(``server.store.simulation``), copied to other stores with their own ids, and their size in
bytes per event as logged, framed and as JSON."""

from __future__ import annotations

import random
import time
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from bench.ingest import CONTACT_KEY


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


def uuid7_at(ms: int, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 whose timestamp is ``ms`` (an event's own time)."""
    value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64
    return uuid.UUID(int=value | 0b10 << 62 | rng.getrandbits(62))


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
