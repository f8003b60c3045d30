"""End to end: a node that ran standalone is enrolled later and its whole history uploads; an
enrolled node is pointed at another address of its central (by the command line, and for one
process by ``HALLSYNC_CENTRAL_URL``)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.contact_hash import ContactHasher, read_key
from tests.contact import CONTACT_KEY
from tests.e2e.cutproxy import CutProxy
from tests.e2e.nodeproc import free_port
from tests.e2e.syncproc import ENV, Central, hallsync, store_log, write_backlog

pytestmark = pytest.mark.slow


def standalone(store_dir: Path, store_id: str, *, tz: str = "Asia/Shanghai") -> None:
    """``store init`` without the chain's key: the node makes its own, as a hall set up before
    it had a network would."""
    env = {k: v for k, v in ENV.items() if k != "HALLSYNC_CONTACT_KEY"}
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "store", "init", "--data-dir", str(store_dir),
         "--store-id", store_id, "--name", "人民路营业厅", "--region", "east", "--tz", tz],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def central_url_of(store_dir: Path) -> str:
    with sqlite3.connect(store_dir / "store.sqlite3") as db:
        return db.execute("SELECT value FROM node_meta WHERE key = 'central_url'").fetchone()[0]


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    c = Central(tmp_path / "central")
    c.start()
    yield c
    c.stop()


def test_a_standalone_node_enrolls_later_and_uploads_its_history(
    tmp_path: Path, central: Central
) -> None:
    node = tmp_path / "s009"
    standalone(node, "S009")
    own_key = read_key(node)
    assert own_key is not None and own_key.spec != ContactHasher.parse(CONTACT_KEY).spec
    write_backlog(node, 40)
    history = len(store_log(node))

    # A code issued for another store is refused, and stays unused.
    other_code = central.enroll("S010")
    code = central.enroll("S009")
    wrong = hallsync("store", "enroll", "--data-dir", str(node), "--enroll", other_code,
                     "--central", central.ws_url)  # fmt: skip
    assert wrong.returncode == 1
    assert "this enrollment code is for store S010, and this node is store S009" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    s010 = tmp_path / "s010"
    done = hallsync("store", "init", "--data-dir", str(s010), "--enroll", other_code,
                    "--central", central.ws_url)  # fmt: skip
    assert done.returncode == 0, done.stderr

    done = hallsync("store", "enroll", "--data-dir", str(node), "--enroll", code,
                    "--central", central.ws_url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{history} events will upload at the next sync" in done.stdout
    assert "now uses the chain's contact key" in done.stderr
    new_key = read_key(node)
    assert new_key is not None and new_key.spec == ContactHasher.parse(CONTACT_KEY).spec
    kept = node / "contact.key.before-enrollment"
    assert ContactHasher.parse(kept.read_text()).spec == own_key.spec
    assert kept.stat().st_mode & 0o077 == 0

    done = hallsync("store", "sync", "--once", "--data-dir", str(node))
    assert done.returncode == 0, done.stderr
    assert central.log_of("S009") == store_log(node)  # from seq 1, byte for byte
    assert [seq for seq, _ in central.log_of("S009")] == list(range(1, history + 1))

    again = hallsync("store", "enroll", "--data-dir", str(node), "--enroll", code,
                     "--central", central.ws_url)  # fmt: skip
    assert again.returncode == 1 and "already enrolled with" in again.stderr


def test_a_node_in_another_time_zone_than_central_registered_is_refused(
    tmp_path: Path, central: Central
) -> None:
    node = tmp_path / "s011"
    standalone(node, "S011", tz="Asia/Urumqi")
    code = central.enroll("S011")  # registered in Asia/Shanghai
    done = hallsync("store", "enroll", "--data-dir", str(node), "--enroll", code,
                    "--central", central.ws_url)  # fmt: skip
    assert done.returncode == 1
    assert "in time zone Asia/Shanghai, and this node keeps Asia/Urumqi" in done.stderr
    with sqlite3.connect(node / "store.sqlite3") as db:
        assert db.execute(
            "SELECT count(*) FROM node_meta WHERE key = 'central_url'"
        ).fetchone() == (0,)


def test_an_enrolled_node_is_pointed_at_another_address_of_its_central(
    tmp_path: Path, central: Central
) -> None:
    node = tmp_path / "s012"
    done = hallsync("store", "init", "--data-dir", str(node), "--enroll", central.enroll("S012"),
                    "--central", central.ws_url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    write_backlog(node, 5)
    assert hallsync("store", "sync", "--once", "--data-dir", str(node)).returncode == 0
    held = len(store_log(node))

    # Another address of the same central (here a proxy in front of it), checked first.
    proxy = CutProxy(target=central.port, cut_min=0, cut_max=0)
    try:
        new = f"ws://127.0.0.1:{proxy.port}"
        done = hallsync("store", "set-central", "--data-dir", str(node), new)
        assert done.returncode == 0, done.stderr
        assert f"now syncs with {new} (it holds this store's log up to seq {held})" in done.stdout
        assert central_url_of(node) == new
        before = proxy.connections
        write_backlog(node, 3)
        assert hallsync("store", "sync", "--once", "--data-dir", str(node)).returncode == 0
        assert proxy.connections > before
        assert central.log_of("S012") == store_log(node)
    finally:
        proxy.close()

    # An address that does not answer is refused, unless saved unchecked (it may be down).
    dead = f"ws://127.0.0.1:{free_port()}"
    refused = hallsync("store", "set-central", "--data-dir", str(node), dead)
    assert refused.returncode == 1 and "central cannot be reached" in refused.stderr
    assert central_url_of(node) == new
    bad = hallsync("store", "set-central", "--data-dir", str(node), "ftp://x")
    assert bad.returncode == 2 and "is not a central URL" in bad.stderr
    done = hallsync("store", "set-central", "--no-check", "--data-dir", str(node), dead)
    assert done.returncode == 0, done.stderr
    assert central_url_of(node) == dead

    # For one process, HALLSYNC_CENTRAL_URL wins over the saved address.
    write_backlog(node, 2)
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "store", "sync", "--once", "--data-dir", str(node)],
        env={**ENV, "HALLSYNC_CENTRAL_URL": central.ws_url},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert central.log_of("S012") == store_log(node)
    assert central_url_of(node) == dead
    assert os.environ.get("HALLSYNC_CENTRAL_URL") is None
