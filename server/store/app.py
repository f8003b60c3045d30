"""The store node's Litestar application: routes, auth, errors, OpenAPI, health, metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from litestar import Litestar, get
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from server.errors import StorageError
from server.idempotency import KEY_TTL
from server.settings import SyncSettings
from server.store.api import complaints, inventory, kpis, ops, queue, shifts, store, sync
from server.store.api.common import Node, provide_paging
from server.store.auth import Roster, make_jwt_auth
from server.store.board import QueueBoard
from server.store.db import Reader
from server.store.node import open_store
from server.store.sync_service import SyncService, read_enrollment
from server.store.writer import Writer
from server.web.app import hallsync_app
from server.web.contract import (
    key_replays,
    open_with,
    problems,
)
from server.web.logins import LoginGate
from server.web.metrics_access import SCRAPER, check_token, scraper_guard

log = logging.getLogger(__name__)

ROUTE_MODULES = (store, queue, inventory, shifts, complaints, ops, kpis, sync)
PUBLIC_PATHS = ["^/schema", "^/health", "^/ready", "^/metrics", "^/api/v1/auth/login"]


@get(
    "/metrics",
    tags=["ops"],
    media_type=CONTENT_TYPE_LATEST,
    sync_to_thread=False,
    guards=[scraper_guard],
    responses=problems(401),
    opt=open_with(SCRAPER),
)
def metrics() -> bytes:
    """Prometheus metrics: request counts and latencies (the text exposition format); only for
    the holder of the metrics token when one is configured (``server.web.metrics_access``)."""
    return generate_latest(REGISTRY)


class RequestMetrics(PrometheusMiddleware):
    """Litestar's Prometheus middleware, with the same metrics and labels, made cheaper: it
    keeps each labelled series it has looked up and reads the method and route from the ASGI
    scope, where the original builds a Request and looks up four series on every request (a
    third of the cost of a small request). For this app's configuration: the route as the path
    (``group_path``), no extra labels, no exemplars, no excluded methods."""

    _series: ClassVar[dict[tuple[Any, ...], Any]] = {}

    def _labelled(self, metric: Any, method: str, path: str, status: int) -> Any:
        key = (metric, method, path, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = metric.labels(method, path, status, self._config.app_name)
        return series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"] if scope["type"] == ScopeType.HTTP else scope["type"]
        path = scope["path_template"]
        labels: dict[str, str | int | float] = {  # names the labels of a new metric
            "method": method,
            "path": path,
            "status_code": 200,
            "app_name": self._config.app_name,
        }
        in_progress = self._labelled(self.requests_in_progress(labels), method, path, 200)
        started = time.perf_counter()
        status, duration = 200, 0.0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, duration
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                duration = time.perf_counter() - started
            await send(message)

        in_progress.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            in_progress.dec()
            if status >= HTTP_500_INTERNAL_SERVER_ERROR:
                self._labelled(self.requests_error_count(labels), method, path, status).inc()
            self._labelled(self.request_count(labels), method, path, status).inc()
            self._labelled(self.request_time(labels), method, path, status).observe(duration)


def create_app(
    data_dir: Path,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sync_settings: SyncSettings | None = None,
    logins: LoginGate | None = None,
    metrics_token: str | None = None,
) -> Litestar:
    """The store node app over the initialised node in ``data_dir``.

    ``clock`` is the wall clock commands are stamped with (tests pass a fixed one). When the
    node is enrolled with central, a background task syncs it as ``sync_settings`` say
    (default: continuously). ``logins`` throttles and checks logins (default: the socket peer
    is the client, the process-wide password pool). ``metrics_token`` guards ``/metrics``.
    """
    token = check_token(metrics_token)
    opened = open_store(data_dir)
    engine, store_id = opened.engine, opened.store_id
    writer = Writer(engine, store_id, contact_key=opened.contact_key, clock=clock)
    roster = Roster(store_id)
    node = Node(
        store_id=store_id,
        writer=writer,
        reader=Reader(engine),
        roster=roster,
        contact_key=opened.contact_key,
    )
    jwt_auth = make_jwt_auth(opened.jwt_secret, roster, PUBLIC_PATHS)
    board = QueueBoard(node.reader, store_id, clock=clock)
    writer.on_commit.append(roster.on_commit)
    writer.on_commit.append(board.on_commit)
    enrollment = node.reader.run_sync(read_enrollment)
    syncer: SyncService | None = None
    if enrollment is not None:
        syncer = SyncService(
            writer,
            node.reader,
            (sync_settings or SyncSettings()).address(enrollment),
            settings=sync_settings,
            observers=[roster.on_commit, board.on_commit],
        )
        writer.on_commit.append(syncer.on_commit)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        node.reader.run_sync(roster.load)
        writer.start()
        if syncer is not None:
            await syncer.start()
        log.debug("store node %s ready on %s", store_id, data_dir)
        try:
            yield
        finally:
            if syncer is not None:
                await syncer.stop()
            await board.close()
            await writer.wait_idle()
            writer.stop()
            engine.dispose()

    @get("/ready", tags=["ops"])
    async def ready() -> dict[str, Any]:
        """Readiness: the database answers and the writer runs."""
        if not writer.alive:
            raise StorageError("the store node's writer is not running")
        await node.reader.run(lambda c: c.exec_driver_sql("SELECT 1").scalar())
        return {"status": "ready", "store_id": store_id}

    route_handlers: list[Any] = [ready, metrics]
    for module in ROUTE_MODULES:
        route_handlers.extend(module.ROUTES)

    app = hallsync_app(
        route_handlers=route_handlers,
        jwt_auth=jwt_auth,
        public_paths=PUBLIC_PATHS,
        lifespan=lifespan,
        metrics_name="hallsync_store",
        metrics_middleware=RequestMetrics,
        title="hallsync store node",
        description="Tablet API of a hall's store node (营业厅门店节点).",
        dependencies={"paging": Provide(provide_paging, sync_to_thread=False)},
        # Every write goes through ``submit``, which keeps each key's first answer; the few
        # that do not say what they do instead.
        opt=key_replays(
            "the first attempt's answer, its status and body, and nothing is recorded twice "
            f"(keys are kept {KEY_TTL.days} days, per staff user)"
        ),
    )
    app.state.node = node
    app.state.jwt_auth = jwt_auth
    app.state.board = board
    app.state.sync = syncer
    app.state.logins = logins or LoginGate()
    app.state.metrics_token = token
    return app
