"""A store node and central: enrolling, and pointing at another address of central.

A node is enrolled when it is made (``init_enrolled``: central hands out the store's identity,
the chain's contact key and a sync credential), or later, after running standalone
(``enroll_existing``: the node keeps its identity and its whole history, which then uploads
from ``seq`` 1). A node that replaces a dead one is made with ``init_enrolled(restore=True)``:
the store's own log is downloaded from central, verbatim, and folded into fresh projections
(``server.store.restore``). ``set_central`` points an enrolled node at another address of its
central (a second replica, a new host); the credential stays. Every call to central goes
through ``server.store.central_client``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from schema.api.enrollment import EnrollOut
from schema.tables.core import node_meta, store_info
from server.contact_hash import replace_key
from server.datadir import secure
from server.errors import CentralRefused, Conflict, NotFound, ValidationFailed
from server.store import restore as restoring
from server.store.central_address import Enrollment, http_url, ws_url
from server.store.central_client import CentralClient
from server.store.db import db_path
from server.store.node import USERNAME, check_contact_key, init_store, open_store
from server.store.sync_service import (
    META_CENTRAL_URL,
    META_CREDENTIAL,
    max_seq,
    read_enrollment,
    save_sync_state,
)

log = logging.getLogger(__name__)


def init_enrolled(
    data_dir: Path,
    *,
    central_url: str,
    code: str,
    manager: str,
    manager_password: str,
    restore: bool = False,
    transport: httpx.BaseTransport | None = None,
    progress: restoring.Progress | None = None,
    page_size: int = restoring.RESTORE_PAGE,
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
    pending = restoring.pending(path) if restore and path.exists() else None
    if pending is None and path.exists():
        raise Conflict(f"{path} already holds a store node")
    out: EnrollOut | None = None
    if pending is None:
        with CentralClient(url, transport=transport) as central:
            out = central.enroll(code, restore=restore)
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
        restoring.create_restoring(data_dir, out.store_id, hasher, meta, identity)
    restoring.download(data_dir, manager, manager_password, transport, progress, page_size)
    return out


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
        with CentralClient(url, transport=transport) as central:
            out = central.enroll(code, existing=(opened.store_id, tz))
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
            enrollment = Enrollment(url, enrolled.credential)
            with CentralClient.enrolled(enrollment, transport=transport) as central:
                high_water = central.restore_page(local, 1).high_water
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
