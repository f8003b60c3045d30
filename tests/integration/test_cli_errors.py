"""The command line's mistakes answered in one line: a database URL central cannot use, a
PostgreSQL that is not there, a port out of range, a command on a directory that holds no
node. Nothing is half-made or remembered when a command fails."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from server.central.db import config_path, resolve_url
from server.cli import main
from tests.conftest import MANAGER_PASSWORD

ENV = {
    "HALLSYNC_HQ_ADMIN_PASSWORD": "hq-admin-pass-1",
    "HALLSYNC_MANAGER_PASSWORD": MANAGER_PASSWORD,
    "HALLSYNC_CONTACT_KEY": "chain-contact-key-0123456789",
    "HALLSYNC_DATABASE_URL": "",
}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=ENV)


def one_line_error(result: Result) -> str:
    """The whole output of a refused command: exit 1 or 2, no traceback, one error line."""
    assert result.exit_code in (1, 2), result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    errors = [ln for ln in result.output.splitlines() if ln.startswith("Error")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


async def test_central_init_takes_the_plain_postgresql_url_psql_prints(
    pg_url: str, tmp_path: Path
) -> None:
    plain = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    data = tmp_path / "central"
    result = await asyncio.to_thread(
        run, "central", "init", "--data-dir", str(data), "--database-url", plain
    )
    assert result.exit_code == 0, result.output
    assert resolve_url(data) == pg_url  # remembered with central's driver
    enrolled = await asyncio.to_thread(
        run, "central", "enroll-store", "S007", "--data-dir", str(data), "--name", "n",
        "--region", "west",
    )  # fmt: skip
    assert enrolled.exit_code == 0, enrolled.output


def test_the_environment_url_is_normalised_too(tmp_path: Path) -> None:
    assert resolve_url(tmp_path, "postgres://u:p@db:5432/h") == "postgresql+asyncpg://u:p@db:5432/h"
    assert resolve_url(tmp_path, "postgresql+asyncpg://u@db/h") == "postgresql+asyncpg://u@db/h"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://root:secret@db/hallsync", "unsupported scheme 'mysql'"),
        ("postgresql+psycopg2://u@db/h", "central uses asyncpg"),
        ("db.example.com/hallsync", "is not a URL"),
        ("postgresql://u@db:port/h", "cannot be parsed"),
    ],
)
def test_central_init_refuses_a_url_it_cannot_use(tmp_path: Path, url: str, says: str) -> None:
    data = tmp_path / "central"
    line = one_line_error(run("central", "init", "--data-dir", str(data), "--database-url", url))
    assert "--database-url" in line and says in line
    assert "secret" not in line  # the URL's password is not echoed
    assert not data.exists()


def test_a_postgresql_that_is_not_there_is_one_line_and_nothing_is_kept(tmp_path: Path) -> None:
    data = tmp_path / "deploy" / "central"
    line = one_line_error(
        run(
            "central", "init", "--data-dir", str(data),
            "--database-url", "postgresql://postgres@127.0.0.1:9/hallsync",
        )
    )  # fmt: skip
    assert "cannot connect to central's database" in line
    assert not (tmp_path / "deploy").exists()  # no config with the bad URL, no folder


def test_a_failed_init_in_an_existing_folder_writes_no_config(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:9/hallsync"
    one_line_error(run("central", "init", "--data-dir", str(tmp_path), "--database-url", url))
    assert not config_path(tmp_path).exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("app", ["store", "central"])
def test_a_port_out_of_range_is_refused(tmp_path: Path, app: str) -> None:
    line = one_line_error(run(app, "serve", "--data-dir", str(tmp_path), "--port", "99999"))
    assert "--port" in line and "99999" in line


@pytest.mark.parametrize("command", [["store", "serve"], ["store", "sync"], ["central", "serve"]])
def test_a_log_level_or_format_not_known_is_refused(tmp_path: Path, command: list[str]) -> None:
    for option, value in (("--log-level", "loud"), ("--log-format", "xml")):
        line = one_line_error(run(*command, "--data-dir", str(tmp_path), option, value))
        assert option in line and repr(value) in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("variable", ["HALLSYNC_LOG_LEVEL", "HALLSYNC_LOG_FORMAT"])
def test_a_log_setting_not_known_in_the_environment_is_refused(
    tmp_path: Path, variable: str
) -> None:
    for command in (["store", "serve"], ["central", "user", "list"]):
        result = CliRunner().invoke(
            main, [*command, "--data-dir", str(tmp_path)], env={**ENV, variable: "loud"}
        )
        assert f"{variable} is 'loud'" in one_line_error(result)


@pytest.mark.parametrize(
    "command",
    [["serve"], ["enroll-store", "S001", "--name", "n", "--region", "r"], ["revoke-store", "S001"]],
)
def test_central_commands_on_an_uninitialised_folder_create_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    line = one_line_error(run("central", *command, "--data-dir", str(tmp_path)))
    assert "run `hallsync central init`" in line
    assert list(tmp_path.iterdir()) == []


async def test_central_serve_on_an_uninitialised_postgresql_leaves_it_empty(
    pg_url: str, tmp_path: Path
) -> None:
    import sqlalchemy as sa

    from server.central.db import make_engine

    env = {**ENV, "HALLSYNC_DATABASE_URL": pg_url}
    for command in (["serve"], ["enroll-store", "S001", "--name", "n", "--region", "r"]):
        result = await asyncio.to_thread(
            CliRunner().invoke, main, ["central", *command, "--data-dir", str(tmp_path)], env=env
        )
        assert "run `hallsync central init`" in one_line_error(result)
    engine = make_engine(pg_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    finally:
        await engine.dispose()
    assert tables == []


def test_store_init_that_fails_leaves_no_folder(tmp_path: Path) -> None:
    data = tmp_path / "halls" / "S001"
    args = ["store", "init", "--data-dir", str(data), "--store-id", "S001", "--name", "n",
            "--region", "east"]  # fmt: skip
    line = one_line_error(run(*args, "--open", "21:00", "--close", "08:00"))
    assert "open before it closes" in line
    assert not (tmp_path / "halls").exists()

    data.mkdir(parents=True)  # a folder made beforehand is kept, and left as it was
    one_line_error(run(*args, "--open", "21:00", "--close", "08:00"))
    assert data.is_dir() and list(data.iterdir()) == []

    ok = run(*args)
    assert ok.exit_code == 0, ok.output


def test_store_commands_on_a_folder_without_a_node_say_so(tmp_path: Path) -> None:
    for command in (["serve"], ["sync", "--once"]):
        line = one_line_error(run("store", *command, "--data-dir", str(tmp_path)))
        assert "run `hallsync store init` first" in line
    assert list(tmp_path.iterdir()) == []
