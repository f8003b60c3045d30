"""Prometheus metrics of the store node's write path (served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_APPENDED = Counter(
    "hallsync_store_events_appended_total", "Events committed to the store's log", ["type"]
)
COMMANDS = Counter("hallsync_store_commands_total", "Write commands by outcome", ["outcome"])
BATCH_SIZE = Histogram(
    "hallsync_store_commit_batch_commands",
    "Commands sharing one group commit",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
COMMIT_SECONDS = Histogram(
    "hallsync_store_commit_seconds",
    "Time to run and commit one batch of commands (including fsync)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
