"""Staff tokens are verified once and then remembered, but never past their expiry nor under
another node's secret."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from litestar.exceptions import NotAuthorizedException

from server.store.auth import StaffToken

SECRET = "a-node-secret-long-enough-for-hs256-signing"
OTHER = "another-node-secret-long-enough-for-hs256!"


def _token(ttl: timedelta) -> str:
    return StaffToken(exp=datetime.now(UTC) + ttl, sub="user-1", extras={"store_id": "S1"}).encode(
        SECRET, "HS256"
    )


def test_a_verified_token_is_remembered() -> None:
    encoded = _token(timedelta(hours=1))
    first = StaffToken.decode(encoded, SECRET, "HS256")
    assert first.sub == "user-1" and first.extras["store_id"] == "S1"
    assert StaffToken.decode(encoded, SECRET, "HS256") is first


def test_a_remembered_token_is_refused_under_another_secret() -> None:
    encoded = _token(timedelta(hours=1))
    StaffToken.decode(encoded, SECRET, "HS256")
    with pytest.raises(NotAuthorizedException):
        StaffToken.decode(encoded, OTHER, "HS256")


def test_a_remembered_token_is_refused_once_expired() -> None:
    encoded = _token(timedelta(seconds=1))
    StaffToken.decode(encoded, SECRET, "HS256")
    time.sleep(2.1)  # ``exp`` has whole seconds
    with pytest.raises(NotAuthorizedException):
        StaffToken.decode(encoded, SECRET, "HS256")


def test_a_tampered_token_is_refused() -> None:
    encoded = _token(timedelta(hours=1))
    StaffToken.decode(encoded, SECRET, "HS256")
    head, payload, signature = encoded.split(".")
    with pytest.raises(NotAuthorizedException):
        StaffToken.decode(f"{head}.{payload}.{signature[:-2]}AA", SECRET, "HS256")
