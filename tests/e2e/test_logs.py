"""What a real ``store serve`` prints: one JSON object per line with ``--log-format json``, a
single line saying where it listens (no library start-up chatter, no warnings, even with Python's
warnings shown), and nothing at all at start with ``--log-level warning``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.store.node import init_store
from tests.e2e.nodeproc import NodeProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("logs") / "node"
    init_store(
        d,
        store_id="S001",
        name="测试营业厅",
        region="east",
        tz="Asia/Shanghai",
        manager="manager",
        manager_password="manager-pass-1",
    )
    return d


def served(node: NodeProcess) -> list[str]:
    """The lines the node printed from its start until it was stopped."""
    try:
        node.start(timeout=90)  # a loaded machine may take a while to start a node
    finally:
        node.stop()
    return node.log.read_text().splitlines()


def test_json_logs_are_one_object_per_line_and_one_ready_line(node_dir: Path) -> None:
    # Python's DeprecationWarnings and the like shown, as `python -W default` would.
    env = {"HALLSYNC_LOG_LEVEL": "info", "PYTHONWARNINGS": "default"}
    node = NodeProcess(node_dir, args=("--log-format", "json"), env=env)
    records = [json.loads(line) for line in served(node)]
    assert all(isinstance(r, dict) for r in records)
    assert [(r["level"], r["logger"], r["msg"]) for r in records] == [
        ("info", "server.serving", f"store node S001 listening on {node.url}"),
        ("info", "server.serving", "store node S001 stopped"),
    ]
    assert records[0]["data_dir"] == str(node_dir)


def test_log_level_warning_prints_nothing_at_start(node_dir: Path) -> None:
    env = {"HALLSYNC_LOG_LEVEL": "info"}  # the option wins
    node = NodeProcess(node_dir, args=("--log-level", "WARNING"), env=env)
    assert served(node) == []
