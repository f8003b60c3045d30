"""What the store node tells a tablet about its sync with central."""

from __future__ import annotations

from datetime import datetime

import msgspec


class SyncStatusOut(msgspec.Struct, frozen=True, kw_only=True):
    """Where the node's sync stands (``GET /api/v1/sync/status``)."""

    enrolled: bool
    """Whether the node was enrolled with central (``store init --enroll``)."""
    central_url: str | None
    local_seq: int
    """Newest seq in the node's log."""
    acked_seq: int
    """Central holds the log up to here."""
    pending: int
    """Events central does not hold yet."""
    hq_cursor: int
    """HQ events applied up to this position of central's HQ log."""
    last_success_at: datetime | None
    """Last time the node was fully caught up (UTC)."""
    last_attempt_at: datetime | None
    last_error: str | None
    """Why the last attempt failed; cleared when caught up."""
    quarantined: int
    """Events of this store central could not apply and holds in quarantine."""
    connected: bool
    """Whether a sync connection is open right now."""
