"""What the store and central commands share: the data-directory option, the data directory's
lock, turning hallsync's errors into clean command-line errors, password prompts, logging and
the progress bar."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from server.errors import HallsyncError
from server.settings import CentralSettings, data_dir_from_env

if TYPE_CHECKING:
    from server.datadir_lock import DataDirLock

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def data_dir_option(help: str) -> Callable[[F], F]:
    """``--data-dir``, required: given on the command line or by ``HALLSYNC_DATA_DIR`` (read by
    the settings, like every environment variable)."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=data_dir_from_env,
        callback=_given,
        required=True,
        help=help,
    )


def _given(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    # A default that turns out None does not count as missing to click.
    if value is None:
        raise click.MissingParameter(ctx=ctx, param=param)
    return value


def keep_files_private() -> None:
    """Make whatever this process creates its owner's alone: the data directory holds
    secrets."""
    os.umask(0o077)


def run(step: Coroutine[Any, Any, T]) -> T:
    """Run one async step, turning hallsync's errors into a clean CLI error."""
    try:
        return asyncio.run(step)
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc


def run_sync(step: Callable[[], T]) -> T:
    """Run one step, turning hallsync's errors into a clean CLI error."""
    try:
        return step()
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc


def hold_lock(data_dir: Path, command: str) -> DataDirLock:
    """Hold ``data_dir``'s lock for this process's ``command``, or exit naming its holder."""
    from server.datadir_lock import lock_data_dir

    return run_sync(lambda: lock_data_dir(data_dir, command))


def now() -> datetime:
    return datetime.now(UTC)


def ask_password(username: str, given: str | None) -> str:
    """``given`` (a password from the environment, see ``SetupSecrets``), else one typed twice
    at a hidden prompt; never one from the command line, where other users of the machine and
    the shell history see it."""
    if given:
        return given
    return str(click.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True))


def progress_bar(what: str) -> Any:
    """A progress bar on stderr for a long transfer (events uploaded or restored), or None when
    stderr is not a terminal: where it goes to a log, the bar would be a line out of the log's
    format."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        f"[bold]{what}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def central_database(data_dir: Path) -> str:
    """The database URL of an initialised central in ``data_dir`` (``HALLSYNC_DATABASE_URL``,
    else its ``central.toml``, else the embedded SQLite file). Refuses one with neither a saved
    URL nor the embedded database, rather than creating an empty database there, after checking
    that the data directory is private (repaired with a warning, or refused if another user owns
    something in it)."""
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
