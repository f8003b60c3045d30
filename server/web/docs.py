"""The API docs pages (``/schema``) of both apps, with every script and style served locally.

A hall often has no internet, so docs that load Swagger UI or ReDoc from a public CDN show a
blank page there. Both apps serve the files from the installed ``openapi-ui-bundles`` package
under ``/schema/assets`` instead; that path lies under ``^/schema``, which both apps leave
public, so the pages work before anyone signs in.

Scalar is not offered: no Python package ships its standalone bundle.
"""

from __future__ import annotations

from litestar import Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from openapi_ui_bundles import redoc, swagger_ui

SCHEMA_PATH = "/schema"
ASSETS_PATH = f"{SCHEMA_PATH}/assets"
SWAGGER_ASSETS = f"{ASSETS_PATH}/swagger-ui"
REDOC_ASSETS = f"{ASSETS_PATH}/redoc"

# The renderers' own default favicon is also fetched from a CDN.
_FAVICON = f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}/favicon-32x32.png'>"


def docs_config(*, title: str, description: str) -> OpenAPIConfig:
    """The OpenAPI config of an app: Swagger UI at ``/schema`` and ``/schema/swagger``,
    ReDoc at ``/schema/redoc``, the document at ``/schema/openapi.json``."""
    return OpenAPIConfig(
        title=title,
        version="1",
        description=description,
        path=SCHEMA_PATH,
        use_handler_docstrings=True,
        # The first plugin also answers the bare /schema.
        render_plugins=[
            SwaggerRenderPlugin(
                path="/swagger",
                js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
                favicon=_FAVICON,
            ),
            RedocRenderPlugin(
                path="/redoc",
                js_url=f"{REDOC_ASSETS}/redoc.standalone.js",
                google_fonts=False,
                favicon=_FAVICON,
            ),
        ],
    )


def docs_assets() -> list[Router]:
    """The routes that serve the docs pages' scripts, styles and icon; add them to an app."""
    return [
        create_static_files_router(
            path=SWAGGER_ASSETS,
            directories=[swagger_ui.static_path],
            include_in_schema=False,
            name="docs_assets_swagger_ui",
        ),
        create_static_files_router(
            path=REDOC_ASSETS,
            directories=[redoc.static_path],
            include_in_schema=False,
            name="docs_assets_redoc",
        ),
    ]
