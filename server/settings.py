"""Settings of the apps, from the environment: the one module that reads it.

- ``StoreNodeSettings`` — how ``hallsync store serve`` runs;
- ``SyncSettings`` — when and where a store node syncs (``store serve`` and ``store sync``);
- ``CentralSettings`` — how a central replica runs, and the database every ``central`` command
  opens;
- ``SetupSecrets`` — passwords and the chain's contact key, which setup commands take from the
  environment rather than the command line.

The command line and the apps take these objects; the sync core never reads them, it takes
explicit values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from server.store.central_address import Enrollment, ws_url
from sync.schedule import Schedule, SyncWindow

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _secret(name: str) -> str | None:
    """An environment variable that is unset when empty (a blank password is no password)."""
    return os.environ.get(name) or None


def data_dir_from_env() -> Path | None:
    """``HALLSYNC_DATA_DIR``, or None: for the command line, where every command must name its
    data directory (by ``--data-dir`` or this variable)."""
    value = os.environ.get("HALLSYNC_DATA_DIR")
    return Path(value) if value else None


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
            "data_dir": data_dir_from_env() or Path("./data/store"),
            "host": _env("HALLSYNC_HOST", "127.0.0.1"),
            "port": int(_env("HALLSYNC_PORT", "8100")),
            "trusted_proxies": _list("HALLSYNC_TRUSTED_PROXIES"),
            "metrics_token": _secret("HALLSYNC_METRICS_TOKEN"),
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
            "data_dir": data_dir_from_env() or Path("./data/central"),
            "database_url": _secret("HALLSYNC_DATABASE_URL"),
            "host": _env("HALLSYNC_HOST", "127.0.0.1"),
            "port": int(_env("HALLSYNC_PORT", "8000")),
            "hq_poll_seconds": float(_env("HALLSYNC_HQ_POLL_SECONDS", "5")),
            "trusted_proxies": _list("HALLSYNC_TRUSTED_PROXIES"),
            "metrics_token": _secret("HALLSYNC_METRICS_TOKEN"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


SyncMode = Literal["continuous", "window", "both", "off"]


@dataclass(frozen=True)
class SyncSettings:
    """How a store node's background sync runs: ``HALLSYNC_SYNC_MODE`` (continuous | window |
    both | off) and ``HALLSYNC_SYNC_WINDOW`` (store-local, e.g. ``01:00-05:00``)."""

    mode: SyncMode = "continuous"
    window: str = "01:00-05:00"
    central_url: str | None = None
    """``HALLSYNC_CENTRAL_URL``: sync with central at this address instead of the one the node
    keeps (e.g. every node of a deployment pointed at a load balancer by its environment);
    ``hallsync store set-central`` changes the kept one."""

    def __post_init__(self) -> None:
        if self.mode not in ("continuous", "window", "both", "off"):
            raise ValueError(f"HALLSYNC_SYNC_MODE: {self.mode!r} is not continuous|window|both|off")
        SyncWindow.parse(self.window)
        if self.central_url is not None:
            try:
                ws_url(self.central_url)
            except ValueError as exc:
                raise ValueError(f"HALLSYNC_CENTRAL_URL: {exc}") from None

    @classmethod
    def from_env(cls) -> SyncSettings:
        mode = _env("HALLSYNC_SYNC_MODE", "continuous").strip().lower()
        return cls(
            mode=cast(SyncMode, mode),
            window=_env("HALLSYNC_SYNC_WINDOW", "01:00-05:00"),
            central_url=_env("HALLSYNC_CENTRAL_URL", "").strip() or None,
        )

    def address(self, enrollment: Enrollment) -> Enrollment:
        """``enrollment`` at the address these settings name, if they name one."""
        if self.central_url is None:
            return enrollment
        return Enrollment(ws_url(self.central_url), enrollment.credential)

    def schedule(self, tz: str) -> Schedule:
        if self.mode == "off":
            raise ValueError("sync is off")
        return Schedule(mode=self.mode, window=SyncWindow.parse(self.window), tz=tz)


@dataclass(frozen=True)
class SetupSecrets:
    """Secrets that setting up a node or an HQ account takes from the environment, never from
    the command line (where other users of the machine and the shell history would see them).
    Each is None when unset or empty; the command then asks for a password, or makes a key."""

    manager_password: str | None = None
    """``HALLSYNC_MANAGER_PASSWORD``: the store manager's password at ``store init``."""
    hq_admin_password: str | None = None
    """``HALLSYNC_HQ_ADMIN_PASSWORD``: the first HQ admin's password at ``central init``."""
    hq_user_password: str | None = None
    """``HALLSYNC_HQ_USER_PASSWORD``: the password of ``central user add`` and
    ``central user reset-password``."""
    contact_key: str | None = None
    """``HALLSYNC_CONTACT_KEY``: the chain's key for customer phone tokens (central's
    ``contact.key``, or a secret of at least 16 characters), at ``store init`` and
    ``central init``."""

    @classmethod
    def from_env(cls) -> SetupSecrets:
        return cls(
            manager_password=_secret("HALLSYNC_MANAGER_PASSWORD"),
            hq_admin_password=_secret("HALLSYNC_HQ_ADMIN_PASSWORD"),
            hq_user_password=_secret("HALLSYNC_HQ_USER_PASSWORD"),
            contact_key=_secret("HALLSYNC_CONTACT_KEY"),
        )
