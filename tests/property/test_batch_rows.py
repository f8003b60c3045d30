"""Central's batch fold (``BatchRows``) against row operations applied one statement at a time
(``ConnectionRows``): for any sequence of inserts, upserts, updates, deletes and reads over rows
the database may or may not already hold, both end with the same table, every read answers
the same, and a sequence that fails one way fails the other.

On SQLite with many generated sequences, and on PostgreSQL (its JSON-document and set-based
paths) with fewer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from schema.tables.base import UTCDateTime
from server.central.fold.batch_rows import BatchRows, DuplicateRow
from server.domain.rows import ConnectionRows, Rows
from tests.pg import pg_database

metadata = sa.MetaData()
table = sa.Table(
    "batch_rows_t",
    metadata,
    sa.Column("store_id", sa.String(8), primary_key=True),
    sa.Column("k", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(16)),
    sa.Column("n", sa.Integer),
    sa.Column("at", UTCDateTime()),
    sa.Column("tags", sa.JSON),
)
KEYS = [("S1", 1), ("S1", 2), ("S1", 3), ("S2", 1)]
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
EAST8 = timezone(timedelta(hours=8))

keys = st.sampled_from(KEYS)
names = st.one_of(st.none(), st.sampled_from(["a", "b", "窗口"]))
counts = st.one_of(st.none(), st.integers(-5, 5))
instants = st.one_of(
    st.none(),
    st.integers(0, 3).map(lambda h: T0 + timedelta(hours=h)),
    st.integers(0, 3).map(lambda h: (T0 + timedelta(hours=h)).astimezone(EAST8)),
)
_tag_lists = st.lists(st.sampled_from(["x", "y"]), max_size=2)
tags = st.one_of(st.none(), _tag_lists, _tag_lists.map(tuple))  # a tuple reads back as a list


@st.composite
def rows(draw: Any) -> dict[str, Any]:
    store_id, k = draw(keys)
    row = {"store_id": store_id, "k": k}
    for column, values in (("name", names), ("n", counts), ("at", instants), ("tags", tags)):
        if draw(st.booleans()):
            row[column] = draw(values)
    return row


@st.composite
def ops(draw: Any) -> tuple[Any, ...]:
    kind = draw(st.sampled_from(["insert", "upsert", "update", "delete", "get", "flush"]))
    if kind == "insert":
        return ("insert", draw(rows()))
    if kind == "upsert":
        row = draw(rows())
        row.setdefault("n", draw(st.integers(0, 3)))
        others = [c for c in ("name", "at", "tags") if c in row]
        sets = tuple(draw(st.lists(st.sampled_from(others), unique=True))) if others else ()
        inc = ("n",) if draw(st.booleans()) and row["n"] is not None else ()
        return ("upsert", row, sets, inc)
    store_id, k = draw(keys)
    key = {"store_id": store_id, "k": k}
    if kind == "update":
        changes: dict[str, Any] = {}
        for column, values in (("name", names), ("at", instants), ("tags", tags)):
            if draw(st.booleans()):
                changes[column] = draw(values)
        adds = {"n": draw(st.integers(-2, 2))} if draw(st.booleans()) else {}
        if draw(st.booleans()):
            changes["n"] = draw(counts)
            adds = {}
        return ("update", key, changes, adds)
    return (kind, key)


initial = st.lists(st.tuples(keys, counts, names), unique_by=lambda r: r[0], max_size=4)


def _seed(conn: sa.Connection, seed: list[Any]) -> None:
    conn.execute(table.delete())
    for (store_id, k), n, name in seed:
        conn.execute(
            table.insert(),
            {"store_id": store_id, "k": k, "n": n, "name": name, "at": T0, "tags": ["x"]},
        )


def _run(rows_: Rows, sequence: list[tuple[Any, ...]]) -> list[Any]:
    """Apply the operations; the answers of the reads."""
    answers = []
    for op in sequence:
        kind = op[0]
        if kind == "insert":
            rows_.insert(table, op[1])
        elif kind == "upsert":
            rows_.upsert(table, op[1], set=op[2], inc=op[3])
        elif kind == "update":
            rows_.update(table, op[1], set=op[2], inc=op[3])
        elif kind == "delete":
            rows_.delete(table, op[1])
        elif kind == "get":
            answers.append(_comparable(rows_.get(table, op[1])))
        elif kind == "flush" and isinstance(rows_, BatchRows):
            rows_.flush()
    if isinstance(rows_, BatchRows):
        rows_.flush()
    return answers


def _comparable(row: dict[str, Any] | None) -> Any:
    if row is None:
        return None
    return tuple(sorted((c, (v.isoformat(), v.utcoffset()) if isinstance(v, datetime) else v)
                        for c, v in row.items()))  # fmt: skip


def _outcome(conn: sa.Connection, rows_: Rows, sequence: list[Any]) -> Any:
    """``("failed",)`` or ``(answers, table)``; the transaction is rolled back after."""
    with conn.begin_nested() as nested:
        try:
            answers = _run(rows_, sequence)
        except (IntegrityError, DuplicateRow):
            nested.rollback()
            return ("failed",)
        state = [
            _comparable(dict(r))
            for r in conn.execute(sa.select(table).order_by(table.c.store_id, table.c.k)).mappings()
        ]
        nested.rollback()
    return answers, state


def _compare(conn: sa.Connection, seed: list[Any], sequence: list[Any]) -> None:
    _seed(conn, seed)
    one_at_a_time = _outcome(conn, ConnectionRows(conn), sequence)
    batched = _outcome(conn, BatchRows(conn), sequence)
    if one_at_a_time == ("failed",):
        assert batched == ("failed",)
    else:
        assert batched == one_at_a_time


@pytest.fixture(scope="module")
def sqlite_conn() -> Any:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.connect() as conn:
        conn.begin()
        yield conn
    engine.dispose()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=initial, sequence=st.lists(ops(), max_size=14))
def test_a_batch_equals_its_operations_one_at_a_time_on_sqlite(
    sqlite_conn: sa.Connection, seed: list[Any], sequence: list[Any]
) -> None:
    _compare(sqlite_conn, seed, sequence)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async for url in pg_database():
        yield url


@pytest.mark.postgres
async def test_a_batch_equals_its_operations_one_at_a_time_on_postgresql(pg_url: str) -> None:
    engine = create_async_engine(pg_url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(lambda c: metadata.create_all(c))
            await conn.commit()

            def in_thread(c: sa.Connection) -> None:
                @settings(max_examples=120, deadline=None)
                @given(seed=initial, sequence=st.lists(ops(), max_size=14))
                def check(seed: list[Any], sequence: list[Any]) -> None:
                    _compare(c, seed, sequence)

                check()

            await conn.run_sync(in_thread)
    finally:
        await engine.dispose()
