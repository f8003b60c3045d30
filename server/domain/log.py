"""The store node's append-only event log: gapless ``seq`` and HLC on append (the envelope is
filled in by ``server.domain.stamp``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.events import Event, encode, tag_of
from schema.tables.core import events
from schema.tables.sync import hq_log
from server.domain.stamp import stamp
from sync.clock import HybridClock

E = TypeVar("E", bound=Event)

# Built once: constructing a statement per append costs more than executing it.
_INSERT = events.insert()


class EventLog:
    """Assigns the envelope of new events and inserts them; one instance per store node.

    Only the node's single writer appends, so ``next_seq`` kept in memory is the truth; the
    writer snapshots it before each command and puts it back if the command is rolled back,
    which keeps the sequence gapless.
    """

    def __init__(self, store_id: str, next_seq: int, clock: HybridClock) -> None:
        self.store_id = store_id
        self.next_seq = next_seq
        self.clock = clock
        self.buffered = False
        """Set by the writer: appended rows then wait in ``unwritten`` until ``write``, so a
        group commit inserts all its events with one statement, just before it commits."""
        self.unwritten: list[dict[str, Any]] = []

    @classmethod
    def load(cls, conn: Connection, store_id: str) -> EventLog:
        """Resume from what is on disk: the next seq, and the highest HLC the node issued or
        observed. HQ events the node applied count too: they append nothing to its own log,
        and the first event after a restart must still be ordered after them."""
        row = conn.execute(
            sa.select(sa.func.max(events.c.seq), sa.func.max(events.c.hlc)).where(
                events.c.store_id == store_id
            )
        ).one()
        observed = conn.execute(
            sa.select(sa.func.max(hq_log.c.hlc)).where(hq_log.c.store_id == store_id)
        ).scalar()
        return cls(store_id, (row[0] or 0) + 1, HybridClock(max(row[1] or 0, observed or 0)))

    def append(
        self,
        conn: Connection,
        event_type: type[E],
        payload: dict[str, Any],
        *,
        actor: str,
        device: str,
        now: datetime,
    ) -> E:
        """Stamp the event (``server.domain.stamp``: its staff-typed text masked in
        ``payload``) with the next seq and an HLC, and insert it."""
        event = stamp(
            event_type,
            payload,
            store_id=self.store_id,
            seq=self.next_seq,
            clock=self.clock,
            now=now,
            actor=actor,
            device=device,
        )
        row = {
            "store_id": event.store_id,
            "seq": event.seq,
            "id": event.id,
            "type": tag_of(event),
            "hlc": event.hlc,
            "at": event.at,
            "actor": event.actor,
            "device": event.device,
            "v": event.v,
            "body": encode(event),
        }
        if self.buffered:
            self.unwritten.append(row)
        else:
            conn.execute(_INSERT, row)
        self.next_seq += 1
        return event

    def rewind(self, seq: int) -> None:
        """Take back what was appended from ``seq`` on (its command was rolled back)."""
        self.next_seq = seq
        while self.unwritten and self.unwritten[-1]["seq"] >= seq:
            self.unwritten.pop()

    def write(self, conn: Connection) -> None:
        """Insert the rows waiting in ``unwritten`` (in the caller's transaction)."""
        if self.unwritten:
            conn.execute(_INSERT, self.unwritten)
            self.unwritten = []
