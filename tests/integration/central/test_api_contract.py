"""Central's HQ API takes only what its OpenAPI document says (JSON bodies sent as JSON, of the
documented types) and documents what it answers (local times, problem details)."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.central.conftest import CentralApp

ITEM = {
    "audience": "all",
    "sku": "CASE-01",
    "name": "手机壳",
    "category": "accessory",
    "unit_price_cents": 2900,
}


def _published(app: CentralApp) -> int:
    r = app.client.get("/api/v1/hq/published", headers=app.admin)
    assert r.status_code == 200, r.text
    total: int = r.json()["total"]
    return total


def test_a_body_not_sent_as_json_is_refused_not_parsed(app: CentralApp) -> None:
    body = b'{"store_id": "S001", "name": "n", "region": "east"}'
    for content_type in ("text/plain", None):
        headers = {**app.admin, "Content-Type": content_type} if content_type else app.admin
        r = app.client.post("/api/v1/hq/stores", content=body, headers=headers)
        assert r.status_code == 415, (content_type, r.text)
        assert r.json()["code"] == "unsupported_media_type"
    assert app.client.get("/api/v1/hq/stores", headers=app.admin).json()["total"] == 0


def test_body_fields_are_not_coerced_from_other_types(app: CentralApp) -> None:
    url = "/api/v1/hq/catalog/items"
    for field, value in (("serialised", 0), ("unit_price_cents", "2900")):
        r = app.client.post(url, json={**ITEM, field: value}, headers=app.admin)
        assert r.status_code == 400, (field, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [f"body.{field}"]
    assert _published(app) == 0
    r = app.client.post(url, json={**ITEM, "serialised": False}, headers=app.admin)
    assert r.status_code == 201, r.text


def test_times_of_day_and_errors_are_documented_as_answered(app: CentralApp) -> None:
    doc: dict[str, Any] = app.client.get("/schema/openapi.json").json()
    opens = doc["components"]["schemas"]["RulesIn"]["properties"]["open_time"]["oneOf"]
    local = next(s for s in opens if s.get("type") == "string")
    assert local.get("format") != "duration" and re.fullmatch(local["pattern"], "09:00:00")
    login = doc["paths"]["/api/v1/hq/auth/login"]["post"]["responses"]
    assert {"401", "429"} <= set(login)
    assert list(login["401"]["content"]) == ["application/problem+json"]
    stores = doc["paths"]["/api/v1/hq/stores"]["post"]["responses"]
    assert {"400", "401", "403", "409", "415", "422"} <= set(stores)


def test_options_on_user_management_answers_its_methods(app: CentralApp) -> None:
    for path in ("/api/v1/hq/users", "/api/v1/hq/users/admin"):
        r = app.client.options(path, headers=app.admin)
        assert r.status_code == 204, (path, r.text)
        assert "OPTIONS" in r.headers["Allow"]


def test_own_password_change_documents_its_throttle(app: CentralApp) -> None:
    doc: dict[str, Any] = app.client.get("/schema/openapi.json").json()
    assert "429" in doc["paths"]["/api/v1/hq/auth/password"]["post"]["responses"]
