"""The ``Idempotency-Key`` of the store node's and central's writes: the rules both apps keep.

- A key is 1 to ``MAX_CHARS`` characters and not blank (``checked_key``); anything else is 400.
- Keys are per user: a staff user's on a node, an HQ user's on central.
- Two requests are "the same" when their ``fingerprint`` (method, path and body, the body with
  its secrets replaced: ``fingerprint_body``) is: a retry of the same request gets the first
  answer again, marked ``Idempotent-Replayed: true`` (``REPLAYED_HEADERS``), and records
  nothing new; the same key on a different request is refused with 422
  (``Idempotency.check_replay`` raises ``IdempotencyMismatch``).
- Only a success is kept: a retry of a request that failed runs anew.
- A store node forgets a key after ``KEY_TTL``; central keeps it with the HQ event or user the
  request created, as long as that record lives.

Where an answer is kept differs: on a node, a row of ``idempotency_keys`` written in the
writer's transaction (``server.store.writer``); on central, columns of the row the request
created (``hq_events``, ``hq_users``). What each operation does with a key is documented by
``server.web.contract``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Any

import msgspec
from litestar import Request

from server.errors import BadRequest, IdempotencyMismatch

HEADER = "Idempotency-Key"
MAX_CHARS = 255
"""The longest key taken (the databases keep keys up to this length)."""
REPLAYED = "Idempotent-Replayed"
"""Response header, ``true`` on the answer to a retry that replays its first attempt."""
REPLAYED_HEADERS: Mapping[str, str] = MappingProxyType({REPLAYED: "true"})
"""The headers of a replayed answer."""
KEY_TTL = timedelta(days=7)
"""How long a store node remembers a key: far longer than any tablet retries."""


def checked_key(key: str) -> str:
    """The header's value, if it is 1 to ``MAX_CHARS`` characters and not blank; else 400 naming the
    header. An empty key is refused, not taken as no key: it is what a script sends when the
    command meant to make its key failed (``$(uuidgen)`` without uuidgen), and a retry would
    then record the request twice."""
    if not 1 <= len(key) <= MAX_CHARS or not key.strip():
        raise BadRequest(
            f"Idempotency-Key must be 1 to {MAX_CHARS} characters, not blank", field="header"
        )
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """sha256 of the request's method, path and body."""
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


def fingerprint_body(data: Any, **secret_fields: str | None) -> bytes | None:
    """``data`` (a request's msgspec body) as JSON with its secret fields replaced (a phone
    number by its token, a password by a constant): what a retry's fingerprint covers instead of
    the raw body, whose stored sha256 would give the secret away to a quick search. None when
    there is nothing secret in the request (the raw body is fingerprinted)."""
    present = {k: v for k, v in secret_fields.items() if v is not None}
    if not present:
        return None
    return msgspec.json.encode(msgspec.structs.replace(data, **present))


@dataclass(frozen=True)
class Idempotency:
    """A request's ``Idempotency-Key``, whose key it is, and the fingerprint that makes a retry
    "the same request"."""

    key: str
    username: str
    """The user whose key it is (keys are per user)."""
    fingerprint: str

    @staticmethod
    def of(key: str, username: str, method: str, path: str, body: bytes) -> Idempotency:
        """The key (checked: 400 if it is not one) of a request from ``username``."""
        return Idempotency(checked_key(key), username, fingerprint(method, path, body))

    def check_replay(self, recorded_fingerprint: str) -> None:
        """Call when the key already has an answer, kept with ``recorded_fingerprint``: unless
        this request is the one answered, 422 ``idempotency_key_reused``."""
        if recorded_fingerprint != self.fingerprint:
            raise IdempotencyMismatch(
                "this Idempotency-Key was already used for a different request"
            )


async def of_request(
    request: Request[Any, Any, Any], username: str, body: bytes | None = None
) -> Idempotency | None:
    """The ``Idempotency-Key`` of a request from ``username``, or None without the header.
    ``body`` is what the fingerprint covers instead of the raw body (``fingerprint_body``)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = checked_key(key)  # before reading a body for nothing
    if body is None:
        body = await request.body()
    return Idempotency(key, username, fingerprint(request.method, request.url.path, body))
