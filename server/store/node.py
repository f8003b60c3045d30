"""Creating and opening a store node's data directory.

``init_store`` makes a node; ``open_store`` opens one, migrating its schema and its stored
phone data. Enrolling with central, later or at creation, is in ``server.store.enrollment``;
restoring from central in ``server.store.restore``.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from schema.tables.core import node_meta
from server import contact_migration
from server.contact_hash import ContactHasher, ContactKeyError, key_path, read_key, write_key
from server.datadir import create_private_file, private_dir, secure
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.errors import Conflict, NotFound, ValidationFailed
from server.passwords import hash_password
from server.store.db import create_schema, db_path, make_engine
from server.store.writer import Writer

log = logging.getLogger(__name__)

STORE_ID = re.compile(r"[A-Za-z0-9_-]{1,16}\Z")
USERNAME = re.compile(r"[a-z0-9_.-]{2,64}\Z")
META_RESTORING = "restore_pending"
"""Set while a restore downloads the log (``server.store.restore``); holds the enrolled
store's name/region/tz (JSON)."""


@dataclass(frozen=True)
class OpenNode:
    """An initialised node's database and the secrets it keeps."""

    engine: Engine
    store_id: str
    jwt_secret: str
    """Signs staff bearer tokens; never leaves the node."""
    contact_key: ContactHasher
    """The chain's key of customer phone tokens (``server.contact_hash``), read from the key
    file beside the database, never from it."""


def read_meta(conn: Connection, key: str) -> str | None:
    return conn.execute(sa.select(node_meta.c.value).where(node_meta.c.key == key)).scalar()


def check_contact_key(key: str) -> ContactHasher:
    """The contact key from its text form (a spec, or a bare pepper of at least 16 bytes)."""
    try:
        return ContactHasher.parse(key)
    except ContactKeyError as exc:
        raise ValidationFailed(str(exc), field="contact_key") from exc


def _open_contact_key(data_dir: Path, engine: Engine) -> ContactHasher:
    """The node's contact key, from its key file; a node of an earlier release kept it in the
    database: it moves to the key file, and the stored phone data is upgraded (once)."""
    hasher = read_key(data_dir)
    with engine.connect() as conn:
        legacy = read_meta(conn, contact_migration.LEGACY_KEY_META)
        upgraded = read_meta(conn, contact_migration.UPGRADED_META)
    if hasher is None:
        if legacy is None:
            raise NotFound(f"{key_path(data_dir)} is missing: the node cannot match customers")
        hasher = check_contact_key(legacy)
        write_key(data_dir, hasher)
    if legacy is not None or upgraded is None:
        with engine.begin() as conn:
            contact_migration.upgrade(conn, hasher, "store")
    return hasher


def init_store(
    data_dir: Path,
    *,
    store_id: str,
    name: str,
    region: str,
    tz: str,
    manager: str,
    manager_password: str,
    contact_key: str | None = None,
    open_time: time = time(8, 0),
    close_time: time = time(20, 0),
    meta: Mapping[str, str] | None = None,
) -> None:
    """Create the node's database, configure the store and create the manager's login.

    ``contact_key`` is the chain's key for customer contact hashes; every store and central must
    share it for a customer to be recognised chain-wide. Without one, a random key is made:
    matching then works within this store only (enrollment will provision the chain's key).
    ``meta`` adds facts to ``node_meta`` (the enrollment's central URL and credential).
    """
    if not STORE_ID.match(store_id):
        raise ValidationFailed("store id: 1–16 letters, digits, _ or -", field="store_id")
    if not USERNAME.match(manager):
        raise ValidationFailed(
            "user name: 2–64 lower-case letters, digits, '.', '_' or '-'", field="manager"
        )
    store_domain.check_tz(tz)
    hasher = check_contact_key(contact_key) if contact_key else ContactHasher.generate()
    private_dir(data_dir)
    path = db_path(data_dir)
    if path.exists():
        raise Conflict(f"{path} already holds a store node")
    create_private_file(path)  # SQLite's -wal and -shm files take this file's mode
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
                    {"key": contact_migration.UPGRADED_META, "value": "v2"},
                    *({"key": k, "value": v} for k, v in (meta or {}).items()),
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

        writer = Writer(engine, store_id, contact_key=hasher)
        writer.run_now(setup, actor="system", device="cli")
        write_key(data_dir, hasher)
        done = True
    finally:
        engine.dispose()
        if not done:  # leave no half-made node behind: init can simply be run again
            for leftover in path.parent.glob(path.name + "*"):
                leftover.unlink()


def open_store(data_dir: Path) -> OpenNode:
    """Open an initialised node, migrating its database to the current schema."""
    path = db_path(data_dir)
    if not path.exists():
        raise NotFound(f"no store node in {data_dir}; run `hallsync store init` first")
    secure(data_dir)
    engine = make_engine(path)
    create_schema(engine)
    with engine.connect() as conn:
        store_id = read_meta(conn, "store_id")
        secret = read_meta(conn, "jwt_secret")
        restoring = read_meta(conn, META_RESTORING)
    if store_id is None or secret is None:
        engine.dispose()
        raise NotFound(f"{path} is not an initialised store node")
    if restoring is not None:
        engine.dispose()
        raise Conflict(
            f"the restore of {path} did not finish; run `hallsync store init --restore` again "
            "to resume it"
        )
    try:
        hasher = _open_contact_key(data_dir, engine)
    except BaseException:
        engine.dispose()
        raise
    return OpenNode(engine, store_id, secret, hasher)
