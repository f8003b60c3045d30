"""The Idempotency-Key rules both apps keep (``server.idempotency``)."""

from __future__ import annotations

import msgspec
import pytest

from server.errors import BadRequest, IdempotencyMismatch
from server.idempotency import MAX_CHARS, Idempotency, fingerprint_body


class _Body(msgspec.Struct):
    name: str
    phone: str | None = None


def test_a_key_is_one_to_max_chars_characters_and_not_blank() -> None:
    assert Idempotency.of("k" * MAX_CHARS, "boss", "POST", "/x", b"{}").key == "k" * MAX_CHARS
    for bad in ("", "   ", "k" * (MAX_CHARS + 1)):
        with pytest.raises(BadRequest, match="Idempotency-Key"):
            Idempotency.of(bad, "boss", "POST", "/x", b"{}")


def test_a_reused_key_replays_only_for_the_same_request() -> None:
    first = Idempotency.of("k", "boss", "POST", "/x", b'{"a":1}')
    Idempotency.of("k", "boss", "POST", "/x", b'{"a":1}').check_replay(first.fingerprint)
    for method, path, body in [("PUT", "/x", b'{"a":1}'), ("POST", "/y", b'{"a":1}'),
                               ("POST", "/x", b'{"a":2}')]:  # fmt: skip
        other = Idempotency.of("k", "boss", method, path, body)
        with pytest.raises(IdempotencyMismatch) as refused:
            other.check_replay(first.fingerprint)
        assert refused.value.status == 422 and refused.value.code == "idempotency_key_reused"


def test_a_fingerprinted_body_holds_no_secret() -> None:
    assert fingerprint_body(_Body("li"), phone=None) is None  # nothing secret: the raw body
    body = fingerprint_body(_Body("li", "13812345678"), phone="token-1")
    assert body is not None and b"13812345678" not in body and b"token-1" in body
