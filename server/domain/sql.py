"""SQL helpers every domain shares: row lookups by key, ``IN`` over constants, and upserts that
run alike on SQLite and PostgreSQL.

Statements on the write path are built once and take their values as bound parameters
(``sa.bindparam``): building and caching-key a SQLAlchemy statement costs several times what
SQLite takes to run it, and a statement object that is reused hits the compiled cache at once.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from server.errors import NotFound

# ---------------------------------------------------------------- rows


@functools.cache
def _find_statement(table: sa.Table, key_col: Any) -> sa.Select[Any]:
    """``SELECT * FROM table WHERE store_id = :store_id AND key_col = :key``, built once."""
    return sa.select(table).where(
        table.c.store_id == sa.bindparam("store_id"), key_col == sa.bindparam("key")
    )


def one_of(column: Any, values: Iterable[Any]) -> Any:
    """``column IN (constants)`` for a statement built once: as ``column = a OR column = b``
    with ordinary bound values. (An IN list of Python values is an "expanding" parameter that
    SQLAlchemy renders anew on every execution; SQLite plans both forms alike.)"""
    return sa.or_(*(column == v for v in values))


def find_row(conn: Connection, table: sa.Table, store_id: str, key_col: Any, key: Any) -> Any:
    """The store's row of ``table`` whose ``key_col`` is ``key``, or None."""
    return conn.execute(_find_statement(table, key_col), {"store_id": store_id, "key": key}).first()


def row_or_404(
    conn: Connection, table: sa.Table, store_id: str, key_col: Any, key: Any, what: str
) -> Any:
    """The store's row of ``table`` whose ``key_col`` is ``key``; 404 ``no {what} {key}``."""
    row = find_row(conn, table, store_id, key_col, key)
    if row is None:
        raise NotFound(f"no {what} {key}")
    return row


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    keys: list[str],
    *,
    insert_only: Collection[str] = (),
    increment: Collection[str] = (),
) -> None:
    """Insert rows, or update those whose ``keys`` exist, on SQLite and PostgreSQL alike.

    ``rows`` is one row or many (sent as one ``executemany``; every row has the same columns).
    Columns in ``insert_only`` are written when a row is created and never overwritten (a
    ``created_at``, a flag that only the first fact decides); columns in ``increment`` are
    added to an existing row's value (a counter), atomically.
    """
    many = list(rows) if not isinstance(rows, Mapping) else [rows]
    if not many:
        return
    stmt = _upsert_statement(
        conn.dialect.name,
        table,
        tuple(keys),
        tuple(many[0]),
        frozenset(insert_only),
        frozenset(increment),
    )
    conn.execute(stmt, many)


@functools.cache
def _upsert_statement(
    dialect: str,
    table: sa.Table,
    keys: tuple[str, ...],
    columns: tuple[str, ...],
    insert_only: frozenset[str],
    increment: frozenset[str],
) -> Any:
    """The ``INSERT … ON CONFLICT`` of ``upsert``, built once per table and shape of row."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    fixed = {*keys, *insert_only}
    update = {
        k: table.c[k] + stmt.excluded[k] if k in increment else stmt.excluded[k]
        for k in columns
        if k not in fixed
    }
    return (
        stmt.on_conflict_do_update(index_elements=list(keys), set_=update)
        if update
        else stmt.on_conflict_do_nothing(index_elements=list(keys))
    )
