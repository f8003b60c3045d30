"""Token issue times to the microsecond: a password change refuses exactly the tokens issued
before it, even within the same second."""

from __future__ import annotations

from datetime import timedelta

from litestar.security.jwt import Token

from server import tokens
from server.tokens import ISSUED_CLAIM, IssuedToken, issued_before

SECRET = "a-test-secret-of-enough-length-0123456789"


def issue() -> IssuedToken:
    encoded = IssuedToken(sub="u1", exp=tokens.now() + timedelta(hours=1)).encode(SECRET, "HS256")
    return IssuedToken.decode(encoded, SECRET, "HS256")


def test_a_change_refuses_tokens_issued_before_it_and_only_those() -> None:
    before = issue()
    changed = tokens.now()
    after = issue()
    assert isinstance(before.extras[ISSUED_CLAIM], int)
    assert issued_before(before, changed)
    assert not issued_before(after, changed)
    assert not issued_before(before, None)  # a password never changed since the upgrade


def test_a_token_without_the_claim_counts_from_the_start_of_its_second() -> None:
    plain = Token(sub="u1", exp=tokens.now() + timedelta(hours=1))  # iat: whole seconds
    assert issued_before(plain, plain.iat + timedelta(microseconds=1))
    assert not issued_before(plain, plain.iat)
