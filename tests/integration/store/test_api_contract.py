"""The store node answers as its OpenAPI document says, and takes only what the document says:
JSON bodies sent as JSON and of the documented types, times of day as local times, every error
documented as problem details, the roles each operation admits and what each write does with
``Idempotency-Key``."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from tests.conftest import MANAGER, MANAGER_PASSWORD, ROLES, login
from tests.integration.openapi_promises import (
    KEY,
    broken_promises,
    key_parameters,
    refused_roles_disagree,
)

STAFF = {"username": "clerk9", "display_name": "王丽", "role": "clerk", "password": "pass-word-9"}


def _openapi(client: TestClient[Any]) -> dict[str, Any]:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def test_times_of_day_are_documented_as_the_local_times_answered(
    client: TestClient[Any],
) -> None:
    doc = _openapi(client)
    h = login(client, MANAGER, MANAGER_PASSWORD)
    store = client.get("/api/v1/store", headers=h).json()
    schemas = doc["components"]["schemas"]
    for field in ("open_time", "close_time"):
        documented = schemas["StoreOut"]["properties"][field]
        assert documented.get("format") != "duration"
        assert re.fullmatch(documented["pattern"], store[field]), (documented, store[field])
    requested = schemas["StoreSettingsIn"]["properties"]["open_time"]["oneOf"]
    assert any("pattern" in s and s.get("format") != "duration" for s in requested)


def test_a_body_not_sent_as_json_is_refused_not_parsed(client: TestClient[Any]) -> None:
    h = login(client, MANAGER, MANAGER_PASSWORD)
    for content_type in ("text/plain", None):
        headers = {**h, "Content-Type": content_type} if content_type else h
        r = client.patch("/api/v1/store", content=b'{"name": "Renamed"}', headers=headers)
        assert r.status_code == 415, (content_type, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "unsupported_media_type"
    assert client.get("/api/v1/store", headers=h).json()["name"] == "测试营业厅"
    ok = client.patch("/api/v1/store", json={"name": "Renamed"}, headers=h)
    assert (ok.status_code, ok.json()["name"]) == (200, "Renamed")


def test_body_fields_are_not_coerced_from_other_types(client: TestClient[Any]) -> None:
    h = login(client, MANAGER, MANAGER_PASSWORD)
    staff = client.post("/api/v1/staff", json=STAFF, headers=h).json()
    r = client.patch(f"/api/v1/staff/{staff['user_id']}", json={"active": 0}, headers=h)
    assert r.status_code == 400 and r.json()["code"] == "validation_failed"
    assert [e["field"] for e in r.json()["errors"]] == ["body.active"]
    assert client.get(f"/api/v1/staff/{staff['user_id']}", headers=h).json()["active"] is True
    r = client.patch("/api/v1/store", json={"first_response_sla_hours": "12"}, headers=h)
    assert r.status_code == 400
    assert [e["field"] for e in r.json()["errors"]] == ["body.first_response_sla_hours"]
    assert client.get("/api/v1/store", headers=h).json()["first_response_sla_hours"] == 24


def test_a_missing_body_field_is_named(client: TestClient[Any]) -> None:
    h = login(client, MANAGER, MANAGER_PASSWORD)
    without_role = {k: v for k, v in STAFF.items() if k != "role"}
    r = client.post("/api/v1/staff", json=without_role, headers=h)
    assert r.status_code == 400
    assert [e["field"] for e in r.json()["errors"]] == ["body.role"]
    json = {"Content-Type": "application/json"}
    r = client.post("/api/v1/staff", content=b'{"username": ', headers={**h, **json})
    assert (r.status_code, r.json()["code"]) == (400, "bad_request")


def test_every_error_is_documented_as_problem_details(client: TestClient[Any]) -> None:
    paths = _openapi(client)["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (
                        path,
                        method,
                        status,
                    )

    def statuses(path: str, method: str) -> set[str]:
        return set(paths[path][method]["responses"])

    assert {"400", "401", "403", "409", "415", "422"} <= statuses("/api/v1/staff", "post")
    assert {"401", "429"} <= statuses("/api/v1/auth/login", "post")
    assert {"401", "404"} <= statuses("/api/v1/staff/{user_id}", "get")
    # Starting today's checklist again answers the same checklist with 200.
    assert {"200", "201"} <= statuses("/api/v1/checklists", "post")


def test_documented_media_types_are_the_ones_answered(client: TestClient[Any]) -> None:
    paths = _openapi(client)["paths"]
    board = paths["/api/v1/queue/board/stream"]["get"]["responses"]["200"]["content"]
    assert list(board) == ["text/event-stream"]
    metrics = paths["/metrics"]["get"]["responses"]["200"]["content"]
    answered = client.get("/metrics").headers["content-type"]
    assert [m.split(";")[0] for m in metrics] == [answered.split(";")[0]] == ["text/plain"]


def test_a_body_that_may_be_left_out_is_documented_as_optional(client: TestClient[Any]) -> None:
    paths = _openapi(client)["paths"]
    assert paths["/api/v1/attendance/clock-in"]["post"]["requestBody"]["required"] is False
    assert paths["/api/v1/staff"]["post"]["requestBody"]["required"] is True


def test_own_password_change_documents_its_throttle(client: TestClient[Any]) -> None:
    paths = _openapi(client)["paths"]
    assert "429" in paths["/api/v1/auth/password"]["post"]["responses"]


def test_every_error_body_says_whether_to_retry(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    """A tablet decides to retry from ``retryable``, so every error carries it, false too."""
    manager, greeter = as_role["manager"], as_role["greeter"]
    answers = {
        400: client.post("/api/v1/staff", json={**STAFF, "role": 7}, headers=manager),
        401: client.get("/api/v1/staff"),
        403: client.post("/api/v1/staff", json=STAFF, headers=greeter),
        404: client.get("/api/v1/staff/01a23d06-e897-7426-94bc-f4471068b677", headers=manager),
        409: client.post("/api/v1/staff", json={**STAFF, "username": "greeter1"}, headers=manager),
        415: client.post("/api/v1/staff", content=b"{}", headers=manager),
        422: client.post(
            "/api/v1/complaints",
            json={
                "channel": "in_store",
                "category": "billing",
                "description": "x",
                "customer_phone": "12345",
            },
            headers=greeter,
        ),
    }
    for status, r in answers.items():
        assert r.status_code == status, (status, r.text)
        assert r.json()["retryable"] is False, (status, r.text)


def test_every_operation_says_who_may_call_it_and_what_a_retry_gets(
    client: TestClient[Any],
) -> None:
    """Each operation lists its roles, each write its use of ``Idempotency-Key``, and each
    its errors as problem details."""
    doc = _openapi(client)
    assert broken_promises(doc, ROLES) == []
    paths = doc["paths"]
    assert paths["/api/v1/queue/tickets"]["post"]["x-roles"] == ["greeter", "manager"]
    assert paths["/health"]["get"]["x-roles"] == []
    sell = paths["/api/v1/stock/sell"]["post"]
    assert "Roles: clerk, manager." in sell["description"]
    [key] = key_parameters(sell)
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"}
    assert "Idempotent-Replayed" in sell["responses"]["201"]["headers"]
    [unused] = key_parameters(paths["/api/v1/complaints/search"]["post"])
    assert unused["description"].startswith("Not used here")
    assert "maxLength" not in unused["schema"]  # any value is taken, and ignored


def test_the_documented_roles_are_the_ones_admitted(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    """Every role the document leaves out of an operation is refused with 403, and no role it
    lists is (a handler's own rule, such as a clerk rating only others' visits, needs a real
    visit, which these calls do not name)."""
    assert refused_roles_disagree(client, _openapi(client), as_role) == []


def test_a_key_is_checked_as_documented(
    client: TestClient[Any], as_role: dict[str, dict[str, str]]
) -> None:
    key = key_parameters(_openapi(client)["paths"]["/api/v1/faults"]["post"])[0]["schema"]
    fault = {"kind": "printer", "asset_name": "叫号机", "description": "不出票"}
    manager = as_role["manager"]
    for bad in ("", " ", "k" * (key["maxLength"] + 1)):
        r = client.post("/api/v1/faults", json=fault, headers={**manager, KEY: bad})
        assert r.status_code == 400, (bad, r.text)
    longest = {**manager, KEY: "k" * key["maxLength"]}
    first = client.post("/api/v1/faults", json=fault, headers=longest)
    again = client.post("/api/v1/faults", json=fault, headers=longest)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/faults", json={**fault, "description": "卡纸"}, headers=longest)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
