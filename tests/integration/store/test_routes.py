"""The route contract OpenAPI publishes for the store's routes: the status each write declares
is the status it answers, a body whose every field has a default may be left out, and a write
documented as replaying a retry's first answer is one that keeps it."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import msgspec
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.testing import TestClient

from schema.api.queue import TransferIn
from server.store.app import create_app

DOMAIN_ROUTES = {
    "server.store.api.queue",
    "server.store.api.inventory",
    "server.store.api.shifts",
    "server.store.api.complaints",
    "server.store.api.ops",
}

DECLARED_NOT_SUBMITTED = {
    ("server.store.api.ops", "start"): 201,
}
"""Handlers whose declared status differs from what they pass to ``submit``, with why: starting
the day's checklist declares 201 and answers 200 when it existed (it passes 200 so that an
idempotent replay never claims a creation)."""

BODY_REQUIRED_ALTHOUGH_ALL_DEFAULT: dict[type[Any], str] = {
    TransferIn: "a transfer must name the category or the window it goes to",
}


def _handlers(app: Litestar) -> list[HTTPRouteHandler]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and handler.fn.__module__ in DOMAIN_ROUTES:
                found.append(handler)
    return found


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    from server.store.node import init_store
    from tests.conftest import MANAGER, MANAGER_PASSWORD, STORE_ID, TZ

    data: Path = tmp_path_factory.mktemp("routes") / "node"
    init_store(
        data,
        store_id=STORE_ID,
        name="路由",
        region="east",
        tz=TZ,
        manager=MANAGER,
        manager_password=MANAGER_PASSWORD,
    )
    return create_app(data)


def _body(fn: Any) -> str:
    source = inspect.getsource(fn)
    return source[source.index("async def") :]


def test_every_write_declares_the_status_it_answers(app: Litestar) -> None:
    writes = [h for h in _handlers(app) if "submit(" in _body(h.fn)]
    assert len(writes) > 60
    wrong = []
    for handler in writes:
        body = _body(handler.fn)
        answered = 200 if "status_code=200" in body else 201
        key = (handler.fn.__module__, handler.fn.__name__)
        expected = DECLARED_NOT_SUBMITTED.get(key, answered)
        if handler.status_code != expected:
            wrong.append((sorted(handler.http_methods), handler.paths, handler.status_code))
    assert wrong == []


def _struct_and_optional(hint: Any) -> tuple[type[Any] | None, bool]:
    """The body struct of a ``JSONBody[...]`` hint, and whether the body may be left out."""
    inner = get_args(hint)[0] if get_origin(hint) is typing.Annotated else hint
    if get_origin(inner) in (Union, type(int | None)):
        members = [a for a in get_args(inner) if a is not type(None)]
        return (members[0] if len(members) == 1 else None), type(None) in get_args(inner)
    return inner, False


def _all_fields_default(struct: type[Any]) -> bool:
    return all(
        f.default is not msgspec.NODEFAULT or f.default_factory is not msgspec.NODEFAULT
        for f in msgspec.structs.fields(struct)
    )


def test_bodies_whose_fields_all_default_are_optional(app: Litestar) -> None:
    checked = []
    for handler in _handlers(app):
        hints = typing.get_type_hints(handler.fn, include_extras=True)
        if "data" not in hints:
            continue
        struct, optional = _struct_and_optional(hints["data"])
        if not (isinstance(struct, type) and issubclass(struct, msgspec.Struct)):
            continue
        if not _all_fields_default(struct) or struct in BODY_REQUIRED_ALTHOUGH_ALL_DEFAULT:
            continue
        checked.append(struct.__name__)
        assert optional, f"{handler.paths}: a {struct.__name__} body should be optional"
    assert {"ClockActionIn", "CancelIn", "ShiftCancelIn", "FaultNoteIn", "CloseIn"} <= set(checked)


def test_openapi_shows_the_status_codes(app: Litestar) -> None:
    with TestClient(app=app) as client:
        paths = client.get("/schema/openapi.json").json()["paths"]

    def codes(path: str, method: str = "post") -> set[str]:
        return {c for c in paths[path][method]["responses"] if c.startswith("2")}

    assert codes("/api/v1/queue/tickets/{ticket_id}/rating") == {"200"}
    assert codes("/api/v1/queue/tickets/{ticket_id}/cancel") == {"200"}
    assert codes("/api/v1/queue/appointments/{appointment_id}/check-in") == {"201"}
    assert codes("/api/v1/attendance/clock-in") == {"201"}
    assert codes("/api/v1/attendance/clock-out") == {"200"}
    assert codes("/api/v1/counts/{count_id}/post") == {"200"}
    assert codes("/api/v1/shifts/{shift_id}", "patch") == {"200"}
    # Litestar marks every request body "required"; an optional one admits null instead.
    body = paths["/api/v1/attendance/clock-in"]["post"]["requestBody"]
    assert {"type": "null"} in body["content"]["application/json"]["schema"]["oneOf"]


def test_a_write_documented_as_replaying_its_first_answer_goes_through_submit(
    app: Litestar,
) -> None:
    """Only ``submit`` keeps a key's first answer: a write that does not go through it must say
    in its documentation that the key is not used there (the app's default says it is)."""
    from server.web.contract import KeyUse

    writes = [
        h
        for route in app.routes
        for h in getattr(route, "route_handlers", [])
        if isinstance(h, HTTPRouteHandler)
        and h.fn.__module__.startswith("server.store.api.")
        and h.http_methods & {"POST", "PUT", "PATCH", "DELETE"}
    ]
    submitted = {h: "await submit(" in _body(h.fn) for h in writes}
    assert {h.fn.__name__ for h, yes in submitted.items() if not yes} == {
        "login",
        "change_password",
        "search",
    }
    for handler, through_submit in submitted.items():
        use = next(v for v in handler.opt.values() if isinstance(v, KeyUse))
        assert (use.replay is not None) == through_submit, (handler.paths, use)
