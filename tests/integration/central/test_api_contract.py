"""Central's HQ API takes only what its OpenAPI document says (JSON bodies sent as JSON, of the
documented types) and documents what it answers (local times, problem details), who may call
each operation, what each write does with ``Idempotency-Key``, and the sync websocket."""

from __future__ import annotations

import asyncio
import re
from typing import Any, get_args

import msgspec

from server.central.hq.auth import ROLES
from sync.errors import BY_CODE
from sync.frames import ClientFrame, ServerFrame
from tests.integration.central.conftest import CentralApp
from tests.integration.central.test_hq_users import onboard
from tests.integration.openapi_promises import (
    broken_promises,
    key_parameters,
    openapi,
    refused_roles_disagree,
)

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


def test_every_operation_says_who_may_call_it_and_what_a_retry_gets(app: CentralApp) -> None:
    """Each operation lists its roles, each write its use of ``Idempotency-Key``, and each
    its errors as problem details."""
    doc = openapi(app.client)
    assert broken_promises(doc, ROLES) == []
    paths = doc["paths"]
    assert paths["/api/v1/hq/rules"]["post"]["x-roles"] == ["admin", "ops"]
    users = paths["/api/v1/hq/users"]["post"]
    assert "Roles: admin (over every region)." in users["description"]
    assert key_parameters(users)[0]["schema"]["maxLength"] == 255
    assert paths["/api/v1/hq/auth/me"]["get"]["x-roles"] == list(ROLES)
    enroll = paths["/api/v1/enroll"]["post"]
    assert enroll["x-roles"] == [] and "enrollment code" in enroll["description"]
    [unused] = key_parameters(paths["/api/v1/hq/stores"]["post"])
    assert unused["description"].startswith("Not used here") and "409" in unused["description"]


def test_the_documented_roles_are_the_ones_admitted(app: CentralApp) -> None:
    """Every role the document leaves out of an operation is refused with 403, and no role it
    lists is."""
    logins = {"admin": app.admin}
    for role in ROLES[1:]:
        logins[role] = onboard(app, f"{role}.one", role)
    assert refused_roles_disagree(app.client, openapi(app.client), logins) == []


def test_the_sync_websocket_is_described(app: CentralApp) -> None:
    sync = openapi(app.client)["paths"]["/sync/v1"]["get"]
    assert sync["x-websocket"] is True and sync["x-roles"] == []
    assert {"101", "401", "426", "503"} <= set(sync["responses"])
    assert not any(s.startswith("2") for s in sync["responses"])
    text = sync["description"]
    assert "Authorization: Bearer <credential>" in text and "msgpack" in text
    for frame in (*get_args(ClientFrame), *get_args(ServerFrame)):
        assert f"`{frame.__struct_config__.tag}`" in text, frame
    for error in BY_CODE.values():
        assert f"{error.close_code} `{error.code}`" in text, error


def test_a_plain_get_of_the_sync_path_is_told_to_upgrade(app: CentralApp) -> None:
    r = app.client.get("/sync/v1")
    assert r.status_code == 426 and r.headers["upgrade"] == "websocket"
    assert r.headers["content-type"] == "application/problem+json"
    assert (r.json()["code"], r.json()["retryable"]) == ("upgrade_required", False)


def test_a_refused_sync_upgrade_answers_problem_details(app: CentralApp) -> None:
    """Where the server can answer a websocket upgrade with a status (the ASGI denial
    response), a store without a valid credential gets 401 problem details, as documented."""
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "path": "/sync/v1",
        "raw_path": b"/sync/v1",
        "root_path": "",
        "scheme": "ws",
        "query_string": b"",
        "headers": [(b"host", b"central")],
        "client": ("127.0.0.1", 50000),
        "server": ("central", 80),
        "subprotocols": [],
        "extensions": {"websocket.http.response": {}},
    }
    asyncio.run(app.client.app(scope, receive, send))  # no credential: no database touched
    start, body = sent
    assert start["status"] == 401
    assert dict(start["headers"])[b"content-type"] == b"application/problem+json"
    problem = msgspec.json.decode(body["body"])
    assert (problem["status"], problem["code"], problem["instance"]) == (
        401,
        "unauthorized",
        "/sync/v1",
    )
    assert problem["retryable"] is False
