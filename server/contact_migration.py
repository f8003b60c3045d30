"""Upgrading stored customer phone data of earlier releases to today's protection.

Earlier releases kept a phone number as a display form showing 7 of its 11 digits
(``138****5678``, in fields and inside free text) and a bare HMAC-SHA256 hex of it. Both gave the
number away to anyone holding the database and its key (``server.contact_hash``). This sweep
rewrites what is stored, wherever it is, to what a new record would hold:

- matching hashes become tokens (``ContactHasher.upgrade_legacy``: computed from the old HMAC, so
  a returning customer still matches);
- display forms and masked numbers in free text lose every digit;
- event bodies in the log (store and central alike) are rewritten the same way, so the log stays
  the source the projections fold from; the rewrite is deterministic, so a node and central that
  rewrite their own copies of one event end up with the same bytes;
- remembered Idempotency-Key answers get the same treatment, and the fingerprint of the request
  (a hash of its raw body, which held the number) is voided: a retry of such a request is then
  refused as a reused key instead of being run twice.

It runs on a plain SQLAlchemy connection, inside the caller's transaction, on SQLite and
PostgreSQL; it finds its work through a cheap filter (``****`` in the text or bytes), so running
it again over an upgraded database costs one scan and changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection

from schema.tables.complaints import complaints
from schema.tables.core import events, idempotency_keys, node_meta
from schema.tables.databases import App, metadata_of
from schema.tables.queue import queue_appointments, queue_tickets
from server.contact_hash import ContactHasher, is_legacy_hash

log = logging.getLogger(__name__)

LEGACY_MASK = re.compile(r"(?<![0-9])1[0-9]{2}\*{4}[0-9]{4}(?![0-9])")
"""A phone number as earlier releases displayed it: 3 digits, ****, 4 digits."""
LEGACY_MASK_BYTES = re.compile(LEGACY_MASK.pattern.encode())
"""The same, searched in an encoded body as it arrives (msgpack and JSON keep text as UTF-8)."""
MASKED = "*" * 11
LEGACY_KEY_META = "contact_key"
"""Where earlier releases kept the contact key: in the database (``node_meta``)."""
UPGRADED_META = "contact_data"
"""``node_meta`` key set to ``v2`` once a database's phone data is upgraded. Central clears it
when a node of an earlier release uploads phone data of the old kind, so its next start upgrades
that too."""
VOIDED_FINGERPRINT = "voided:phone-data-upgraded"
_STARS = "****"

HASH_COLUMNS: tuple[tuple[sa.Table, str, str], ...] = (
    (complaints, "customer_phone_hash", "customer_phone_masked"),
    (queue_tickets, "phone_hash", "phone_masked"),
    (queue_appointments, "phone_hash", "phone_masked"),
)
"""Projection columns holding a phone's matching hash, with the display form beside it."""
_HASH_FIELDS = frozenset(column for _, column, _ in HASH_COLUMNS)
_BODY_TABLES = (events.name, idempotency_keys.name)


class _Upgrader:
    """Maps old values to new ones, computing each old hash's token once."""

    def __init__(self, hasher: ContactHasher) -> None:
        self.hasher = hasher
        self.tokens: dict[str, str] = {}

    def token(self, legacy: str) -> str:
        new = self.tokens.get(legacy)
        if new is None:
            new = self.tokens[legacy] = self.hasher.upgrade_legacy(legacy)
        return new

    def text(self, value: str) -> str:
        return LEGACY_MASK.sub(MASKED, value) if _STARS in value else value

    def value(self, key: str | None, value: Any) -> Any:
        """One field of a decoded body, rewritten (recursively)."""
        if isinstance(value, str):
            if key in _HASH_FIELDS:
                return self.token(value) if is_legacy_hash(value) else value
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(None, v) for v in value]
        return value


def upgrade(conn: Connection, hasher: ContactHasher, app: App) -> int:
    """Rewrite every stored phone display form and hash of earlier releases (see the module) in
    ``app``'s database, drop the contact key from ``node_meta`` and mark the database upgraded;
    returns how many rows changed. Run inside a transaction."""
    up = _Upgrader(hasher)
    tables = metadata_of(app).tables
    changed = _upgrade_hash_columns(conn, up)
    changed += _upgrade_text_columns(conn, up, app)
    changed += _upgrade_bodies(conn, events, "body", msgspec.msgpack, up)
    if idempotency_keys.name in tables:
        changed += _upgrade_bodies(conn, idempotency_keys, "body", msgspec.json, up, void=True)
    # The key itself leaves the database (the caller has written the key file).
    keys = (LEGACY_KEY_META, UPGRADED_META)
    conn.execute(node_meta.delete().where(node_meta.c.key.in_(keys)))
    conn.execute(node_meta.insert(), {"key": UPGRADED_META, "value": "v2"})
    if changed:
        log.info(
            "customer phone data upgraded: %d rows, %d distinct numbers", changed, len(up.tokens)
        )
    return changed


def _upgrade_hash_columns(conn: Connection, up: _Upgrader) -> int:
    changed = 0
    for table, hash_col, masked_col in HASH_COLUMNS:
        if hash_col not in table.c:
            continue
        legacy = [
            v
            for (v,) in conn.execute(
                sa.select(table.c[hash_col])
                .where(table.c[hash_col].is_not(None), ~table.c[hash_col].startswith("v2:"))
                .distinct()
            )
            if is_legacy_hash(v)
        ]
        for old in legacy:
            result = conn.execute(
                table.update()
                .where(table.c[hash_col] == old)
                .values({hash_col: up.token(old), masked_col: MASKED})
            )
            changed += result.rowcount
    return changed


def _upgrade_text_columns(conn: Connection, up: _Upgrader, app: App) -> int:
    """Masked numbers of the old kind inside any text column of any table of ``app``'s database
    (free text copied into projections, display forms)."""
    changed = 0
    for table in metadata_of(app).sorted_tables:
        if table.name in _BODY_TABLES or not table.primary_key.columns:
            continue
        texts = [c for c in table.c if isinstance(c.type, sa.String) and c.name not in _HASH_FIELDS]
        if not texts:
            continue
        key = list(table.primary_key.columns)
        for column in texts:
            rows = conn.execute(
                sa.select(*key, column).where(column.contains(_STARS, autoescape=True))
            ).all()
            for row in rows:
                old = row[-1]
                new = up.text(old)
                if new != old:
                    where = [k == row[i] for i, k in enumerate(key)]
                    conn.execute(table.update().where(*where).values({column.name: new}))
                    changed += 1
    return changed


def _contains_stars(conn: Connection, column: sa.Column[Any]) -> sa.ColumnElement[bool]:
    """``column`` (bytes) contains ``****``: the cheap filter for rows worth decoding."""
    if conn.dialect.name == "postgresql":
        return sa.func.position(sa.literal(b"****", sa.LargeBinary).op("IN")(column)) > 0
    return sa.func.instr(column, sa.literal(b"****", sa.LargeBinary)) > 0


def _upgrade_bodies(
    conn: Connection,
    table: sa.Table,
    column: str,
    codec: Any,
    up: _Upgrader,
    *,
    void: bool = False,
) -> int:
    """Rewrite encoded bodies (msgpack events, JSON answers) that hold old-kind phone data."""
    body = table.c[column]
    key = list(table.primary_key.columns)
    decode: Callable[[bytes], Any] = codec.decode
    encode: Callable[[Any], bytes] = codec.encode
    changed = 0
    rows = conn.execute(sa.select(*key, body).where(_contains_stars(conn, body))).all()
    for row in rows:
        old = bytes(row[-1])
        try:
            decoded = decode(old)
        except msgspec.DecodeError:
            log.warning("a stored %s body could not be read for the phone upgrade", table.name)
            continue
        new = encode(up.value(None, decoded))
        if new == old:
            continue
        values: dict[str, Any] = {column: new}
        if void:
            values["fingerprint"] = VOIDED_FINGERPRINT
        where = [k == row[i] for i, k in enumerate(key)]
        conn.execute(table.update().where(*where).values(values))
        changed += 1
    return changed
