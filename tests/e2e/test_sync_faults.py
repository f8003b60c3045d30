"""Sync between real processes under faults, on SQLite and on PostgreSQL: central killed with
SIGKILL mid-upload and restarted, the store's sync killed mid-upload and rerun, the link cut at
random points. Every time, central ends up holding exactly the store's log: the same seqs and
the same bytes, each once."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cutproxy import CutProxy
from tests.e2e.nodeproc import NodeProcess
from tests.e2e.syncproc import (
    Central,
    init_store,
    set_central_url,
    spawn,
    store_log,
    sync_once,
    write_backlog,
)

pytestmark = pytest.mark.slow

BACKLOG = 6000
STORE = "S001"


@pytest.fixture(params=["sqlite", "postgres"])
def central(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Central]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    c = Central(tmp_path / "central", url)
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def store_dir(central: Central, tmp_path: Path) -> Path:
    """An enrolled store node with a backlog recorded offline; central is running."""
    d = tmp_path / STORE
    code = central.enroll(STORE)
    central.start()
    init_store(d, code, central.ws_url)
    write_backlog(d, BACKLOG)
    return d


def _assert_exactly_once(central: Central, store_dir: Path) -> None:
    mine, theirs = store_log(store_dir), central.log_of(STORE)
    assert [s for s, _ in theirs] == list(range(1, len(mine) + 1))
    assert theirs == mine


def _wait_until_central_holds(central: Central, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while central.count_of(STORE) < n:
        assert time.monotonic() < deadline, f"central never reached {n} events"
        time.sleep(0.02)


def test_central_killed_mid_upload(central: Central, store_dir: Path, tmp_path: Path) -> None:
    sync = spawn("store", "sync", "--once", "--data-dir", str(store_dir), log=tmp_path / "bg.log")
    _wait_until_central_holds(central, 500)
    central.kill()
    sync.wait(timeout=60)
    held = central.count_of(STORE)
    assert 0 < held < BACKLOG, "the kill did not land mid-upload"

    central.start()
    sync_once(store_dir, attempts=5, log=tmp_path / "sync.log")
    _assert_exactly_once(central, store_dir)


def test_store_killed_mid_upload(central: Central, store_dir: Path, tmp_path: Path) -> None:
    sync = spawn("store", "sync", "--once", "--data-dir", str(store_dir), log=tmp_path / "bg.log")
    _wait_until_central_holds(central, 500)
    sync.send_signal(signal.SIGKILL)
    sync.wait()
    assert central.count_of(STORE) < BACKLOG, "the kill did not land mid-upload"

    sync_once(store_dir, attempts=5, log=tmp_path / "sync.log")
    _assert_exactly_once(central, store_dir)


def test_store_node_killed_while_syncing_in_the_background(
    central: Central, store_dir: Path
) -> None:
    """``hallsync store serve`` uploads by itself; the power goes mid-upload; on restart it
    resumes where central stands and catches up, with nothing doubled."""
    node = NodeProcess(store_dir)
    node.start()
    try:
        _wait_until_central_holds(central, 500)
        node.kill()
        assert central.count_of(STORE) < BACKLOG, "the kill did not land mid-upload"
        node.start()
        _wait_until_central_holds(central, len(store_log(store_dir)))
    finally:
        node.stop()
    _assert_exactly_once(central, store_dir)


def test_link_cut_at_random_points(central: Central, store_dir: Path, tmp_path: Path) -> None:
    proxy = CutProxy(central.port, cut_min=1_000, cut_max=30_000, seed=7)
    try:
        set_central_url(store_dir, f"ws://127.0.0.1:{proxy.port}")
        runs = sync_once(store_dir, attempts=60, log=tmp_path / "sync.log")
    finally:
        proxy.close()
    assert proxy.cuts >= 3 and runs > 1, (proxy.cuts, runs)
    _assert_exactly_once(central, store_dir)
