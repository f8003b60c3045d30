"""Schema migrations (Alembic), runnable from code so every node upgrades itself at start.

The store node and central each have their own migration history, as Alembic branches of one
script directory (``schema.tables.databases`` says which tables each database holds):

- ``versions/``: 0001 to 0005, the history both apps shared while every database held every
  table. Databases of earlier releases stand at 0005; a new database runs these first too.
- ``store/``: the store node's branch (label ``store``), from 0005. Its first revision drops
  the central-only tables a node's SQLite carried.
- ``central/``: central's branch (label ``central``), from 0005. Its first revision drops the
  store-only tables.

Branches of one shared trunk are what Alembic follows natively: a database of an earlier
release, at 0005, just upgrades along its app's branch, and a new one runs the trunk then the
branch. (Two separate histories would each need a new first revision creating every table,
and databases of earlier releases stamped by hand before their first upgrade.)

Each app upgrades to its own branch's head (``store@head``, ``central@head``) and never the
other's: a database already on one branch is refused by the other app (``WrongDatabase``). A
change to a shared table (a projection) is one revision in each branch.

Developers make a new revision with ``python -m schema.migrations.revision store|central "what
changed"``, then review it.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.tables.databases import APPS, App

HERE = Path(__file__).parent
SHARED_HISTORY = HERE / "versions"


class WrongDatabase(RuntimeError):
    """The database belongs to the other app (a store node pointed at central's, or back)."""


def history(app: App) -> Path:
    """The folder of ``app``'s own revisions."""
    return HERE / app


def config(app: App, connection: Connection | None = None) -> Config:
    """An Alembic config for ``app``'s database, optionally bound to an open connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    locations = [SHARED_HISTORY, *(history(a) for a in APPS)]
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["app"] = app
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head(app: App) -> str:
    """The newest revision of ``app``'s history."""
    return f"{app}@head"


def upgrade(engine: Engine, app: App, revision: str | None = None) -> None:
    """Migrate ``app``'s database behind ``engine`` up to ``revision`` (default: its head)."""
    with engine.begin() as conn:
        upgrade_connection(conn, app, revision)


def downgrade(engine: Engine, app: App, revision: str) -> None:
    """Migrate ``app``'s database down to ``revision`` (``"base"`` for empty)."""
    with engine.begin() as conn:
        downgrade_connection(conn, app, revision)


def upgrade_connection(conn: Connection, app: App, revision: str | None = None) -> None:
    """Migrate through an open connection (e.g. ``AsyncConnection.run_sync``)."""
    cfg = config(app, conn)
    _check_branch(conn, cfg, app)
    command.upgrade(cfg, revision or head(app))


def downgrade_connection(conn: Connection, app: App, revision: str) -> None:
    cfg = config(app, conn)
    _check_branch(conn, cfg, app)
    command.downgrade(cfg, revision)


async def upgrade_async(engine: AsyncEngine, app: App, revision: str | None = None) -> None:
    """Migrate an async engine's database (central on PostgreSQL) up to ``revision``."""
    async with engine.begin() as conn:
        await conn.run_sync(upgrade_connection, app, revision)


def _check_branch(conn: Connection, cfg: Config, app: App) -> None:
    """Refuse a database on the other app's branch: migrating it to ``app``'s head would add
    ``app``'s branch beside the other and drop the other app's tables."""
    script = ScriptDirectory.from_config(cfg)
    for current in MigrationContext.configure(conn).get_current_heads():
        rev = script.revision_map.get_revision(current)
        if rev is None:
            continue
        other = set(rev.branch_labels) - {app}  # a branch's label marks all its revisions
        if other:
            raise WrongDatabase(
                f"this is a {' '.join(sorted(other))} database (schema {current}), "
                f"not a {app} database"
            )
