"""``hallsync central …``: set up central, serve it, enroll and revoke stores, manage HQ users.

Every command takes ``--data-dir`` (or ``HALLSYNC_DATA_DIR``): the folder holding
``central.toml`` (the database URL given at init) or, without one, the embedded SQLite
database. ``HALLSYNC_DATABASE_URL`` overrides the URL for every command.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import msgspec

from server.errors import HallsyncError, NotFound
from server.logs import log_options, start_logging
from server.settings import CentralSettings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")
S = TypeVar("S", bound=msgspec.Struct)

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


def _run_sync(step: Callable[[], T]) -> T:
    """Run one step, turning hallsync's errors into a clean CLI error."""
    try:
        return step()
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc


def _url(data_dir: Path) -> str:
    """The database URL of an initialised central in ``data_dir``. Refuses one with neither a
    saved URL nor the embedded database, rather than creating an empty database there, after
    checking that the data directory is private (repaired with a warning, or refused if another
    user owns something in it)."""
    from server.central.db import resolve_url, secure_files, sqlite_file

    if not data_dir.exists():
        raise click.ClickException(f"{data_dir} does not exist; run `hallsync central init`")
    try:
        url = resolve_url(data_dir, CentralSettings.from_env(data_dir=data_dir).database_url)
        secure_files(data_dir, url)
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    file = sqlite_file(url)
    if file is not None and not file.exists():
        raise click.ClickException(f"no central in {data_dir}; run `hallsync central init`")
    return url


def _now() -> datetime:
    return datetime.now(UTC)


@click.group()
def central() -> None:
    """Commands of the central server."""
    # Whatever this process creates is its owner's alone; the data directory holds secrets.
    os.umask(0o077)
    start_logging()


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

    try:
        url = resolve_url(data_dir, database_url or os.environ.get("HALLSYNC_DATABASE_URL"))
    except HallsyncError as exc:
        raise click.BadParameter(exc.detail, param_hint="--database-url") from exc
    password = os.environ.get("HALLSYNC_HQ_ADMIN_PASSWORD")
    if not password:
        password = click.prompt(f"Password for {admin}", hide_input=True, confirmation_prompt=True)
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
        _run(
            init_central(
                url,
                data_dir=data_dir,
                admin_username=admin,
                admin_password=password,
                contact_key=os.environ.get("HALLSYNC_CONTACT_KEY") or None,
                now=_now(),
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
    from server.logins import LoginGate
    from server.serving import serve
    from sync.frames import MAX_FRAME

    start_logging(log_level, log_format)
    settings = CentralSettings.from_env(data_dir=data_dir, host=host, port=port)
    url = _url(settings.data_dir)
    file = sqlite_file(url)
    # One process serves an embedded database (held until exit); replicas on PostgreSQL are
    # many by design.
    lock = None if file is None else _run_sync(lambda: lock_data_dir(file.parent, "central serve"))
    secrets = _run(read_secrets(url, settings.data_dir))
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

    url = _url(data_dir)

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


# ------------------------------------------------------------------ HQ users

USER_PASSWORD_ENV = "HALLSYNC_HQ_USER_PASSWORD"


def _user_password(username: str) -> str:
    """A password for ``username``: from HALLSYNC_HQ_USER_PASSWORD or a hidden prompt, never
    from the command line (where other users of the machine and the shell history see it)."""
    password = os.environ.get(USER_PASSWORD_ENV)
    if not password:
        password = click.prompt(
            f"Password for {username}", hide_input=True, confirmation_prompt=True
        )
    return password


def _users(data_dir: Path, step: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run ``step`` in one write transaction on central's (migrated) database."""
    from server.central import db

    url = _url(data_dir)

    async def run() -> T:
        engine = db.make_engine(url)
        try:
            await db.migrate(engine)
            async with db.write(engine) as conn:
                return await step(conn)
        finally:
            await engine.dispose()

    return _run(run())


def _checked(struct: type[S], **fields: Any) -> S:
    """The fields as the API would take them: the same limits, the same messages."""
    try:
        return msgspec.convert(fields, struct)
    except msgspec.ValidationError as exc:
        raise click.ClickException(str(exc)) from exc


def _describe(user: Any) -> str:
    regions = ",".join(user.regions) or "*"
    flags = ("" if user.active else " inactive") + (
        " must-change-password" if user.must_change_password else ""
    )
    return f"{user.username}\t{user.role}\t{regions}\t{user.display_name}{flags}"


@central.group("user")
def central_user() -> None:
    """Manage HQ users (the same rules as /api/v1/hq/users).

    Passwords come from HALLSYNC_HQ_USER_PASSWORD or a prompt, never from the command line.
    A user given a password here must choose their own at their first login.
    """


@central_user.command("add")
@click.argument("username")
@DATA_DIR
@click.option("--role", type=click.Choice(["admin", "ops", "analyst", "auditor"]), required=True)
@click.option(
    "--region", "regions", multiple=True, help="A region the user may see (repeat); none: all."
)
@click.option("--display-name", default=None, help="Name shown to HQ [USERNAME].")
def user_add(
    username: str, data_dir: Path, role: str, regions: tuple[str, ...], display_name: str | None
) -> None:
    """Create HQ user USERNAME."""
    from anyio import to_thread

    from schema.api.hq_users import HqUserIn
    from server.central import hq_users
    from server.passwords import hash_password

    data = _checked(
        HqUserIn,
        username=username,
        display_name=display_name or username,
        role=role,
        regions=list(regions),
        password=_user_password(username),
    )

    async def step(conn: AsyncConnection) -> Any:
        pw_hash = await to_thread.run_sync(hash_password, data.password)
        out, _ = await hq_users.create_user(
            conn, data, password_hash=pw_hash, now=_now(), created_by=None
        )
        return out

    click.echo(f"created {_describe(_users(data_dir, step))}")


@central_user.command("list")
@DATA_DIR
@click.option("--role", type=click.Choice(["admin", "ops", "analyst", "auditor"]), default=None)
@click.option("--active/--inactive", default=None, help="Only active (or inactive) users.")
def user_list(data_dir: Path, role: str | None, active: bool | None) -> None:
    """List HQ users: user name, role, regions (* = every region), display name."""
    from server.central import hq_users

    async def step(conn: AsyncConnection) -> list[Any]:
        rows = await conn.execute(hq_users.list_query(role=role, active=active))
        return [hq_users.user_out(r) for r in rows]

    for user in _users(data_dir, step):
        click.echo(_describe(user))


def _update(data_dir: Path, username: str, **change: Any) -> None:
    from schema.api.hq_users import HqUserUpdate
    from server.central import hq_users

    data = _checked(HqUserUpdate, **change)
    out = _users(data_dir, lambda conn: hq_users.update_user(conn, username, data))
    click.echo(f"changed {_describe(out)}")


@central_user.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(["admin", "ops", "analyst", "auditor"]))
@DATA_DIR
def user_set_role(username: str, role: str, data_dir: Path) -> None:
    """Give USERNAME another ROLE."""
    _update(data_dir, username, role=role)


@central_user.command("set-regions")
@click.argument("username")
@click.argument("regions", nargs=-1)
@DATA_DIR
@click.option("--all", "every", is_flag=True, help="Every region (instead of REGIONS).")
def user_set_regions(username: str, regions: tuple[str, ...], data_dir: Path, every: bool) -> None:
    """Limit USERNAME to REGIONS, or give them every region with --all."""
    if every == bool(regions):
        raise click.UsageError("name the regions, or give --all for every region")
    _update(data_dir, username, regions=list(regions))


@central_user.command("deactivate")
@click.argument("username")
@DATA_DIR
def user_deactivate(username: str, data_dir: Path) -> None:
    """Lock USERNAME out: logins fail and their tokens stop working at once."""
    _update(data_dir, username, active=False)


@central_user.command("activate")
@click.argument("username")
@DATA_DIR
def user_activate(username: str, data_dir: Path) -> None:
    """Let a deactivated USERNAME log in again."""
    _update(data_dir, username, active=True)


@central_user.command("reset-password")
@click.argument("username")
@DATA_DIR
def user_reset_password(username: str, data_dir: Path) -> None:
    """Set a new password for USERNAME, who must choose their own at their next login; their
    earlier tokens stop working."""
    from anyio import to_thread

    from schema.api.hq_users import PasswordResetIn
    from server.central import hq_users
    from server.passwords import hash_password

    data = _checked(PasswordResetIn, password=_user_password(username))

    async def step(conn: AsyncConnection) -> Any:
        pw_hash = await to_thread.run_sync(hash_password, data.password)
        return await hq_users.set_password(conn, username, pw_hash, by_admin=True)

    click.echo(f"password reset: {_describe(_users(data_dir, step))}")


if __name__ == "__main__":
    central()
