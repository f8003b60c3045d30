"""Prometheus metrics of central (served at ``/metrics``).

Counters and the connection gauge are per replica (Prometheus sums them). Per-store figures
(sync lag, quarantined events) come from the database at scrape time, so every replica reports
the same truth however the stores are spread over replicas; they are served only to a scraper
holding the metrics token (``server.web.metrics_access``).
"""

from __future__ import annotations

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.tables.sync import central_stores
from server.central import db

EVENTS_INGESTED = Counter(
    "hallsync_central_events_ingested_total", "Store events stored and applied by this replica"
)
EVENTS_QUARANTINED = Counter(
    "hallsync_central_events_quarantined_total", "Store events this replica put in quarantine"
)
INGEST_BATCHES = Counter(
    "hallsync_central_ingest_batches_total", "Ingest transactions committed by this replica"
)
CONNECTED_STORES = Gauge(
    "hallsync_central_connected_stores", "Store sync connections open on this replica"
)


def connection_changed(_store_id: str, delta: int) -> None:
    CONNECTED_STORES.inc(delta)


async def store_gauges(engine: AsyncEngine) -> bytes:
    """Per-store gauges read from the database now, in Prometheus text format."""
    registry = CollectorRegistry()
    lag = Gauge(
        "hallsync_central_sync_lag_events",
        "Events a store has that central does not hold yet (local_seq - high_water)",
        ["store_id", "region"],
        registry=registry,
    )
    held = Gauge(
        "hallsync_central_store_high_water",
        "Highest contiguous seq central holds per store",
        ["store_id", "region"],
        registry=registry,
    )
    quarantined = Gauge(
        "hallsync_central_store_quarantined_events",
        "Events of a store held in quarantine",
        ["store_id", "region"],
        registry=registry,
    )
    async with db.read(engine) as conn:
        rows = await conn.execute(
            sa.select(
                central_stores.c.store_id,
                central_stores.c.region,
                central_stores.c.high_water,
                central_stores.c.local_seq,
                central_stores.c.quarantined,
            ).where(central_stores.c.status == "active")
        )
        for r in rows:
            lag.labels(r.store_id, r.region).set(max(0, r.local_seq - r.high_water))
            held.labels(r.store_id, r.region).set(r.high_water)
            quarantined.labels(r.store_id, r.region).set(r.quarantined)
    return generate_latest(registry)
