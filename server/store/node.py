"""Creating and opening a store node's data directory.

A node is made in one of three ways: standalone (``init_store``), enrolled with central
(``init_enrolled``: central hands out the store's identity, the chain's contact key and a sync
credential), or enrolled to replace a dead node (``init_enrolled(restore=True)``: the store's
own log is downloaded from central, verbatim, and folded into fresh projections).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from schema.events import decode
from schema.tables.core import events, node_meta, staff, store_info
from server import contact_migration
from server.contact_hash import ContactHasher, ContactKeyError, key_path, read_key, write_key
from server.domain import projection
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.errors import Conflict, HallsyncError, NotFound, Unauthorized, ValidationFailed
from server.passwords import hash_password
from server.store.db import create_schema, db_path, make_engine
from server.store.sync_service import (
    META_CENTRAL_URL,
    META_CREDENTIAL,
    Enrollment,
    http_url,
    max_seq,
    save_sync_state,
    ws_url,
)
from server.store.writer import Writer

log = logging.getLogger(__name__)

STORE_ID = re.compile(r"[A-Za-z0-9_-]{1,16}\Z")
USERNAME = re.compile(r"[a-z0-9_.-]{2,64}\Z")


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
            contact_migration.upgrade(conn, hasher)
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


# ------------------------------------------------------------------ enrollment with central

META_RESTORING = "restore_pending"
"""Set while a restore downloads the log; holds the enrolled store's name/region/tz (JSON)."""
RESTORE_PAGE = 2000
"""Events per restore page, and per local transaction."""

Progress = Callable[[int, int], None]
"""``(events restored, events central holds)``, after each page."""


class CentralRefused(HallsyncError):
    """Central answered, but not with what the node needs (a used code, a gap in a log)."""

    code, status, title = "central_refused", 502, "Central refused"


class CentralUnreachable(HallsyncError):
    """Central could not be reached; try again."""

    code, status, retryable, title = "central_unreachable", 503, True, "Central unreachable"


class EnrollOut(msgspec.Struct, frozen=True, kw_only=True):
    """Central's answer to ``POST /api/v1/enroll``."""

    store_id: str
    name: str
    region: str
    tz: str
    credential: str
    """``hs1.<store_id>.<secret>``: the node's bearer credential for sync and restore."""
    contact_key: str
    """The chain's key of customer contact hashes."""
    central_time: datetime
    """Central's clock when it answered (to warn of a badly set node clock)."""


class RestorePage(msgspec.Struct, frozen=True):
    """One page of ``GET /api/v1/restore/events`` (msgpack)."""

    events: list[msgspec.Raw]
    next_after: int | None
    """``after`` of the next page; null when this is the last one."""
    high_water: int
    """The store's seq up to which central holds its log."""


class _Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """The envelope of a logged event: enough to store its row even if its payload is unknown."""

    type: str
    id: UUID
    store_id: str
    seq: int
    hlc: int
    at: datetime
    actor: str
    device: str
    v: int = 1


_enroll_out = msgspec.json.Decoder(EnrollOut)
_restore_page = msgspec.msgpack.Decoder(RestorePage)
_envelope = msgspec.msgpack.Decoder(_Envelope)
_INSERT_EVENT = events.insert()


def _client(central_url: str, transport: httpx.BaseTransport | None) -> httpx.Client:
    return httpx.Client(base_url=http_url(central_url), transport=transport, timeout=60.0)


def _call(what: str, send: Callable[[], httpx.Response]) -> httpx.Response:
    """Run one request to central, turning its failures into hallsync errors."""
    try:
        response = send()
    except httpx.TransportError as exc:
        raise CentralUnreachable(f"{what}: central cannot be reached ({exc})") from exc
    if response.is_success:
        return response
    try:
        detail = str(response.json().get("detail") or response.text)
    except (ValueError, AttributeError):
        detail = response.text
    detail = f"{what}: {detail[:300] or response.reason_phrase} (HTTP {response.status_code})"
    if response.status_code in (401, 403):
        raise Unauthorized(detail)
    if response.status_code >= 500:
        raise CentralUnreachable(detail)
    raise CentralRefused(detail, status=response.status_code)


def _not_central(client: httpx.Client) -> str:
    """Why a server without central's enrollment route is not central: most often the URL of
    a store node (its ``/ready`` names its store), given by mistake."""
    try:
        ready = client.get("/ready").json()
    except (httpx.HTTPError, ValueError):
        ready = None
    if isinstance(ready, dict) and ready.get("store_id"):
        return f"{client.base_url} is store node {ready['store_id']}, not central"
    return f"{client.base_url} is not a hallsync central (it has no enrollment endpoint)"


def enroll(
    central_url: str,
    code: str,
    *,
    restore: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> EnrollOut:
    """Trade a one-time enrollment code for the store's identity and sync credential."""
    with _client(central_url, transport) as client:
        try:
            response = _call(
                "enrollment",
                lambda: client.post("/api/v1/enroll", json={"code": code, "restore": restore}),
            )
        except CentralRefused as exc:
            if exc.extra.get("status") in (404, 405):
                raise CentralRefused(f"enrollment: {_not_central(client)}") from exc
            raise
    try:
        out = _enroll_out.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CentralRefused(f"enrollment: central's answer is unreadable ({exc})") from exc
    if not STORE_ID.match(out.store_id):
        raise CentralRefused(f"enrollment: central sent an invalid store id {out.store_id!r}")
    return out


def init_enrolled(
    data_dir: Path,
    *,
    central_url: str,
    code: str,
    manager: str,
    manager_password: str,
    restore: bool = False,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
    page_size: int = RESTORE_PAGE,
) -> EnrollOut | None:
    """Create a node enrolled with central (``hallsync store init --enroll``).

    With ``restore`` the store's own log is downloaded from central first, so the node comes
    back with every event it ever recorded (same seq, id and bytes) and projections rebuilt
    from them; its log then continues after them. A restore that stops half-way (a crash, a
    lost link) resumes when run again, without a new code; it then returns None.
    """
    if not USERNAME.match(manager):
        raise ValidationFailed(
            "user name: 2–64 lower-case letters, digits, '.', '_' or '-'", field="manager"
        )
    url = ws_url(central_url)
    path = db_path(data_dir)
    pending = _pending_restore(path) if restore and path.exists() else None
    if pending is None and path.exists():
        raise Conflict(f"{path} already holds a store node")
    out: EnrollOut | None = None
    if pending is None:
        out = enroll(url, code, restore=restore, transport=transport)
        meta = {META_CENTRAL_URL: url, META_CREDENTIAL: out.credential}
        if not restore:
            init_store(
                data_dir,
                store_id=out.store_id,
                name=out.name,
                region=out.region,
                tz=out.tz,
                manager=manager,
                manager_password=manager_password,
                contact_key=out.contact_key,
                meta=meta,
            )
            return out
        hasher = check_contact_key(out.contact_key)
        identity = {"name": out.name, "region": out.region, "tz": out.tz}
        _create_restoring(data_dir, out.store_id, hasher, meta, identity)
    _restore(data_dir, manager, manager_password, transport, progress, page_size)
    return out


def _pending_restore(path: Path) -> str | None:
    engine = make_engine(path)
    try:
        with engine.connect() as conn:
            return read_meta(conn, META_RESTORING)
    finally:
        engine.dispose()


def _create_restoring(
    data_dir: Path,
    store_id: str,
    hasher: ContactHasher,
    meta: Mapping[str, str],
    identity: dict[str, str],
) -> None:
    """An empty node marked as restoring: no store settings, no staff, no events yet."""
    data_dir.mkdir(parents=True, exist_ok=True)
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


def _restore(
    data_dir: Path,
    manager: str,
    manager_password: str,
    transport: httpx.BaseTransport | None,
    progress: Progress | None,
    page_size: int,
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
        enrollment = Enrollment(url, credential)
        with _client(url, transport) as client:
            while True:
                page = _restore_page_at(client, enrollment, after, page_size)
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
            lambda ctx: _finish_restore(ctx, manager, pw_hash, identity, after),
            actor="system",
            device="cli",
        )
    finally:
        engine.dispose()


def _restore_page_at(
    client: httpx.Client, enrollment: Enrollment, after: int, limit: int
) -> RestorePage:
    response = _call(
        "restore",
        lambda: client.get(
            "/api/v1/restore/events",
            params={"after": after, "limit": limit},
            headers={"Authorization": f"Bearer {enrollment.credential}"},
        ),
    )
    try:
        return _restore_page.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CentralRefused(f"restore: central's page is unreadable ({exc})") from exc


def _append_verbatim(ctx: Ctx, raws: list[msgspec.Raw]) -> None:
    """Writer command: append downloaded events as they are (same seq, id, bytes) and fold
    them. The log must continue exactly where it ends: a gap or a foreign event is refused."""
    for raw in raws:
        body = bytes(raw)
        try:
            env = _envelope.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise CentralRefused(f"restore: an event's envelope is unreadable ({exc})") from exc
        if env.store_id != ctx.store_id:
            raise CentralRefused(f"restore: central sent an event of store {env.store_id}")
        if env.seq != ctx.log.next_seq:
            raise CentralRefused(f"restore: expected seq {ctx.log.next_seq}, got {env.seq}")
        row: dict[str, Any] = {f: getattr(env, f) for f in _Envelope.__struct_fields__}
        ctx.conn.execute(_INSERT_EVENT, {**row, "body": body})
        ctx.log.next_seq += 1
        try:
            event = decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            # Kept in the log (it is history), but this software cannot fold it.
            log.warning("restored event %d (%s) not understood: %s", env.seq, env.type, exc)
            continue
        projection.apply(ctx.conn, event)


def _finish_restore(
    ctx: Ctx, manager: str, pw_hash: str, identity: dict[str, str], restored: int
) -> None:
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
