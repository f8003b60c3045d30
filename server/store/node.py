"""Creating and opening a store node's data directory."""

from __future__ import annotations

import secrets
from datetime import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from schema.tables.core import node_meta
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.errors import Conflict, NotFound
from server.passwords import hash_password
from server.store.db import create_schema, db_path, make_engine
from server.store.writer import Writer


def read_meta(conn: Connection, key: str) -> str | None:
    return conn.execute(sa.select(node_meta.c.value).where(node_meta.c.key == key)).scalar()


def init_store(
    data_dir: Path,
    *,
    store_id: str,
    name: str,
    region: str,
    tz: str,
    manager: str,
    manager_password: str,
    open_time: time = time(8, 0),
    close_time: time = time(20, 0),
) -> None:
    """Create the node's database, configure the store and create the manager's login."""
    store_domain.check_tz(tz)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = db_path(data_dir)
    if path.exists():
        raise Conflict(f"{path} already holds a store node")
    engine = make_engine(path)
    done = False
    try:
        create_schema(engine)
        with engine.begin() as conn:
            conn.execute(
                node_meta.insert(),
                [
                    {"key": "store_id", "value": store_id},
                    {"key": "jwt_secret", "value": secrets.token_urlsafe(48)},
                ],
            )
        pw_hash = hash_password(manager_password)

        def setup(ctx: Ctx) -> None:
            store_domain.configure_store(
                ctx, name=name, region=region, tz=tz, open_time=open_time, close_time=close_time
            )
            store_domain.add_staff(
                ctx,
                username=manager,
                display_name=manager,
                role="manager",
                password_hash=pw_hash,
            )

        Writer(engine, store_id).run_now(setup, actor="system", device="cli")
        done = True
    finally:
        engine.dispose()
        if not done:  # leave no half-made node behind: init can simply be run again
            for leftover in path.parent.glob(path.name + "*"):
                leftover.unlink()


def open_store(data_dir: Path) -> tuple[Engine, str, str]:
    """Open an initialised node: its engine, store id and token secret."""
    path = db_path(data_dir)
    if not path.exists():
        raise NotFound(f"no store node in {data_dir}; run `hallsync store init` first")
    engine = make_engine(path)
    create_schema(engine)
    with engine.connect() as conn:
        store_id = read_meta(conn, "store_id")
        secret = read_meta(conn, "jwt_secret")
    if store_id is None or secret is None:
        raise NotFound(f"{path} is not an initialised store node")
    return engine, store_id, secret
