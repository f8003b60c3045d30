"""The API contract plugin refuses to document an app whose operations do not say who may call
them or what a write does with ``Idempotency-Key``, and reads roles from the guards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar, get, post
from litestar.exceptions import ImproperlyConfiguredException
from litestar.testing import TestClient

from server.web.contract import contract_plugins, key_not_used, key_replays
from server.web.guards import RoleGuard


@dataclass(frozen=True)
class Admit(RoleGuard):
    async def __call__(self, connection: Any, _handler: Any) -> None:
        return None


def _app(*handlers: Any) -> Litestar:
    return Litestar(route_handlers=list(handlers), plugins=contract_plugins(["^/open"]))


def test_an_operation_behind_the_login_without_a_role_guard_is_refused() -> None:
    @get("/things", sync_to_thread=False)
    def things() -> list[str]:
        return []

    with pytest.raises(ImproperlyConfiguredException, match="GET /things"):
        _app(things)


def test_a_write_that_does_not_say_what_it_does_with_the_key_is_refused() -> None:
    @post("/things", guards=[Admit(("clerk",))], sync_to_thread=False)
    def add() -> None:
        return None

    with pytest.raises(ImproperlyConfiguredException, match="Idempotency-Key"):
        _app(add)


def test_roles_are_those_every_role_guard_admits() -> None:
    both = [Admit(("clerk", "admin", "manager")), Admit(("admin", "manager"), note="on duty")]

    @post("/things", guards=both, opt=key_replays("the first answer"), sync_to_thread=False)
    def add() -> None:
        return None

    @post("/open/login", opt=key_not_used("nothing is recorded"), sync_to_thread=False)
    def login() -> None:
        return None

    with TestClient(_app(add, login)) as client:
        paths = client.get("/schema/openapi.json").json()["paths"]
    added = paths["/things"]["post"]
    assert added["x-roles"] == ["admin", "manager"]
    assert added["description"].endswith("Roles: admin, manager (on duty).")
    opened = paths["/open/login"]["post"]
    assert (opened["x-roles"], opened["description"]) == ([], "No login needed.")
    [key] = opened["parameters"]
    assert key["description"] == "Not used here, and ignored if sent: nothing is recorded."
