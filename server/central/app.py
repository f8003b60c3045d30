"""Central's Litestar application: enrollment, sync, restore, the HQ API, health and metrics.

Replicas are stateless: the database holds the stores, their progress, the HQ log and the
shared secrets, so any number of replicas may serve one PostgreSQL database behind a load
balancer, and a store may reconnect to any of them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_426_UPGRADE_REQUIRED
from prometheus_client import REGISTRY, generate_latest

from schema.api.enrollment import ENROLL_PATH, RESTORE_PATH, EnrollIn, EnrollOut
from server.central import db, enrollment, metrics
from server.central.context import Central, central
from server.central.hq import api as hq_api
from server.central.hq import conflicts_api, publish_api, users_api
from server.central.hq.auth import make_hq_jwt_auth
from server.central.node import CentralSecrets
from server.central.restore import MAX_PAGE, restore_page
from server.central.storage import CentralStorage
from server.errors import Unauthorized
from server.web.app import hallsync_app
from server.web.contract import (
    key_not_used,
    open_with,
    problems,
    websocket_upgrade,
)
from server.web.logins import LoginGate
from server.web.metrics_access import SCRAPER, check_token, scraper_guard
from sync.central_ws import sync_route
from sync.protocol import PROTOCOL, SYNC_PATH

log = logging.getLogger(__name__)

MSGPACK = "application/msgpack"
PUBLIC_PATHS = [
    "^/schema",
    "^/swagger",
    "^/health",
    "^/ready",
    "^/metrics",
    "^/api/v1/enroll",
    "^/api/v1/restore",
    "^/api/v1/hq/auth/login",
    "^/sync",
]
STORE_CREDENTIAL = (
    "No staff login: the store's sync credential from enrollment, as "
    "`Authorization: Bearer <credential>`."
)


@get("/ready", tags=["ops"])
async def ready(request: Request[Any, Any, State]) -> dict[str, str]:
    """Readiness: the database answers."""
    async with db.read(central(request).engine) as conn:
        await conn.exec_driver_sql("SELECT 1")
    return {"status": "ready"}


@get(
    "/metrics",
    tags=["ops"],
    media_type="text/plain; version=0.0.4",
    guards=[scraper_guard],
    responses=problems(401),
    opt=open_with(SCRAPER),
)
async def prometheus(request: Request[Any, Any, State]) -> bytes:
    """Prometheus metrics: this replica's counters and request latencies; with the metrics
    token (``HALLSYNC_METRICS_TOKEN``, then required as ``Authorization: Bearer <token>``),
    also each store's sync lag, high-water mark and quarantine, read from the database."""
    own = generate_latest(REGISTRY)
    if request.app.state.get("metrics_token") is None:
        return own  # no scraper is authorised: no store's figures
    return own + await metrics.store_gauges(central(request).engine)


@post(
    ENROLL_PATH,
    tags=["sync"],
    status_code=200,
    security=[],
    responses=problems(401, 403, 404, 409),
    opt={
        **open_with("No login needed: the one-time enrollment code in the body is the credential."),
        **key_not_used(
            "central keeps only a hash of the credential it answers with, so it cannot answer "
            "a retry with it; a retry of a used code is refused with 401: have HQ issue a new "
            "code and enroll with that"
        ),
    },
)
async def enroll(request: Request[Any, Any, State], data: JSONBody[EnrollIn]) -> EnrollOut:
    """Trade a one-time enrollment code for the store's sync credential and the chain's contact
    key. A node replacing one whose events central holds must say ``restore: true``."""
    c = central(request)
    async with db.write(c.engine) as conn:
        out = await enrollment.enroll(
            conn,
            data.code,
            restore=data.restore,
            contact_key=c.secrets.contact_key.spec,
            now=c.clock(),
            store_id=data.store_id,
            tz=data.tz,
        )
    log.info("store %s enrolled (restore=%s)", out.store_id, data.restore)
    return out


@get(
    RESTORE_PATH,
    tags=["sync"],
    security=[],
    responses=problems(401),
    opt=open_with(STORE_CREDENTIAL),
)
async def restore_events(
    request: Request[Any, Any, State],
    after: Annotated[int, QueryParameter(ge=0, description="last seq the node already has")] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="page size")] = 1000,
) -> Response[bytes]:
    """A page of the calling store's own log (``application/msgpack`` ``RestorePage``), for a
    replaced node to rebuild from. Authenticated by the store's credential."""
    c = central(request)
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    async with db.read(c.engine) as conn:
        store = (
            await enrollment.authenticate(conn, credential.strip())
            if scheme.lower() == "bearer"
            else None
        )
        if store is None:
            raise Unauthorized("unknown or revoked store credential")
        page = await restore_page(conn, store.store_id, after=after, limit=limit)
    return Response(content=msgspec.msgpack.encode(page), media_type=MSGPACK)


@get(
    SYNC_PATH,
    tags=["sync"],
    summary="Sync websocket",
    description=PROTOCOL,
    security=[],
    opt={**websocket_upgrade(), **open_with(STORE_CREDENTIAL)},
    sync_to_thread=False,
)
def sync_without_upgrade() -> None:
    """Where a plain GET of the sync websocket's path is told to upgrade: what a proxy that
    drops the websocket upgrade (or a browser) sees. The OpenAPI document describes the
    websocket with this operation (Litestar leaves websockets out)."""
    raise ClientException(
        status_code=HTTP_426_UPGRADE_REQUIRED,
        detail=f"{SYNC_PATH} is the sync websocket: connect with Upgrade: websocket",
        headers={"Upgrade": "websocket", "Connection": "Upgrade"},
    )


def create_app(
    url: str,
    secrets: CentralSecrets,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    hq_poll: float = 5.0,
    logins: LoginGate | None = None,
    metrics_token: str | None = None,
) -> Litestar:
    """Central over the initialised database at ``url`` (``node.read_secrets`` gives
    ``secrets``). ``clock`` is the wall clock (tests pass a fixed one). ``logins`` throttles
    and checks HQ logins (default: the socket peer is the client, the process-wide pool).
    ``metrics_token`` guards ``/metrics`` (``server.web.metrics_access``)."""
    token = check_token(metrics_token)
    state = Central(url=url, secrets=secrets, clock=clock, logins=logins or LoginGate())
    notifier = state.hq_notifier
    storage = CentralStorage(state.engine_getter(), clock)
    jwt_auth = make_hq_jwt_auth(secrets.jwt_secret, state.engine_getter(), PUBLIC_PATHS)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = db.make_engine(url)
        await db.migrate(engine)
        state._engine = engine
        log.debug("central ready on %s", engine.url.render_as_string(hide_password=True))
        try:
            async with anyio.create_task_group() as tasks:
                if db.is_sqlite(url):
                    tasks.start_soon(notifier.watch_stores, engine)
                else:
                    tasks.start_soon(notifier.listen, url)
                yield
                tasks.cancel_scope.cancel()
        finally:
            state._engine = None
            await engine.dispose()

    sync = sync_route(
        path=SYNC_PATH,
        authenticate=storage.authenticate,
        storage=storage,
        hq_poll=hq_poll,
        connections=metrics.connection_changed,
        wakeup=notifier.wakeup,
        store_changes=notifier.stores,
    )
    app = hallsync_app(
        route_handlers=[
            ready,
            prometheus,
            enroll,
            restore_events,
            sync,
            sync_without_upgrade,
            *hq_api.ROUTES,
            *publish_api.ROUTES,
            *users_api.ROUTES,
            *conflicts_api.ROUTES,
        ],
        jwt_auth=jwt_auth,
        public_paths=PUBLIC_PATHS,
        lifespan=lifespan,
        metrics_name="hallsync_central",
        title="hallsync central",
        description="Central server of a hall chain: store enrollment, sync, restore, HQ API.",
    )
    app.state.central = state
    app.state.metrics_token = token
    app.state.jwt_auth = jwt_auth
    return app
