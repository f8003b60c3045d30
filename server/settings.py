"""Settings of the apps, from the environment (one object per app).

The sync core never reads these; the apps pass explicit values down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class StoreNodeSettings:
    """How a store node runs. ``HALLSYNC_DATA_DIR`` holds its database."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8100
    log_level: str = "info"

    @classmethod
    def from_env(cls, **overrides: object) -> StoreNodeSettings:
        values: dict[str, object] = {
            "data_dir": Path(_env("HALLSYNC_DATA_DIR", "./data/store")),
            "host": _env("HALLSYNC_HOST", "127.0.0.1"),
            "port": int(_env("HALLSYNC_PORT", "8100")),
            "log_level": _env("HALLSYNC_LOG_LEVEL", "info"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
