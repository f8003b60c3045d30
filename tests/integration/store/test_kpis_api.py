"""The manager's KPI endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient


def test_manager_reads_todays_kpis(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    client.post("/api/v1/queue/tickets", json={"category": "billing"}, headers=as_role["greeter"])
    r = client.get("/api/v1/kpis", headers=as_role["manager"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["store_id"] == "S001"
    assert body["queue"]["visits"] == 1 and body["queue"]["waiting_now"] == 1
    r = client.get("/api/v1/kpis?day=2020-01-01", headers=as_role["manager"])
    assert r.json()["queue"]["visits"] == 0
    r = client.get("/api/v1/kpis?day=yesterday", headers=as_role["manager"])
    assert r.status_code == 400 and r.json()["code"] == "validation_failed"


@pytest.mark.parametrize("role", ["greeter", "clerk", "tech", "admin"])
def test_other_roles_may_not(
    client: TestClient[Any], as_role: dict[str, dict[str, str]], role: str
) -> None:
    assert client.get("/api/v1/kpis", headers=as_role[role]).status_code == 403
