"""Where a store node finds central: its base URL as websocket or HTTP, and the enrollment
(address and credential) the node syncs with.

Kept apart from the sync service so that the settings (``HALLSYNC_CENTRAL_URL``) can check an
address without loading the node's database code.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from sync.protocol import SYNC_PATH


def ws_url(central_url: str) -> str:
    """Central's base URL as ``ws://`` or ``wss://`` (what ``node_meta`` keeps)."""
    parts = urlsplit(central_url.strip().rstrip("/"))
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"{central_url!r} is not a central URL like ws://host:8000")
    return urlunsplit((scheme, parts.netloc, parts.path, "", ""))


def http_url(central_url: str) -> str:
    """Central's base URL as ``http://`` or ``https://`` (for enrollment and restore)."""
    parts = urlsplit(ws_url(central_url))
    return urlunsplit(({"ws": "http", "wss": "https"}[parts.scheme], *parts[1:]))


@dataclass(frozen=True)
class Enrollment:
    """Where this node syncs to and the credential central issued it."""

    central_url: str
    credential: str

    @property
    def sync_url(self) -> str:
        return ws_url(self.central_url) + SYNC_PATH
