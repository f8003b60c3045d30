"""Checks shared by the store's and central's API contract tests: what every operation of an
OpenAPI document must say (who may call it, what a write does with ``Idempotency-Key``, each
error its shape implies as problem details), and requests that put its roles to the test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from litestar.testing import TestClient

WRITES = ("post", "put", "patch", "delete")
KEY = "Idempotency-Key"
PROBLEM_JSON = "application/problem+json"


def openapi(client: TestClient[Any]) -> dict[str, Any]:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in ("get", "head", "options", *WRITES):
                yield path, method, operation


def key_parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        p
        for p in operation.get("parameters", [])
        if p["in"] == "header" and p["name"].lower() == KEY.lower()
    ]


def implied_errors(
    path: str, method: str, operation: dict[str, Any], app_roles: Sequence[str]
) -> set[str]:
    """The error statuses an operation's shape says it can answer."""
    if operation.get("x-websocket"):
        return {"401", "426", "503"}
    statuses = {"503"}
    inputs = [p for p in operation.get("parameters", []) if p not in key_parameters(operation)]
    if "requestBody" in operation:
        statuses |= {"400", "415", "422"}
    if inputs:
        statuses |= {"400", "422"}
    if "{" in path:
        statuses.add("404")
    if method in WRITES:
        statuses |= {"400", "409", "422"}
    roles = operation.get("x-roles") or []
    if roles:
        statuses.add("401")
        if set(roles) < set(app_roles):
            statuses.add("403")
    if path.endswith(("/auth/login", "/auth/password")):
        statuses.add("429")
    return statuses


def broken_promises(doc: dict[str, Any], app_roles: Sequence[str]) -> list[str]:
    """Every place the document fails to say what it must, one line each."""
    broken = []
    for path, method, operation in operations(doc):
        at = f"{method.upper()} {path}"
        roles = operation.get("x-roles")
        description = operation.get("description") or ""
        if not isinstance(roles, list) or not set(roles) <= set(app_roles):
            broken.append(f"{at}: x-roles {roles!r}")
        elif roles and f"Roles: {', '.join(roles)}" not in description:
            broken.append(f"{at}: the description does not say its roles")
        elif not roles and "login" not in description.lower():
            broken.append(f"{at}: open to no role, and the description does not say so")
        keys = key_parameters(operation)
        if method in WRITES and (len(keys) != 1 or not keys[0].get("description")):
            broken.append(f"{at}: {KEY} not documented")
        if keys and keys[0].get("required"):
            broken.append(f"{at}: {KEY} documented as required")
        responses = operation["responses"]
        missing = implied_errors(path, method, operation, app_roles) - set(responses)
        if missing:
            broken.append(f"{at}: no {sorted(missing)} answer documented")
        for status, response in responses.items():
            if status[0] in "45" and list(response.get("content", {})) != [PROBLEM_JSON]:
                broken.append(f"{at}: {status} not documented as problem details")
    return broken


def placeholder(parameter: dict[str, Any]) -> str:
    """A well-formed value for a path parameter, naming nothing that exists."""
    schema = parameter.get("schema", {})
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("type") == "integer":
        return "987654"
    if schema.get("format") == "date":
        return "2026-11-26"
    return "no-such-thing"


def call_as(
    client: TestClient[Any], path: str, method: str, operation: dict[str, Any], auth: dict[str, str]
) -> int:
    """The status of the operation called with ``auth``, well-formed ids and an empty body."""
    url = path
    for p in operation.get("parameters", []):
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", placeholder(p))
    body = {"json": {}} if "requestBody" in operation else {}
    return client.request(method.upper(), url, headers=auth, **body).status_code


def refused_roles_disagree(
    client: TestClient[Any], doc: dict[str, Any], logins: dict[str, dict[str, str]]
) -> list[str]:
    """Call every operation behind a login as every role in ``logins``; the calls whose 403
    (or lack of one) disagrees with the operation's ``x-roles``, one line each."""
    wrong = []
    for path, method, operation in operations(doc):
        roles = operation.get("x-roles") or []
        streams = "text/event-stream" in operation["responses"].get("200", {}).get("content", {})
        if not roles or streams:
            continue
        for role, auth in logins.items():
            status = call_as(client, path, method, operation, auth)
            if (status == 403) != (role not in roles):
                wrong.append(f"{method.upper()} {path} as {role}: {status} (x-roles {roles})")
    return wrong
