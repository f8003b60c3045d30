"""Central's database: where it is, async engines on it, migrations and transactions.

Production is PostgreSQL (``postgresql+asyncpg://…``), shared by every central replica; the
one-machine demo is an embedded SQLite file in the data directory (WAL, ``synchronous=FULL``).
Both go through the same SQLAlchemy tables as the store node; central's database holds its own
set of them and follows its own migration history (``schema.migrations``, branch ``central``).

Driver exceptions never leave this module's helpers: they become ``StorageError`` (503,
retryable), so a failing database is a "retry later" to every caller.
"""

from __future__ import annotations

import contextlib
import logging
import tomllib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from schema.migrations import WrongDatabase, upgrade_connection
from schema.tables.core import node_meta
from server.datadir import (
    create_private_file,
    secure,
    secure_paths,
    sqlite_files,
    write_private_file,
)
from server.errors import Conflict, HallsyncError, StorageError, ValidationFailed

log = logging.getLogger(__name__)

T = TypeVar("T")

CONFIG_FILE = "central.toml"
SQLITE_FILE = "central.sqlite3"
MIGRATION_LOCK = 7_361_002
"""PostgreSQL advisory lock key taken while migrating, so replicas starting together take turns."""


def config_path(data_dir: Path) -> Path:
    return data_dir / CONFIG_FILE


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / SQLITE_FILE).resolve()}"


_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}
"""URL schemes central accepts, and the async driver each one means. The plain forms are what
``psql``, libpq and most hosting panels print; central picks the driver itself."""


def normalise_url(url: str) -> str:
    """``url`` with central's async driver (``postgresql://`` → ``postgresql+asyncpg://``), or
    422 naming what is wrong. The URL itself is never repeated: it may hold a password."""
    scheme, sep, rest = url.strip().partition("://")
    driver = _DRIVERS.get(scheme.lower()) if sep else None
    if driver is None:
        if not sep:
            problem = "is not a URL like postgresql://user@host/db"
        elif scheme.lower().startswith(("postgresql+", "postgres+")):
            problem = f"asks for the driver {scheme!r}; central uses asyncpg: write postgresql://"
        else:
            problem = f"has the unsupported scheme {scheme!r}; use postgresql://user@host/db"
        raise ValidationFailed(f"the database URL {problem}", field="database_url")
    normal = f"{driver}://{rest}"
    try:
        make_url(normal)
    except (ArgumentError, ValueError) as exc:
        raise ValidationFailed(
            "the database URL cannot be parsed (a port that is not a number?)",
            field="database_url",
        ) from exc
    return normal


def resolve_url(data_dir: Path, override: str | None = None) -> str:
    """The database URL of the central in ``data_dir``: ``override`` (the environment), else the
    URL saved in ``central.toml`` at init, else the embedded SQLite file; normalised to
    central's driver (422 ``ValidationFailed`` for a URL central cannot use)."""
    if override:
        return normalise_url(override)
    path = config_path(data_dir)
    if path.exists():
        url = tomllib.loads(path.read_text(encoding="utf-8")).get("database_url")
        if isinstance(url, str) and url:
            return normalise_url(url)
    return sqlite_url(data_dir)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    database = make_url(url).database if is_sqlite(url) else None
    return Path(database) if database and database != ":memory:" else None


def write_config(data_dir: Path, database_url: str) -> None:
    """Remember the database URL for later commands; owner-readable only (it may hold a
    password)."""
    escaped = database_url.replace("\\", "\\\\").replace('"', '\\"')
    write_private_file(config_path(data_dir), f'database_url = "{escaped}"\n')


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def secure_files(data_dir: Path, url: str) -> None:
    """Check, before central uses them, that its data directory and an SQLite database kept
    elsewhere are private to this user (``server.datadir.secure``: repaired with a warning,
    or refused if another user owns them)."""
    secure(data_dir)
    db_file = sqlite_file(url)
    if db_file is not None and db_file.resolve().parent != data_dir.resolve():
        secure_paths(sqlite_files(db_file))


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine on ``url``. Call from the event loop that will use it (asyncpg
    connections belong to one loop).

    On SQLite, transactions are begun by us rather than by the driver, so SAVEPOINTs work and
    writes can take the lock up front (``BEGIN IMMEDIATE``, see ``write``).
    """
    if not is_sqlite(url):
        return create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
    db_file = sqlite_file(url)
    if db_file is not None and db_file.parent.is_dir() and not db_file.exists():
        # Made by us at 0600, not by SQLite at 0644 less the umask: its -wal and -shm files,
        # which SQLite creates later, take the database file's mode.
        with contextlib.suppress(FileExistsError):  # another process made it just now
            create_private_file(db_file)
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.info.pop("begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


async def migrate(engine: AsyncEngine) -> None:
    """Bring the database to the current schema; safe when several replicas start at once."""
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            await conn.run_sync(upgrade_connection, "central")
    except WrongDatabase as exc:  # a store node's database: nothing of it is touched
        raise Conflict(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"could not migrate central's database: {_brief(exc)}") from exc
    except OSError as exc:  # asyncpg's connect: refused, unknown host, timed out
        raise StorageError(f"cannot connect to central's database: {_brief(exc)}") from exc


async def is_initialised(engine: AsyncEngine) -> bool:
    """Whether ``central init`` has made this database (checked before migrating, so that
    pointing a command at the wrong database creates nothing in it)."""
    async with read(engine) as conn:
        return bool(await conn.run_sync(lambda c: sa.inspect(c).has_table(node_meta.name)))


@asynccontextmanager
async def write(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One write transaction, committed when the block ends without an exception.

    On SQLite it holds the write lock from the first statement, so a read-then-write never
    fails half-way on a lock upgrade; on PostgreSQL, callers lock the rows they change.
    """
    try:
        async with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.info["begin"] = "IMMEDIATE"
            async with conn.begin():
                yield conn
    except HallsyncError:
        raise
    except SQLAlchemyError as exc:
        raise _storage_error(exc) from exc
    except OSError as exc:  # asyncpg's connect: the server went away
        raise StorageError(f"cannot connect to central's database: {_brief(exc)}") from exc


@asynccontextmanager
async def read(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One read-only transaction (a consistent snapshot)."""
    try:
        async with engine.connect() as conn, conn.begin():
            yield conn
    except HallsyncError:
        raise
    except SQLAlchemyError as exc:
        raise _storage_error(exc) from exc
    except OSError as exc:  # asyncpg's connect: the server went away
        raise StorageError(f"cannot connect to central's database: {_brief(exc)}") from exc


async def run_read(engine: AsyncEngine, fn: Callable[[Connection], T]) -> T:
    """Run a synchronous query function (e.g. ``server.domain.paging.paginate``) in one read
    transaction."""
    async with read(engine) as conn:
        return await conn.run_sync(fn)


async def get_meta(conn: AsyncConnection, key: str) -> str | None:
    """A value of central's own ``node_meta`` (its token secret, the contact key)."""
    value: str | None = (
        await conn.execute(sa.select(node_meta.c.value).where(node_meta.c.key == key))
    ).scalar()
    return value


def _storage_error(exc: SQLAlchemyError) -> StorageError:
    """The error a caller sees when the database fails: retryable, and without the driver's
    message, which goes to the log only (it may name tables, constraints or values)."""
    log.warning("central's database failed: %s", _brief(exc))
    return StorageError("central's database failed; retry")


def _brief(exc: SQLAlchemyError | OSError) -> str:
    """The driver's message without SQL or parameters (which may hold personal data)."""
    orig = getattr(exc, "orig", None)
    return f"{type(orig or exc).__name__}: {str(orig or exc).splitlines()[0][:200]}"
