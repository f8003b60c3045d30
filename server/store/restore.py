"""A node that replaces a dead one, rebuilt from the store's own log as central holds it.

``init_enrolled(restore=True)`` (``server.store.enrollment``) enrolls the new node, then makes
it an empty node marked as restoring (``create_restoring``: no store settings, no staff, no
events yet) and downloads the log (``download``): every event the store ever recorded, same seq,
id and bytes, folded into fresh projections a page per local transaction. A restore that stops
half-way (a crash, a lost link) resumes from the node's last event when run again
(``pending``), without a new code; the manager's login comes last, when the log is complete.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import msgspec
import sqlalchemy as sa

from schema.events import decode
from schema.events.envelope import Envelope, read_envelope
from schema.tables.core import events, node_meta, staff, store_info
from server.contact_hash import ContactHasher, read_key, write_key
from server.datadir import create_private_file, private_dir
from server.domain import projection
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.errors import CentralRefused, Conflict
from server.passwords import hash_password
from server.store.central_address import Enrollment
from server.store.central_client import CentralClient
from server.store.db import create_schema, db_path, make_engine
from server.store.node import META_RESTORING, read_meta
from server.store.sync_service import META_CENTRAL_URL, META_CREDENTIAL, max_seq, save_sync_state
from server.store.writer import Writer

log = logging.getLogger(__name__)

RESTORE_PAGE = 2000
"""Events per restore page, and per local transaction."""

Progress = Callable[[int, int], None]
"""``(events restored, events central holds)``, after each page."""

_INSERT_EVENT = events.insert()


def pending(path: Path) -> str | None:
    """The identity of the store whose restore into the node database ``path`` has not
    finished (JSON), or None when none is under way."""
    engine = make_engine(path)
    try:
        with engine.connect() as conn:
            return read_meta(conn, META_RESTORING)
    finally:
        engine.dispose()


def create_restoring(
    data_dir: Path,
    store_id: str,
    hasher: ContactHasher,
    meta: Mapping[str, str],
    identity: dict[str, str],
) -> None:
    """An empty node marked as restoring: no store settings, no staff, no events yet."""
    private_dir(data_dir)
    create_private_file(db_path(data_dir))
    engine = make_engine(db_path(data_dir))
    try:
        create_schema(engine)
        rows = {
            "store_id": store_id,
            "jwt_secret": secrets.token_urlsafe(48),
            META_RESTORING: json.dumps(identity),
            **meta,
        }
        with engine.begin() as conn:
            conn.execute(node_meta.insert(), [{"key": k, "value": v} for k, v in rows.items()])
        write_key(data_dir, hasher)
    finally:
        engine.dispose()


def download(
    data_dir: Path,
    manager: str,
    manager_password: str,
    transport: httpx.BaseTransport | None,
    progress: Progress | None,
    page_size: int = RESTORE_PAGE,
) -> None:
    """Download the rest of the store's log, then give the node its manager login (the
    phone data of events an earlier release recorded is upgraded when the node opens)."""
    engine = make_engine(db_path(data_dir))
    try:
        with engine.connect() as conn:
            store_id = read_meta(conn, "store_id")
            url, credential = read_meta(conn, META_CENTRAL_URL), read_meta(conn, META_CREDENTIAL)
            identity = json.loads(read_meta(conn, META_RESTORING) or "{}")
            after = max_seq(conn, store_id or "")
        key = read_key(data_dir)
        assert store_id and key and url and credential
        writer = Writer(engine, store_id, contact_key=key)
        with CentralClient.enrolled(Enrollment(url, credential), transport=transport) as central:
            while True:
                page = central.restore_page(after, page_size)
                if page.events:
                    writer.run_now(
                        functools.partial(_append_verbatim, raws=page.events),
                        actor="system",
                        device="restore",
                    )
                    after += len(page.events)
                if progress is not None:
                    progress(after, page.high_water)
                if page.next_after is None:
                    break
                if page.next_after != after:
                    raise CentralRefused(
                        f"restore: central's next page starts after {page.next_after}, "
                        f"the node's log ends at {after}"
                    )
        if after < page.high_water:
            raise CentralRefused(
                f"restore: central holds seq up to {page.high_water} but sent only up to {after}"
            )
        pw_hash = hash_password(manager_password)
        writer.run_now(
            lambda ctx: _finish(ctx, manager, pw_hash, identity, after),
            actor="system",
            device="cli",
        )
    finally:
        engine.dispose()


def _append_verbatim(ctx: Ctx, raws: list[msgspec.Raw]) -> None:
    """Writer command: append downloaded events as they are (same seq, id, bytes) and fold
    them. The log must continue exactly where it ends: a gap or a foreign event is refused."""
    for raw in raws:
        body = bytes(raw)
        try:
            env = read_envelope(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise CentralRefused(f"restore: an event's envelope is unreadable ({exc})") from exc
        if env.store_id != ctx.store_id:
            raise CentralRefused(f"restore: central sent an event of store {env.store_id}")
        if env.seq != ctx.log.next_seq:
            raise CentralRefused(f"restore: expected seq {ctx.log.next_seq}, got {env.seq}")
        row: dict[str, Any] = {f: getattr(env, f) for f in Envelope.__struct_fields__}
        ctx.conn.execute(_INSERT_EVENT, {**row, "body": body})
        ctx.log.next_seq += 1
        try:
            event = decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            # Kept in the log (it is history), but this software cannot fold it.
            log.warning("restored event %d (%s) not understood: %s", env.seq, env.type, exc)
            continue
        projection.apply(ctx.conn, event)


def _finish(ctx: Ctx, manager: str, pw_hash: str, identity: dict[str, str], restored: int) -> None:
    """Writer command: the manager's login, the sync position, and the restore is done."""
    conn = ctx.conn
    configured = conn.execute(
        sa.select(store_info.c.store_id).where(store_info.c.store_id == ctx.store_id)
    ).first()
    if configured is None:  # central held no events: set the store up like a fresh init
        store_domain.configure_store(
            ctx, name=identity["name"], region=identity["region"], tz=identity["tz"]
        )
    row = conn.execute(
        sa.select(staff.c.role, staff.c.active).where(
            staff.c.store_id == ctx.store_id, staff.c.username == manager
        )
    ).first()
    if row is None:
        store_domain.add_staff(
            ctx, username=manager, display_name=manager, role="manager", password_hash=pw_hash
        )
    elif row.role != "manager" or not row.active:
        raise Conflict(
            f"{manager!r} is in the restored roster but not an active manager; rerun with "
            "another --manager to resume",
            field="manager",
        )
    else:
        store_domain.set_password(conn, manager, pw_hash, ctx.now)
    save_sync_state(conn, ctx.store_id, acked_seq=restored, hq_cursor=0)
    conn.execute(node_meta.delete().where(node_meta.c.key == META_RESTORING))
