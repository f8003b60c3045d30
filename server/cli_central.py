"""``hallsync central …``: set up central, serve it, enroll and revoke stores.

Every command takes ``--data-dir`` (or ``HALLSYNC_DATA_DIR``): the folder holding
``central.toml`` (the database URL given at init) or, without one, the embedded SQLite
database. ``HALLSYNC_DATABASE_URL`` overrides the URL for every command.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from server.errors import HallsyncError
from server.settings import CentralSettings

T = TypeVar("T")

DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="HALLSYNC_DATA_DIR",
    required=True,
    help="Folder holding central's settings or database (or set HALLSYNC_DATA_DIR).",
)


def _run(step: Coroutine[Any, Any, T]) -> T:
    """Run one async step, turning hallsync's errors into a clean CLI error."""
    try:
        return asyncio.run(step)
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc


def _url(data_dir: Path) -> str:
    """Central's database URL, after checking that its data directory is private (repaired
    with a warning, or refused if another user owns something in it)."""
    from server.central.db import resolve_url, secure_files

    if not data_dir.exists():
        raise click.ClickException(f"{data_dir} does not exist; run `hallsync central init`")
    url = resolve_url(data_dir, CentralSettings.from_env(data_dir=data_dir).database_url)
    try:
        secure_files(data_dir, url)
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    return url


def _now() -> datetime:
    return datetime.now(UTC)


@click.group()
def central() -> None:
    """Commands of the central server."""
    # Whatever this process creates is its owner's alone; the data directory holds secrets.
    os.umask(0o077)


@central.command("init")
@DATA_DIR
@click.option(
    "--database-url",
    default=None,
    help="postgresql+asyncpg://… for production; the embedded SQLite file when omitted.",
)
@click.option("--admin", default="admin", show_default=True, help="HQ admin's user name.")
def central_init(data_dir: Path, database_url: str | None, admin: str) -> None:
    """Create central: its database schema, shared secrets and the first HQ admin.

    The admin's password comes from HALLSYNC_HQ_ADMIN_PASSWORD, or is asked for. The chain's
    key for customer contact hashes comes from HALLSYNC_CONTACT_KEY (at least 16 characters) or
    is generated; stores receive it when they enroll.
    """
    from server.central.db import resolve_url, secure_files, write_config
    from server.central.node import init_central
    from server.datadir import private_dir

    password = os.environ.get("HALLSYNC_HQ_ADMIN_PASSWORD")
    if not password:
        password = click.prompt(f"Password for {admin}", hide_input=True, confirmation_prompt=True)
    try:
        private_dir(data_dir)
        if database_url:
            write_config(data_dir, database_url)
        url = resolve_url(data_dir, database_url or os.environ.get("HALLSYNC_DATABASE_URL"))
        secure_files(data_dir, url)
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    _run(
        init_central(
            url,
            admin_username=admin,
            admin_password=password,
            contact_key=os.environ.get("HALLSYNC_CONTACT_KEY") or None,
            now=_now(),
        )
    )
    click.echo(f"central initialised in {data_dir}; HQ admin login: {admin}")


@central.command("serve")
@DATA_DIR
@click.option("--host", default=None, help="Address to listen on [127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [8000].")
@click.option("--log-level", default=None, help="debug, info, warning [info].")
def central_serve(
    data_dir: Path, host: str | None, port: int | None, log_level: str | None
) -> None:
    """Serve central (sync, enrollment, restore, HQ API) from DATA_DIR's database."""
    import uvicorn

    from server.central.app import create_app
    from server.central.node import read_secrets
    from server.gc_tuning import tune_for_serving
    from sync.frames import MAX_FRAME

    settings = CentralSettings.from_env(
        data_dir=data_dir, host=host, port=port, log_level=log_level
    )
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    url = _url(settings.data_dir)
    secrets = _run(read_secrets(url))
    try:
        app = create_app(
            url, secrets, hq_poll=settings.hq_poll_seconds, metrics_token=settings.metrics_token
        )
    except ValueError as exc:  # a bad HALLSYNC_METRICS_TOKEN
        raise click.ClickException(str(exc)) from exc
    tune_for_serving()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        loop="auto",
        http="auto",
        ws="websockets",
        # Above the protocol's limit, so an oversized frame gets a FrameTooLarge error frame
        # from the sync route rather than a bare close from the server.
        ws_max_size=2 * MAX_FRAME,
        ws_per_message_deflate=True,
        access_log=False,
    )


@central.command("enroll-store")
@click.argument("store_id")
@DATA_DIR
@click.option("--name", default=None, help="The hall's name (needed for a new store).")
@click.option("--region", default=None, help="Region code (needed for a new store).")
@click.option("--tz", default="Asia/Shanghai", show_default=True, help="IANA time zone.")
def central_enroll_store(
    store_id: str, data_dir: Path, name: str | None, region: str | None, tz: str
) -> None:
    """Register STORE_ID (if new) and print a one-time enrollment code, valid 7 days.

    For a store that exists (a replaced node), only a new code is made; older codes stop
    working.
    """
    from server.central import db, enrollment

    url = _url(data_dir)

    async def step() -> str:
        engine = db.make_engine(url)
        try:
            await db.migrate(engine)
            async with db.write(engine) as conn:
                exists = await enrollment.store_exists(conn, store_id)
                if not exists:
                    if not name or not region:
                        raise click.UsageError("a new store needs --name and --region")
                    await enrollment.create_store(
                        conn, store_id=store_id, name=name, region=region, tz=tz
                    )
                code = await enrollment.issue_code(conn, store_id, now=_now())
            return f"{code.code}\n(valid until {code.expires_at:%Y-%m-%d %H:%M} UTC)"
        finally:
            await engine.dispose()

    click.echo(_run(step()))


@central.command("revoke-store")
@click.argument("store_id")
@DATA_DIR
def central_revoke_store(store_id: str, data_dir: Path) -> None:
    """Lock STORE_ID out of sync and restore for good."""
    from server.central import db, enrollment

    url = _url(data_dir)

    async def step() -> None:
        engine = db.make_engine(url)
        try:
            async with db.write(engine) as conn:
                await enrollment.revoke(conn, store_id, now=_now())
        finally:
            await engine.dispose()

    _run(step())
    click.echo(f"store {store_id} revoked")


if __name__ == "__main__":
    central()
