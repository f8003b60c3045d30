"""A store node and central: enrolling, pointing at another address, restoring from central.

A node is enrolled when it is made (``init_enrolled``: central hands out the store's identity,
the chain's contact key and a sync credential), or later, after running standalone
(``enroll_existing``: the node keeps its identity and its whole history, which then uploads
from ``seq`` 1). A node that replaces a dead one is made with ``init_enrolled(restore=True)``:
the store's own log is downloaded from central, verbatim, and folded into fresh projections.
``set_central`` points an enrolled node at another address of its central (a second replica,
a new host); the credential stays.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import sqlalchemy as sa

from schema.events import decode
from schema.events.envelope import Envelope, read_envelope
from schema.tables.core import events, node_meta, staff, store_info
from server.contact_hash import ContactHasher, read_key, replace_key, write_key
from server.datadir import create_private_file, private_dir, secure
from server.domain import projection
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.errors import Conflict, HallsyncError, NotFound, Unauthorized, ValidationFailed
from server.passwords import hash_password
from server.store.central_address import Enrollment, http_url, ws_url
from server.store.db import create_schema, db_path, make_engine
from server.store.node import (
    META_RESTORING,
    STORE_ID,
    USERNAME,
    check_contact_key,
    init_store,
    open_store,
    read_meta,
)
from server.store.sync_service import (
    META_CENTRAL_URL,
    META_CREDENTIAL,
    max_seq,
    read_enrollment,
    save_sync_state,
)
from server.store.writer import Writer

log = logging.getLogger(__name__)

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


_enroll_out = msgspec.json.Decoder(EnrollOut)
_restore_page = msgspec.msgpack.Decoder(RestorePage)
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
    existing: tuple[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> EnrollOut:
    """Trade a one-time enrollment code for the store's identity and sync credential.

    ``existing`` is ``(store_id, tz)`` of a node that already is a store: central refuses a
    code of another store, or a store it registered in another time zone."""
    body: dict[str, Any] = {"code": code, "restore": restore}
    if existing is not None:
        body["store_id"], body["tz"] = existing
    with _client(central_url, transport) as client:
        try:
            response = _call("enrollment", lambda: client.post("/api/v1/enroll", json=body))
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
    if path.exists():
        secure(data_dir)
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


# ------------------------------------------------------------------ a node that ran standalone

KEY_BEFORE_ENROLLMENT = "before-enrollment"
"""Suffix of the contact key file a standalone node used before it took the chain's key."""


@dataclass(frozen=True)
class LateEnrollment:
    """What ``enroll_existing`` did."""

    enrolled: EnrollOut
    history: int
    """Events the node logged before enrolling: they upload from seq 1 at the next sync."""
    kept_key: Path | None
    """Where the node's own contact key went when it took the chain's (None: it had the
    chain's key already). Phone tokens recorded before enrollment were made with that key."""


def enroll_existing(
    data_dir: Path,
    *,
    central_url: str,
    code: str,
    transport: httpx.BaseTransport | None = None,
) -> LateEnrollment:
    """Enroll a node that has run standalone (``hallsync store enroll``). It stays the store it
    is, with its data, logins and log; central must have registered the same store id and time
    zone (a code of another store is refused without being used up). Its whole log uploads
    from seq 1 at the next sync.

    From now on the node makes customer phone tokens with the chain's contact key, so a
    customer is recognised chain-wide. Tokens already recorded were made with the node's own
    key and cannot be remade (no number is kept): the old key is kept beside the new one, and
    an appointment booked before enrollment is found by its day, not by the phone number.
    """
    url = ws_url(central_url)
    opened = open_store(data_dir)
    try:
        with opened.engine.connect() as conn:
            already = read_enrollment(conn)
            tz = conn.execute(
                sa.select(store_info.c.tz).where(store_info.c.store_id == opened.store_id)
            ).scalar()
            history = max_seq(conn, opened.store_id)
        if already is not None:
            raise Conflict(
                f"this node is already enrolled with {already.central_url}; "
                "`hallsync store set-central` points it at another address of its central"
            )
        if tz is None:  # init always configures the store; a restore that never finished
            raise NotFound(f"{data_dir} holds no configured store")
        out = enroll(url, code, existing=(opened.store_id, tz), transport=transport)
        if out.store_id != opened.store_id:  # a central of an earlier release does not check
            raise CentralRefused(
                f"enrollment: the code was issued for store {out.store_id}, "
                f"and this node is store {opened.store_id}"
            )
        chain_key = check_contact_key(out.contact_key)
        kept = None
        if chain_key.spec != opened.contact_key.spec:
            # The key first: a crash before the credential is saved leaves a standalone node
            # with the chain's key (harmless); the other order would leave an enrolled node
            # making tokens no other store can match.
            kept = replace_key(data_dir, chain_key, keep_as=KEY_BEFORE_ENROLLMENT)
        with opened.engine.begin() as conn:
            conn.execute(
                node_meta.insert(),
                [
                    {"key": META_CENTRAL_URL, "value": url},
                    {"key": META_CREDENTIAL, "value": out.credential},
                ],
            )
            save_sync_state(conn, opened.store_id, acked_seq=0, hq_cursor=0)
    finally:
        opened.engine.dispose()
    log.info("store %s enrolled with %s; %d events to upload", out.store_id, url, history)
    return LateEnrollment(out, history, kept)


# ------------------------------------------------------------------ another address of central


class CentralCheck(msgspec.Struct, frozen=True):
    high_water: int


_central_check = msgspec.msgpack.Decoder(CentralCheck)


def set_central(
    data_dir: Path,
    central_url: str,
    *,
    check: bool = True,
    transport: httpx.BaseTransport | None = None,
) -> int | None:
    """Point an enrolled node at another address of its central; the credential stays.

    With ``check``, the new address must answer as the node's central: it accepts the node's
    credential and holds no more of the store's log than the node has (more would mean another
    store's central, or a node restored from an old copy). Returns the seq up to which it holds
    the store's log (None without ``check``).
    """
    url = ws_url(central_url)
    opened = open_store(data_dir)
    try:
        with opened.engine.connect() as conn:
            enrolled = read_enrollment(conn)
            local = max_seq(conn, opened.store_id)
        if enrolled is None:
            raise Conflict(
                "this node is not enrolled with central; `hallsync store enroll` enrolls it"
            )
        high_water = None
        if check:
            with _client(url, transport) as client:
                page = _restore_page_at(client, Enrollment(url, enrolled.credential), local, 1)
            high_water = page.high_water
            if high_water > local:
                raise CentralRefused(
                    f"{http_url(url)} holds {high_water} events of store {opened.store_id}, "
                    f"more than the {local} this node has: it is not this node's central, or "
                    "this node was restored from an old copy"
                )
        with opened.engine.begin() as conn:
            conn.execute(
                node_meta.update().where(node_meta.c.key == META_CENTRAL_URL).values(value=url)
            )
    finally:
        opened.engine.dispose()
    log.info("store %s now syncs with %s", opened.store_id, url)
    return high_water
