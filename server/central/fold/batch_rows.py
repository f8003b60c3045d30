"""Central's batch fold: a batch's row operations recorded, worked out per row, and sent as a few
set-based statements per table.

Folded one statement at a time, a batch of 500 events costs about 550 round trips to
PostgreSQL. ``BatchRows`` is the ``server.domain.rows.Rows`` central gives its projectors for a
whole batch instead. It keeps, per table and primary key, an ``_Entry``: what this batch knows
of the row, and what it has done to it:

- a row whose current values it knows (read from the database, or made by this batch's
  ``insert``/``upsert`` of a row known to be absent) takes every operation in memory;
- a row it has not read takes updates and upserts as a pending *patch* (columns set, counters
  added) and, after an upsert, the row to insert if the database has none; a ``get`` of it
  reads the row (one statement for all the rows a batch's projectors declared they will read,
  ``prefetch``) and applies what is pending.

``flush`` then sends, per table: the deletes, the updates (on PostgreSQL, rows that only set
columns go as one JSON document, ``json_rows``), the upserts, then the inserts, each group of
the same shape as one statement. Operations on different rows commute (projection tables have
no foreign keys or triggers, and no secondary unique key a projector changes), so only each
row's own order matters, and that is kept by working each row out in order.

A value the batch cannot tell how the database would read back (``read_back``; a tuple for a
JSON list, say) makes its row *inexact*: a ``get`` of it first sends the table's operations and
reads the row.

A duplicate ``insert`` fails as the database would fail it: at once when the batch knows the
row exists (``DuplicateRow``), else at ``flush`` with the database's ``IntegrityError``. The
caller then folds the batch's events one at a time (``server.domain.rows.ConnectionRows``) to
find the event at fault.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from server.central.fold.json_rows import NotJson, insert_sql, json_rows, update_sql
from server.central.fold.read_back import as_read
from server.domain.rows import (
    Row,
    check_columns,
    delete_statement,
    dialect_insert,
    find_statement,
    insert_statement,
    is_primary_key,
    key_of,
    key_params,
    patch_params,
    patch_values,
    primary_key,
    update_params,
    update_statement,
)

Key = tuple[Any, ...]
PREFETCH_CHUNK = 500
"""Keys per prefetching SELECT (a bound parameter each)."""


class DuplicateRow(ValueError):
    """An ``insert`` of a row this batch knows exists."""


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
"""A row (or value) this batch has not read."""


@dataclass(slots=True)
class _Entry:
    """What the batch knows of one row, and what it did to it."""

    base: Any = UNKNOWN
    """The row in the database as this batch found it: a dict, None (no row), or UNKNOWN."""
    value: Any = UNKNOWN
    """The row now: a dict, None (none), or UNKNOWN (not read; see the pending fields)."""
    deleted: bool = False
    """A DELETE goes first (the row was deleted without being read)."""
    assumed_absent: bool = False
    """``base`` is None because an ``insert`` took the row to be new, unread: checked when
    the row is read, or at flush (by the INSERT itself, or by a read when it was deleted)."""
    exact: bool = True
    """Every value in ``value`` reads back from the database as it is."""
    sets: dict[str, Any] = field(default_factory=dict)
    """Pending while ``value`` is UNKNOWN: columns set..."""
    incs: dict[str, Any] = field(default_factory=dict)
    """...and counters added to the row, if there is one..."""
    insert: dict[str, Any] | None = None
    """...and the row to insert if there is none (after an upsert)."""


class BatchRows:
    """The ``Rows`` of central's batch fold (see the module docstring). ``flush`` before the
    batch's transaction or SAVEPOINT ends."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._dialect = conn.dialect
        self._pg = conn.dialect.name == "postgresql"
        self._tables: dict[sa.Table, dict[Key, _Entry]] = {}

    # ------------------------------------------------------------ the operations

    def insert(self, table: sa.Table, row: Row) -> None:
        entry = self._entry(table, key_of(table, row))
        if entry.value is UNKNOWN:
            if entry.insert is not None:
                raise DuplicateRow(f"{table.name}: a row with this key exists")
            # Taken to be absent: if the database has it, the INSERT fails at flush, as the
            # statement would have failed here.
            entry.base, entry.sets, entry.incs = None, {}, {}
            entry.assumed_absent = not entry.deleted
        elif entry.value is not None:
            raise DuplicateRow(f"{table.name}: a row with this key exists")
        self._set_value(table, entry, dict(row))

    def insert_many(self, table: sa.Table, rows: Sequence[Row]) -> None:
        for row in rows:
            self.insert(table, row)

    def upsert_many(
        self,
        table: sa.Table,
        rows: Sequence[Row],
        *,
        set: tuple[str, ...] = (),
        inc: tuple[str, ...] = (),
    ) -> None:
        for row in rows:
            self.upsert(table, row, set=set, inc=inc)

    def upsert(
        self,
        table: sa.Table,
        row: Row,
        *,
        set: tuple[str, ...] = (),
        inc: tuple[str, ...] = (),
    ) -> None:
        check_columns(table, set + inc)
        sets = {c: row[c] for c in set}
        incs = {c: row[c] for c in inc}
        entry = self._entry(table, key_of(table, row))
        if entry.value is UNKNOWN:
            # Present: the pending patch, then this one. Absent: this row, or the row an
            # earlier upsert inserted with this patch applied.
            if entry.insert is None:
                entry.insert = dict(row)
            else:
                _apply(entry.insert, sets, incs)
            _compose(entry.sets, entry.incs, sets, incs)
        elif entry.value is None:
            self._set_value(table, entry, dict(row))
        else:
            self._patch_value(table, entry, sets, incs)

    def update(
        self,
        table: sa.Table,
        key: Row,
        *,
        set: Row | None = None,
        inc: Row | None = None,
    ) -> None:
        sets, incs = dict(set or {}), dict(inc or {})
        check_columns(table, [*sets, *incs])
        if not sets and not incs:
            return
        entry = self._entry(table, key_of(table, key))
        if entry.value is UNKNOWN:
            if entry.insert is not None:
                _apply(entry.insert, sets, incs)
            _compose(entry.sets, entry.incs, sets, incs)
        elif entry.value is not None:
            self._patch_value(table, entry, sets, incs)

    def delete(self, table: sa.Table, key: Row) -> None:
        entry = self._entry(table, key_of(table, key))
        if entry.value is UNKNOWN:
            entry.deleted = True
            entry.sets, entry.incs, entry.insert = {}, {}, None
        entry.value = None
        entry.exact = True

    def get(self, table: sa.Table, key: Row) -> dict[str, Any] | None:
        if not is_primary_key(table, key):
            return self._find(table, key)
        k = key_of(table, key)
        entry = self._entry(table, k)
        if entry.value is UNKNOWN:
            self.prefetch(table, [k])
        if not entry.exact:  # the database says what it made of the values
            self._flush_table(table)
            entry = self._entry(table, k)
            self.prefetch(table, [k])
        value = entry.value
        return None if value is None else dict(value)

    # ------------------------------------------------------------ reading rows

    def _find(self, table: sa.Table, unique: Row) -> dict[str, Any] | None:
        """The row with these values of a unique key other than the primary key: read from
        the database once the table's operations are sent (a rare read: a roster's names)."""
        self._flush_table(table)
        statement = find_statement(table, frozenset(unique))
        found = self.conn.execute(statement, {f"k_{n}": v for n, v in unique.items()})
        row = found.mappings().first()
        if row is None:
            return None
        found_row = dict(row)
        entries = self._tables.setdefault(table, {})
        entries[key_of(table, found_row)] = _Entry(base=dict(found_row), value=found_row)
        return dict(found_row)

    def prefetch(self, table: sa.Table, keys: Iterable[Key]) -> None:
        """Read the rows with these keys that this batch has not read, in a few statements,
        and apply to each what is pending."""
        entries = self._tables.setdefault(table, {})
        wanted = [k for k in dict.fromkeys(keys) if k not in entries or entries[k].value is UNKNOWN]
        if not wanted:
            return
        names = primary_key(table)
        found: dict[Key, dict[str, Any]] = {}
        for start in range(0, len(wanted), PREFETCH_CHUNK):
            chunk = wanted[start : start + PREFETCH_CHUNK]
            statement = sa.select(table).where(_keys_in(table, chunk))
            for row in self.conn.execute(statement).mappings():
                found[tuple(row[n] for n in names)] = dict(row)
        for k in wanted:
            entry = entries.setdefault(k, _Entry())
            base = found.get(k)
            entry.base = base
            if base is None:
                entry.value = None
                if entry.insert is not None:
                    self._set_value(table, entry, entry.insert)
            else:
                entry.value = dict(base)
                entry.exact = True
                self._patch_value(table, entry, entry.sets, entry.incs)
            entry.sets, entry.incs, entry.insert = {}, {}, None

    # ------------------------------------------------------------ sending

    def flush(self) -> None:
        """Send every operation recorded; the batch then knows the rows it had read."""
        for table in list(self._tables):
            self._flush_table(table)

    def _flush_table(self, table: sa.Table) -> None:
        entries = self._tables.pop(table, None)
        if not entries:
            return
        self._check_absent(table, entries)
        deletes: list[Key] = []
        inserts: list[dict[str, Any]] = []
        updates: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = {}
        upserts: dict[tuple[tuple[str, ...], ...], list[dict[str, Any]]] = {}
        kept: dict[Key, _Entry] = {}
        names = primary_key(table)
        for k, entry in entries.items():
            value, base = entry.value, entry.base
            key = dict(zip(names, k, strict=True))
            if value is UNKNOWN:
                if entry.insert is not None:
                    shape = (tuple(entry.insert), tuple(entry.sets), tuple(entry.incs))
                    params = {**entry.insert, **patch_params(entry.sets, entry.incs)}
                    upserts.setdefault(shape, []).append(params)
                elif entry.sets or entry.incs:
                    shape2 = (tuple(entry.sets), tuple(entry.incs))
                    updates.setdefault(shape2, []).append(
                        update_params(table, key, entry.sets, entry.incs)
                    )
                continue  # still not read: nothing to keep
            if entry.deleted or (base is not UNKNOWN and base is not None and value is None):
                deletes.append(k)
            if value is not None:
                if base is None or entry.deleted:
                    inserts.append(value)
                else:
                    changed = {c: v for c, v in value.items() if base.get(c, UNKNOWN) != v}
                    changed = {c: v for c, v in changed.items() if c not in names}
                    if changed:
                        shape2 = (tuple(sorted(changed)), ())
                        updates.setdefault(shape2, []).append(
                            update_params(table, key, changed, {})
                        )
            if entry.exact:  # the row as the database now holds it
                kept[k] = _Entry(base=None if value is None else dict(value), value=value)
        self._send_deletes(table, deletes)
        self._send_updates(table, updates)
        for (columns, sets, incs), rows in upserts.items():
            statement = _upsert_patch_statement(table, columns, sets, incs, self._dialect.name)
            self.conn.execute(statement, rows if len(rows) > 1 else rows[0])
        self._send_inserts(table, inserts)
        if kept:
            self._tables[table] = kept

    def _check_absent(self, table: sa.Table, entries: dict[Key, _Entry]) -> None:
        """An ``insert`` of a row not read, then deleted: the database must not have had it
        (the INSERT that checks it is never sent)."""
        unchecked = [k for k, e in entries.items() if e.assumed_absent and e.value is None]
        if (
            unchecked
            and self.conn.execute(
                sa.select(sa.literal(1)).where(_keys_in(table, unchecked)).limit(1)
            ).first()
        ):
            raise DuplicateRow(f"{table.name}: a row with this key exists")

    def _send_deletes(self, table: sa.Table, keys: list[Key]) -> None:
        if keys:
            rows = [key_params(table, dict(zip(primary_key(table), k, strict=True))) for k in keys]
            self.conn.execute(delete_statement(table), rows if len(rows) > 1 else rows[0])

    def _send_updates(
        self,
        table: sa.Table,
        groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]],
    ) -> None:
        if self._pg:
            groups = self._send_set_updates_json(table, groups)
        for (sets, incs), rows in groups.items():
            statement = update_statement(table, sets, incs)
            self.conn.execute(statement, rows if len(rows) > 1 else rows[0])

    def _send_set_updates_json(
        self,
        table: sa.Table,
        groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]],
    ) -> dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]]:
        """Every update that only sets columns, as one JSON document (each row sets its own
        columns, the others left as they are); returns the groups still to send."""
        spec = json_rows(table, self._dialect)
        only_sets = [shape for shape in groups if not shape[1]]
        if spec is None or sum(len(groups[s]) for s in only_sets) < 2:
            return groups
        names = primary_key(table)
        rows: list[dict[str, Any]] = []
        present: set[str] = set(names)
        for shape in only_sets:
            present.update(shape[0])
            for params in groups[shape]:
                row = {n: params[f"k_{n}"] for n in names}
                row.update({c: params[f"v_{c}"] for c in shape[0]})
                rows.append(row)
        try:
            document = spec.encode(rows, present, masked=True)
        except NotJson:
            return groups
        self.conn.execute(update_sql(spec, self._dialect), {"rows": document})
        return {shape: rows for shape, rows in groups.items() if shape[1]}

    def _send_inserts(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            by_columns.setdefault(tuple(row), []).append(row)
        for columns, group in by_columns.items():
            if self._pg and len(group) > 1 and self._insert_json(table, columns, group):
                continue
            self.conn.execute(insert_statement(table), group if len(group) > 1 else group[0])

    def _insert_json(self, table: sa.Table, columns: tuple[str, ...], rows: list[Any]) -> bool:
        spec = json_rows(table, self._dialect)
        if spec is None:
            return False
        try:
            document = spec.encode(rows, set(columns))
        except NotJson:
            return False
        self.conn.execute(insert_sql(spec, self._dialect), {"rows": document})
        return True

    # ------------------------------------------------------------ in memory

    def _entry(self, table: sa.Table, key: Key) -> _Entry:
        entries = self._tables.setdefault(table, {})
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = _Entry()
        return entry

    def _set_value(self, table: sa.Table, entry: _Entry, row: dict[str, Any]) -> None:
        check_columns(table, row)
        values, exact = as_read(table, row)
        full: dict[str, Any] = dict.fromkeys(_columns(table))
        full.update(values)
        if exact and len(values) < len(full):
            # A column left out is NULL, unless it has a default this cannot work out.
            exact = not any(name not in values for name in _defaulted(table))
        entry.value = full
        entry.exact = exact

    def _patch_value(
        self, table: sa.Table, entry: _Entry, sets: dict[str, Any], incs: dict[str, Any]
    ) -> None:
        sets, exact = as_read(table, sets)
        _apply(entry.value, sets, incs)
        entry.exact = entry.exact and exact and as_read(table, incs)[1]


@functools.cache
def _columns(table: sa.Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.c)


@functools.cache
def _defaulted(table: sa.Table) -> tuple[str, ...]:
    """The columns with a default (Python or server side)."""
    return tuple(c.name for c in table.c if c.default is not None or c.server_default is not None)


def _keys_in(table: sa.Table, keys: list[Key]) -> Any:
    columns = [table.c[n] for n in primary_key(table)]
    if len(columns) == 1:
        return columns[0].in_([k[0] for k in keys])
    return sa.tuple_(*columns).in_(keys)


# ------------------------------------------------------------------ patches


def _compose(sets: dict[str, Any], incs: dict[str, Any], more_sets: Row, more_incs: Row) -> None:
    """``(sets, incs)`` followed by ``(more_sets, more_incs)``, in place."""
    for c, v in more_sets.items():
        incs.pop(c, None)
        sets[c] = v
    for c, d in more_incs.items():
        if c in sets:
            sets[c] = None if sets[c] is None or d is None else sets[c] + d
        elif c in incs:
            incs[c] = None if incs[c] is None or d is None else incs[c] + d
        else:
            incs[c] = d


def _apply(row: dict[str, Any], sets: Row, incs: Row) -> None:
    """A patch applied to a known row, as SQL would (NULL plus anything is NULL)."""
    row.update(sets)
    for c, d in incs.items():
        current = row.get(c)
        row[c] = None if current is None or d is None else current + d


@functools.cache
def _upsert_patch_statement(
    table: sa.Table,
    columns: tuple[str, ...],
    sets: tuple[str, ...],
    incs: tuple[str, ...],
    dialect: str,
) -> Any:
    """``INSERT (columns) … ON CONFLICT (primary key) DO UPDATE SET c = :v_c, n = t.n +
    :i_n`` (``DO NOTHING`` without either): an upsert with a patch of its own for the row that
    exists, unlike SQL's usual ``excluded`` form."""
    binds = {c: sa.bindparam(c, type_=table.c[c].type) for c in columns}
    insert = dialect_insert(table, dialect).values(binds)
    pk = list(primary_key(table))
    values = patch_values(table, sets, incs)
    if not values:
        return insert.on_conflict_do_nothing(index_elements=pk)
    return insert.on_conflict_do_update(index_elements=pk, set_=values)
