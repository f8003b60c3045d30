"""Prometheus metrics of the store node's write path (served at ``/metrics``)."""

from __future__ import annotations

import collections

from prometheus_client import Counter, Histogram

from schema.events import Event, tag_of

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


def count_batch(seconds: float, commands: int, ok: int, committed: list[Event]) -> None:
    """Count one committed batch: how long it took to run and commit, how many commands it
    held and how many of them succeeded, and the events it made durable, by type."""
    COMMIT_SECONDS.observe(seconds)
    BATCH_SIZE.observe(commands)
    if ok:
        COMMANDS.labels("ok").inc(ok)
    if ok < commands:
        COMMANDS.labels("error").inc(commands - ok)
    for tag, n in collections.Counter(tag_of(event) for event in committed).items():
        EVENTS_APPENDED.labels(tag).inc(n)
