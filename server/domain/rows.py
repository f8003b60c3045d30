"""Typed row operations: what a projector changes, said explicitly.

A projector folds one event into projection rows through a ``Rows``. Every operation names a
table and a row by its whole primary key:

- ``insert(table, row)``: a new row (a duplicate key is an error, as in SQL); ``insert_many``
  for many (one statement on the store, whatever their number);
- ``upsert(table, row, set=…, inc=…)``: insert the row, or, when its key exists, set the
  columns in ``set`` to the row's values and add the row's values to the columns in ``inc``;
  with neither, an existing row is left as it is (insert-or-ignore); ``upsert_many`` likewise;
- ``update(table, key, set={…}, inc={…})``: set columns and add to counters of the row with
  that key, if there is one;
- ``delete(table, key)``;
- ``get(table, key)``: the row as it stands now (after the operations before it), or None;
  ``key`` is the primary key or the columns of one of the table's unique constraints.

Projectors write only from their event's fields and the rows ``get`` returns, so folding the
log from scratch rebuilds the same rows anywhere. Two implementations apply the operations:
``ConnectionRows`` here, one statement each at once, inside the caller's transaction (the store
node, and central when it folds one event at a time); and central's batch fold
(``server.central.fold.batch_rows``), which records a batch's operations, answers ``get`` from what
the batch knows, and sends a few set-based statements per table.

A projector that needs rows ``get`` will ask for declares them (``projects(reads=…)``), so
central can read them for a whole batch at once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

Row = Mapping[str, Any]
"""Column name → value."""


class Rows(Protocol):
    """Where a projector's row operations go (see the module docstring)."""

    def insert(self, table: sa.Table, row: Row) -> None: ...

    def insert_many(self, table: sa.Table, rows: Sequence[Row]) -> None: ...

    def upsert(
        self,
        table: sa.Table,
        row: Row,
        *,
        set: tuple[str, ...] = (),
        inc: tuple[str, ...] = (),
    ) -> None: ...

    def upsert_many(
        self,
        table: sa.Table,
        rows: Sequence[Row],
        *,
        set: tuple[str, ...] = (),
        inc: tuple[str, ...] = (),
    ) -> None: ...

    def update(
        self,
        table: sa.Table,
        key: Row,
        *,
        set: Row | None = None,
        inc: Row | None = None,
    ) -> None: ...

    def delete(self, table: sa.Table, key: Row) -> None: ...

    def get(self, table: sa.Table, key: Row) -> dict[str, Any] | None: ...


# ------------------------------------------------------------------ shared by both appliers


@functools.cache
def primary_key(table: sa.Table) -> tuple[str, ...]:
    """The names of ``table``'s primary-key columns, in order."""
    names = tuple(c.name for c in table.primary_key.columns)
    if not names:
        raise TypeError(f"{table.name} has no primary key: row operations need one")
    return names


@functools.cache
def unique_keys(table: sa.Table) -> frozenset[frozenset[str]]:
    """Every set of columns that picks at most one row: the primary key and each unique
    constraint."""
    keys = {frozenset(primary_key(table))}
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            keys.add(frozenset(c.name for c in constraint.columns))
    return frozenset(keys)


def is_primary_key(table: sa.Table, key: Row) -> bool:
    """Whether ``key`` names a row by its primary key; raises if it names no unique key."""
    names = frozenset(key)
    if names == frozenset(primary_key(table)):
        return True
    if names not in unique_keys(table):
        raise ValueError(f"{table.name}: {sorted(names)} is not a unique key")
    return False


@functools.cache
def find_statement(table: sa.Table, names: frozenset[str]) -> Any:
    """``SELECT * … WHERE`` each of ``names`` equals ``:k_<name>``."""
    return sa.select(table).where(
        *(table.c[n] == sa.bindparam(f"k_{n}", type_=table.c[n].type) for n in sorted(names))
    )


def key_of(table: sa.Table, row: Row) -> tuple[Any, ...]:
    """The primary-key values of ``row`` (a whole row, or a key), in key order."""
    try:
        return tuple(row[name] for name in primary_key(table))
    except KeyError as exc:
        raise ValueError(f"{table.name}: no value for key column {exc.args[0]}") from None


def check_columns(table: sa.Table, names: Any) -> None:
    known = column_names(table)
    if not known.issuperset(names):
        unknown = [n for n in names if n not in known]
        raise ValueError(f"{table.name} has no column {', '.join(map(repr, unknown))}")


@functools.cache
def column_names(table: sa.Table) -> frozenset[str]:
    return frozenset(c.name for c in table.c)


def dialect_insert(table: sa.Table, dialect: str) -> Any:
    """``INSERT`` into ``table`` in ``dialect``'s form, which has ``ON CONFLICT``."""
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](table)


def patch_values(table: sa.Table, set_: tuple[str, ...], inc: tuple[str, ...]) -> dict[str, Any]:
    """``c = :v_c`` for each column set, ``n = n + :i_n`` for each counter added to."""
    values: dict[str, Any] = {c: sa.bindparam(f"v_{c}", type_=table.c[c].type) for c in set_}
    values.update({c: table.c[c] + sa.bindparam(f"i_{c}", type_=table.c[c].type) for c in inc})
    return values


def patch_params(set_: Row, inc: Row) -> dict[str, Any]:
    """The parameters of ``patch_values``."""
    params = {f"v_{c}": v for c, v in set_.items()}
    params.update({f"i_{c}": v for c, v in inc.items()})
    return params


@functools.cache
def upsert_statement(
    table: sa.Table, set_: tuple[str, ...], inc: tuple[str, ...], dialect: str
) -> Any:
    """``INSERT … ON CONFLICT (primary key) DO UPDATE SET c = excluded.c, n = t.n +
    excluded.n`` (``DO NOTHING`` when neither is given), in ``dialect``."""
    check_columns(table, set_ + inc)
    insert = dialect_insert(table, dialect)
    if not set_ and not inc:
        return insert.on_conflict_do_nothing(index_elements=list(primary_key(table)))
    values: dict[str, Any] = {c: insert.excluded[c] for c in set_}
    values.update({c: table.c[c] + insert.excluded[c] for c in inc})
    return insert.on_conflict_do_update(index_elements=list(primary_key(table)), set_=values)


@functools.cache
def update_statement(table: sa.Table, set_: tuple[str, ...], inc: tuple[str, ...]) -> Any:
    """``UPDATE t SET c = :v_c, n = n + :i_n WHERE pk = :k_pk``."""
    check_columns(table, set_ + inc)
    return table.update().where(*_key_condition(table)).values(patch_values(table, set_, inc))


@functools.cache
def delete_statement(table: sa.Table) -> Any:
    return table.delete().where(*_key_condition(table))


@functools.cache
def insert_statement(table: sa.Table) -> Any:
    return table.insert()


def _key_condition(table: sa.Table) -> list[Any]:
    return [
        table.c[name] == sa.bindparam(f"k_{name}", type_=table.c[name].type)
        for name in primary_key(table)
    ]


def key_params(table: sa.Table, key: Row) -> dict[str, Any]:
    names = primary_key(table)
    return {f"k_{n}": v for n, v in zip(names, key_of(table, key), strict=True)}


def update_params(table: sa.Table, key: Row, set_: Row, inc: Row) -> dict[str, Any]:
    return {**key_params(table, key), **patch_params(set_, inc)}


def same_columns(rows: Iterable[Row]) -> list[list[dict[str, Any]]]:
    """``rows`` grouped by their columns (an ``executemany`` needs the same in every row),
    each group in the given order."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(dict(row))
    return list(groups.values())


# ------------------------------------------------------------------ applied at once


class ConnectionRows:
    """Row operations run at once on ``conn``, one statement each, in the caller's
    transaction: what the store node's writer gives its projectors."""

    __slots__ = ("_dialect", "conn")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._dialect = conn.dialect.name

    def insert(self, table: sa.Table, row: Row) -> None:
        self.conn.execute(insert_statement(table), dict(row))

    def insert_many(self, table: sa.Table, rows: Sequence[Row]) -> None:
        for group in same_columns(rows):
            self.conn.execute(insert_statement(table), group)

    def upsert(
        self,
        table: sa.Table,
        row: Row,
        *,
        set: tuple[str, ...] = (),
        inc: tuple[str, ...] = (),
    ) -> None:
        self.conn.execute(upsert_statement(table, set, inc, self._dialect), dict(row))

    def upsert_many(
        self,
        table: sa.Table,
        rows: Sequence[Row],
        *,
        set: tuple[str, ...] = (),
        inc: tuple[str, ...] = (),
    ) -> None:
        statement = upsert_statement(table, set, inc, self._dialect)
        for group in same_columns(rows):
            self.conn.execute(statement, group)

    def update(
        self,
        table: sa.Table,
        key: Row,
        *,
        set: Row | None = None,
        inc: Row | None = None,
    ) -> None:
        set_, inc_ = set or {}, inc or {}
        if not set_ and not inc_:
            return
        statement = update_statement(table, tuple(set_), tuple(inc_))
        self.conn.execute(statement, update_params(table, key, set_, inc_))

    def delete(self, table: sa.Table, key: Row) -> None:
        self.conn.execute(delete_statement(table), key_params(table, key))

    def get(self, table: sa.Table, key: Row) -> dict[str, Any] | None:
        is_primary_key(table, key)  # refuses columns that are no unique key
        statement = find_statement(table, frozenset(key))
        params = {f"k_{n}": v for n, v in key.items()}
        found = self.conn.execute(statement, params).mappings().first()
        return None if found is None else dict(found)
