"""The store node's SQLite database: engines, pragmas, schema and the read path.

Durability: WAL with ``synchronous=FULL``, so a commit is on disk before the tablet hears 2xx.
All writes go through the single writer (``server.store.writer``); reads run on pooled
connections and see only committed data: in worker threads, or, for small bounded reads, right
on the event loop (see ``Reader.run_here``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from anyio import to_thread
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import SQLAlchemyError

from server.errors import Conflict, StorageError

T = TypeVar("T")

DB_FILE = "store.sqlite3"


def db_path(data_dir: Path) -> Path:
    return data_dir / DB_FILE


def make_engine(path: Path, *, pool_size: int = 8) -> Engine:
    """An engine on the store's SQLite file with the durability pragmas on every connection.

    Transactions are begun explicitly (``BEGIN IMMEDIATE`` for writes) instead of by the
    sqlite3 module, so SAVEPOINTs behave and the write lock is taken up front.
    """
    engine = sa.create_engine(
        f"sqlite:///{path}",
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.info.pop("begin", "DEFERRED")
        # Straight on the driver: every read and every write batch begins here, and a
        # statement through SQLAlchemy costs several times what SQLite takes to begin.
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute(f"BEGIN {mode}")

    return engine


def begin_immediate(conn: Connection) -> Any:
    """Start a write transaction that holds SQLite's write lock from its first statement."""
    conn.info["begin"] = "IMMEDIATE"
    return conn.begin()


def create_schema(engine: Engine) -> None:
    """Bring the database to the store node's current schema (its own migration history:
    ``schema.migrations``); 409 for a database of central's."""
    from schema.migrations import WrongDatabase, upgrade

    try:
        upgrade(engine, "store")
    except WrongDatabase as exc:
        raise Conflict(str(exc)) from exc


class Reader:
    """Runs read-only functions on pooled connections in worker threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def run_sync(self, fn: Callable[[Connection], T]) -> T:
        try:
            with self.engine.connect() as conn, conn.begin():
                return fn(conn)
        except (SQLAlchemyError, OverflowError) as exc:
            # Driver errors never reach a client: a locked or failing database is retryable.
            raise StorageError("the store database could not answer; retry") from exc

    async def run(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` in one read transaction (a consistent snapshot) off the event loop."""
        return await to_thread.run_sync(self.run_sync, fn)

    def run_here(self, fn: Callable[[Connection], T]) -> T:
        """Run a small, bounded read (rows by key, the live queue state) on the calling thread,
        the event loop's included.

        For such a read the hop to a worker thread and back costs more than the read: two
        thread wake-ups, and the GIL passed back and forth while the busy event loop wants it
        too (the read is Python, so it would hold up the loop just the same). SQLite in WAL
        mode never makes a reader wait for the writer. Reads that may scan or return many rows
        (lists, reports) go through ``run``, so a long one cannot stall the loop.
        """
        return self.run_sync(fn)
