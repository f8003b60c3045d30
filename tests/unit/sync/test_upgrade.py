"""What central refuses at the websocket upgrade, and how the refusal reads."""

from __future__ import annotations

import msgspec
import pytest

from schema.api.common import PROBLEM_TYPE_BASE
from sync.errors import Unauthorized, Unavailable
from sync.upgrade import CANNOT_CHECK, UNKNOWN_CREDENTIAL, bearer


@pytest.mark.parametrize(
    ("header", "credential"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Bearer", ""),
        ("Basic abc", None),
        ("", None),
        ("abc", None),
    ],
)
def test_bearer_takes_the_credential_of_a_bearer_header_only(
    header: str, credential: str | None
) -> None:
    assert bearer(header) == credential


def test_an_unknown_credential_is_a_401_that_retrying_cannot_fix() -> None:
    assert UNKNOWN_CREDENTIAL.status == 401
    assert isinstance(UNKNOWN_CREDENTIAL.error, Unauthorized)
    problem = msgspec.json.decode(UNKNOWN_CREDENTIAL.problem("/sync/v1"))
    assert problem["type"] == PROBLEM_TYPE_BASE + "unauthorized"
    assert problem["title"] == "Unauthorized"
    assert (problem["status"], problem["code"]) == (401, "unauthorized")
    assert problem["retryable"] is False
    assert problem["instance"] == "/sync/v1"


def test_a_credential_that_cannot_be_checked_is_a_503_to_retry() -> None:
    assert CANNOT_CHECK.status == 503
    assert isinstance(CANNOT_CHECK.error, Unavailable)
    problem = msgspec.json.decode(CANNOT_CHECK.problem("/sync/v1"))
    assert (problem["status"], problem["retryable"]) == (503, True)
    assert problem["title"] == "Service Unavailable"
