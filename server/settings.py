"""Settings of the apps, from the environment (one object per app).

The sync core never reads these; the apps pass explicit values down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _list(name: str) -> tuple[str, ...]:
    """A comma-separated environment variable as its non-empty items."""
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


@dataclass(frozen=True)
class StoreNodeSettings:
    """How a store node runs. ``HALLSYNC_DATA_DIR`` holds its database."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8100
    log_level: str = "info"
    trusted_proxies: tuple[str, ...] = ()
    """Reverse proxies (IP addresses or networks) whose ``X-Forwarded-For`` names the client
    that login throttling tallies; without any, the client is the socket peer."""

    @classmethod
    def from_env(cls, **overrides: object) -> StoreNodeSettings:
        values: dict[str, object] = {
            "data_dir": Path(_env("HALLSYNC_DATA_DIR", "./data/store")),
            "host": _env("HALLSYNC_HOST", "127.0.0.1"),
            "port": int(_env("HALLSYNC_PORT", "8100")),
            "log_level": _env("HALLSYNC_LOG_LEVEL", "info"),
            "trusted_proxies": _list("HALLSYNC_TRUSTED_PROXIES"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CentralSettings:
    """How a central replica runs.

    ``HALLSYNC_DATA_DIR`` holds ``central.toml`` (the database URL chosen at ``central init``)
    or, without one, the embedded SQLite database. ``HALLSYNC_DATABASE_URL`` overrides the
    file, e.g. ``postgresql+asyncpg://hallsync@db/hallsync`` for every replica of a deployment.
    """

    data_dir: Path
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    hq_poll_seconds: float = 5.0
    """How often a sync connection looks for new HQ events to send down."""
    trusted_proxies: tuple[str, ...] = ()
    """As for the store node: proxies whose ``X-Forwarded-For`` names an HQ login's client."""

    @classmethod
    def from_env(cls, **overrides: object) -> CentralSettings:
        values: dict[str, object] = {
            "data_dir": Path(_env("HALLSYNC_DATA_DIR", "./data/central")),
            "database_url": os.environ.get("HALLSYNC_DATABASE_URL") or None,
            "host": _env("HALLSYNC_HOST", "127.0.0.1"),
            "port": int(_env("HALLSYNC_PORT", "8000")),
            "log_level": _env("HALLSYNC_LOG_LEVEL", "info"),
            "hq_poll_seconds": float(_env("HALLSYNC_HQ_POLL_SECONDS", "5")),
            "trusted_proxies": _list("HALLSYNC_TRUSTED_PROXIES"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
