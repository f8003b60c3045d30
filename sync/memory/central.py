"""Central's sync storage in memory: every store's events, quarantine and the HQ log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import msgspec

from schema.events import Event, tag_of
from schema.events import decode as decode_event
from sync.errors import Unauthorized, Unavailable
from sync.frames import HqItem
from sync.server import HqRequest, IngestRequest

Audience = Literal["all", "region", "store"]


@dataclass(frozen=True)
class HqEntry:
    """One row of central's HQ log."""

    cursor: int
    audience: Audience
    target: str
    """The region (audience ``region``) or store id (audience ``store``); ``""`` for all."""
    body: bytes


@dataclass(frozen=True)
class Quarantined:
    """A store event central holds but could not apply, with why."""

    store_id: str
    seq: int
    reason: str
    raw: bytes
    event_type: str | None
    """The event's type when it could be decoded."""


@dataclass(frozen=True)
class IngestResult:
    """What ``MemoryCentral.ingest`` reports; pass it to ``ServerSession.ingested``."""

    high_water: int
    quarantined: int
    """How many of the newly held events went to quarantine."""


class MemoryCentral:
    """Central's storage for every store. ``apply`` stands for the projections: it gets each
    newly held decoded event and returns ``None`` or the reason it cannot be applied."""

    def __init__(self, *, apply: Callable[[Event], str | None] | None = None) -> None:
        self.regions: dict[str, str] = {}
        """Enrolled stores and their region."""
        self.events: dict[str, dict[int, bytes]] = {}
        """Applied events by store and seq (quarantined ones are in ``quarantine``)."""
        self.quarantine: dict[tuple[str, int], Quarantined] = {}
        self.high_water: dict[str, int] = {}
        self.hq_log: list[HqEntry] = []
        self.hq_acked: dict[str, int] = {}
        self.available = True
        """False simulates a database outage: every operation raises ``Unavailable``."""
        self.commits = 0
        """How many ingests committed (a test can check that replays commit nothing new)."""
        self._ids: dict[UUID, tuple[str, int]] = {}
        self._apply = apply

    def add_store(self, store_id: str, region: str) -> None:
        """Enroll a store."""
        self.regions[store_id] = region
        self.events.setdefault(store_id, {})
        self.high_water.setdefault(store_id, 0)
        self.hq_acked.setdefault(store_id, 0)

    # ------------------------------------------------------------ upload

    def load_state(self, store_id: str) -> int:
        """The store's high-water mark (for ``ServerSession.state_loaded``)."""
        self._check(store_id)
        return self.high_water[store_id]

    def held(self, store_id: str) -> dict[int, bytes]:
        """Every event of the store central holds, applied or quarantined, by seq."""
        out = dict(self.events.get(store_id, {}))
        out.update({seq: q.raw for (s, seq), q in self.quarantine.items() if s == store_id})
        return dict(sorted(out.items()))

    def ingest(self, request: IngestRequest) -> IngestResult:
        """Hold a run of events, atomically; events already held are skipped (replays).

        Each new event is decoded on its own; one that does not decode, claims another store,
        has a seq other than its position, reuses a held event id, or that ``apply`` refuses
        is quarantined with the reason (it still counts as held, so it never wedges the store).
        Raises ``Unavailable`` while ``available`` is False. (A *push* whose events all claim
        another store is refused before it gets here: see ``sync.server.claims_other_store``.)
        """
        store_id = request.store_id
        self._check(store_id)
        applied = self.events[store_id]
        fresh: list[tuple[int, bytes]] = [
            (request.first_seq + i, bytes(raw))
            for i, raw in enumerate(request.events)
            if request.first_seq + i not in applied
            and (store_id, request.first_seq + i) not in self.quarantine
        ]
        decoded: list[Event | str] = [_decode_or_reason(body) for _, body in fresh]
        new_events: dict[int, bytes] = {}
        new_quarantine: dict[int, Quarantined] = {}
        new_ids: dict[UUID, int] = {}
        for (seq, body), event in zip(fresh, decoded, strict=True):
            reason = event if isinstance(event, str) else None
            if isinstance(event, Event):
                if event.store_id != store_id:
                    reason = f"event of store {event.store_id!r}, not {store_id!r}"
                elif event.seq != seq:
                    reason = f"event says seq {event.seq}, sent as {seq}"
                elif event.id in self._ids or event.id in new_ids:
                    reason = f"event id {event.id} is already held"
                elif self._apply is not None:
                    reason = self._apply(event)
            if reason is None:
                assert isinstance(event, Event)
                new_events[seq] = body
                new_ids[event.id] = seq
            else:
                kind = tag_of(event) if isinstance(event, Event) else None
                new_quarantine[seq] = Quarantined(store_id, seq, reason, body, kind)
        # Commit: nothing above changed any state.
        applied.update(new_events)
        self._ids.update({i: (store_id, seq) for i, seq in new_ids.items()})
        self.quarantine.update({(store_id, seq): q for seq, q in new_quarantine.items()})
        high = self.high_water[store_id]
        while high + 1 in applied or (store_id, high + 1) in self.quarantine:
            high += 1
        self.high_water[store_id] = high
        self.commits += 1
        return IngestResult(high, len(new_quarantine))

    # ------------------------------------------------------------ download

    def publish(self, body: bytes, audience: Audience, target: str = "") -> int:
        """Append an HQ event for ``all`` stores, one ``region`` or one ``store``; returns its
        cursor. Call ``hq_available()`` on every open session afterwards (the NOTIFY)."""
        if (audience == "all") != (target == ""):
            raise ValueError("audience 'all' has no target; the others need one")
        cursor = len(self.hq_log) + 1
        self.hq_log.append(HqEntry(cursor, audience, target, bytes(body)))
        return cursor

    def addressed(self, entry: HqEntry, store_id: str) -> bool:
        """Whether an HQ event goes to this store."""
        if entry.audience == "all":
            return True
        if entry.audience == "region":
            return self.regions.get(store_id) == entry.target
        return entry.target == store_id

    def load_hq(self, request: HqRequest) -> tuple[list[HqItem], int]:
        """HQ events for the store after ``request.after``, at most ``request.limit``, and the
        cursor the store may record once it applied them: the last item's when the limit was
        reached, else the newest cursor of the whole log (read in the same snapshot, so no HQ
        event can fall between the items and ``upto``)."""
        self._check(request.store_id)
        items: list[HqItem] = []
        for entry in self.hq_log[request.after :]:
            if self.addressed(entry, request.store_id):
                items.append(HqItem(entry.cursor, msgspec.Raw(entry.body)))
                if len(items) >= request.limit:
                    return items, entry.cursor
        return items, max(request.after, len(self.hq_log))

    def record_hq_ack(self, store_id: str, cursor: int) -> None:
        """The store applied HQ events up to ``cursor`` (from its Hello or an HqAck)."""
        self._check(store_id)
        self.hq_acked[store_id] = max(self.hq_acked[store_id], cursor)

    def _check(self, store_id: str) -> None:
        if not self.available:
            raise Unavailable("central storage is unavailable")
        if store_id not in self.regions:
            raise Unauthorized(f"store {store_id} is not enrolled")


def _decode_or_reason(body: bytes) -> Event | str:
    try:
        return decode_event(body)
    # schema.events.decode lets invalid UTF-8 escape as UnicodeDecodeError: it is just as
    # undecodable, and must be quarantined rather than fail the ingest (and wedge the store).
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return f"undecodable: {exc}"
