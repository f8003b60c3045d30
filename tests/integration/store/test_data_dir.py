"""A store node's data directory holds its token secret, the contact key, the sync credential
and the staff's password hashes: the directory is 0700 and every file in it 0600, whatever the
umask, and a node finding it open at start closes it again (with a warning) before serving."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.store.app import create_app
from server.store.node import init_store
from tests.conftest import MANAGER, MANAGER_PASSWORD, STAFF_PASSWORD, login


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def modes(d: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in [d, *d.iterdir()]}


def init(d: Path) -> None:
    init_store(
        d,
        store_id="S001",
        name="测试营业厅",
        region="east",
        tz="Asia/Shanghai",
        manager=MANAGER,
        manager_password=MANAGER_PASSWORD,
    )


def write_something(client: TestClient[object]) -> None:
    headers = login(client, MANAGER, MANAGER_PASSWORD)
    r = client.post(
        "/api/v1/staff",
        json={
            "username": "clerk1",
            "display_name": "王丽",
            "role": "clerk",
            "password": STAFF_PASSWORD,
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text


def test_every_file_of_a_node_is_private_under_the_usual_umask(
    tmp_path: Path, usual_umask: None
) -> None:
    d = tmp_path / "node"
    init(d)
    with TestClient(app=create_app(d)) as client:
        write_something(client)
        seen = modes(d)  # while serving: the -wal and -shm files exist
    assert {"store.sqlite3", "store.sqlite3-wal", "store.sqlite3-shm"} <= set(seen)
    assert seen.pop("node") == 0o700
    assert set(seen.values()) == {0o600}, seen


def test_a_node_opened_up_since_init_is_made_private_again_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    d = tmp_path / "node"
    init(d)
    d.chmod(0o755)
    (d / "store.sqlite3").chmod(0o644)
    with caplog.at_level(logging.WARNING), TestClient(app=create_app(d)) as client:
        write_something(client)
        seen = modes(d)
    assert seen.pop("node") == 0o700
    assert set(seen.values()) == {0o600}, seen
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert str(d / "store.sqlite3") in warned and "open to other users" in warned
