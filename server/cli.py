"""The ``hallsync`` command line: set up and run store nodes (and, later, central)."""

from __future__ import annotations

import logging
import os
import sys
from datetime import time
from pathlib import Path

import click

from server.errors import HallsyncError
from server.settings import StoreNodeSettings

DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="HALLSYNC_DATA_DIR",
    required=True,
    help="Folder holding the node's database (or set HALLSYNC_DATA_DIR).",
)


def _parse_time(_ctx: click.Context, _param: click.Parameter, value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a time like 08:00") from exc


@click.group()
@click.version_option(package_name="hallsync")
def main() -> None:
    """hallsync: offline-first operations for carrier retail halls."""


@main.group()
def store() -> None:
    """Commands of a hall's store node."""


@store.command("init")
@DATA_DIR
@click.option("--store-id", required=True, help="Store code, e.g. S001.")
@click.option("--name", required=True, help="The hall's name, e.g. 人民路营业厅.")
@click.option("--region", required=True, help="Region code, e.g. east.")
@click.option("--tz", default="Asia/Shanghai", show_default=True, help="IANA time zone.")
@click.option("--manager", default="manager", show_default=True, help="Manager's user name.")
@click.option("--open", "open_time", default="08:00", callback=_parse_time, show_default=True)
@click.option("--close", "close_time", default="20:00", callback=_parse_time, show_default=True)
def store_init(
    data_dir: Path,
    store_id: str,
    name: str,
    region: str,
    tz: str,
    manager: str,
    open_time: time,
    close_time: time,
) -> None:
    """Create a store node: its database, settings and the manager's login.

    The manager's password comes from HALLSYNC_MANAGER_PASSWORD, or is asked for.
    """
    from server.store.node import init_store

    password = os.environ.get("HALLSYNC_MANAGER_PASSWORD")
    if not password:
        password = click.prompt(
            f"Password for {manager}", hide_input=True, confirmation_prompt=True
        )
    if len(password) < 8:
        raise click.BadParameter("the password needs at least 8 characters")
    try:
        init_store(
            data_dir,
            store_id=store_id,
            name=name,
            region=region,
            tz=tz,
            manager=manager,
            manager_password=password,
            open_time=open_time,
            close_time=close_time,
        )
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"store node {store_id} initialised in {data_dir}; manager login: {manager}")


@store.command("serve")
@DATA_DIR
@click.option("--host", default=None, help="Address to listen on [127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [8100].")
@click.option("--log-level", default=None, help="debug, info, warning [info].")
def store_serve(data_dir: Path, host: str | None, port: int | None, log_level: str | None) -> None:
    """Serve the tablet API of the store node in DATA_DIR."""
    import uvicorn

    from server.store.app import create_app

    settings = StoreNodeSettings.from_env(
        data_dir=data_dir, host=host, port=port, log_level=log_level
    )
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    try:
        app = create_app(settings.data_dir)
    except HallsyncError as exc:
        raise click.ClickException(exc.detail) from exc
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        loop="uvloop",
        http="httptools",
        access_log=False,
    )


if __name__ == "__main__":
    main()
