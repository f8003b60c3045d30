"""Setting up central's database once, and reading the secrets every replica shares.

Central's own secrets (the HQ token key and the chain's contact key) live in its ``node_meta``
table, not in files, so every replica on the same PostgreSQL signs and checks the same tokens.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.tables.core import node_meta
from server.central import db
from server.central.hq_auth import create_hq_user
from server.errors import Conflict, NotFound, ValidationFailed
from server.passwords import hash_password

MIN_CONTACT_KEY_BYTES = 16
MIN_PASSWORD_CHARS = 8


@dataclass(frozen=True)
class CentralSecrets:
    jwt_secret: str
    """Signs HQ users' bearer tokens."""
    contact_key: str
    """The chain's key of customer contact hashes, handed to stores at enrollment."""


async def init_central(
    url: str,
    *,
    admin_username: str,
    admin_password: str,
    now: datetime,
    contact_key: str | None = None,
) -> None:
    """Create central's schema, its secrets and the first HQ admin. Run once per deployment.

    ``contact_key`` is the chain's key of customer contact hashes (at least 16 bytes); without
    one, a random key is made. Stores get it when they enroll.
    """
    key = contact_key or secrets.token_urlsafe(32)
    if len(key.encode()) < MIN_CONTACT_KEY_BYTES:
        raise ValidationFailed(
            f"the contact hash key needs at least {MIN_CONTACT_KEY_BYTES} bytes",
            field="contact_key",
        )
    if len(admin_password) < MIN_PASSWORD_CHARS:
        raise ValidationFailed(
            f"the password needs at least {MIN_PASSWORD_CHARS} characters", field="password"
        )
    pw_hash = await to_thread.run_sync(hash_password, admin_password)
    engine = db.make_engine(url)
    try:
        await db.migrate(engine)
        async with db.write(engine) as conn:
            if await db.get_meta(conn, "contact_key") is not None:
                raise Conflict("central's database is already initialised")
            await conn.execute(
                node_meta.insert(),
                [
                    {"key": "role", "value": "central"},
                    {"key": "jwt_secret", "value": secrets.token_urlsafe(48)},
                    {"key": "contact_key", "value": key},
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
    finally:
        await engine.dispose()


async def load_secrets(engine: AsyncEngine) -> CentralSecrets:
    """The shared secrets; refuses a database ``central init`` has not set up."""
    async with db.read(engine) as conn:
        jwt_secret = await db.get_meta(conn, "jwt_secret")
        contact_key = await db.get_meta(conn, "contact_key")
    if jwt_secret is None or contact_key is None:
        raise NotFound("central's database is not initialised; run `hallsync central init`")
    return CentralSecrets(jwt_secret=jwt_secret, contact_key=contact_key)


async def read_secrets(url: str) -> CentralSecrets:
    """Migrate the database at ``url`` and read its secrets (for building the app)."""
    engine = db.make_engine(url)
    try:
        if not await db.is_initialised(engine):  # not migrated: a wrong URL stays untouched
            raise NotFound("central's database is not initialised; run `hallsync central init`")
        await db.migrate(engine)
        return await load_secrets(engine)
    finally:
        await engine.dispose()
