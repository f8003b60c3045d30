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
5. fold the inserted ones into the projections in seq order inside one SAVEPOINT, with the
   projectors' writes batched (``_Batching``: writes of the same shape to the same table go as
   one statement, a few per table whatever the batch size); only if that fails, roll it back
   and fold them again unbatched, one SAVEPOINT each, quarantining those that fail (and taking
   them back out of ``events``), so one bad event never undoes the others;
6. insert the quarantined ones into ``central_quarantine`` (``ON CONFLICT DO NOTHING``);
7. move the high-water mark over every contiguous held seq (events past a gap are stored, but
   the mark stops at the gap) and update the store's counters.

In the usual case that is six statements plus a few per projection table, whatever the batch
size (plus two per sale: the stock projector reads back what it wrote). On PostgreSQL the
transaction plans every statement for the parameters at hand (``plan_cache_mode``), as a plan
cached while a table was small or had no statistics can scan a whole store per row written.
"""

from __future__ import annotations

import functools
import gc
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.exc import DBAPIError, InterfaceError, InternalError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.types import TypeDecorator

from schema.events import Event, decode, tag_of
from schema.tables.core import events
from schema.tables.sync import central_quarantine, central_stores
from server.domain.projection import apply, apply_all
from server.errors import NotFound, Unauthorized

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
    if conn.dialect.name == "postgresql":
        # Plan each statement for the sizes at hand: a plan cached while the tables were small
        # (or never analyzed) can scan a store's rows for every row written (see _Batching).
        await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
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
    fresh = _check_all(store_id, first_seq, start, last, raws, already)
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


@functools.cache
def _known_version(event_type: type[Event]) -> int:
    """The payload version this software writes for ``event_type`` (its ``v`` default).

    Cached: ``msgspec.structs.fields`` resolves the type's annotations on every call, which
    cost more than everything else ingest does per event."""
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
    if conn.dialect.name == "postgresql":
        # One row of arrays instead of 500 rows of parameters: nothing to process per value.
        columns = zip(
            *(
                (
                    r["seq"],
                    r["id"],
                    r["type"],
                    r["hlc"],
                    r["at"],
                    r["actor"],
                    r["device"],
                    r["v"],
                    r["body"],
                )
                for r in rows
            ),
            strict=True,
        )
        params = dict(zip(_UNNEST_COLUMNS, (list(c) for c in columns), strict=True))
        result = await conn.execute(_INSERT_EVENTS_PG, {"store_id": store_id, **params})
    else:
        stmt = _insert(conn, events).on_conflict_do_nothing().returning(events.c.seq)
        result = await conn.execute(stmt, rows)
    return {int(s) for s in result.scalars()}


_UNNEST_COLUMNS = ("seq", "id", "type", "hlc", "at", "actor", "device", "v", "body")
_INSERT_EVENTS_PG = sa.text(
    "INSERT INTO events (store_id, seq, id, type, hlc, at, actor, device, v, body) "
    "SELECT CAST(:store_id AS VARCHAR), u.* FROM unnest("
    "CAST(:seq AS BIGINT[]), CAST(:id AS UUID[]), CAST(:type AS VARCHAR[]), "
    "CAST(:hlc AS BIGINT[]), CAST(:at AS TIMESTAMPTZ[]), CAST(:actor AS VARCHAR[]), "
    "CAST(:device AS VARCHAR[]), CAST(:v AS SMALLINT[]), CAST(:body AS BYTEA[])"
    ") AS u ON CONFLICT DO NOTHING RETURNING seq"
)
"""The events insert on PostgreSQL: every column as one array (``unnest``)."""


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


_warned: list[bool] = []


def _project(conn: Connection, batch: list[tuple[int, Event]]) -> dict[int, str]:
    """Fold the events in order; returns the seqs that could not be applied, with why."""
    if not batch:
        return {}
    try:
        with conn.begin_nested():
            batching = _Batching(conn)
            apply_all(batching, (e for _, e in batch))  # type: ignore[arg-type]
            batching.flush()
        return {}
    except Exception as exc:
        if _transient(exc):
            raise
        if isinstance(exc, _ResultNeeded) and not _warned:
            _warned.append(True)
            log.warning("ingest: projections folded unbatched (slower): %s", exc)
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


# ------------------------------------------------------------------ batching the projectors' writes


class _ResultNeeded(RuntimeError):
    """A projector used the result of a write that was batched, or a part of the connection
    batching does not cover (none does today): the batch is folded again one event at a time,
    unbatched, and this is logged once."""


class _NoResult:
    """What a batched write returns: it has not run yet, so it has no result to give."""

    def __getattr__(self, name: str) -> Any:
        raise _ResultNeeded(f"the result of a batched write was used ({name})")


_NO_RESULT = _NoResult()


@dataclass(frozen=True, eq=False)
class _Shape:
    """What batching knows about one statement shape (one SQL text), worked out once."""

    table: sa.Table
    template: Any
    """The statement with each inline value replaced by a bind parameter ``_b<i>``."""
    source: Any
    """The first statement of the shape, as the projector made it."""
    lifted: dict[int, str]
    """Its inline values' bind parameters (by identity) and the names they take."""
    inline: tuple[int, ...]
    """Positions, in the statement's cache key, of the inline values that ``_b<i>`` take."""
    key: tuple[tuple[str, Any], ...] | None
    """Where each primary-key value of the row written comes from: ``("inline", i)`` or
    ``("param", name)``; None when the row written cannot be told from the statement (it then
    keeps its place among every write to the table)."""
    unique_writer: bool
    """It may add or change a value of a unique constraint other than the primary key: such
    writes keep their order among themselves (a reorder could turn a violation into a success
    or back)."""
    shared_rows: bool
    """An INSERT: its rows go into one multi-row statement."""
    params: frozenset[str]
    """Names of the parameters it is executed with (an UPDATE sets the columns among them)."""


@dataclass
class _Group:
    """Writes of one shape to one table, sent as one ``executemany`` (or one set-based
    statement)."""

    shape: _Shape
    rows: list[dict[str, Any]]
    ordered: bool = False
    """Its rows must run one after the other: one row is written twice, or a row cannot be
    told."""


@dataclass
class _TableQueue:
    """The queued writes to one table, in the order they must run."""

    groups: list[_Group]
    latest: dict[Any, int]
    """Index of the newest group of each shape (cache key)."""
    row_at: dict[tuple[Any, ...], int]
    """Index of the group that last wrote each row (by primary key)."""
    whole_at: int = -1
    """Index of the last group whose rows cannot be told (table-wide)."""
    unique_at: int = -1
    """Index of the last group holding a unique writer."""
    key_types: tuple[type, ...] | None = None
    """The Python types of the primary-key values seen, so one row is never known by two
    keys (a different type makes a write keep its place among all of the table's)."""


class _Batching:
    """The connection the projectors write through while a batch is folded.

    Projectors run one event at a time, each write a statement; run as such, a batch of 500
    events costs about 550 round trips to PostgreSQL. Here a write whose result nobody reads
    (an INSERT, UPDATE or DELETE without RETURNING) is queued instead, and writes of the same
    shape to the same table are sent together as one ``executemany``, so a batch costs a few
    round trips per table, whatever its size. A write may move ahead of earlier queued ones
    only if it cannot touch the rows they touch:

    - writes to different tables never interact (projection tables have no foreign keys or
      triggers), so each table keeps its own queue;
    - within a table, a write keeps its order relative to every earlier write of the same row
      (primary key), and relative to everything when its row cannot be told; writes that may
      set a secondary unique key keep their order among themselves;
    - a write whose values or condition read other rows (a subquery, another table) is not
      queued: everything queued is sent first, then it runs.

    A read (a SELECT) first sends what is queued for the tables it reads. ``flush`` sends the
    rest; the caller does so before the batch's SAVEPOINT is released, so a failing write
    fails the batch as it would have unbatched (the caller then folds the events one by one).
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect
        self._queues: dict[sa.Table, _TableQueue] = {}
        self._images: dict[sa.Table, dict[tuple[Any, ...], Any]] = {}
        """Rows as this batch last wrote them (``RETURNING``), by primary key, for tables
        that projectors read back (see ``_lookup``)."""

    # ------------------------------------------------------------ what projectors call

    def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        if (
            not kw
            and isinstance(statement, sa.Insert | sa.Update | sa.Delete)
            and self._queue(statement, parameters)
        ):
            return _NO_RESULT
        if not kw and isinstance(statement, sa.Select):
            lookup = _lookup_of(statement)
            if lookup is not None:
                _READ_BACK.add(lookup.table)
                self._flush_table(lookup.table)
                found = self._answer(lookup, parameters)
                if found is not None:
                    return IteratorResult(SimpleResultMetaData(lookup.columns), iter(found))
        # It runs now: what is queued for the tables it reads or writes goes first.
        tables = _tables_of(statement)
        if tables is None:
            self.flush()
            self._images.clear()
        else:
            for table in tables:
                self._flush_table(table)
                if not isinstance(statement, sa.Select):
                    self._images.pop(table, None)
        return self._conn.execute(statement, parameters, **kw)

    def __getattr__(self, name: str) -> Any:
        # Projectors use ``execute`` and ``dialect`` only. Anything else (a SAVEPOINT, say)
        # would be scoped differently with writes queued: fold this batch unbatched instead.
        raise _ResultNeeded(f"a projector used Connection.{name}")

    def flush(self) -> None:
        for table in list(self._queues):
            self._flush_table(table)

    # ------------------------------------------------------------ queueing

    def _queue(self, statement: Any, parameters: Any) -> bool:
        """Queue a write; False when it must run now instead."""
        if parameters is None:
            external: list[dict[str, Any]] = [{}]
        elif type(parameters) is dict:
            external = [parameters]
        elif isinstance(parameters, list) and parameters and isinstance(parameters[0], dict):
            external = parameters
        else:
            return False
        names = frozenset(external[0])
        if len(external) > 1 and any(frozenset(p) != names for p in external):
            return False
        shape = _shape_for(statement, names)
        if shape is None:
            return False
        if shape.inline:
            binds = statement._generate_cache_key().bindparams
            lifted = {f"_b{i}": binds[i].effective_value for i in shape.inline}
            rows = [{**lifted, **p} for p in external] if names else [lifted]
        else:
            binds = ()
            rows = [dict(p) for p in external]  # the caller may reuse its dicts
        queue = self._queues.get(shape.table)
        if queue is None:
            queue = self._queues[shape.table] = _TableQueue([], {}, {})
        keys: list[tuple[Any, ...]] | None = None
        if shape.key is None:
            bound = len(queue.groups) - 1  # after every write to the table
        else:
            keys = [
                tuple(
                    binds[where].effective_value if kind == "inline" else row[where]
                    for kind, where in shape.key
                )
                for row in external
            ]
            kinds = tuple(map(type, keys[0]))
            if queue.key_types is None:
                queue.key_types = kinds
            if kinds != queue.key_types or any(tuple(map(type, k)) != kinds for k in keys[1:]):
                keys = None  # one row named two ways (a str for a UUID, say): keep full order
                bound = len(queue.groups) - 1
            else:
                row_at = queue.row_at
                bound = queue.whole_at
                for k in keys:
                    at_k = row_at.get(k, -1)
                    if at_k > bound:
                        bound = at_k
                if shape.unique_writer and queue.unique_at > bound:
                    bound = queue.unique_at
        at = queue.latest.get(shape, -1)
        if at >= 0 and at >= bound:  # rows of one group run in order
            group = queue.groups[at]
            group.rows.extend(rows)
            if keys is None or any(queue.row_at.get(k) == at for k in keys):
                group.ordered = True
        else:
            at = len(queue.groups)
            group = _Group(shape, list(rows), ordered=keys is None)
            queue.groups.append(group)
            queue.latest[shape] = at
        if keys is None:
            queue.whole_at = at
        else:
            if len(keys) > 1 and len(set(keys)) < len(keys):
                group.ordered = True
            for k in keys:
                queue.row_at[k] = at
        if shape.unique_writer:
            queue.unique_at = at
        return True

    def _flush_table(self, table: sa.Table) -> None:
        queue = self._queues.pop(table, None)
        if queue is None:
            return
        read_back = table in _READ_BACK and self.dialect.name == "postgresql"
        for group in queue.groups:
            rows = group.rows
            shape = group.shape
            result = None
            if len(rows) > 1 and not group.ordered and self.dialect.name == "postgresql":
                bulk = _bulk_update(shape)
                if bulk is not None:
                    statement, sources = bulk
                    if read_back:
                        statement = _returning(statement, table)
                    params = {a: [row[n] for row in rows] for a, n in sources}
                    result = self._conn.execute(statement, params)
            if result is None:
                statement = shape.template
                # RETURNING works for an INSERT of many rows, an UPDATE of one.
                single = len(rows) == 1 and isinstance(statement, sa.Update)
                if read_back and (shape.shared_rows or single):
                    statement = _returning(statement, table)
                result = self._conn.execute(statement, rows if len(rows) > 1 else rows[0])
            if not read_back:
                continue
            if result.returns_rows:
                # Every row it changed comes back as it is now; the rest it left as they were.
                images = self._images.setdefault(table, {})
                pk = _pk_names(table)
                for row in result:
                    images[tuple(row._mapping[c] for c in pk)] = row._mapping
            else:
                self._images.pop(table, None)

    def _answer(self, lookup: _Lookup, parameters: Any) -> list[tuple[Any, ...]] | None:
        """The rows a key lookup reads, from what this batch wrote, if it wrote them all."""
        images = self._images.get(lookup.table)
        if not images:
            return None
        given = parameters if isinstance(parameters, dict) else {}
        wanted: dict[str, list[Any]] = {}
        for column, kind, source in lookup.conditions:
            if isinstance(source, str):
                if source not in given:
                    return None
                value = given[source]
            else:
                value = source.value
            values = list(value) if kind == "in" else [value]
            wanted[column] = (
                values if column not in wanted else [v for v in wanted[column] if v in values]
            )
        found = []
        for key in dict.fromkeys(itertools.product(*(wanted[c] for c in _pk_names(lookup.table)))):
            row = images.get(key)
            if row is None:
                return None  # a row this batch did not write: ask the database
            if all(row[c] in values for c, values in wanted.items()):
                found.append(tuple(row[c] for c in lookup.columns))
        return found


_SHAPES: dict[Any, _Shape | None] = {}
"""Statement shapes seen so far, by cache key and parameter names (the projectors make a few
dozen); None for those that cannot be batched."""
_BY_STATEMENT: dict[int, tuple[Any, dict[frozenset[str], _Shape | None]]] = {}
"""The same for statements the projectors build once and reuse, by identity (no cache key to
make and hash); the statement is kept, so its id is not reused."""
_SHAPES_LIMIT = 4096


def _shape_for(statement: Any, names: frozenset[str]) -> _Shape | None:
    """How to batch ``statement`` executed with parameters ``names``; None if it cannot be."""
    known = _BY_STATEMENT.get(id(statement))
    if known is not None and known[0] is statement and names in known[1]:
        return known[1][names]
    cache_key = statement._generate_cache_key()
    if cache_key is None:
        return None
    shape_key = (cache_key.key, names)
    if shape_key in _SHAPES:
        shape = _SHAPES[shape_key]
    else:
        try:
            shape = _shape_of(statement, cache_key.bindparams, names)
        except Exception:  # a statement this does not understand: run it as it comes
            log.exception("ingest: cannot batch a projection statement; it runs unbatched")
            shape = None
        if len(_SHAPES) < _SHAPES_LIMIT:
            _SHAPES[shape_key] = shape
    if shape is None or not shape.inline:  # nothing to read from this very statement
        if len(_BY_STATEMENT) >= _SHAPES_LIMIT:
            _BY_STATEMENT.clear()
        _BY_STATEMENT.setdefault(id(statement), (statement, {}))[1][names] = shape
    return shape


def _shape_of(statement: Any, binds: Sequence[Any], names: frozenset[str]) -> _Shape | None:
    """Work out how to batch a write, or None when it must run unbatched."""
    table = statement.table
    if not isinstance(table, sa.Table) or statement._returning:
        return None
    is_insert = isinstance(statement, sa.Insert)
    if is_insert and (statement._multi_values or statement._select_names is not None):
        return None
    inline = {id(b): i for i, b in enumerate(binds) if not b.required}
    for b in binds:
        if b.expanding or b.literal_execute or (b.required and b.key not in names):
            return None
    if not _reads_only_its_row(statement, table):
        return None

    def lift(element: Any) -> Any:
        if isinstance(element, BindParameter) and id(element) in inline:
            return sa.bindparam(f"_b{inline[id(element)]}", type_=element.type)
        return None

    template: Any = visitors.replacement_traverse(statement, {}, lift)  # type: ignore[call-overload]
    pk = [c.name for c in table.primary_key.columns]
    unique = _unique_columns(table)
    values: dict[str, Any] = {
        (k if isinstance(k, str) else k.name): v for k, v in (statement._values or {}).items()
    }
    key: list[tuple[str, Any]] | None = []
    if is_insert:
        conflict = statement._post_values_clause
        target = None if conflict is None else conflict.inferred_target_elements
        if (
            target is not None
            and getattr(conflict, "constraint_target", None) is None
            and (sorted(str(t) for t in target) != sorted(pk))
        ):
            key = None  # ON CONFLICT on another key: which row it updates is not known here
        to_set = {} if conflict is None else getattr(conflict, "update_values_to_set", {})
        sets = list(to_set.items() if isinstance(to_set, dict) else to_set)
        writes_unique = bool(unique)
        if sets and any(_name(k) in pk for k, _ in sets):
            key = None
    else:
        where = _key_equalities(statement.whereclause, table)
        bound_names = {b.key for b in binds}
        sets = list(values.items()) + [
            (n, None) for n in names if n in table.c and n not in bound_names and n not in values
        ]
        writes_unique = any(_name(k) in unique for k, _ in sets) or (
            isinstance(statement, sa.Delete) and bool(unique)
        )
        if where is None or any(_name(k) in pk for k, _ in sets):
            key = None
    if key is not None:
        for col in pk:
            if is_insert:
                source = values.get(col)
                if source is None and col in names:
                    key.append(("param", col))
                    continue
            else:
                source = (where or {}).get(col)
            if isinstance(source, BindParameter) and id(source) in inline:
                key.append(("inline", inline[id(source)]))
            elif isinstance(source, BindParameter) and source.required:
                key.append(("param", source.key))
            else:
                key = None
                break
    return _Shape(
        table=table,
        template=template,
        source=statement,
        lifted={i: f"_b{n}" for i, n in inline.items()},
        inline=tuple(sorted(inline.values())),
        key=None if key is None else tuple(key),
        unique_writer=writes_unique,
        shared_rows=is_insert,
        params=names,
    )


_BULK: dict[int, tuple[Any, tuple[tuple[str, str], ...]] | None] = {}
_BULK_TYPES = (
    sa.String,
    sa.Integer,
    sa.Boolean,
    sa.Uuid,
    sa.Date,
    sa.DateTime,
    sa.Time,
    sa.Numeric,
    sa.Float,
    sa.Interval,
    sa.LargeBinary,
)
"""Column types whose arrays PostgreSQL and asyncpg take as they are."""


def _bulk_update(shape: _Shape) -> tuple[Any, tuple[tuple[str, str], ...]] | None:
    """The set-based form of an UPDATE shape on PostgreSQL, for a group whose rows are all
    different: ``UPDATE t SET c = v.c … FROM unnest(:c_array, …) AS v(…) WHERE t.k = v.k``,
    one statement for the whole group instead of one execution per row. Returns the statement
    and, per array it takes, ``(array parameter, row parameter)``; None when the shape is not
    an UPDATE of plain values."""
    key = id(shape)
    if key in _BULK:
        return _BULK[key]
    found: tuple[Any, tuple[tuple[str, str], ...]] | None = None
    template = shape.source
    if isinstance(template, sa.Update) and len(_BULK) < _SHAPES_LIMIT:
        table = shape.table
        bound = {e.key for e in visitors.iterate(template) if isinstance(e, BindParameter)}
        implicit = sorted(n for n in shape.params if n not in bound and n in table.c)
        if implicit:  # the columns it sets from its parameters, made explicit
            template = template.values(
                {n: sa.bindparam(f"_s_{n}", type_=table.c[n].type) for n in implicit}
            )
        values = {_name(k): v for k, v in (template._values or {}).items()}
        binds: dict[str, Any] = {}  # the row parameter each bind parameter takes → it
        types: dict[str, Any] = {}
        for element in visitors.iterate(template):
            if isinstance(element, BindParameter):
                name = shape.lifted.get(id(element), element.key)
                binds[name] = element
                kind: Any = element.type
                if isinstance(kind, NullType):
                    column = next((c for c, v in values.items() if v is element), None)
                    kind = None if column is None else table.c[column].type
                types[name] = kind
        plain = all(
            isinstance(t.impl if isinstance(t, TypeDecorator) else t, _BULK_TYPES)
            for t in types.values()
        )
        if binds and plain:
            names = tuple(sorted(binds))
            arrays = [sa.bindparam(f"_a{n}", type_=postgresql.ARRAY(types[n])) for n in names]
            rows = (
                sa.func.unnest(*arrays)
                .table_valued(*(sa.column(n, types[n]) for n in names))
                .render_derived(name="_v")
            )

            def to_column(element: Any) -> Any:
                if isinstance(element, BindParameter):
                    name = shape.lifted.get(id(element), element.key)
                    if binds.get(name) is element:
                        return rows.c[name]
                return None

            statement = visitors.replacement_traverse(template, {}, to_column)  # type: ignore[call-overload]
            sources = tuple((f"_a{n}", n.removeprefix("_s_")) for n in names)
            found = (statement, sources)
    _BULK[key] = found
    return found


def _name(key: Any) -> str:
    return key if isinstance(key, str) else str(getattr(key, "name", key))


@functools.cache
def _unique_columns(table: sa.Table) -> frozenset[str]:
    """Columns of the table's unique constraints and indexes other than its primary key."""
    pk = set(table.primary_key.columns)
    found: set[str] = set()
    for c in table.constraints:
        if isinstance(c, sa.UniqueConstraint) and set(c.columns) != pk:
            found.update(col.name for col in c.columns)
    for index in table.indexes:
        if index.unique:
            found.update(col.name for col in index.columns)
    found.update(col.name for col in table.columns if col.unique)
    return frozenset(found)


def _key_equalities(where: Any, table: sa.Table) -> dict[str, Any] | None:
    """``column name → bind parameter`` of the ``column = value`` terms ANDed in ``where``."""
    if where is None:
        return None
    terms = list(where.clauses) if isinstance(where, BooleanClauseList) else [where]
    if isinstance(where, BooleanClauseList) and where.operator is not operators.and_:
        return {}
    found: dict[str, Any] = {}
    for term in terms:
        if (
            isinstance(term, BinaryExpression)
            and term.operator is operators.eq
            and isinstance(term.left, sa.Column)
            and term.left.table is table
            and isinstance(term.right, BindParameter)
        ):
            found[term.left.name] = term.right
    return found


def _reads_only_its_row(statement: Any, table: sa.Table) -> bool:
    """Whether the write's values and condition refer to nothing but its own row (and, for an
    upsert, the row proposed for insertion): no subquery, no other table."""
    for element in visitors.iterate(statement):
        if isinstance(element, sa.Select | sa.TextClause | sa.ScalarSelect):
            return False
        if isinstance(element, sa.Column):
            owner = element.table
            if owner is not table and not (
                isinstance(owner, sa.Alias) and owner.element is table and owner.name == "excluded"
            ):
                return False
    return True


_READ_BACK: set[sa.Table] = set()
"""Tables projectors read back by key after writing them (the stock levels): their batched
writes return the rows they write, so the read is answered without another round trip."""
_RETURNING: dict[int, Any] = {}


def _returning(statement: Any, table: sa.Table) -> Any:
    key = id(statement)
    found = _RETURNING.get(key)
    if found is None or found[0] is not statement:
        found = _RETURNING[key] = (statement, statement.returning(*table.c))
    return found[1]


@functools.cache
def _pk_names(table: sa.Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.primary_key.columns)


@dataclass(frozen=True, eq=False)
class _Lookup:
    """A SELECT of some columns of one table's rows picked by their whole primary key (``=`` or
    ``IN``) and perhaps more ``=``/``IN`` conditions, nothing else."""

    table: sa.Table
    columns: tuple[str, ...]
    conditions: tuple[tuple[str, str, Any], ...]
    """``(column, "eq" | "in", bind parameter name or BindParameter with its value)``."""


_LOOKUPS: dict[int, tuple[Any, _Lookup | None]] = {}
_SELECT_EXTRAS = (
    "_order_by_clauses",
    "_group_by_clauses",
    "_having_criteria",
    "_setup_joins",
    "_with_options",
    "_independent_ctes",
    "_prefixes",
    "_suffixes",
    "_hints",
    "_statement_hints",
    "_distinct_on",
)


def _lookup_of(statement: Any) -> _Lookup | None:
    """``statement`` as a key lookup, or None when it is anything more."""
    known = _LOOKUPS.get(id(statement))
    if known is not None and known[0] is statement:
        return known[1]
    try:
        lookup = _as_lookup(statement)
    except Exception:  # not understood: it is no lookup
        lookup = None
    if len(_LOOKUPS) >= _SHAPES_LIMIT:
        _LOOKUPS.clear()
    _LOOKUPS[id(statement)] = (statement, lookup)
    return lookup


def _as_lookup(statement: Any) -> _Lookup | None:
    if any(getattr(statement, a, None) for a in _SELECT_EXTRAS) or statement._distinct:
        return None
    if (
        statement._limit_clause is not None
        or statement._offset_clause is not None
        or statement._fetch_clause is not None
        or statement._for_update_arg is not None
    ):
        return None
    froms = statement.get_final_froms()
    if len(froms) != 1 or not isinstance(froms[0], sa.Table):
        return None
    table = froms[0]
    columns = []
    for c in statement.selected_columns:
        if not isinstance(c, sa.Column) or c.table is not table:
            return None
        columns.append(c.name)
    where = statement.whereclause
    if where is None:
        return None
    if isinstance(where, BooleanClauseList):
        if where.operator is not operators.and_:
            return None
        terms = list(where.clauses)
    else:
        terms = [where]
    conditions = []
    for term in terms:
        if not (
            isinstance(term, BinaryExpression)
            and isinstance(term.left, sa.Column)
            and term.left.table is table
            and isinstance(term.right, BindParameter)
        ):
            return None
        bind = term.right
        if term.operator is operators.eq and not bind.expanding:
            kind = "eq"
        elif term.operator is operators.in_op and bind.expanding:
            kind = "in"
        else:
            return None
        if bind.callable is not None:
            return None
        source = bind.key if bind.required else bind
        conditions.append((term.left.name, kind, source))
    if not set(_pk_names(table)) <= {c for c, _, _ in conditions}:
        return None
    return _Lookup(table, tuple(columns), tuple(conditions))


_TABLES_OF: dict[int, tuple[Any, frozenset[sa.Table] | None]] = {}


def _tables_of(statement: Any) -> frozenset[sa.Table] | None:
    """The tables a statement reads or writes, or None when that cannot be told for sure."""
    known = _TABLES_OF.get(id(statement))
    if known is not None and known[0] is statement:
        return known[1]
    tables: frozenset[sa.Table] | None = None
    if isinstance(statement, sa.ClauseElement):
        found: set[sa.Table] = set()
        for element in visitors.iterate(statement):
            if isinstance(element, sa.TextClause):
                break
            if isinstance(element, sa.Table):
                found.add(element)
            elif isinstance(element, sa.TableClause):
                break  # a lightweight table(): its Table is not known
        else:
            tables = frozenset(found)
    if len(_TABLES_OF) >= _SHAPES_LIMIT:
        _TABLES_OF.clear()
    _TABLES_OF[id(statement)] = (statement, tables)
    return tables
