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
4. insert the good ones into ``events`` in one ``INSERT … ON CONFLICT DO NOTHING RETURNING
   seq`` (on PostgreSQL from one array per column, ``unnest``; an id already used elsewhere is
   not inserted and goes to quarantine);
5. fold the inserted ones into the projections in seq order inside one SAVEPOINT, their
   projectors' row operations applied as a batch (``server.central.fold.batch_rows``: the rows
   they read, read up front; their writes worked out per row and sent a few statements per
   table whatever the batch size); only if that fails, roll it back and fold them again one at
   a time, one SAVEPOINT each, quarantining those that fail (and taking them back out of
   ``events``), so one bad event never undoes the others;
6. insert the quarantined ones into ``central_quarantine`` (``ON CONFLICT DO NOTHING``);
7. move the high-water mark over every contiguous held seq (events past a gap are stored, but
   the mark stops at the gap) and update the store's counters.

In the usual case that is six statements plus a few per projection table, whatever the batch
size. It all runs as one synchronous function in the connection's greenlet. On PostgreSQL the
transaction plans every statement for the parameters at hand (``plan_cache_mode``), as a plan
cached while a table was small or had no statistics can scan a whole store per row written.
"""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.events import Event, decode, tag_of
from schema.events.envelope import peek
from schema.tables.core import events, node_meta
from schema.tables.sync import central_quarantine, central_stores
from server.central.fold.batch_rows import BatchRows
from server.contact_migration import LEGACY_MASK_BYTES, UPGRADED_META
from server.domain.projection import apply, apply_all, reads_of
from server.errors import HallsyncError, NotFound, Unauthorized

log = logging.getLogger(__name__)

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


class _Held(NamedTuple):
    """One uploaded event, checked (a tuple: a batch makes hundreds of them)."""

    seq: int
    raw: bytes
    event: Event | None = None
    event_type: str | None = None
    reason: str | None = None
    """Why it goes to quarantine; None when it is good to store."""


async def ingest(
    conn: AsyncConnection,
    store_id: str,
    first_seq: int,
    raws: Sequence[bytes],
    *,
    now: datetime,
) -> IngestResult:
    """Store events ``first_seq…`` of ``store_id`` (see the module docstring). Idempotent.

    It runs as one synchronous function in the connection's greenlet (``run_sync``): one hop
    into SQLAlchemy's synchronous world per batch rather than one per statement."""
    return await conn.run_sync(_ingest, store_id, first_seq, raws, now)


def _ingest(
    conn: Connection, store_id: str, first_seq: int, raws: Sequence[bytes], now: datetime
) -> IngestResult:
    if conn.dialect.name == "postgresql":
        # Plan each statement for the sizes at hand: a plan cached while the tables were small
        # (or never analyzed) can scan a store's rows for every row written.
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    store = conn.execute(_LOCK_STORE, {"store_id": store_id}).first()
    if store is None:
        raise NotFound(f"no store {store_id}")
    if store.status != "active":
        raise Unauthorized(f"store {store_id} is {store.status}")
    hw: int = store.high_water
    last = first_seq + len(raws) - 1
    if last <= hw:
        return IngestResult(hw, 0, 0)  # a replay of what is held: nothing to do

    start = max(first_seq, hw + 1)
    held_after = _held_after(conn, store_id, start - 1, limit=len(raws) + EXTEND_PAGE)
    already = {s for s in held_after if s <= last}
    fresh = _check_all(store_id, first_seq, start, last, raws, already)
    good = [h for h in fresh if h.reason is None]
    inserted = _insert_events(conn, store_id, good)
    bad = [h for h in fresh if h.reason is not None]
    bad += [
        _refuse(h, "event id already held for another seq") for h in good if h.seq not in inserted
    ]

    to_apply = [(h.seq, h.event) for h in good if h.seq in inserted and h.event is not None]
    failed = _project(conn, to_apply)
    if failed:
        conn.execute(
            events.delete().where(events.c.store_id == store_id, events.c.seq.in_(list(failed)))
        )
        bad += [_refuse(h, failed[h.seq]) for h in good if h.seq in failed]
    quarantined = _quarantine(conn, store_id, bad, now)
    _note_legacy_phone_data(conn, store_id, good)

    held = already | {h.seq for h in fresh}
    new_hw = _walk(hw, sorted(held))
    if new_hw == last:
        beyond = [s for s in held_after if s > last]
        new_hw = _walk(new_hw, beyond)
        if len(held_after) >= len(raws) + EXTEND_PAGE and beyond and new_hw == beyond[-1]:
            new_hw = _extend(conn, store_id, new_hw)
    conn.execute(
        _UPDATE_STORE,
        {
            "b_store_id": store_id,
            "high_water": new_hw,
            "quarantined": quarantined,
            "last": last,
            "now": now,
        },
    )
    return IngestResult(new_hw, quarantined, len(to_apply) - len(failed))


# Statements built once (their values are bound parameters): built and cache-keyed for every
# batch, they cost more than running them.
_LOCK_STORE = (
    sa.select(central_stores.c.status, central_stores.c.high_water)
    .where(central_stores.c.store_id == sa.bindparam("store_id"))
    .with_for_update()
)
_NOW = sa.bindparam("now", type_=central_stores.c.last_ingest_at.type)
_LAST = sa.bindparam("last", type_=sa.BigInteger)
_LOCAL_SEQ = central_stores.c.local_seq
_UPDATE_STORE = (
    central_stores.update()
    .where(central_stores.c.store_id == sa.bindparam("b_store_id"))
    .values(
        high_water=sa.bindparam("high_water", type_=sa.BigInteger),
        quarantined=central_stores.c.quarantined + sa.bindparam("quarantined", type_=sa.Integer),
        local_seq=sa.case((_LOCAL_SEQ < _LAST, _LAST), else_=_LOCAL_SEQ),
        last_ingest_at=_NOW,
        last_seen_at=_NOW,
    )
)
_HELD_AFTER = sa.union(
    sa.select(events.c.seq.label("seq")).where(
        events.c.store_id == sa.bindparam("store_id"), events.c.seq > sa.bindparam("after")
    ),
    sa.select(central_quarantine.c.seq.label("seq")).where(
        central_quarantine.c.store_id == sa.bindparam("store_id"),
        central_quarantine.c.seq > sa.bindparam("after"),
    ),
).subquery()
_HELD_SEQS = sa.select(_HELD_AFTER.c.seq).order_by(_HELD_AFTER.c.seq).limit(sa.bindparam("limit"))


# ------------------------------------------------------------------ checks


def _check_all(
    store_id: str, first_seq: int, start: int, last: int, raws: Sequence[bytes], held: set[int]
) -> list[_Held]:
    """``_check`` each event of ``start…last`` not ``held`` yet.

    The cyclic garbage collector is paused meanwhile (nothing else runs: there is no await):
    decoding a batch makes thousands of objects, which would otherwise set off collections
    that cost twice the decoding itself."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return [
            _check(store_id, seq, bytes(raws[seq - first_seq]))
            for seq in range(start, last + 1)
            if seq not in held
        ]
    finally:
        if paused:
            gc.enable()


def _check(store_id: str, seq: int, raw: bytes) -> _Held:
    """Decode one event and check that it can be stored as ``(store_id, seq)``."""
    try:
        event = decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return _Held(seq, raw, event_type=_peek_type(raw), reason=f"cannot decode: {exc}")
    tag, known_v = _type_info(type(event))
    reason = None
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
    return _Held(seq, raw, event, tag, reason)


@functools.cache
def _type_info(event_type: type[Event]) -> tuple[str, int]:
    """The type's tag, and the payload version this software writes for it (its ``v``
    default).

    Cached: ``msgspec.structs.fields`` resolves the type's annotations on every call, which
    cost more than everything else ingest does per event."""
    for f in msgspec.structs.fields(event_type):
        if f.name == "v" and isinstance(f.default, int):
            return tag_of(event_type), f.default
    return tag_of(event_type), 1


def _fits(text: str) -> bool:
    return len(text) <= 64 and "\x00" not in text


def _peek_type(raw: bytes) -> str | None:
    found = peek(raw).type
    return found[:64] if found is not None else None


def _refuse(held: _Held, reason: str) -> _Held:
    return held._replace(reason=reason)


# ------------------------------------------------------------------ statements


def _note_legacy_phone_data(conn: Connection, store_id: str, good: list[_Held]) -> None:
    """A node of an earlier release uploads phone data of the old kind (display forms showing
    7 digits): mark stored phone data as not upgraded, so central's next start upgrades it
    (``server.contact_migration``). One search of each event's bytes as they arrived: nothing
    is decoded for it.
    """
    if any(LEGACY_MASK_BYTES.search(h.raw) for h in good):
        log.warning("store %s uploaded phone data of an earlier release", store_id)
        conn.execute(node_meta.delete().where(node_meta.c.key == UPGRADED_META))


def _insert(conn: Connection, table: sa.Table) -> Any:
    return pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)


def _held_after(conn: Connection, store_id: str, after: int, *, limit: int) -> list[int]:
    """Seqs above ``after`` that central already holds (stored or quarantined), ascending."""
    rows = conn.execute(_HELD_SEQS, {"store_id": store_id, "after": after, "limit": limit})
    return [int(s) for s in rows.scalars()]


def _insert_events(conn: Connection, store_id: str, good: list[_Held]) -> set[int]:
    """Insert the checked events; returns the seqs actually inserted."""
    if not good:
        return set()
    checked = [(h.seq, h.event, h.event_type, h.raw) for h in good if h.event is not None]
    if conn.dialect.name == "postgresql":
        # One row of arrays instead of 500 rows of parameters: nothing to process per value.
        params = {
            "store_id": store_id,
            "seq": [seq for seq, _, _, _ in checked],
            "id": [e.id for _, e, _, _ in checked],
            "type": [tag for _, _, tag, _ in checked],
            "hlc": [e.hlc for _, e, _, _ in checked],
            "at": [e.at for _, e, _, _ in checked],
            "actor": [e.actor for _, e, _, _ in checked],
            "device": [e.device for _, e, _, _ in checked],
            "v": [e.v for _, e, _, _ in checked],
            "body": [raw for _, _, _, raw in checked],
        }
        return set(conn.execute(_INSERT_EVENTS_PG, params).scalar() or ())
    else:
        rows = [
            {
                "store_id": store_id,
                "seq": seq,
                "id": e.id,
                "type": tag,
                "hlc": e.hlc,
                "at": e.at,
                "actor": e.actor,
                "device": e.device,
                "v": e.v,
                "body": raw,
            }
            for seq, e, tag, raw in checked
        ]
        return {int(s) for s in conn.execute(_insert_events_sqlite(), rows).scalars()}


@functools.cache
def _insert_events_sqlite() -> Any:
    return sqlite_insert(events).on_conflict_do_nothing().returning(events.c.seq)


_INSERT_EVENTS_PG = sa.text(
    "WITH inserted AS ("
    "INSERT INTO events (store_id, seq, id, type, hlc, at, actor, device, v, body) "
    "SELECT CAST(:store_id AS VARCHAR), u.* FROM unnest("
    "CAST(:seq AS BIGINT[]), CAST(:id AS UUID[]), CAST(:type AS VARCHAR[]), "
    "CAST(:hlc AS BIGINT[]), CAST(:at AS TIMESTAMPTZ[]), CAST(:actor AS VARCHAR[]), "
    "CAST(:device AS VARCHAR[]), CAST(:v AS SMALLINT[]), CAST(:body AS BYTEA[])"
    ") AS u ON CONFLICT DO NOTHING RETURNING seq"
    ") SELECT array_agg(seq) FROM inserted"
)
"""The events insert on PostgreSQL: every column as one array (``unnest``), the seqs inserted
as one array too (a row per event would cost more to read than to write)."""


def _quarantine(conn: Connection, store_id: str, bad: list[_Held], now: datetime) -> int:
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
    return len(conn.execute(stmt, rows).scalars().all())


def _extend(conn: Connection, store_id: str, hw: int) -> int:
    """Move the mark over a long run stored earlier past a gap, a page at a time."""
    while True:
        more = _held_after(conn, store_id, hw, limit=EXTEND_PAGE)
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
    """Fold the events in order; returns the seqs that could not be applied, with why.

    The whole batch is folded at once (``BatchRows``: the rows its projectors declared they
    read, read in one statement per table; its writes sent set-based). If an event in it cannot
    be applied, the batch is rolled back and its events folded one at a time, each in a
    SAVEPOINT, to find the ones at fault (they are quarantined with the reason; the others are
    applied): one bad event never costs the store the rest of its upload.
    """
    if not batch:
        return {}
    events = [e for _, e in batch]
    try:
        with conn.begin_nested():
            rows = BatchRows(conn)
            for table, keys in reads_of(events).items():
                rows.prefetch(table, keys)
            apply_all(rows, events)
            rows.flush()
        return {}
    except Exception as exc:
        if _transient(exc):
            raise
        log.info(
            "ingest: a batch from seq %d holds an event central cannot apply (%s); "
            "folding it one event at a time",
            batch[0][0],
            type(exc).__name__,
        )
    failed: dict[int, str] = {}
    for seq, event in batch:
        try:
            with conn.begin_nested():
                apply(conn, event)
        except Exception as exc:
            if _transient(exc):
                raise
            failed[seq] = f"cannot apply: {_describe(exc, event)}"
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


def _describe(exc: BaseException, event: Event) -> str:
    """Why an event could not be applied, for HQ's quarantine listing. The database's own
    message never goes there (it can name tables and quote values): it goes to the log, and
    the reason says what kind of refusal it was."""
    if isinstance(exc, HallsyncError):
        return exc.detail
    if not isinstance(exc, SQLAlchemyError):
        text = str(exc).splitlines()
        return f"{type(exc).__name__}: {text[0][:300] if text else ''}"
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (str(inner).splitlines() or [""])[0][:300]
    log.warning(
        "ingest: %s seq %d not applied: %s: %s",
        tag_of(event),
        event.seq,
        type(inner).__name__,
        first,
    )
    nul = _nul_field(event)
    if nul is not None:
        # Only PostgreSQL gets here: its text columns cannot hold U+0000 (SQLite's can, so a
        # central on SQLite applies such an event). Store nodes refuse the character at their
        # API; events recorded by older nodes can still carry it.
        return f"{nul} holds a NUL character (U+0000), which central's database cannot store"
    if isinstance(exc, IntegrityError):
        return "it conflicts with data central already holds (a duplicate or a missing row)"
    return "central's database refused its rows (details in central's log)"


def _nul_field(value: Any, path: str = "") -> str | None:
    """The dotted path of the first text field holding U+0000 in an event (or part of one)."""
    if isinstance(value, str):
        return path or "a text field" if "\x00" in value else None
    if isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            found = _nul_field(getattr(value, name), f"{path}.{name}" if path else name)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _nul_field(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None
