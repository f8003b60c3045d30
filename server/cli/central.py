"""``hallsync central …``: set up central, serve it, enroll and revoke stores (HQ users:
``server.cli.hq_users``).

Every command takes ``--data-dir`` (or ``HALLSYNC_DATA_DIR``): the folder holding
``central.toml`` (the database URL given at init) or, without one, the embedded SQLite
database. ``HALLSYNC_DATABASE_URL`` overrides the URL for every command.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from server.cli.common import (
    ask_password,
    central_database,
    data_dir_option,
    keep_files_private,
    now,
    run,
    run_sync,
)
from server.cli.hq_users import user
from server.errors import HallsyncError, NotFound
from server.logs import log_options, start_logging
from server.settings import CentralSettings, SetupSecrets

DATA_DIR = data_dir_option(
    "Folder holding central's settings or database (or set HALLSYNC_DATA_DIR)."
)


@click.group()
def central() -> None:
    """Commands of the central server."""
    keep_files_private()


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
    key for customer phone tokens comes from HALLSYNC_CONTACT_KEY (at least 16 characters) or
    is generated; it is kept in DATA_DIR/contact.key (copy it to every replica's data
    directory), never in the database; stores receive it when they enroll.
    """
    from server.central.db import resolve_url, secure_files, write_config
    from server.central.node import init_central
    from server.datadir import private_dir

    secrets = SetupSecrets.from_env()
    try:
        settings = CentralSettings.from_env(data_dir=data_dir, database_url=database_url or None)
        url = resolve_url(data_dir, settings.database_url)
    except HallsyncError as exc:
        raise click.BadParameter(exc.detail, param_hint="--database-url") from exc
    password = ask_password(admin, secrets.hq_admin_password)
    top = data_dir.absolute()
    while not top.parent.exists():
        top = top.parent
    created = not top.exists()
    try:
        private_dir(data_dir)
        secure_files(data_dir, url)
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    try:
        run(
            init_central(
                url,
                data_dir=data_dir,
                admin_username=admin,
                admin_password=password,
                contact_key=secrets.contact_key,
                now=now(),
            )
        )
    except BaseException:
        if created:  # a failed init leaves nothing behind: fix the cause and run it again
            shutil.rmtree(top, ignore_errors=True)
        raise
    # Saved only once the database took it, so a mistyped URL is never remembered.
    if database_url:
        write_config(data_dir, url)
    click.echo(f"central initialised in {data_dir}; HQ admin login: {admin}")


@central.command("serve")
@DATA_DIR
@click.option(
    "--host",
    default=None,
    help="Address to listen on: 0.0.0.0 (or this machine's LAN address) for stores and HQ to "
    "reach it [HALLSYNC_HOST, else 127.0.0.1: this machine only].",
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port to listen on [8000]."
)
@log_options
def central_serve(
    data_dir: Path,
    host: str | None,
    port: int | None,
    log_level: str | None,
    log_format: str | None,
) -> None:
    """Serve central (sync, enrollment, restore, HQ API) from DATA_DIR's database."""
    from sqlalchemy.engine import make_url

    from server.central.app import create_app
    from server.central.db import sqlite_file
    from server.central.node import read_secrets
    from server.datadir_lock import lock_data_dir
    from server.gc_tuning import tune_for_serving
    from server.serving import serve
    from server.web.logins import LoginGate
    from sync.frames import MAX_FRAME

    start_logging(log_level, log_format)
    settings = CentralSettings.from_env(data_dir=data_dir, host=host, port=port)
    url = central_database(settings.data_dir)
    file = sqlite_file(url)
    # One process serves an embedded database (held until exit); replicas on PostgreSQL are
    # many by design.
    lock = None if file is None else run_sync(lambda: lock_data_dir(file.parent, "central serve"))
    secrets = run(read_secrets(url, settings.data_dir))
    try:
        logins = LoginGate(trusted_proxies=settings.trusted_proxies)
    except ValueError as exc:  # a bad HALLSYNC_TRUSTED_PROXIES entry
        raise click.ClickException(str(exc)) from exc
    try:
        app = create_app(
            url,
            secrets,
            hq_poll=settings.hq_poll_seconds,
            logins=logins,
            metrics_token=settings.metrics_token,
        )
    except ValueError as exc:  # a bad HALLSYNC_METRICS_TOKEN
        raise click.ClickException(str(exc)) from exc
    tune_for_serving()
    serve(
        app,
        name="central",
        fields={"database": make_url(url).render_as_string(hide_password=True)},
        host=settings.host,
        port=settings.port,
        loop="auto",
        http="auto",
        # The sans-I/O implementation: uvicorn's older "websockets" one rides on the websockets
        # library's deprecated legacy server (and warns so at every start).
        ws="websockets-sansio",
        # Above the protocol's limit, so an oversized frame gets a FrameTooLarge error frame
        # from the sync route rather than a bare close from the server.
        ws_max_size=2 * MAX_FRAME,
        ws_per_message_deflate=True,
    )
    if lock is not None:
        lock.release()


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

    url = central_database(data_dir)

    async def step() -> str:
        engine = db.make_engine(url)
        try:
            if not await db.is_initialised(engine):
                raise NotFound("central's database is not initialised; run `hallsync central init`")
            await db.migrate(engine)
            async with db.write(engine) as conn:
                exists = await enrollment.store_exists(conn, store_id)
                if not exists:
                    if not name or not region:
                        raise click.UsageError("a new store needs --name and --region")
                    await enrollment.create_store(
                        conn, store_id=store_id, name=name, region=region, tz=tz
                    )
                code = await enrollment.issue_code(conn, store_id, now=now())
            return f"{code.code}\n(valid until {code.expires_at:%Y-%m-%d %H:%M} UTC)"
        finally:
            await engine.dispose()

    click.echo(run(step()))


@central.command("revoke-store")
@click.argument("store_id")
@DATA_DIR
def central_revoke_store(store_id: str, data_dir: Path) -> None:
    """Lock STORE_ID out of sync and restore for good."""
    from server.central import db, enrollment

    url = central_database(data_dir)

    async def step() -> None:
        engine = db.make_engine(url)
        try:
            async with db.write(engine) as conn:
                await enrollment.revoke(conn, store_id, now=now())
        finally:
            await engine.dispose()

    run(step())
    click.echo(f"store {store_id} revoked")


central.add_command(user)
