"""The Litestar application both apps are: one factory, so the store node and central decode,
check, document, measure and answer errors alike, and ``/health``, which both answer the same.

What differs is passed in: the routes, the bearer-token auth (``server.web.guards.bearer_auth``),
the paths it leaves open, the lifespan, the Prometheus middleware's name and class, the
document's title and description, and any further Litestar settings (``extra``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from litestar import Litestar, get
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from litestar.security.jwt import JWTAuth

from server.web.contract import ContractRequest, contract_plugins
from server.web.docs import docs_assets, docs_config
from server.web.inputs import check_request_text
from server.web.problems import EXCEPTION_HANDLERS


@get("/health", tags=["ops"], sync_to_thread=False)
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


def hallsync_app(
    *,
    route_handlers: Sequence[Any],
    jwt_auth: JWTAuth[Any, Any],
    public_paths: list[str],
    lifespan: Callable[[Litestar], Any],
    metrics_name: str,
    title: str,
    description: str,
    metrics_middleware: type[PrometheusMiddleware] = PrometheusMiddleware,
    **extra: Any,
) -> Litestar:
    """A hallsync app: ``route_handlers`` plus ``/health`` and the offline docs' assets."""
    return Litestar(
        route_handlers=[health, *route_handlers, *docs_assets()],
        on_app_init=[jwt_auth.on_app_init],
        plugins=contract_plugins(public_paths),
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=ContractRequest,
        before_request=check_request_text,
        middleware=[
            PrometheusConfig(
                app_name=metrics_name, group_path=True, middleware_class=metrics_middleware
            ).middleware
        ],
        openapi_config=docs_config(title=title, description=description),
        debug=False,
        # The process's logging is the command's (server.logs); Litestar's default would add
        # its own handler and format to the root logger.
        logging_config=None,
        **extra,
    )
