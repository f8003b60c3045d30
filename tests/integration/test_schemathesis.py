"""Schemathesis against both REST APIs: every answer matches the OpenAPI document served at
``/schema`` (status documented, content type and body as documented) and none is a 5xx.

The store node runs as its manager, central (on PostgreSQL) as the HQ admin, each in-process over
ASGI on a fresh data dir, through schemathesis' engine, as ``schemathesis run`` would: its
examples, coverage (boundary and type-mutated values of every parameter and field) and fuzzing
phases, positive and negative data, a fixed seed. Bounded to 10 fuzzed examples per operation
and one event of the board's stream, so both APIs together take a few minutes on two shared
cores; marked ``slow``. (Its pytest plugin's ``from_fixture`` does not run on pytest 9.)

Checks run, and why:
- ``not_a_server_error``: no request, however odd, makes either API fail.
- ``status_code_conformance``: every status a caller can get is in the document, so a client
  generated from it knows each error it must handle.
- ``content_type_conformance`` and ``response_schema_conformance``: answers, success and
  problem details alike, have the documented media type and shape.
- ``negative_data_rejection``: a request that breaks the document (a wrong type, a missing
  field, ``"active": 0`` for a boolean) is refused with a 4xx, not taken.
``positive_data_acceptance`` is left out: random but well-typed requests rightly meet 404s and
409s (unknown ids, illegal transitions), which a stateless run cannot avoid.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import events
from schemathesis.python import asgi

from server.central.app import create_app as create_central
from server.central.node import init_central, read_secrets
from server.store.app import create_app as create_store
from server.store.node import init_store
from tests.conftest import MANAGER, MANAGER_PASSWORD, STORE_ID, TZ
from tests.contact import key_dir
from tests.integration.central.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    CONTACT_KEY,
    Clock,
)

pytestmark = pytest.mark.slow

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)


def _config(headers: dict[str, str]) -> Any:
    return schemathesis.Config.from_dict(
        {
            "seed": 20261126,
            "headers": headers,
            "workers": 1,
            "max-stream-events": 1,
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "generation": {
                "mode": "all",
                "max-examples": 10,
            },
            "phases": {"stateful": {"enabled": False}},
        }
    )


def _login(app: Any, path: str, username: str, password: str) -> dict[str, str]:
    """Log in through the API, as a tablet or an HQ client does."""
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    response = schema[path]["POST"].Case(body={"username": username, "password": password}).call()
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _run(app: Any, headers: dict[str, str]) -> list[str]:
    """Run schemathesis (examples, coverage and fuzzing phases) against ``app``; the failures
    found, one line each."""
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=_config(headers))
    found: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    interaction = recorder.interactions.get(case_id)
                    status = (
                        interaction.response.status_code
                        if interaction and interaction.response
                        else None
                    )
                    failure = check.failure_info.failure
                    found.append(
                        f"{recorder.label} [{check.name}] {status}: {failure.title}: "
                        f"{failure.message[:300]}\n{check.failure_info.code_sample}"
                    )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            found.append(f"error: {event!r}")
    return found


@pytest.fixture
def store_app(tmp_path: Path) -> Iterator[Any]:
    data_dir = tmp_path / "node"
    init_store(
        data_dir,
        store_id=STORE_ID,
        name="测试营业厅",
        region="east",
        tz=TZ,
        manager=MANAGER,
        manager_password=MANAGER_PASSWORD,
    )
    yield create_store(data_dir)
    # Schemathesis keeps an app's lifespan running until the interpreter exits; end it here so
    # the writer thread and the database close with the test.
    asgi.shutdown_lifespans()


@pytest.fixture
def central_app(pg_url: str) -> Iterator[Any]:
    """Central on PostgreSQL, its production database, where a value the database refuses
    surfaces (the store's run covers SQLite)."""
    url = pg_url
    asyncio.run(
        init_central(
            url,
            data_dir=key_dir(),
            admin_username=ADMIN,
            admin_password=ADMIN_PASSWORD,
            contact_key=CONTACT_KEY,
            now=Clock().now,
        )
    )
    yield create_central(url, asyncio.run(read_secrets(url, key_dir())))
    asgi.shutdown_lifespans()


def test_store_api_answers_as_documented(store_app: Any) -> None:
    headers = _login(store_app, "/api/v1/auth/login", MANAGER, MANAGER_PASSWORD)
    failures = _run(store_app, headers)
    assert not failures, "\n\n".join(failures)


def test_central_api_answers_as_documented(central_app: Any) -> None:
    headers = _login(central_app, "/api/v1/hq/auth/login", ADMIN, ADMIN_PASSWORD)
    failures = _run(central_app, headers)
    assert not failures, "\n\n".join(failures)
