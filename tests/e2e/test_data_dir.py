"""End to end: ``hallsync store`` and ``hallsync central`` run as real processes under the usual
umask keep their data directory 0700 and every file in it 0600 (the SQLite -wal and -shm files
included), make an opened-up directory private again at start with a warning naming each path,
and refuse a data directory holding another user's file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.nodeproc import NodeProcess
from tests.e2e.test_central_cli import central  # noqa: F401 - the fixture
from tests.e2e.test_central_cli import cli as central_cli

pytestmark = pytest.mark.slow

ENV = {
    **os.environ,
    "HALLSYNC_MANAGER_PASSWORD": "manager-pass-1",
    "HALLSYNC_CONTACT_KEY": "chain-contact-key-0123456789",
}


def usual_umask() -> None:
    os.umask(0o022)


def hallsync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=usual_umask,
    )


def modes(d: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in [d, *d.iterdir()]}


def assert_private(d: Path, db_file: str) -> None:
    seen = modes(d)
    assert {db_file, f"{db_file}-wal", f"{db_file}-shm"} <= set(seen), seen
    assert seen.pop(d.name) == 0o700
    assert set(seen.values()) == {0o600}, seen


def init_store(d: Path) -> None:
    done = hallsync(
        "store", "init", "--data-dir", str(d), "--store-id", "S001", "--name", "人民路营业厅",
        "--region", "east",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def write_something(node: NodeProcess) -> None:
    with httpx.Client(base_url=node.url) as http:
        r = http.post(
            "/api/v1/auth/login", json={"username": "manager", "password": "manager-pass-1"}
        )
        assert r.status_code == 200, r.text
        r = http.post(
            "/api/v1/staff",
            json={"username": "clerk1", "display_name": "王丽", "role": "clerk",
                  "password": "staff-pass-123"},
            headers={"Authorization": f"Bearer {r.json()['access_token']}"},
        )  # fmt: skip
        assert r.status_code == 201, r.text


def test_a_store_node_keeps_its_files_private_and_repairs_them_at_start(tmp_path: Path) -> None:
    d = tmp_path / "node"
    init_store(d)
    old = os.umask(0o022)  # the served node inherits it
    try:
        node = NodeProcess(d)
        node.start()
        try:
            write_something(node)
            assert_private(d, "store.sqlite3")
        finally:
            node.stop()
        d.chmod(0o755)
        (d / "store.sqlite3").chmod(0o644)
        node.start()
        try:
            assert_private(d, "store.sqlite3")
        finally:
            node.stop()
    finally:
        os.umask(old)
    log = node.log.read_text()
    assert f"{d / 'store.sqlite3'} was open to other users (mode 0644)" in log
    assert f"{d} was open to other users (mode 0755)" in log


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_store_node_refuses_a_data_directory_holding_another_users_file(
    tmp_path: Path,
) -> None:
    d = tmp_path / "node"
    init_store(d)
    os.chown(d / "store.sqlite3", 65534, 65534)
    done = hallsync("store", "sync", "--once", "--data-dir", str(d))
    assert done.returncode == 1
    assert f"{d / 'store.sqlite3'} belongs to user id 65534" in done.stderr


def test_central_keeps_its_files_private_and_repairs_them_at_start(
    central: str,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    d = tmp_path / "central"
    code = central_cli("enroll-store", "S001", "--data-dir", str(d), "--name", "n",
                       "--region", "east").splitlines()[0]  # fmt: skip
    r = httpx.post(central + "/api/v1/enroll", json={"code": code})
    assert r.status_code == 200, r.text
    assert_private(d, "central.sqlite3")
    (d / "central.sqlite3-wal").chmod(0o644)
    revoke = ["central", "revoke-store", "S001", "--data-dir", str(d)]
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *revoke],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"{d / 'central.sqlite3-wal'} was open to other users (mode 0644)" in done.stderr
    assert_private(d, "central.sqlite3")
