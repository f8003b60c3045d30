"""Settings of the apps, from the environment (one object per app).

The sync core never reads these; the apps pass explicit values down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _list(name: str) -> tuple[str, ...]:
    """A comma-separated environment variable as its non-empty items."""
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


@dataclass(frozen=True)
class LogSettings:
    """How a process of either app logs (``server.logs``): ``HALLSYNC_LOG_LEVEL`` (debug, info,
    warning or error) and ``HALLSYNC_LOG_FORMAT`` (text or json)."""

    level: str = "info"
    format: str = "text"

    @classmethod
    def from_env(cls, level: str | None = None, fmt: str | None = None) -> LogSettings:
        """``level`` and ``fmt`` (a command's options) or else the environment's. Raises
        ValueError naming the variable whose value is not one of the choices."""
        return cls(
            level=(level or _choice("HALLSYNC_LOG_LEVEL", "info", LOG_LEVELS)).lower(),
            format=(fmt or _choice("HALLSYNC_LOG_FORMAT", "text", LOG_FORMATS)).lower(),
        )


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _env(name, default).strip().lower() or default
    if value not in choices:
        raise ValueError(f"{name} is {value!r}; use one of {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class StoreNodeSettings:
    """How a store node runs. ``HALLSYNC_DATA_DIR`` holds its database."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8100
    trusted_proxies: tuple[str, ...] = ()
    """Reverse proxies (IP addresses or networks) whose ``X-Forwarded-For`` names the client
    that login throttling tallies; without any, the client is the socket peer."""
    metrics_token: str | None = None
    """``HALLSYNC_METRICS_TOKEN``: when set, ``/metrics`` answers only its bearer."""

    @classmethod
    def from_env(cls, **overrides: object) -> StoreNodeSettings:
        values: dict[str, object] = {
            "data_dir": Path(_env("HALLSYNC_DATA_DIR", "./data/store")),
            "host": _env("HALLSYNC_HOST", "127.0.0.1"),
            "port": int(_env("HALLSYNC_PORT", "8100")),
            "trusted_proxies": _list("HALLSYNC_TRUSTED_PROXIES"),
            "metrics_token": os.environ.get("HALLSYNC_METRICS_TOKEN") or None,
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
    hq_poll_seconds: float = 5.0
    """How often a sync connection looks for new HQ events to send down."""
    trusted_proxies: tuple[str, ...] = ()
    """As for the store node: proxies whose ``X-Forwarded-For`` names an HQ login's client."""
    metrics_token: str | None = None
    """``HALLSYNC_METRICS_TOKEN``: when set, ``/metrics`` answers only its bearer, with the
    per-store series; when not, ``/metrics`` has no per-store series."""

    @classmethod
    def from_env(cls, **overrides: object) -> CentralSettings:
        values: dict[str, object] = {
            "data_dir": Path(_env("HALLSYNC_DATA_DIR", "./data/central")),
            "database_url": os.environ.get("HALLSYNC_DATABASE_URL") or None,
            "host": _env("HALLSYNC_HOST", "127.0.0.1"),
            "port": int(_env("HALLSYNC_PORT", "8000")),
            "hq_poll_seconds": float(_env("HALLSYNC_HQ_POLL_SECONDS", "5")),
            "trusted_proxies": _list("HALLSYNC_TRUSTED_PROXIES"),
            "metrics_token": os.environ.get("HALLSYNC_METRICS_TOKEN") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
