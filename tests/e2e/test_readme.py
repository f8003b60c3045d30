"""End to end: the README's store-node walk-through runs as written against a real node: the
manager's login, adding `greeter1` with the README's own request body, then the README's Python
client snippet, which prints the ticket number it says it prints."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.nodeproc import NodeProcess

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
MANAGER_PASSWORD = "choose-a-password"  # as the README exports it


def readme_block(after: str, language: str) -> str:
    """The first ``language`` code block after the line holding ``after``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(after)
    found = re.search(rf"```{language}\n(.*?)```", text[start:], re.S)
    assert found is not None, f"no {language} block after {after!r} in the README"
    return found.group(1)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeProcess]:
    data = tmp_path / "S001"
    env = {
        **os.environ,
        "HALLSYNC_MANAGER_PASSWORD": MANAGER_PASSWORD,
        "HALLSYNC_LOG_LEVEL": "warning",
    }
    env.pop("HALLSYNC_CONTACT_KEY", None)
    init = subprocess.run(
        [sys.executable, "-m", "server.cli", "store", "init", "--store-id", "S001",
         "--name", "人民路营业厅", "--region", "east", "--tz", "Asia/Shanghai",
         "--data-dir", str(data)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    proc = NodeProcess(data)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_the_readme_walk_through_runs_as_written(node: NodeProcess) -> None:
    shell = readme_block("Then, from any HTTP client", "sh")
    request = re.search(r"-d '(\{\"username\":\"greeter1\".*?\})'", shell)
    assert request is not None, "the README no longer adds greeter1"
    body = json.loads(request.group(1))
    login = httpx.post(
        f"{node.url}/api/v1/auth/login",
        json={"username": "manager", "password": MANAGER_PASSWORD},
    )
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    added = httpx.post(
        f"{node.url}/api/v1/staff",
        json=body,
        headers={"authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert added.status_code == 201, added.text

    snippet = readme_block("A typed Python client", "python")
    assert '"http://localhost:8100"' in snippet
    ran = subprocess.run(
        [sys.executable, "-c", snippet.replace("http://localhost:8100", node.url)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=README.parent,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "D001"  # what the snippet's comment says it prints
