"""``hallsync store …``: set up a store node, enroll it with central, sync it and serve it.

Every command takes ``--data-dir`` (or ``HALLSYNC_DATA_DIR``): the folder holding the node's
database, its contact key and its lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import click

from server.cli.common import (
    ask_password,
    data_dir_option,
    hold_lock,
    keep_files_private,
    progress_bar,
)
from server.datadir_lock import LOCK_FILE, DataDirLock
from server.errors import HallsyncError
from server.logs import log_options, start_logging
from server.settings import SetupSecrets, StoreNodeSettings, SyncSettings

PROGRESS_MIN_EVENTS = 2000
"""Show a progress bar when at least this many events wait for upload."""
CLOCK_SKEW_WARN_SECONDS = 120

DATA_DIR = data_dir_option("Folder holding the node's database (or set HALLSYNC_DATA_DIR).")


def _lock(data_dir: Path, command: str) -> DataDirLock:
    """Hold ``data_dir``'s lock for this process's ``command``, or exit naming its holder."""
    from server.store.db import db_path

    if not db_path(data_dir).exists():
        raise click.ClickException(f"no store node in {data_dir}; run `hallsync store init` first")
    return hold_lock(data_dir, command)


@contextlib.contextmanager
def _new_data_dir(data_dir: Path, *, keep_partial: bool = False) -> Any:
    """The data directory of ``store init``, locked while it is made. If init fails, the
    folders it created are removed (a rerun starts clean), unless ``keep_partial`` and a
    database was made (a restore resumes from what it downloaded)."""
    from server.store.db import db_path

    top = data_dir.absolute()
    while not top.parent.exists():
        top = top.parent
    created = not top.exists()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    new_lock_file = not (data_dir / LOCK_FILE).exists()
    try:
        with hold_lock(data_dir, "store init"):
            yield
    except BaseException:
        if keep_partial and db_path(data_dir).exists():
            raise
        if created:
            shutil.rmtree(top, ignore_errors=True)
        elif new_lock_file and not db_path(data_dir).exists():
            (data_dir / LOCK_FILE).unlink(missing_ok=True)
        raise


def _parse_time(_ctx: click.Context, _param: click.Parameter, value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a time like 08:00") from exc


@click.group()
def store() -> None:
    """Commands of a hall's store node."""
    keep_files_private()


@store.command("init")
@DATA_DIR
@click.option("--store-id", help="Store code, e.g. S001 (from central with --enroll).")
@click.option("--name", help="The hall's name, e.g. 人民路营业厅 (from central with --enroll).")
@click.option("--region", help="Region code, e.g. east (from central with --enroll).")
@click.option("--tz", default="Asia/Shanghai", show_default=True, help="IANA time zone.")
@click.option("--manager", default="manager", show_default=True, help="Manager's user name.")
@click.option("--open", "open_time", default="08:00", callback=_parse_time, show_default=True)
@click.option("--close", "close_time", default="20:00", callback=_parse_time, show_default=True)
@click.option("--enroll", "code", metavar="CODE", help="Enroll with central with this code.")
@click.option("--central", metavar="URL", help="Central's URL, e.g. ws://central:8000.")
@click.option("--restore", is_flag=True, help="Rebuild a replaced node from central's copy.")
def store_init(
    data_dir: Path,
    store_id: str | None,
    name: str | None,
    region: str | None,
    tz: str,
    manager: str,
    open_time: time,
    close_time: time,
    code: str | None,
    central: str | None,
    restore: bool,
) -> None:
    """Create a store node: its database, settings and the manager's login.

    Standalone, give --store-id, --name and --region. Enrolled with central, give --enroll CODE
    (printed by `hallsync central enroll-store`) and --central URL: the store's identity, the
    chain's contact key and the sync credential come from central. With --restore, a node that
    replaces a dead one downloads the store's whole log from central and rebuilds from it.

    The manager's password comes from HALLSYNC_MANAGER_PASSWORD, or is asked for. The chain's
    key for customer phone tokens comes from HALLSYNC_CONTACT_KEY (central's
    DATA_DIR/contact.key, or a secret of at least 16 characters); without it the node makes its
    own, and a customer is recognised in this store only. It is kept in DATA_DIR/contact.key.
    """
    from server.store.node import init_store

    secrets = SetupSecrets.from_env()
    if code is not None or central is not None or restore:
        if code is None or central is None:
            raise click.UsageError("enrolling needs both --enroll CODE and --central URL")
        if store_id or name or region:
            raise click.UsageError("with --enroll, the store id, name and region come from central")
        password = _manager_password(manager, secrets)
        _init_enrolled(data_dir, code, central, manager, password, restore)
        return
    if not (store_id and name and region):
        raise click.UsageError("give --store-id, --name and --region (or --enroll and --central)")
    contact_key = secrets.contact_key
    password = _manager_password(manager, secrets)
    try:
        with _new_data_dir(data_dir):
            init_store(
                data_dir,
                store_id=store_id,
                name=name,
                region=region,
                tz=tz,
                manager=manager,
                manager_password=password,
                contact_key=contact_key,
                open_time=open_time,
                close_time=close_time,
            )
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"store node {store_id} initialised in {data_dir}; manager login: {manager}")
    if not contact_key:
        click.echo(
            "note: no HALLSYNC_CONTACT_KEY given; customer phone numbers match within this store "
            "only until the chain's key is set",
            err=True,
        )


def _manager_password(manager: str, secrets: SetupSecrets) -> str:
    password = ask_password(manager, secrets.manager_password)
    if len(password) < 8:
        raise click.BadParameter("the password needs at least 8 characters")
    return password


def _init_enrolled(
    data_dir: Path, code: str, central: str, manager: str, password: str, restore: bool
) -> None:
    from server.store.enrollment import init_enrolled

    bar = progress_bar("restoring events") if restore else None
    task: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal task
        assert bar is not None
        if task is None:
            task = bar.add_task("restore", total=total)
        bar.update(task, completed=done, total=total)

    try:
        with _new_data_dir(data_dir, keep_partial=restore), bar or contextlib.nullcontext():
            out = init_enrolled(
                data_dir,
                central_url=central,
                code=code,
                manager=manager,
                manager_password=password,
                restore=restore,
                progress=progress if bar is not None else None,
            )
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    except ValueError as exc:  # a malformed --central URL
        raise click.BadParameter(str(exc), param_hint="--central") from exc
    if out is None:
        click.echo(f"restore of the store node in {data_dir} completed; manager login: {manager}")
        return
    done = "restored from central" if restore else "enrolled"
    click.echo(f"store node {out.store_id} ({out.name}) {done} in {data_dir}; manager: {manager}")
    _warn_clock_skew(out.central_time)


def _warn_clock_skew(central_time: datetime) -> None:
    skew = abs((central_time - datetime.now(UTC)).total_seconds())
    if skew > CLOCK_SKEW_WARN_SECONDS:
        click.echo(
            f"warning: this machine's clock is {skew:.0f} s off central's; set it right "
            "(events carry the store's wall-clock time)",
            err=True,
        )


@store.command("enroll")
@DATA_DIR
@click.option("--enroll", "code", metavar="CODE", required=True, help="The enrollment code.")
@click.option("--central", metavar="URL", required=True, help="Central's URL, e.g. ws://hq:8000.")
def store_enroll(data_dir: Path, code: str, central: str) -> None:
    """Enroll a node that has run standalone with central, keeping all it holds.

    Central must have registered the same store id and time zone (`hallsync central
    enroll-store`). The node's whole history uploads at its next sync, from its first event.
    From now on, customer phone tokens are made with the chain's contact key; the node's own
    key is kept beside it as contact.key.before-enrollment.
    """
    from server.store.enrollment import enroll_existing

    lock = _lock(data_dir, "store enroll")
    try:
        done = enroll_existing(data_dir, central_url=central, code=code)
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    except ValueError as exc:  # a malformed --central URL
        raise click.BadParameter(str(exc), param_hint="--central") from exc
    finally:
        lock.release()
    out = done.enrolled
    click.echo(
        f"store node {out.store_id} ({out.name}) enrolled with {central}; "
        f"{done.history} events will upload at the next sync"
    )
    if done.kept_key is not None:
        click.echo(
            "note: this node now uses the chain's contact key; phone numbers recorded before "
            f"enrollment match only in this store's own records (old key kept in {done.kept_key})",
            err=True,
        )
    _warn_clock_skew(out.central_time)


@store.command("set-central")
@DATA_DIR
@click.argument("url")
@click.option(
    "--no-check", is_flag=True, help="Save the address without asking it first (it may be down)."
)
def store_set_central(data_dir: Path, url: str, no_check: bool) -> None:
    """Point the enrolled node in DATA_DIR at another address of its central (URL: e.g.
    wss://hq.example.com). The address is asked first whether it knows this node.

    HALLSYNC_CENTRAL_URL overrides the saved address for one process (serve or sync).
    """
    from server.store.enrollment import set_central

    lock = _lock(data_dir, "store set-central")
    try:
        high_water = set_central(data_dir, url, check=not no_check)
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from exc
    finally:
        lock.release()
    held = "" if high_water is None else f" (it holds this store's log up to seq {high_water})"
    click.echo(f"the node in {data_dir} now syncs with {url}{held}")


class _TryAgainLater(click.ClickException):
    exit_code = 75  # EX_TEMPFAIL: a script may retry


@store.command("sync")
@DATA_DIR
@click.option("--once", is_flag=True, help="Sync until caught up, then exit.")
@log_options
def store_sync(data_dir: Path, once: bool, log_level: str | None, log_format: str | None) -> None:
    """Sync the enrolled node in DATA_DIR with central: upload its log, apply HQ events.

    With --once, exits 0 when central holds the whole log and HQ events are applied; a failure
    exits 75 when trying again later may work, 1 when it will not. Without --once, keeps
    syncing (HALLSYNC_SYNC_MODE, HALLSYNC_SYNC_WINDOW) until interrupted.
    """
    from sync.errors import SyncError

    start_logging(log_level, log_format)
    # A serving node syncs in the background; a second syncer beside it would append to the
    # same log from another process.
    lock = _lock(data_dir, "store sync")
    try:
        result = asyncio.run(_sync(data_dir, once))
    except SyncError as exc:
        if exc.retryable:
            raise _TryAgainLater(f"sync failed: {exc.message} (try again later)") from exc
        raise click.ClickException(f"sync failed: {exc.message}") from exc
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    except ValueError as exc:  # a bad HALLSYNC_SYNC_* setting
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        if once:  # stopped before caught up: "Aborted!", exit 1
            raise
        return  # the way to stop syncing; the service said so in the log
    finally:
        lock.release()
    if result is not None:
        click.echo(
            f"caught up: central holds seq {result.acked_seq}, HQ cursor {result.hq_cursor} "
            f"({result.hq_applied} HQ events applied, {result.quarantined} quarantined)"
        )


async def _sync(data_dir: Path, once: bool) -> Any:
    from server.store.db import Reader
    from server.store.node import open_store
    from server.store.sync_service import SyncService, read_enrollment
    from server.store.writer import Writer

    opened = open_store(data_dir)
    reader = Reader(opened.engine)
    enrollment = reader.run_sync(read_enrollment)
    if enrollment is None:
        opened.engine.dispose()
        raise click.ClickException(
            "this node is not enrolled with central; create it with `store init --enroll`"
        )
    writer = Writer(opened.engine, opened.store_id, contact_key=opened.contact_key)
    try:
        settings = SyncSettings.from_env()
    except ValueError:
        opened.engine.dispose()
        raise
    if not once and settings.mode == "off":
        opened.engine.dispose()
        raise click.ClickException("HALLSYNC_SYNC_MODE is off; use --once to sync anyway")
    service = SyncService(
        writer, reader, settings.address(enrollment), settings=None if once else settings
    )
    writer.on_commit.append(service.on_commit)
    writer.start()
    try:
        if not once:
            await service.start()
            await asyncio.Event().wait()  # until Ctrl-C cancels us
        status = await service.status()
        bar = progress_bar("uploading events") if status.pending >= PROGRESS_MIN_EVENTS else None
        if bar is None:
            return await service.run_once()
        with bar:
            task = bar.add_task("upload", total=status.local_seq, completed=status.acked_seq)
            return await service.run_once(
                on_progress=lambda acked, local: bar.update(task, completed=acked, total=local)
            )
    finally:
        await service.stop()
        writer.stop()
        opened.engine.dispose()


@store.command("serve")
@DATA_DIR
@click.option(
    "--host",
    default=None,
    help="Address to listen on: 0.0.0.0 (or this machine's LAN address) for the hall's "
    "tablets to reach the node [HALLSYNC_HOST, else 127.0.0.1: this machine only].",
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port to listen on [8100]."
)
@log_options
def store_serve(
    data_dir: Path,
    host: str | None,
    port: int | None,
    log_level: str | None,
    log_format: str | None,
) -> None:
    """Serve the tablet API of the store node in DATA_DIR."""
    from server.gc_tuning import tune_for_serving
    from server.serving import serve
    from server.store.app import create_app
    from server.web.logins import LoginGate

    start_logging(log_level, log_format)
    settings = StoreNodeSettings.from_env(data_dir=data_dir, host=host, port=port)
    # Held until the process exits: a second node on this directory is refused here, before
    # it opens the database.
    lock = _lock(settings.data_dir, "store serve")
    try:
        app = create_app(
            settings.data_dir,
            sync_settings=SyncSettings.from_env(),
            logins=LoginGate(trusted_proxies=settings.trusted_proxies),
            metrics_token=settings.metrics_token,
        )
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    except ValueError as exc:  # a bad HALLSYNC_SYNC_*, _TRUSTED_PROXIES or _METRICS_TOKEN setting
        raise click.ClickException(str(exc)) from exc
    tune_for_serving()
    serve(
        app,
        name=f"store node {app.state.node.store_id}",
        fields={"data_dir": str(settings.data_dir)},
        host=settings.host,
        port=settings.port,
        loop="auto",  # uvloop and httptools when installed (they are dependencies)
        http="auto",
    )
    lock.release()
