"""A store node's side of sync in memory: its event log and the HQ events it applied."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sync.client import HqToApply, OutboxRequest


class MemoryStoreLog:
    """A store node's event log. Every append is durable: a crash loses nothing appended."""

    def __init__(self, bodies: Iterable[bytes] = ()) -> None:
        self._bodies: list[bytes] = [bytes(b) for b in bodies]

    @property
    def newest_seq(self) -> int:
        """The seq of the last event, 0 when empty."""
        return len(self._bodies)

    def append(self, body: bytes) -> int:
        """Append one event's msgpack bytes; returns its seq."""
        self._bodies.append(bytes(body))
        return len(self._bodies)

    def get(self, seq: int) -> bytes:
        return self._bodies[seq - 1]

    def bodies(self) -> list[bytes]:
        """Every event's bytes, seq 1 first."""
        return list(self._bodies)

    def read(self, after_seq: int, max_count: int, max_bytes: int) -> list[tuple[int, bytes]]:
        """``(seq, bytes)`` of events after ``after_seq`` in seq order: at most ``max_count``,
        and at most ``max_bytes`` in total except that the first one is always included (an
        event bigger than a batch must still go up)."""
        out: list[tuple[int, bytes]] = []
        size = 0
        for seq in range(after_seq + 1, min(self.newest_seq, after_seq + max_count) + 1):
            body = self._bodies[seq - 1]
            if out and size + len(body) > max_bytes:
                break
            out.append((seq, body))
            size += len(body)
        return out

    def answer(self, request: OutboxRequest) -> list[tuple[int, bytes]]:
        """``read`` for a ``ClientSession.outbox_request()``."""
        return self.read(request.after_seq, request.max_count, request.max_bytes)


@dataclass(frozen=True)
class AppliedHq:
    """One HQ event as a store node recorded it (its ``hq_log`` row)."""

    cursor: int
    body: bytes
    applied_after_seq: int
    """The store log's newest seq when it was applied."""


class MemoryHqSink:
    """A store node's applied HQ events and ``hq_cursor``; one batch at a time in flight."""

    def __init__(self) -> None:
        self.cursor = 0
        """HQ cursor durably applied (``sync_state.hq_cursor``)."""
        self.applied: list[AppliedHq] = []
        """Durably applied HQ events, in the order applied."""
        self._staged: HqToApply | None = None

    @property
    def applying(self) -> bool:
        """A batch is begun and not yet committed or rolled back."""
        return self._staged is not None

    def begin(self, batch: HqToApply) -> None:
        """Start applying a batch (the local transaction is open)."""
        if self._staged is not None:
            raise RuntimeError("one HQ batch at a time")
        self._staged = batch

    def commit(self, log_seq: int) -> HqToApply:
        """Make the begun batch durable; ``log_seq`` is the store log's newest seq now.

        Raises ``ValueError`` (and changes nothing) if the batch would apply an HQ event twice,
        out of cursor order, or move the cursor backwards: a real store must never do that, so
        a test must fail when a protocol bug asks for it.
        """
        batch = self._staged
        if batch is None:
            raise RuntimeError("no HQ batch begun")
        self._staged = None
        if batch.upto < self.cursor:
            raise ValueError(f"HQ cursor would go back from {self.cursor} to {batch.upto}")
        last = self.cursor
        for item in batch.items:
            if item.cursor <= last or item.cursor > batch.upto:
                raise ValueError(
                    f"HQ event {item.cursor} applied twice or out of order "
                    f"(cursor {self.cursor}, batch upto {batch.upto})"
                )
            last = item.cursor
        self.applied.extend(AppliedHq(i.cursor, bytes(i.event), log_seq) for i in batch.items)
        self.cursor = batch.upto
        return batch

    def rollback(self) -> None:
        """The transaction did not commit (crash, error): forget the begun batch."""
        self._staged = None
