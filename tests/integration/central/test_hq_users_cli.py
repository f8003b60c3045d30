"""``hallsync central user …``: an operator manages HQ users from central's machine, with the
rules of the HQ API, and passwords never on the command line."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from litestar.testing import TestClient

from server.central.app import create_app
from server.central.db import SQLITE_FILE, sqlite_url
from server.central.node import read_secrets
from server.cli.central import central
from tests.contact import key_dir
from tests.integration.central.conftest import ADMIN, Clock

PASSWORD = "cli-given-pass-1"


@pytest.fixture
def data_dir(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "central"
    d.mkdir()
    shutil.copyfile(sqlite_template, d / SQLITE_FILE)
    shutil.copyfile(key_dir() / "contact.key", d / "contact.key")
    monkeypatch.delenv("HALLSYNC_DATABASE_URL", raising=False)
    monkeypatch.delenv("HALLSYNC_HQ_USER_PASSWORD", raising=False)
    return d


def run(
    data_dir: Path, *args: str, password: str | None = None, stdin: str | None = None
) -> Result:
    env = {"HALLSYNC_HQ_USER_PASSWORD": password} if password else {}
    return CliRunner().invoke(
        central, ["user", *args, "--data-dir", str(data_dir)], env=env, input=stdin
    )


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def login(client: TestClient[Any], username: str, password: str) -> Any:
    return client.post("/api/v1/hq/auth/login", json={"username": username, "password": password})


def test_an_operator_adds_changes_and_deactivates_hq_users(data_dir: Path) -> None:
    out = ok(
        run(data_dir, "add", "li.na", "--role", "ops", "--display-name", "李娜", password=PASSWORD)
    )
    assert "li.na\tops\t*\t李娜" in out and "must-change-password" in out
    # The prompt asks twice and hides the password.
    out = ok(
        run(
            data_dir, "add", "wang", "--role", "analyst", stdin="prompted-pass-1\nprompted-pass-1\n"
        )
    )
    assert "prompted-pass-1" not in out

    assert "li.na\tauditor" in ok(run(data_dir, "set-role", "li.na", "auditor"))
    listed = ok(run(data_dir, "list", "--role", "auditor")).splitlines()
    assert [line.split("\t")[0] for line in listed] == ["li.na"]
    ok(run(data_dir, "deactivate", "wang"))
    assert [
        line.split("\t")[0] for line in ok(run(data_dir, "list", "--inactive")).splitlines()
    ] == ["wang"]
    assert "wang\tanalyst\t*\twang must-change-password" in ok(run(data_dir, "activate", "wang"))

    url = sqlite_url(data_dir)
    with TestClient(
        app=create_app(url, asyncio.run(read_secrets(url, data_dir)), clock=Clock())
    ) as client:
        r = login(client, "li.na", PASSWORD)
        assert r.status_code == 200 and r.json()["role"] == "auditor"
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert client.get("/api/v1/hq/stores", headers=headers).json()["code"] == (
            "password_change_required"
        )
        assert login(client, "wang", "prompted-pass-1").status_code == 200
        ok(run(data_dir, "reset-password", "wang", password="reset-by-cli-1"))
        assert login(client, "wang", "prompted-pass-1").status_code == 401
        assert login(client, "wang", "reset-by-cli-1").status_code == 200


def test_the_cli_keeps_the_apis_rules(data_dir: Path) -> None:
    r = run(data_dir, "add", "Bad Name", "--role", "ops", password=PASSWORD)
    assert r.exit_code == 1 and "username" in r.output
    r = run(data_dir, "add", "ok.name", "--role", "ops", password="short")
    assert r.exit_code == 1 and "password" in r.output
    r = run(data_dir, "add", "ok.name", "--role", "ops", "--region", "nowhere", password=PASSWORD)
    assert r.exit_code == 1 and "no store is in region" in r.output
    r = run(data_dir, "set-role", ADMIN, "ops")
    assert r.exit_code == 1 and "last active admin over every region" in r.output
    r = run(data_dir, "deactivate", ADMIN)
    assert r.exit_code == 1
    r = run(data_dir, "set-regions", ADMIN)
    assert r.exit_code == 2 and "--all" in r.output
    r = run(data_dir, "set-role", "nobody", "ops")
    assert r.exit_code == 1 and "no HQ user nobody" in r.output
    listed = ok(run(data_dir, "list")).splitlines()
    assert listed == [f"{ADMIN}\tadmin\t*\t{ADMIN}"]
