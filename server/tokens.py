"""When a bearer token was issued, to the microsecond, so that a password change ends every
token issued before it, on the store node and at HQ.

A JWT's ``iat`` has whole seconds: a token issued in the same second as a password change
could not be told from one issued just after it. Tokens therefore carry their issue time in
microseconds (``iat_us``). A user's ``tokens_valid_from`` (set with each new password, and at HQ
when an account is deactivated) is read from the same real clock, not from the app's business
clock, which tests and simulations move by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.security.jwt import Token

ISSUED_CLAIM = "iat_us"
"""Extra claim: microseconds since the Unix epoch when the token was issued."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def now() -> datetime:
    """The real UTC time, the clock both token issue times and password changes are read from."""
    return datetime.now(UTC)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


class IssuedToken(Token):
    """A JWT that records when it was issued to the microsecond (``extras["iat_us"]``)."""

    def encode(self, secret: str, algorithm: str) -> str:
        # Encoding happens once, when the token is created (``JWTAuth.create_token``).
        self.extras.setdefault(ISSUED_CLAIM, _micros(now()))
        return super().encode(secret, algorithm)


def issued_before(token: Token, changed_at: datetime | None) -> bool:
    """True if ``token`` was issued before a password change at ``changed_at`` (so it must be
    refused). A token without ``iat_us`` counts from the start of its ``iat`` second."""
    if changed_at is None:
        return False
    issued = token.extras.get(ISSUED_CLAIM)
    if not isinstance(issued, int):
        issued = _micros(token.iat)
    return issued < _micros(changed_at)
