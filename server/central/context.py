"""What every central request handler needs: the database, the clock, the shared secrets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncEngine

from server.central.hq.notify import HqNotifier
from server.central.node import CentralSecrets
from server.errors import StorageError
from server.web.logins import LoginGate


@dataclass
class Central:
    """The running central replica. Holds no sync state of its own: that is all in the
    database, so replicas are interchangeable."""

    url: str
    secrets: CentralSecrets
    clock: Callable[[], datetime]
    logins: LoginGate = field(default_factory=LoginGate)
    """Throttles and checks HQ logins (this replica's tallies; see ``server.web.logins``)."""
    hq_notifier: HqNotifier = field(default_factory=HqNotifier)
    """Wakes this replica's sync connections when HQ publishes (see ``hq.notify``)."""
    _engine: AsyncEngine | None = None

    @property
    def engine(self) -> AsyncEngine:
        """The database engine, made when the app starts (on the app's event loop)."""
        if self._engine is None:
            raise StorageError("central is starting or stopping; retry")
        return self._engine

    def engine_getter(self) -> Callable[[], AsyncEngine]:
        return lambda: self.engine


def central(request: Request[Any, Any, State]) -> Central:
    c: Central = request.app.state.central
    return c
