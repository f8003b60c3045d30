"""The storage ports of sync: the small interfaces through which the adapters reach a node's or
central's database, so that nothing in ``sync/`` imports SQL or ``server/``.

Store node (``sync.store_ws``; implemented in ``server.store.sync_service``):

- ``Outbox`` — the event log, read-only;
- ``HqSink`` — where HQ events are applied, and the HQ cursor;
- ``SyncProgress`` — optional, told how syncing goes (for the status page);
- ``Ports`` — the three together with the node's store id.

Central (``sync.central_ws``; implemented in ``server.central.storage``):

- ``SyncStorage`` — the stores' high-water marks, ingest, the HQ log and its acks;
- ``Authenticate`` — a bearer credential to the store holding it.

The in-memory versions in ``sync.memory`` are the reference behaviour they must match.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from sync.frames import HqItem
from sync.server import IngestRequest

# ------------------------------------------------------------------ store node


class Outbox(Protocol):
    """The store's event log, read-only. Called from a worker thread."""

    def max_seq(self) -> int:
        """The newest ``seq`` in the log (0 when empty)."""
        ...

    def read(self, after_seq: int, max_count: int, max_bytes: int) -> list[tuple[int, bytes]]:
        """``(seq, event bytes)`` with ``seq > after_seq`` in order: at most ``max_count`` and
        about ``max_bytes`` of them, but always at least one if any exists."""
        ...


class HqSink(Protocol):
    """Where HQ events land on the node."""

    def cursor(self) -> int:
        """The HQ cursor durably applied so far. Called from a worker thread."""
        ...

    async def apply(self, items: list[HqItem], upto: int) -> None:
        """Apply ``items`` and record ``upto`` as the new cursor in one durable transaction;
        return only once it is committed."""
        ...


class SyncProgress(Protocol):
    """Optional: told how syncing goes, to keep ``sync_state`` current for the status page."""

    async def attempted(self) -> None:
        """A connection attempt starts."""
        ...

    async def saved(
        self, acked_seq: int, hq_cursor: int, quarantined: int, *, caught_up: bool
    ) -> None:
        """Central holds the log up to ``acked_seq``; ``quarantined`` counts events central
        reported quarantined since the previous call; ``caught_up`` when nothing is pending."""
        ...

    async def failed(self, error: BaseException) -> None:
        """The attempt ended with ``error``."""
        ...


@dataclass(frozen=True)
class Ports:
    """What the store-side adapter needs from the node."""

    store_id: str
    outbox: Outbox
    hq: HqSink
    progress: SyncProgress | None = None


# ------------------------------------------------------------------ central


class SyncStorage(Protocol):
    """What a sync session needs from central's database."""

    async def load_state(self, store_id: str) -> tuple[int, int, str]:
        """``(high_water, hq_acked, region)`` of the store."""
        ...

    async def ingest(self, request: IngestRequest) -> tuple[int, int]:
        """Store a run of events durably; ``(new high_water, quarantined in this run)``."""
        ...

    async def load_hq(self, store_id: str, after: int, limit: int) -> tuple[list[HqItem], int]:
        """HQ events addressed to the store after ``after``, and the cursor they reach."""
        ...

    async def save_hq_acked(self, store_id: str, cursor: int) -> None:
        """Record that the store applied HQ events up to ``cursor``."""
        ...

    async def touch(self, store_id: str, local_seq: int) -> None:
        """Record that the store was seen now, with its newest seq."""
        ...


Authenticate = Callable[[str], Awaitable[str | None]]
"""Maps a bearer credential to the id of the active store holding it, or None."""
