"""Setting up central's database once, and reading the secrets every replica shares.

The HQ token key lives in the ``node_meta`` table, so every replica on the same PostgreSQL signs
and checks the same tokens. The chain's contact key (``server.contact_hash``) does not: it is kept
out of the database, in ``DATA_DIR/contact.key`` (0600) of each replica, so a copy or dump of the
database cannot be searched for customers' numbers.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.tables.core import node_meta
from server import contact_migration
from server.central import db
from server.central.hq.auth import create_hq_user
from server.contact_hash import ContactHasher, ContactKeyError, key_path, read_key, write_key
from server.errors import Conflict, NotFound, ValidationFailed
from server.passwords import hash_password

log = logging.getLogger(__name__)

MIN_PASSWORD_CHARS = 8


@dataclass(frozen=True)
class CentralSecrets:
    jwt_secret: str
    """Signs HQ users' bearer tokens."""
    contact_key: ContactHasher
    """The chain's key of customer phone tokens, handed to stores at enrollment."""


async def init_central(
    url: str,
    *,
    data_dir: Path,
    admin_username: str,
    admin_password: str,
    now: datetime,
    contact_key: str | None = None,
) -> None:
    """Create central's schema, its secrets and the first HQ admin. Run once per deployment.

    ``contact_key`` is the chain's key of customer phone tokens (a spec, or a secret of at least
    16 bytes); without one, a random key is made. It is written to ``DATA_DIR/contact.key``;
    stores get it when they enroll.
    """
    try:
        hasher = ContactHasher.parse(contact_key) if contact_key else ContactHasher.generate()
    except ContactKeyError as exc:
        raise ValidationFailed(str(exc), field="contact_key") from exc
    if len(admin_password) < MIN_PASSWORD_CHARS:
        raise ValidationFailed(
            f"the password needs at least {MIN_PASSWORD_CHARS} characters", field="password"
        )
    pw_hash = await to_thread.run_sync(hash_password, admin_password)
    engine = db.make_engine(url)
    try:
        await db.migrate(engine)
        async with db.write(engine) as conn:
            if await db.get_meta(conn, "jwt_secret") is not None:
                raise Conflict("central's database is already initialised")
            await conn.execute(
                node_meta.insert(),
                [
                    {"key": "role", "value": "central"},
                    {"key": "jwt_secret", "value": secrets.token_urlsafe(48)},
                    {"key": contact_migration.UPGRADED_META, "value": "v2"},
                ],
            )
            await create_hq_user(
                conn,
                username=admin_username,
                display_name=admin_username,
                role="admin",
                regions=[],
                password_hash=pw_hash,
                now=now,
            )
            if read_key(data_dir) is None:
                write_key(data_dir, hasher)
    finally:
        await engine.dispose()


async def load_secrets(engine: AsyncEngine, data_dir: Path) -> CentralSecrets:
    """The secrets; refuses a database ``central init`` has not set up. A database of an
    earlier release that kept the contact key moves it to this replica's key file, and stored
    phone data of the old kind is upgraded (``server.contact_migration``)."""
    async with db.read(engine) as conn:
        jwt_secret = await db.get_meta(conn, "jwt_secret")
        legacy = await db.get_meta(conn, contact_migration.LEGACY_KEY_META)
        upgraded = await db.get_meta(conn, contact_migration.UPGRADED_META)
    if jwt_secret is None:
        raise NotFound("central's database is not initialised; run `hallsync central init`")
    hasher = read_key(data_dir)
    if hasher is None:
        if legacy is None:
            raise NotFound(
                f"{key_path(data_dir)} is missing: copy contact.key from the data directory "
                "of another replica of this central (or the one `central init` made)"
            )
        hasher = ContactHasher.parse(legacy)
        write_key(data_dir, hasher)
        log.warning("the chain's contact key moved out of the database to %s", key_path(data_dir))
    if legacy is not None or upgraded is None:
        async with db.write(engine) as conn:
            await conn.run_sync(contact_migration.upgrade, hasher, "central")
    return CentralSecrets(jwt_secret=jwt_secret, contact_key=hasher)


async def read_secrets(url: str, data_dir: Path) -> CentralSecrets:
    """Migrate the database at ``url`` and read the secrets (for building the app)."""
    engine = db.make_engine(url)
    try:
        if not await db.is_initialised(engine):  # not migrated: a wrong URL stays untouched
            raise NotFound("central's database is not initialised; run `hallsync central init`")
        await db.migrate(engine)
        return await load_secrets(engine, data_dir)
    finally:
        await engine.dispose()
