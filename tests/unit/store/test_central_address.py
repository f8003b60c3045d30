"""Central's address as a store node keeps and dials it."""

from __future__ import annotations

import pytest

from server.store.central_address import Enrollment, http_url, ws_url


def test_central_urls_convert_between_websocket_and_http() -> None:
    assert ws_url("http://central:8000/") == "ws://central:8000"
    assert ws_url("wss://hq.example.com/chain") == "wss://hq.example.com/chain"
    assert http_url("ws://central:8000") == "http://central:8000"
    assert http_url("https://hq.example.com") == "https://hq.example.com"
    with pytest.raises(ValueError, match="not a central URL"):
        ws_url("central:8000")


def test_an_enrollment_syncs_at_the_sync_path_of_its_address() -> None:
    assert Enrollment("https://hq.example.com/chain/", "c").sync_url == (
        "wss://hq.example.com/chain/sync/v1"
    )
