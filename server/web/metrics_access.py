"""Who may read ``/metrics`` (store node and central).

Central's ``/metrics`` can list every store with its region and high-water mark, which is not
for anyone who can reach the port. ``HALLSYNC_METRICS_TOKEN`` (at least 16 characters) is the
scraper's key:

- not set: ``/metrics`` answers anyone, with this process's own figures only (counters, open
  connections, request latencies); central leaves out every per-store series;
- set: ``/metrics`` answers only a request with ``Authorization: Bearer <token>`` (else 401),
  and central adds the per-store series.

``/health`` and ``/ready`` stay open either way.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from server.errors import Unauthorized

MIN_TOKEN_CHARS = 16
SCRAPER = (
    "No login needed, unless `HALLSYNC_METRICS_TOKEN` is set: then only the metrics token, "
    "as `Authorization: Bearer <token>`."
)
"""Who may read ``/metrics``, as the API documents say it."""


def check_token(token: str | None) -> str | None:
    """The configured metrics token (None when unset); refuses one short enough to guess."""
    if not token:
        return None
    if len(token) < MIN_TOKEN_CHARS:
        raise ValueError(f"HALLSYNC_METRICS_TOKEN needs at least {MIN_TOKEN_CHARS} characters")
    return token


def scraper_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """Route guard of ``/metrics``: with a token configured (``app.state.metrics_token``), only a
    request carrying it gets through."""
    token: str | None = connection.app.state.get("metrics_token")
    if token is None:
        return
    scheme, _, given = connection.headers.get("authorization", "").partition(" ")
    # Compared in constant time, so the answer's timing does not give the token away.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise Unauthorized("/metrics needs the metrics token: Authorization: Bearer <token>")
