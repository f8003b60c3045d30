"""Storing a run of one store's uploaded events on central, set-based, in one transaction.

For one ``IngestRequest`` (events ``first_seq``, ``first_seq + 1``, … of one store), in the
caller's transaction:

1. lock the store's row and read its high-water mark (replicas ingesting the same store take
   turns; everything at or below the mark is already held, so replays stop here);
2. read which seqs of the run are already held beyond the mark (normally none), so nothing is
   stored or applied twice;
3. decode and check each event on its own; one that cannot be read, names another store or
   another seq, is newer than this software, or does not fit the columns is set aside for
   quarantine with its raw bytes and the reason;
4. insert the good ones into ``events`` in one multi-row ``INSERT … ON CONFLICT DO NOTHING
   RETURNING seq`` (an id already used elsewhere is not inserted and goes to quarantine);
5. fold the inserted ones into the projections in seq order inside one SAVEPOINT; only if that
   fails, roll it back and fold them again one SAVEPOINT each, quarantining those that fail
   (and taking them back out of ``events``), so one bad event never undoes the others;
6. insert the quarantined ones into ``central_quarantine`` (``ON CONFLICT DO NOTHING``);
7. move the high-water mark over every contiguous held seq (events past a gap are stored, but
   the mark stops at the gap) and update the store's counters.

In the usual case that is five statements plus the projectors' own, whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, InternalError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.events import Event, decode, tag_of
from schema.tables.core import events
from schema.tables.sync import central_quarantine, central_stores
from server.domain.projection import apply, apply_all
from server.errors import NotFound, Unauthorized

INT64 = 2**63
EXTEND_PAGE = 5000
"""Held seqs read per query when the mark moves over events stored earlier past a gap."""
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57")
"""Connection lost, serialization failure or deadlock, out of resources, shutdown: a retry of
the whole batch may succeed, so these never send an event to quarantine."""


@dataclass(frozen=True)
class IngestResult:
    high_water: int
    """Highest contiguous seq of the store central now holds."""
    quarantined: int
    """Events of this batch newly put in quarantine."""
    stored: int
    """Events of this batch newly stored and applied."""


@dataclass(frozen=True)
class _Held:
    seq: int
    raw: bytes
    event: Event | None = None
    event_type: str | None = None
    reason: str | None = None
    """Why it goes to quarantine; None when it is good to store."""


class _Peek(msgspec.Struct):
    type: str | None = None


_peek = msgspec.msgpack.Decoder(_Peek)


async def ingest(
    conn: AsyncConnection,
    store_id: str,
    first_seq: int,
    raws: Sequence[bytes],
    *,
    now: datetime,
) -> IngestResult:
    """Store events ``first_seq…`` of ``store_id`` (see the module docstring). Idempotent."""
    store = (
        await conn.execute(
            sa.select(central_stores.c.status, central_stores.c.high_water)
            .where(central_stores.c.store_id == store_id)
            .with_for_update()
        )
    ).first()
    if store is None:
        raise NotFound(f"no store {store_id}")
    if store.status != "active":
        raise Unauthorized(f"store {store_id} is {store.status}")
    hw: int = store.high_water
    last = first_seq + len(raws) - 1
    if last <= hw:
        return IngestResult(hw, 0, 0)  # a replay of what is held: nothing to do

    start = max(first_seq, hw + 1)
    held_after = await _held_after(conn, store_id, start - 1, limit=len(raws) + EXTEND_PAGE)
    already = {s for s in held_after if s <= last}
    fresh = [
        _check(store_id, seq, bytes(raws[seq - first_seq]))
        for seq in range(start, last + 1)
        if seq not in already
    ]
    good = [h for h in fresh if h.reason is None]
    inserted = await _insert_events(conn, store_id, good)
    bad = [h for h in fresh if h.reason is not None]
    bad += [
        _refuse(h, "event id already held for another seq") for h in good if h.seq not in inserted
    ]

    to_apply = [(h.seq, h.event) for h in good if h.seq in inserted and h.event is not None]
    failed: dict[int, str] = await conn.run_sync(_project, to_apply)
    if failed:
        await conn.execute(
            events.delete().where(events.c.store_id == store_id, events.c.seq.in_(list(failed)))
        )
        bad += [_refuse(h, failed[h.seq]) for h in good if h.seq in failed]
    quarantined = await _quarantine(conn, store_id, bad, now)

    held = already | {h.seq for h in fresh}
    new_hw = _walk(hw, sorted(held))
    if new_hw == last:
        beyond = [s for s in held_after if s > last]
        new_hw = _walk(new_hw, beyond)
        if len(held_after) >= len(raws) + EXTEND_PAGE and beyond and new_hw == beyond[-1]:
            new_hw = await _extend(conn, store_id, new_hw)
    await conn.execute(
        central_stores.update()
        .where(central_stores.c.store_id == store_id)
        .values(
            high_water=new_hw,
            quarantined=central_stores.c.quarantined + quarantined,
            local_seq=sa.case(
                (central_stores.c.local_seq < last, sa.literal(last, sa.BigInteger)),
                else_=central_stores.c.local_seq,
            ),
            last_ingest_at=now,
            last_seen_at=now,
        )
    )
    return IngestResult(new_hw, quarantined, len(to_apply) - len(failed))


# ------------------------------------------------------------------ checks


def _check(store_id: str, seq: int, raw: bytes) -> _Held:
    """Decode one event and check that it can be stored as ``(store_id, seq)``."""
    try:
        event = decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return _Held(seq, raw, event_type=_peek_type(raw), reason=f"cannot decode: {exc}")
    tag = tag_of(event)
    reason = None
    known_v = _known_version(type(event))
    if event.store_id != store_id:
        reason = f"event of store {event.store_id[:16]!r} uploaded by store {store_id}"
    elif event.seq != seq:
        reason = f"event says seq {event.seq} but was sent as seq {seq}"
    elif event.v > known_v or event.v < 1:
        reason = f"{tag} version {event.v} is not readable here (knows up to {known_v})"
    elif not -INT64 <= event.hlc < INT64:
        reason = f"hlc {event.hlc} out of range"
    elif event.at.tzinfo is None:
        reason = "event time has no UTC offset"
    elif not _fits(event.actor) or not _fits(event.device):
        reason = "actor or device longer than 64 characters or not text"
    return _Held(seq, raw, event=event, event_type=tag, reason=reason)


def _known_version(event_type: type[Event]) -> int:
    for f in msgspec.structs.fields(event_type):
        if f.name == "v" and isinstance(f.default, int):
            return f.default
    return 1


def _fits(text: str) -> bool:
    return len(text) <= 64 and "\x00" not in text


def _peek_type(raw: bytes) -> str | None:
    try:
        found = _peek.decode(raw).type
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return found[:64] if isinstance(found, str) else None


def _refuse(held: _Held, reason: str) -> _Held:
    return _Held(held.seq, held.raw, held.event, held.event_type, reason)


# ------------------------------------------------------------------ statements


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    return pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)


async def _held_after(conn: AsyncConnection, store_id: str, after: int, *, limit: int) -> list[int]:
    """Seqs above ``after`` that central already holds (stored or quarantined), ascending."""
    held = sa.union(
        sa.select(events.c.seq.label("seq")).where(
            events.c.store_id == store_id, events.c.seq > after
        ),
        sa.select(central_quarantine.c.seq.label("seq")).where(
            central_quarantine.c.store_id == store_id, central_quarantine.c.seq > after
        ),
    ).subquery()
    rows = await conn.execute(sa.select(held.c.seq).order_by(held.c.seq).limit(limit))
    return [int(s) for s in rows.scalars()]


async def _insert_events(conn: AsyncConnection, store_id: str, good: list[_Held]) -> set[int]:
    """Insert the checked events; returns the seqs actually inserted."""
    if not good:
        return set()
    rows = []
    for h in good:
        e = h.event
        assert e is not None
        rows.append(
            {
                "store_id": store_id,
                "seq": h.seq,
                "id": e.id,
                "type": h.event_type,
                "hlc": e.hlc,
                "at": e.at,
                "actor": e.actor,
                "device": e.device,
                "v": e.v,
                "body": h.raw,
            }
        )
    stmt = _insert(conn, events).on_conflict_do_nothing().returning(events.c.seq)
    result = await conn.execute(stmt, rows)
    return {int(s) for s in result.scalars()}


async def _quarantine(conn: AsyncConnection, store_id: str, bad: list[_Held], now: datetime) -> int:
    """Keep the refused events raw with their reasons; returns how many were new."""
    if not bad:
        return 0
    rows = [
        {
            "store_id": store_id,
            "seq": h.seq,
            "event_type": h.event_type,
            "reason": (h.reason or "")[:2000],
            "raw": h.raw,
            "received_at": now,
            "replayed_at": None,
        }
        for h in sorted(bad, key=lambda h: h.seq)
    ]
    stmt = (
        _insert(conn, central_quarantine)
        .on_conflict_do_nothing(index_elements=["store_id", "seq"])
        .returning(central_quarantine.c.seq)
    )
    return len((await conn.execute(stmt, rows)).scalars().all())


async def _extend(conn: AsyncConnection, store_id: str, hw: int) -> int:
    """Move the mark over a long run stored earlier past a gap, a page at a time."""
    while True:
        more = await _held_after(conn, store_id, hw, limit=EXTEND_PAGE)
        nxt = _walk(hw, more)
        if not more or nxt != more[-1] or len(more) < EXTEND_PAGE:
            return nxt
        hw = nxt


def _walk(hw: int, held: list[int]) -> int:
    """The mark after ``hw`` given held seqs in ascending order: up to the first gap."""
    for seq in held:
        if seq == hw + 1:
            hw = seq
        elif seq > hw + 1:
            break
    return hw


# ------------------------------------------------------------------ projections


def _project(conn: Connection, batch: list[tuple[int, Event]]) -> dict[int, str]:
    """Fold the events in order; returns the seqs that could not be applied, with why."""
    if not batch:
        return {}
    try:
        with conn.begin_nested():
            apply_all(conn, (e for _, e in batch))
        return {}
    except Exception as exc:
        if _transient(exc):
            raise
    failed: dict[int, str] = {}
    for seq, event in batch:
        try:
            with conn.begin_nested():
                apply(conn, event)
        except Exception as exc:
            if _transient(exc):
                raise
            failed[seq] = f"cannot apply: {_describe(exc)}"
    return failed


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError | InternalError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return isinstance(state, str) and state[:2] in _TRANSIENT_SQLSTATE_CLASSES
    return False


def _describe(exc: BaseException) -> str:
    """The error's class and first line, without SQL text or bound parameters."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(inner).splitlines()
    return f"{type(inner).__name__}: {text[0][:300] if text else ''}"
