"""The connection central's ingest folds a batch's projections through: writes queued, combined
and sent a few statements per table, whatever the batch size.

Projectors run one event at a time, each write a statement; run as such, a batch of 500 events
costs about 550 round trips to PostgreSQL. ``Batching`` stands in for the connection instead: a
write whose result nobody reads (an INSERT, UPDATE or DELETE without RETURNING) is queued, and
the queue is sent when something needs the database (a read of the table, ``flush``):

- writes of the same shape (one SQL text) to the same table go as one statement: a plain
  INSERT's rows (no ON CONFLICT) as one JSON document on PostgreSQL (``json_rows``), an UPDATE's
  as one ``UPDATE … FROM unnest(…)``, anything else as one ``executemany``;
- *plain* updates (``SET column = value …`` of one row picked by its whole primary key) are
  combined per row: every column one row gets in the batch, whichever statements set them, is
  set once; when this batch inserted the row, the values go into its INSERT instead; the rows
  updated go as one statement per table (on PostgreSQL, one JSON document; a column only some
  rows set is kept in the others);
- an upsert (``ON CONFLICT (primary key) DO UPDATE SET c = excluded.c, n = t.n + excluded.n``)
  of a row whose current values this batch knows, or knows to be missing, is worked out here
  (``_Emulation``) and queued as the plain update or insert it amounts to.

A write may move ahead of earlier queued ones only if it cannot touch the rows they touch:

- writes to different tables never interact (projection tables have no foreign keys or
  triggers), so each table keeps its own queue;
- within a table, a write keeps its order relative to every earlier write of the same row
  (primary key), and relative to everything when its row cannot be told; writes that may set a
  secondary unique key keep their order among themselves (combining plain updates never moves
  one of those: an update that sets such a key is not plain);
- a write whose values or condition read other rows (a subquery, another table) is not queued:
  everything queued is sent first, then it runs.

A read (a SELECT) first sends what is queued for the tables it reads. A read of rows by primary
key (``_Lookup``, e.g. the stock levels a sale just changed) is answered here instead when this
batch knows those rows (``_Known``: rows its writes returned, rows it worked out); the first
such read of a store's rows that misses reads all of them (``_prefetch``), so the next ones
need no round trip. The caller ``flush``es before the batch's SAVEPOINT is released, so a
failing write fails the batch as it would have unbatched (the caller then folds the events one
by one, unbatched).
"""

from __future__ import annotations

import functools
import itertools
import logging
import operator
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.types import TypeDecorator

from schema.tables.base import UTCDateTime
from server.central.fold.json_rows import NotJson, insert_sql, json_rows, update_sql

log = logging.getLogger(__name__)

Key = tuple[Any, ...]
"""A row's primary-key values, in the primary key's column order."""


class ResultNeeded(RuntimeError):
    """A projector used the result of a write that was batched, or a part of the connection
    batching does not cover (none does today): the batch is folded again one event at a time,
    unbatched, and this is logged once."""


class _NoResult:
    """What a batched write returns: it has not run yet, so it has no result to give."""

    def __getattr__(self, name: str) -> Any:
        raise ResultNeeded(f"the result of a batched write was used ({name})")


_NO_RESULT = _NoResult()


@dataclass(frozen=True, eq=False)
class _Emulation:
    """What an upsert on the primary key does to a row, worked out here when this batch knows
    the row (``_Known``) or knows there is none.

    ``as_read`` (below) gives the value a read of a column returns for the value written, or
    ``_UNKNOWN`` when that cannot be told here."""

    sets: tuple[tuple[str, str, bool, Callable[[Any], Any]], ...]
    """Its ``DO UPDATE SET``: ``(column, row parameter, adds, as_read)``: the column becomes
    the proposed value (``excluded.c``) or the row's value plus it (``t.c + excluded.c``)."""
    inserts: tuple[tuple[str, str, Callable[[Any], Any]], ...] | None
    """The row it inserts when there is none: every column it gives; None when that row
    cannot be told."""
    others: tuple[str, ...]
    """The columns it does not give, NULL in the row it inserts (none has a default)."""

    def inserted(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """The row inserted from parameters ``row``, as a read returns it; None if unknown."""
        if self.inserts is None:
            return None
        image: dict[str, Any] = dict.fromkeys(self.others)
        for column, param, as_read in self.inserts:
            value = as_read(row[param])
            if value is _UNKNOWN:
                return None
            image[column] = value
        return image


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
    key: Callable[[dict[str, Any]], Key] | None
    """The primary key of the row written, from its row parameters (an inline value is one,
    ``_b<i>``); None when the row written cannot be told from the statement (it then keeps
    its place among every write to the table)."""
    unique_writer: bool
    """It may add or change a value of a unique constraint other than the primary key: such
    writes keep their order among themselves (a reorder could turn a violation into a success
    or back)."""
    shared_rows: bool
    """An INSERT: its rows go into one multi-row statement."""
    params: frozenset[str]
    """Names of the parameters it is executed with (an UPDATE sets the columns among them)."""
    plain: dict[str, str] | None = None
    """For a plain write, the row parameter each column it writes takes: an INSERT without ON
    CONFLICT (its whole row), or an UPDATE of one row picked by its whole primary key and
    nothing else that sets columns to given values (no expressions, no secondary unique key).
    None for any other write."""
    emulation: _Emulation | None = None
    """For an upsert whose effect on a row this batch knows can be worked out here."""


@dataclass
class _Group:
    """Writes of one shape to one table, sent as one ``executemany`` (or one set-based
    statement)."""

    shape: _Shape
    rows: list[dict[str, Any]]
    keys: list[Key] | None
    """The rows written, by primary key; None when one of them cannot be told."""
    ordered: bool = False
    """Its rows must run one after the other: one row is written twice, or a row cannot be
    told."""
    inserted: dict[Key, dict[str, Any] | None] = field(default_factory=dict)
    """For a plain INSERT, each row's parameters by primary key (None for a row inserted twice):
    plain updates of the row that follow it go into them."""


@dataclass
class _Patch:
    """Plain updates combined: per row, by primary key, the values its columns get. Each row is
    in it once, so the order of its rows does not matter."""

    rows: dict[Key, dict[str, Any]]
    known: set[Key] = field(default_factory=set)
    """Rows whose values after it this batch worked out (``_Known``); it knows no others."""


@dataclass
class _TableQueue:
    """The queued writes to one table, in the order they must run."""

    table: sa.Table
    ops: list[_Group | _Patch]
    latest: dict[_Shape, int]
    """Index of the newest group of each shape."""
    row_at: dict[Key, int]
    """Index of the op that last wrote each row (by primary key)."""
    whole_at: int = -1
    """Index of the last group whose rows cannot be told (table-wide)."""
    unique_at: int = -1
    """Index of the last group holding a unique writer."""
    patch_at: int = -1
    """Index of the newest ``_Patch``."""
    key_types: tuple[type, ...] | None = None
    """The Python types of the primary-key values seen, so one row is never known by two
    keys (a different type makes a write keep its place among all of the table's)."""


@dataclass
class _Known:
    """What this batch knows of one table's rows as they will be once every queued write has
    run: rows it read back (``RETURNING``, a prefetch) or worked out (``_Emulation``)."""

    rows: dict[Key, dict[str, Any]] = field(default_factory=dict)
    whole: set[Key] = field(default_factory=set)
    """Key prefixes (every primary-key value but the last: the store's) under which it knows
    every row: a key under one of them that is not in ``rows`` has no row."""

    def get(self, key: Key) -> dict[str, Any] | object | None:
        """The row, None when there is none, ``_UNKNOWN`` when this batch does not know."""
        row = self.rows.get(key)
        if row is None and key[:-1] not in self.whole:
            return _UNKNOWN
        return row

    def forget(self, key: Key) -> None:
        self.rows.pop(key, None)
        self.whole.discard(key[:-1])


class Batching:
    """The connection the projectors write through while a batch is folded (see the module
    docstring)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect
        self._pg = conn.dialect.name == "postgresql"
        self._queues: dict[sa.Table, _TableQueue] = {}
        self._known: dict[sa.Table, _Known] = {}
        """Per table, the rows this batch knows (see ``_Known``): a read of rows by primary key
        (``_Lookup``) that it knows is answered from here."""

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
                found = self._answer(lookup, parameters)
                if found is None:
                    self._flush_table(lookup.table)
                    self._prefetch(lookup, parameters)
                    found = self._answer(lookup, parameters)
                if found is not None:
                    return IteratorResult(SimpleResultMetaData(lookup.columns), iter(found))
        # It runs now: what is queued for the tables it reads or writes goes first.
        tables = _tables_of(statement)
        if tables is None:
            self.flush()
            self._known.clear()
        else:
            for table in tables:
                self._flush_table(table)
                if not isinstance(statement, sa.Select):
                    self._known.pop(table, None)
        return self._conn.execute(statement, parameters, **kw)

    def __getattr__(self, name: str) -> Any:
        # Projectors use ``execute`` and ``dialect`` only. Anything else (a SAVEPOINT, say)
        # would be scoped differently with writes queued: fold this batch unbatched instead.
        raise ResultNeeded(f"a projector used Connection.{name}")

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
        if len(external) > 1:
            first = external[0].keys()
            if any(p.keys() != first for p in external):
                return False
        shape = _shape_for(statement, names)
        if shape is None:
            return False
        rows = external  # the caller's: copied where kept, as the caller may reuse them
        if shape.inline:
            binds = statement._generate_cache_key().bindparams
            lifted = {f"_b{i}": binds[i].effective_value for i in shape.inline}
            rows = [{**lifted, **p} for p in external]
        queue = self._queues.get(shape.table)
        if queue is None:
            queue = self._queues[shape.table] = _TableQueue(shape.table, [], {}, {})
        keys = self._keys(queue, shape, rows)
        if keys is None:
            self._known.pop(shape.table, None)
            self._add(queue, shape, [dict(r) for r in rows], None)
            return True
        plain = shape.plain if not shape.shared_rows else None
        for key, row in zip(keys, rows, strict=True):
            if plain is not None:
                self._patch(queue, key, {c: row[p] for c, p in plain.items()})
                continue
            values, image = self._emulate(shape, key, row)
            if values is not None:
                self._patch(queue, key, values, image)
            else:
                self._add(queue, shape, [dict(row)], [key], image)
        return True

    @staticmethod
    def _keys(queue: _TableQueue, shape: _Shape, rows: list[dict[str, Any]]) -> list[Key] | None:
        """The primary key of each row written, or None when a row cannot be told."""
        if shape.key is None:
            return None
        keys = [shape.key(rows[0])] if len(rows) == 1 else list(map(shape.key, rows))
        for key in keys:
            kinds = tuple(map(type, key))
            if queue.key_types is None:
                queue.key_types = kinds
            elif kinds != queue.key_types:
                return None  # one row named two ways (a str for a UUID, say): keep full order
        return keys

    def _add(
        self,
        queue: _TableQueue,
        shape: _Shape,
        rows: list[dict[str, Any]],
        keys: list[Key] | None,
        image: dict[str, Any] | None = None,
    ) -> None:
        """Queue rows of a write as they are, in a group of their shape; ``image`` is the one
        row written as it will be, if known."""
        known = self._known.get(shape.table)
        if known is not None and keys is not None:
            if image is not None:  # an upsert inserting a row known to be missing
                known.rows[keys[0]] = image
            else:
                for k in keys:
                    known.forget(k)
        if keys is None:
            bound = len(queue.ops) - 1  # after every write to the table
        else:
            bound = queue.whole_at
            for k in keys:
                bound = max(bound, queue.row_at.get(k, -1))
            if shape.unique_writer:
                bound = max(bound, queue.unique_at)
        at = queue.latest.get(shape, -1)
        if at >= 0 and at >= bound:  # rows of one group run in order
            group = queue.ops[at]
            assert isinstance(group, _Group)
            group.rows.extend(rows)
            if keys is None or group.keys is None:
                group.keys = None
                group.ordered = True
            else:
                if any(queue.row_at.get(k) == at for k in keys):
                    group.ordered = True
                group.keys.extend(keys)
        else:
            at = len(queue.ops)
            group = _Group(shape, list(rows), None if keys is None else list(keys))
            group.ordered = keys is None
            queue.ops.append(group)
            queue.latest[shape] = at
        if keys is None:
            queue.whole_at = at
        else:
            if len(keys) > 1 and len(set(keys)) < len(keys):
                group.ordered = True
            for k, row in zip(keys, rows, strict=True):
                queue.row_at[k] = at
                if shape.plain is not None:  # a plain INSERT
                    group.inserted[k] = None if k in group.inserted else row
        if shape.unique_writer:
            queue.unique_at = at

    def _patch(
        self,
        queue: _TableQueue,
        key: Key,
        values: dict[str, Any],
        image: dict[str, Any] | None = None,
    ) -> None:
        """Queue a plain update of one row (``values`` is kept, not copied); ``image`` is the
        row after it, if known."""
        if image is not None:
            self._known.setdefault(queue.table, _Known()).rows[key] = image
        elif self._known:
            self._forget(queue.table, (key,))
        last = queue.row_at.get(key, -1)
        if last >= 0 and last > queue.whole_at:
            op = queue.ops[last]
            if isinstance(op, _Patch):
                op.rows[key].update(values)
                if image is not None:
                    op.known.add(key)
                elif op.known:
                    op.known.discard(key)
                return
            if self._into_insert(op, key, values):
                return
        at = queue.patch_at
        if at <= max(last, queue.whole_at):
            at = queue.patch_at = len(queue.ops)
            queue.ops.append(_Patch({}))
        op = queue.ops[at]
        assert isinstance(op, _Patch)
        op.rows[key] = values
        if image is not None:
            op.known.add(key)
        queue.row_at[key] = at

    @staticmethod
    def _into_insert(op: _Group | _Patch, key: Key, values: dict[str, Any]) -> bool:
        """Put an update of a row into the queued plain INSERT of it, if it is one."""
        if not isinstance(op, _Group) or op.shape.plain is None or not op.shape.shared_rows:
            return False
        row = op.inserted.get(key)
        columns = op.shape.plain
        if row is None or not values.keys() <= columns.keys():
            return False
        for column, value in values.items():
            row[columns[column]] = value
        return True

    def _emulate(
        self, shape: _Shape, key: Key, row: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """An upsert of a row this batch knows, as ``(values, image)``: the plain update that
        does the same to the row (None when there is no row: the upsert inserts it), and the
        row after it. ``(None, None)`` when it cannot be told here."""
        emulation = shape.emulation
        known = self._known.get(shape.table)
        if emulation is None or known is None:
            return None, None
        image = known.get(key)
        if image is _UNKNOWN:
            return None, None
        if image is None:
            return None, emulation.inserted(row)
        assert isinstance(image, dict)
        values: dict[str, Any] = {}
        after = dict(image)
        for column, param, adds, as_read in emulation.sets:
            value = row[param]
            if adds:
                current = image[column]
                if type(value) is not int or type(current) is not int:
                    return None, None
                value += current
            read = as_read(value)
            if read is _UNKNOWN:
                return None, None
            values[column] = value
            after[column] = read
        return values, after

    # ------------------------------------------------------------ sending

    def _flush_table(self, table: sa.Table) -> None:
        queue = self._queues.pop(table, None)
        if queue is None:
            return
        read_back = table in _READ_BACK and self._pg
        for op in queue.ops:
            if isinstance(op, _Patch):
                self._send_patch(table, op)
                if table in self._known:
                    self._forget(table, [k for k in op.rows if k not in op.known])
                continue
            result = self._send_group(op, read_back)
            if result is not None and result.returns_rows:
                # Every row it changed comes back as it is now; the rest it left as they were.
                self._learn(table, result.mappings())
            else:
                self._forget(table, op.keys)

    def _learn(self, table: sa.Table, rows: Iterable[Any]) -> None:
        known = self._known.setdefault(table, _Known())
        pk = _pk_names(table)
        for row in rows:
            known.rows[tuple(row[c] for c in pk)] = dict(row)

    def _forget(self, table: sa.Table, keys: Iterable[Key] | None) -> None:
        known = self._known.get(table)
        if known is None:
            return
        if keys is None:
            del self._known[table]
            return
        for k in keys:
            known.forget(k)

    def _send_group(self, group: _Group, read_back: bool) -> Any:
        rows = group.rows
        shape = group.shape
        table = shape.table
        plain_insert = shape.plain is not None and shape.shared_rows
        if self._pg and plain_insert and not read_back and self._insert_json(group):
            return None
        if len(rows) > 1 and not group.ordered and self._pg:
            bulk = _bulk_update(shape)
            if bulk is not None:
                statement, sources = bulk
                if read_back:
                    statement = _returning(statement, table)
                params = {a: [row[n] for row in rows] for a, n in sources}
                return self._conn.execute(statement, params)
        statement = shape.template
        # RETURNING works for an INSERT of many rows, an UPDATE of one.
        single = len(rows) == 1 and isinstance(statement, sa.Update)
        if read_back and (shape.shared_rows or single):
            statement = _returning(statement, table)
        return self._conn.execute(statement, rows if len(rows) > 1 else rows[0])

    def _send_patch(self, table: sa.Table, patch: _Patch) -> None:
        """Send combined plain updates: on PostgreSQL all in one statement, else one
        ``executemany`` per set of columns updated."""
        if self._pg and self._send_patch_json(table, patch):
            return
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        pk = _pk_names(table)
        for key, values in patch.rows.items():
            row = {f"k_{c}": value for c, value in zip(pk, key, strict=True)}
            row.update({f"v_{c}": value for c, value in values.items()})
            by_columns.setdefault(tuple(sorted(values)), []).append(row)
        for columns, rows in by_columns.items():
            self._conn.execute(_patch_statement(table, columns), rows if len(rows) > 1 else rows[0])

    def _send_patch_json(self, table: sa.Table, patch: _Patch) -> bool:
        """Send the rows as one JSON document; False when a value cannot go as JSON."""
        spec = json_rows(table, self.dialect)
        if spec is None:
            return False
        pk = _pk_names(table)
        present: set[str] = set(pk)
        for values in patch.rows.values():
            present.update(values)
        rows = [{**values, **dict(zip(pk, key, strict=True))} for key, values in patch.rows.items()]
        try:
            document = spec.encode(rows, present, masked=True)
        except NotJson:
            return False
        self._conn.execute(update_sql(spec, self.dialect), {"rows": document})
        return True

    def _insert_json(self, group: _Group) -> bool:
        """Send a plain INSERT's rows as one JSON document; False when a value cannot go so."""
        columns = group.shape.plain
        assert columns is not None
        spec = json_rows(group.shape.table, self.dialect)
        if spec is None:
            return False
        try:
            document = spec.encode(group.rows, columns, sources=columns)
        except NotJson:
            return False
        self._conn.execute(insert_sql(spec, self.dialect), {"rows": document})
        return True

    # ------------------------------------------------------------ reading what was written

    def _answer(self, lookup: _Lookup, parameters: Any) -> list[tuple[Any, ...]] | None:
        """The rows a key lookup reads, from what this batch knows, if it knows them all."""
        known = self._known.get(lookup.table)
        wanted = None if known is None else _wanted(lookup, parameters)
        if known is None or wanted is None:
            return None
        found = []
        for key in dict.fromkeys(itertools.product(*(wanted[c] for c in _pk_names(lookup.table)))):
            row = known.get(key)
            if row is _UNKNOWN:
                return None  # a row this batch does not know: ask the database
            if row is None:
                continue  # there is no such row
            assert isinstance(row, dict)
            if all(row[c] in values for c, values in wanted.items()):
                found.append(tuple(row[c] for c in lookup.columns))
        return found

    def _prefetch(self, lookup: _Lookup, parameters: Any) -> None:
        """Read every row of the looked-up table under the lookup's key prefix (the store's),
        so that later lookups and upserts of its rows need no round trip; only where there are
        at most ``PREFETCH_ROWS`` of them (else the table is not prefetched again)."""
        table = lookup.table
        pk = _pk_names(table)
        wanted = _wanted(lookup, parameters)
        if table in _TOO_MANY or len(pk) < 2 or wanted is None:
            return
        if any(len(wanted[c]) != 1 for c in pk[:-1]):
            return
        prefix = tuple(wanted[c][0] for c in pk[:-1])
        statement = _prefetch_statement(table)
        params: dict[str, Any] = {f"p_{c}": v for c, v in zip(pk[:-1], prefix, strict=True)}
        rows = self._conn.execute(statement, {**params, "n": PREFETCH_ROWS + 1}).mappings().all()
        self._learn(table, rows[:PREFETCH_ROWS])
        if len(rows) > PREFETCH_ROWS:
            _TOO_MANY.add(table)
        else:
            self._known[table].whole.add(prefix)


PREFETCH_ROWS = 200
"""Rows of one store a prefetch reads at most (stock levels: one per item the store has)."""
_TOO_MANY: set[sa.Table] = set()
"""Tables with more rows per store than a prefetch reads: not prefetched."""


@functools.cache
def _prefetch_statement(table: sa.Table) -> Any:
    """``SELECT * FROM table WHERE <primary key but its last column> = … LIMIT :n``."""
    pk = _pk_names(table)
    return (
        sa.select(table)
        .where(*(table.c[c] == sa.bindparam(f"p_{c}", type_=table.c[c].type) for c in pk[:-1]))
        .limit(sa.bindparam("n"))
    )


def _wanted(lookup: _Lookup, parameters: Any) -> dict[str, list[Any]] | None:
    """The values a key lookup asks for, per column; None when a parameter is missing."""
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
    return wanted


_SHAPES: dict[Any, _Shape | None] = {}
"""Statement shapes seen so far, by cache key and parameter names (the projectors make a few
dozen); None for those that cannot be batched."""
_BY_STATEMENT: dict[int, tuple[Any, dict[frozenset[str], _Shape | None]]] = {}
"""The same for statements the projectors build once and reuse, by identity (no cache key to
make and hash); the statement is kept, so its id is not reused."""
_SHAPES_LIMIT = 4096
_UNSEEN = object()


def _shape_for(statement: Any, names: frozenset[str]) -> _Shape | None:
    """How to batch ``statement`` executed with parameters ``names``; None if it cannot be."""
    known = _BY_STATEMENT.get(id(statement))
    if known is not None and known[0] is statement:
        shape = known[1].get(names, _UNSEEN)
        if shape is not _UNSEEN:
            return shape  # type: ignore[return-value]
    cache_key = statement._generate_cache_key()
    if cache_key is None:
        return None
    shape_key = (cache_key.key, names)
    shape = _SHAPES.get(shape_key, _UNSEEN)
    if shape is not _UNSEEN:
        # A shape seen before in another statement object: this one is likely built anew for
        # every write (not worth remembering by identity, and remembering it would keep it).
        return shape  # type: ignore[return-value]
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
    bound_names = {b.key for b in binds}
    implicit: list[tuple[str, Any]] = [  # columns set from the parameters of their names
        (n, None) for n in names if n in table.c and n not in bound_names and n not in values
    ]
    key: list[str] | None = []
    if is_insert:
        conflict = statement._post_values_clause
        target = None if conflict is None else conflict.inferred_target_elements
        if (
            target is not None
            and getattr(conflict, "constraint_target", None) is None
            and (sorted(str(t) for t in target) != sorted(pk))
        ):
            key = None  # ON CONFLICT on another key: which row it updates is not known here
        sets = _conflict_sets(conflict)
        writes_unique = bool(unique)
        if sets and any(_name(k) in pk for k, _ in sets):
            key = None
        assigned = list(values.items()) + implicit
    else:
        conflict = None
        where = _key_equalities(statement.whereclause, table)
        sets = assigned = list(values.items()) + implicit
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
                    key.append(col)
                    continue
            else:
                source = (where or {}).get(col)
            if isinstance(source, BindParameter) and id(source) in inline:
                key.append(f"_b{inline[id(source)]}")
            elif isinstance(source, BindParameter) and source.required:
                key.append(source.key)
            else:
                key = None
                break
    plain = emulation = None
    if key is not None and _is_simple(statement):
        sources = _sources(assigned, inline, table)
        if is_insert and conflict is None:
            plain = sources
        elif is_insert:
            emulation = _emulation_of(conflict, sources, table)
        elif isinstance(statement, sa.Update) and not writes_unique and _only_key(statement, table):
            plain = sources or None
    return _Shape(
        table=table,
        template=template,
        source=statement,
        lifted={i: f"_b{n}" for i, n in inline.items()},
        inline=tuple(sorted(inline.values())),
        key=None if key is None else _key_getter(tuple(key)),
        unique_writer=writes_unique,
        shared_rows=is_insert,
        params=names,
        plain=plain,
        emulation=emulation,
    )


def _key_getter(names: tuple[str, ...]) -> Callable[[dict[str, Any]], Key]:
    """The function giving a row's primary key from its parameters ``names``."""
    get = operator.itemgetter(*names)
    if len(names) == 1:
        return lambda row: (get(row),)
    return get


def _conflict_sets(conflict: Any) -> list[tuple[Any, Any]]:
    """``(column, value)`` of an upsert's ``DO UPDATE SET``; none for no ON CONFLICT."""
    to_set = {} if conflict is None else getattr(conflict, "update_values_to_set", {})
    return list(to_set.items() if isinstance(to_set, dict) else to_set)


_DML_EXTRAS = ("_prefixes", "_hints", "_return_defaults", "_ordered_values")


def _is_simple(statement: Any) -> bool:
    """No prefix (``INSERT OR IGNORE``), hint or ordered values that could change what the
    write does: what ``_Shape.plain`` and ``_Shape.emulation`` assume."""
    return not any(getattr(statement, a, None) for a in _DML_EXTRAS)


def _sources(
    assigned: list[tuple[Any, Any]], inline: dict[int, int], table: sa.Table
) -> dict[str, str] | None:
    """The row parameter each assigned column takes, when every value assigned is a bound value
    of the column's type (``None`` stands for the parameter of the column's name); None when
    one is an expression."""
    found: dict[str, str] = {}
    for column, value in assigned:
        name = _name(column)
        if value is None:
            found[name] = name
        elif not isinstance(value, BindParameter) or not _same_type(value, table.c[name]):
            return None
        elif id(value) in inline:
            found[name] = f"_b{inline[id(value)]}"
        elif value.required:
            found[name] = value.key
        else:
            return None
    return found


def _same_type(bind: BindParameter[Any], column: sa.Column[Any]) -> bool:
    return isinstance(bind.type, NullType) or type(bind.type) is type(column.type)


def _only_key(statement: Any, table: sa.Table) -> bool:
    """Whether the statement's WHERE is exactly ``pk1 = :a AND pk2 = :b …`` over the whole
    primary key."""
    where = statement.whereclause
    if where is None:
        return False
    terms = list(where.clauses) if isinstance(where, BooleanClauseList) else [where]
    if isinstance(where, BooleanClauseList) and where.operator is not operators.and_:
        return False
    found = _key_equalities(where, table) or {}
    return len(terms) == len(found) and set(found) == set(_pk_names(table))


def _emulation_of(
    conflict: Any, sources: dict[str, str] | None, table: sa.Table
) -> _Emulation | None:
    """How an upsert on the primary key changes a row, if each column it sets takes the
    proposed value or adds it (see ``_Emulation``)."""
    target = getattr(conflict, "inferred_target_elements", None) or ()
    if (
        sources is None
        or not _conflict_sets(conflict)  # DO NOTHING
        or getattr(conflict, "constraint_target", None) is not None
        or getattr(conflict, "update_whereclause", None) is not None
        or sorted(str(t) for t in target) != sorted(_pk_names(table))
    ):
        return None
    sets = []
    for column, value in _conflict_sets(conflict):
        name = _name(column)
        as_read = _reader(table.c[name].type)
        proposed = _proposed(value, table)
        adds = False
        if proposed is None and _adds_proposed(value, table, name):
            proposed, adds = name, True
        if as_read is None or proposed not in sources or (adds and not _is_integer(table, name)):
            return None
        sets.append((name, sources[proposed], adds, as_read))
    others = tuple(c.name for c in table.c if c.name not in sources)
    return _Emulation(tuple(sets), _inserts(table, sources, others), others)


def _inserts(
    table: sa.Table, sources: dict[str, str], others: tuple[str, ...]
) -> tuple[tuple[str, str, Callable[[Any], Any]], ...] | None:
    """``_Emulation.inserts``: None when a column's read-back cannot be told, or a column it
    does not give has a default or cannot be NULL (the insert would fail)."""
    for name in others:
        column = table.c[name]
        if not column.nullable or column.default is not None or column.server_default is not None:
            return None
    found = []
    for name, param in sources.items():
        as_read = _reader(table.c[name].type)
        if as_read is None:
            return None
        found.append((name, param, as_read))
    return tuple(found)


def _proposed(value: Any, table: sa.Table) -> str | None:
    """The column name of ``excluded.<column>``, or None for any other value."""
    if isinstance(value, sa.Column):
        owner = value.table
        if isinstance(owner, sa.Alias) and owner.element is table and owner.name == "excluded":
            return value.name
    return None


def _adds_proposed(value: Any, table: sa.Table, name: str) -> bool:
    """Whether ``value`` is ``<table>.<name> + excluded.<name>``."""
    return (
        isinstance(value, BinaryExpression)
        and value.operator is operators.add
        and isinstance(value.left, sa.Column)
        and value.left.table is table
        and value.left.name == name
        and _proposed(value.right, table) == name
    )


def _is_integer(table: sa.Table, name: str) -> bool:
    return isinstance(table.c[name].type, sa.Integer)


_UNKNOWN = object()
"""What ``_Emulation``'s ``as_read`` gives for a value whose stored form it cannot tell."""


def _utc_as_read(value: Any) -> Any:
    """``UTCDateTime``: what the column returns for an aware datetime written (UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return _UNKNOWN


def _exactly(kind: type) -> Callable[[Any], Any]:
    def as_read(value: Any) -> Any:
        return value if value is None or type(value) is kind else _UNKNOWN

    return as_read


def _instance_of(kind: type) -> Callable[[Any], Any]:
    def as_read(value: Any) -> Any:
        return value if value is None or isinstance(value, kind) else _UNKNOWN

    return as_read


def _reader(column_type: Any) -> Callable[[Any], Any] | None:
    """How a value written to a column of this type reads back, for the types an emulated
    upsert may set; None for the others."""
    if isinstance(column_type, UTCDateTime):
        return _utc_as_read
    if isinstance(column_type, TypeDecorator):
        return None
    if isinstance(column_type, sa.Uuid):
        return _instance_of(uuid.UUID)  # asyncpg's UUIDs are a subclass
    for kind, python in ((sa.Boolean, bool), (sa.Integer, int), (sa.String, str), (sa.Date, date)):
        if isinstance(column_type, kind):
            return _exactly(python)
    return None


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


@functools.cache
def _patch_statement(table: sa.Table, columns: tuple[str, ...]) -> Any:
    """``UPDATE table SET column = :v_<column> … WHERE pk = :k_<pk column> …``, for combined
    plain updates where they do not go as JSON."""
    pk = _pk_names(table)
    return (
        table.update()
        .where(*(table.c[c] == sa.bindparam(f"k_{c}", type_=table.c[c].type) for c in pk))
        .values({c: sa.bindparam(f"v_{c}", type_=table.c[c].type) for c in columns})
    )


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
    # The condition first: the cheapest to look at, and what most reads fail on.
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
        conditions.append((term.left, kind, source))
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
    if any(column.table is not table for column, _, _ in conditions):
        return None
    columns = []
    for c in statement.selected_columns:
        if not isinstance(c, sa.Column) or c.table is not table:
            return None
        columns.append(c.name)
    named = tuple((column.name, kind, source) for column, kind, source in conditions)
    if not set(_pk_names(table)) <= {c for c, _, _ in named}:
        return None
    return _Lookup(table, tuple(columns), named)


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
