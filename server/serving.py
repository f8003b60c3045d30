"""Running a hallsync app under uvicorn: uvicorn logs through hallsync's handler
(``server.logs``), and the server says once, in its own words, where it listens and when it
has stopped, instead of uvicorn's start-up and shut-down lines (shown at debug)."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from collections.abc import Mapping
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

STARTUP_FAILURE = 3
"""The exit status when the server could not start (the one uvicorn uses)."""


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, name: str, fields: Mapping[str, object]) -> None:
        super().__init__(config)
        self.name = name
        self.fields = fields

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:  # the app started and the socket is bound: clients may come
            url = _url(self.config.host, self.config.port)
            log.info("%s listening on %s", self.name, url, extra=dict(self.fields))

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        log.info("%s stopped", self.name)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(
    app: Any,
    *,
    name: str,
    host: str,
    port: int,
    fields: Mapping[str, object] | None = None,
    **options: Any,
) -> None:
    """Serve ``app`` on ``host``:``port`` until interrupted (Ctrl-C or SIGTERM). ``name``
    (e.g. "store node S001") opens the lines saying the server listens and has stopped; the
    first also carries ``fields`` (e.g. the data directory). ``options`` are uvicorn's. Exits
    with status 3 when the server cannot start."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        # Neither uvicorn's logging set-up nor its levels: hallsync's handler and levels apply.
        log_config=None,
        log_level=None,
        access_log=False,
        **options,
    )
    server = _Server(config, name, fields or {})
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C once stopped
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
