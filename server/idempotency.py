"""The ``Idempotency-Key`` header of the store's and central's writes: its limits, and the
fingerprint that makes a retry "the same request" (so a key cannot stand for another one).
What each operation does with the key is documented by ``server.api_contract``."""

from __future__ import annotations

import hashlib

from server.errors import BadRequest

HEADER = "Idempotency-Key"
MAX_CHARS = 255
"""The longest key taken (the database keeps keys up to this length)."""
REPLAYED = "Idempotent-Replayed"
"""Response header, ``true`` on the answer to a retry that replays its first attempt."""


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
