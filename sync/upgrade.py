"""Whether central lets a store's websocket upgrade through, and how it says no, sans I/O.

The upgrade carries the store's credential as ``Authorization: Bearer <credential>``. One
that names no active store is refused with 401 (``Unauthorized``), and with 503
(``Unavailable``) when central cannot check credentials now; the adapter answers with the
problem details of every REST error of central where the server can answer an upgrade with an
HTTP status, else with the error's close code before any frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import msgspec

from schema.api.common import PROBLEM_TYPE_BASE, Problem
from sync.errors import SyncError, Unauthorized, Unavailable


def bearer(authorization: str) -> str | None:
    """The credential of an ``Authorization`` header, if it is a bearer one."""
    scheme, _, credential = authorization.partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else None


@dataclass(frozen=True)
class Refusal:
    """An upgrade refused: its HTTP status, and the error saying why."""

    status: int
    error: SyncError

    def problem(self, instance: str) -> bytes:
        """The refusal as a problem details document (JSON) about the path ``instance``."""
        return msgspec.json.encode(
            Problem(
                type=PROBLEM_TYPE_BASE + self.error.code,
                title=HTTPStatus(self.status).phrase,
                status=self.status,
                detail=self.error.message,
                code=self.error.code,
                retryable=self.error.retryable,
                instance=instance,
            )
        )


UNKNOWN_CREDENTIAL = Refusal(401, Unauthorized("unknown or revoked store credential"))
"""No credential, not a bearer one, or one that names no active store."""

CANNOT_CHECK = Refusal(503, Unavailable("central cannot check credentials now"))
"""Checking the credential failed (the database is unreachable): the store tries again later."""
