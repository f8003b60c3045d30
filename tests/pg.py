"""A throwaway PostgreSQL database per test, on the machine's server at 127.0.0.1:5432.

Without a server the tests that need it are skipped with the reason; with
``HALLSYNC_REQUIRE_POSTGRES=1`` (as CI sets) they fail instead, so CI never skips them silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

PG_HOST = os.environ.get("HALLSYNC_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("HALLSYNC_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("HALLSYNC_TEST_PG_USER", "postgres")
PG_ADMIN_DB = os.environ.get("HALLSYNC_TEST_PG_DB", "test")


async def _admin() -> asyncpg.Connection:
    return await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB, timeout=3
    )


async def pg_database() -> AsyncIterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, drop it afterwards."""
    try:
        admin = await _admin()
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {exc}"
        if os.environ.get("HALLSYNC_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (HALLSYNC_REQUIRE_POSTGRES=1 forbids skipping)")
        pytest.skip(reason)
    name = f"hallsync_t_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        admin = await _admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
