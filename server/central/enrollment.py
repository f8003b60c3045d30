"""Which store nodes may sync: creating stores, one-time enrollment codes, credentials, revocation.

A store is created ``pending`` with a one-time code (valid 7 days). The installer types the code
into the new node, which trades it at ``POST /api/v1/enroll`` for its credential
``hs1.<store_id>.<secret>`` and the chain's contact key; the store becomes ``active``. Central
keeps only SHA-256 hashes of codes and credentials. Enrolling again (a replaced node) replaces
the credential hash, which locks the old node out; revoking locks the store out for good.

Every function runs inside the caller's transaction (``server.central.db.write``), so any
replica can do any step: all state is in the database. Revoking a store or replacing its
credential also tells every replica, on commit (``NOTIFY hallsync_store``, PostgreSQL), so the
store's open sync connections close at once (``server.central.hq.notify``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.api.enrollment import EnrollOut
from schema.api.hq_stores import EnrollmentCode
from schema.tables.sync import central_enrollments, central_stores
from server.domain.store import check_tz
from server.errors import (
    Conflict,
    Forbidden,
    NotFound,
    StoreMismatch,
    TimeZoneMismatch,
    Unauthorized,
    ValidationFailed,
)
from server.privacy import redact_text

CODE_TTL = timedelta(days=7)
STORE_CHANNEL = "hallsync_store"
"""PostgreSQL NOTIFY channel; the payload is a store id whose credential was revoked or
replaced."""
CREDENTIAL_PREFIX = "hs1"
STORE_ID = re.compile(r"[A-Za-z0-9_-]{1,16}\Z")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: it is read aloud and typed


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_code() -> str:
    """A one-time code like ``K7QX2-…`` (20 symbols, 100 bits), easy to read out and type."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def code_hash(code: str) -> str:
    """Hash of a code as typed: case, spaces and dashes do not matter."""
    return sha256_hex(re.sub(r"[\s-]", "", code).upper())


def store_id_of(credential: str) -> str | None:
    """The store a credential names, or None if it is not shaped like one."""
    prefix, _, rest = credential.partition(".")
    store_id, _, secret = rest.partition(".")
    if prefix != CREDENTIAL_PREFIX or not STORE_ID.match(store_id) or not secret:
        return None
    return store_id


async def create_store(
    conn: AsyncConnection, *, store_id: str, name: str, region: str, tz: str
) -> None:
    """Register a store, ``pending`` until its node enrolls."""
    if not STORE_ID.match(store_id):
        raise ValidationFailed("store id: 1–16 letters, digits, _ or -", field="store_id")
    if not name.strip():
        raise ValidationFailed("the store needs a name", field="name")
    if not region.strip():
        raise ValidationFailed("the store needs a region", field="region")
    check_tz(tz)
    if await _store(conn, store_id) is not None:
        raise Conflict(f"store {store_id} already exists", store_id=store_id)
    await conn.execute(
        central_stores.insert().values(
            store_id=store_id,
            # HQ types the name: a phone or ID number in it is masked like any typed text.
            name=redact_text(name.strip()),
            region=region.strip(),
            tz=tz,
            status="pending",
            credential_hash=None,
            enrolled_at=None,
            high_water=0,
            hq_acked=0,
            local_seq=0,
            quarantined=0,
        )
    )


async def issue_code(conn: AsyncConnection, store_id: str, *, now: datetime) -> EnrollmentCode:
    """A new one-time code for the store (first install or a replaced node). Earlier unused
    codes of the store stop working."""
    store = await _store(conn, store_id)
    if store is None:
        raise NotFound(f"no store {store_id}")
    if store.status == "revoked":
        raise Conflict(f"store {store_id} is revoked", store_id=store_id)
    await _retire_codes(conn, store_id, now)
    code = new_code()
    expires = now + CODE_TTL
    await conn.execute(
        central_enrollments.insert().values(
            code_hash=code_hash(code),
            store_id=store_id,
            created_at=now,
            expires_at=expires,
            used_at=None,
        )
    )
    return EnrollmentCode(store_id=store_id, code=code, expires_at=expires)


async def enroll(
    conn: AsyncConnection,
    code: str,
    *,
    restore: bool,
    contact_key: str,
    now: datetime,
    store_id: str | None = None,
    tz: str | None = None,
) -> EnrollOut:
    """Trade a one-time code for the store's credential; the store becomes ``active``. The
    answer carries ``contact_key``, the chain's contact key spec.

    A node that is not restoring may not take over a store whose events central already holds:
    it would start its log at seq 1 again and its new events would be taken for replays.

    An existing node (a standalone node enrolling later, its history to upload from seq 1)
    says which store it is (``store_id``) and its time zone (``tz``): a code of another store,
    or a store registered in another time zone, is refused. Every refusal raises inside the
    caller's transaction, so the code stays unused.
    """
    used = (
        await conn.execute(
            central_enrollments.update()
            .where(
                central_enrollments.c.code_hash == code_hash(code),
                central_enrollments.c.used_at.is_(None),
                central_enrollments.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(central_enrollments.c.store_id)
        )
    ).scalar()
    if used is None:
        raise Unauthorized("unknown, used or expired enrollment code")
    store = await _store(conn, used, lock=True)
    if store is None:
        raise NotFound(f"no store {used}")
    if store.status == "revoked":
        raise Forbidden(f"store {used} is revoked", store_id=used)
    if store_id is not None and store_id != used:
        raise StoreMismatch(
            f"this enrollment code is for store {used}, and this node is store {store_id}",
            store_id=used,
        )
    if tz is not None and tz != store.tz:
        raise TimeZoneMismatch(
            f"central registered store {used} in time zone {store.tz}, and this node keeps "
            f"{tz}; make them the same before enrolling",
            store_id=used,
        )
    if store.high_water > 0 and not restore:
        raise Conflict(
            f"central already holds {store.high_water} events of store {used}; a replaced node "
            "must enroll with restore=true and rebuild its log from central",
            store_id=used,
            high_water=store.high_water,
        )
    credential = f"{CREDENTIAL_PREFIX}.{used}.{secrets.token_urlsafe(32)}"
    await conn.execute(
        central_stores.update()
        .where(central_stores.c.store_id == used)
        .values(status="active", credential_hash=sha256_hex(credential), enrolled_at=now)
    )
    await _tell_replicas(conn, used)  # a replaced node's old connection ends
    return EnrollOut(
        store_id=used,
        name=store.name,
        region=store.region,
        tz=store.tz,
        credential=credential,
        contact_key=contact_key,
        central_time=now,
        high_water=store.high_water,
    )


async def revoke(conn: AsyncConnection, store_id: str, *, now: datetime) -> None:
    """Lock the store out: its credential and unused codes stop working at once."""
    store = await _store(conn, store_id, lock=True)
    if store is None:
        raise NotFound(f"no store {store_id}")
    await conn.execute(
        central_stores.update()
        .where(central_stores.c.store_id == store_id)
        .values(status="revoked", credential_hash=None)
    )
    await _retire_codes(conn, store_id, now)
    await _tell_replicas(conn, store_id)


async def _tell_replicas(conn: AsyncConnection, store_id: str) -> None:
    """Have every replica check the store's open connections, once this transaction commits
    (PostgreSQL; on SQLite each replica looks for itself, see ``hq.notify.watch_stores``)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(sa.func.pg_notify(STORE_CHANNEL, store_id)))


async def authenticate(conn: AsyncConnection, credential: str) -> Any | None:
    """The ``central_stores`` row of the active store holding ``credential``, else None."""
    store_id = store_id_of(credential)
    if store_id is None:
        return None
    row = (
        await conn.execute(
            sa.select(central_stores).where(
                central_stores.c.credential_hash == sha256_hex(credential)
            )
        )
    ).first()
    if row is None or row.status != "active" or row.store_id != store_id:
        return None
    return row


async def store_exists(conn: AsyncConnection, store_id: str) -> bool:
    return await _store(conn, store_id) is not None


async def _store(conn: AsyncConnection, store_id: str, *, lock: bool = False) -> Any | None:
    query = sa.select(central_stores).where(central_stores.c.store_id == store_id)
    return (await conn.execute(query.with_for_update() if lock else query)).first()


async def _retire_codes(conn: AsyncConnection, store_id: str, now: datetime) -> None:
    await conn.execute(
        central_enrollments.update()
        .where(central_enrollments.c.store_id == store_id, central_enrollments.c.used_at.is_(None))
        .values(used_at=now)
    )
