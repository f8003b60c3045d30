"""Central's ``/metrics``: each store's figures (id, region, lag, high-water mark) only for the
scraper holding ``HALLSYNC_METRICS_TOKEN``; without a token configured, only the replica's own
figures; ``/health`` open either way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from server.central.app import create_app
from server.central.node import read_secrets
from sync.frames import Ack
from tests.contact import key_dir
from tests.integration.central import store_events as ev
from tests.integration.central.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    METRICS_TOKEN,
    CentralApp,
    Clock,
    open_app,
)
from tests.integration.central.test_ws import hello, push, recv, status, sync

SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
def scraped(app_url: str, clock: Clock) -> Iterator[CentralApp]:
    """Central with a metrics token configured."""
    with open_app(app_url, clock, metrics_token=METRICS_TOKEN) as client:
        c = CentralApp(client, {}, clock)
        c.admin = c.login(ADMIN, ADMIN_PASSWORD)
        yield c


def synced_store(app: CentralApp) -> None:
    """S001 (east) uploaded 10 of the 40 events it has."""
    with sync(app, app.enrolled("S001")) as ws:
        hello(ws, "S001", local_seq=40)
        push(ws, 1, ev.log("S001", 1, 10))
        assert recv(ws) == Ack(seq=10)


def test_the_scraper_gets_connections_and_each_stores_lag(scraped: CentralApp) -> None:
    app = scraped
    credential = app.enrolled("S001")
    with sync(app, credential) as ws:
        hello(ws, "S001", local_seq=40)
        push(ws, 1, ev.log("S001", 1, 10))
        assert recv(ws) == Ack(seq=10)
        r = app.client.get("/metrics", headers=SCRAPER)
        assert r.status_code == 200
        assert "hallsync_central_connected_stores 1.0" in r.text
        assert 'hallsync_central_sync_lag_events{region="east",store_id="S001"} 30.0' in r.text
        assert 'hallsync_central_store_high_water{region="east",store_id="S001"} 10.0' in r.text
    s = status(app, "S001")
    assert (s["pending"], s["lag_seconds"]) == (30, 0.0)
    app.clock.advance(minutes=5)
    assert status(app, "S001")["lag_seconds"] == 300.0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-the-metrics-token"},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
        {"Authorization": f"Bearer {METRICS_TOKEN}x"},
    ],
)
def test_with_a_token_configured_anyone_else_is_refused(
    scraped: CentralApp, headers: dict[str, str]
) -> None:
    synced_store(scraped)
    r = scraped.client.get("/metrics", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized" and "S001" not in r.text
    assert scraped.client.get("/health").status_code == 200
    assert scraped.client.get("/ready").status_code == 200


def test_without_a_token_configured_metrics_name_no_store(app: CentralApp) -> None:
    synced_store(app)
    r = app.client.get("/metrics")
    assert r.status_code == 200
    assert "hallsync_central_events_ingested_total" in r.text
    assert "S001" not in r.text and 'region="east"' not in r.text
    assert "hallsync_central_store_high_water" not in r.text
    assert app.client.get("/metrics", headers=SCRAPER).status_code == 200  # harmless
    assert app.client.get("/health").status_code == 200


def test_a_guessable_token_is_refused_at_start(app_url: str, clock: Clock) -> None:
    secrets = asyncio.run(read_secrets(app_url, key_dir()))
    with pytest.raises(ValueError, match="at least 16"):
        create_app(app_url, secrets, clock=clock, metrics_token="short")
