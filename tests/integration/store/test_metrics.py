"""The store node's ``/metrics``: open without a metrics token configured (it names no
customer, staff member or other store), only for the token's bearer with one; ``/health`` open
either way."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.store.app import create_app

TOKEN = "scraper-token-0123456789"


def test_without_a_token_metrics_are_open(client: TestClient[object]) -> None:
    r = client.get("/metrics")
    assert r.status_code == 200 and "hallsync_store_commands_total" in r.text


def test_with_a_token_only_its_bearer_reads_metrics(data_dir: Path) -> None:
    with TestClient(app=create_app(data_dir, metrics_token=TOKEN)) as client:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
            r = client.get("/metrics", headers=headers)
            assert r.status_code == 401 and r.json()["code"] == "unauthorized"
            assert "hallsync_store" not in r.text
        r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and "hallsync_store_commands_total" in r.text
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 200


def test_a_guessable_token_is_refused_at_start(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="at least 16"):
        create_app(data_dir, metrics_token="short")
