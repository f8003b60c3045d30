"""REST types of the stores central knows (``/api/v1/hq/stores``): registering one, the
one-time code its node enrolls with, how far its sync has come, and the events of it central
holds in quarantine (``/api/v1/hq/quarantine``) and their replay."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from schema.api.common import Name, Region, StoreCode, TimeZone

StoreStatusName = Literal["pending", "active", "revoked"]
"""``pending`` until its node enrolls; ``revoked`` for good."""


class StoreIn(msgspec.Struct, kw_only=True):
    store_id: StoreCode
    name: Name
    region: Region
    tz: TimeZone = "Asia/Shanghai"


class EnrollmentCode(msgspec.Struct, kw_only=True):
    """A one-time code to give the store's installer; shown once."""

    store_id: str
    code: str
    expires_at: datetime


class StoreSyncStatus(msgspec.Struct, kw_only=True):
    """How far one store's upload has come."""

    store_id: str
    name: str
    region: str
    tz: str
    status: StoreStatusName
    high_water: int
    """Central holds every event of the store up to this seq."""
    local_seq: int
    """The store's newest seq, as last reported."""
    pending: int
    """Events the store has that central does not yet hold (``local_seq − high_water``)."""
    hq_acked: int
    quarantined: int
    """Events of this store central could not apply."""
    enrolled_at: datetime | None
    last_seen_at: datetime | None
    last_ingest_at: datetime | None
    lag_seconds: float | None
    """How long the pending events have waited: seconds since central last stored an upload of
    this store (or since it enrolled); 0 when nothing is pending; null if neither happened."""


class QuarantinedEvent(msgspec.Struct, kw_only=True):
    """An uploaded event central could not apply, kept raw for a replay after an upgrade."""

    quarantine_id: int
    store_id: str
    seq: int
    event_type: str | None
    reason: str
    size: int
    """Bytes of the raw event."""
    received_at: datetime
    replayed_at: datetime | None


ReplayOutcome = Literal["applied", "already_held", "quarantined", "replayed_before"]


class QuarantineReplayed(msgspec.Struct, kw_only=True):
    """What a replay did with one quarantined event."""

    quarantine_id: int
    store_id: str
    seq: int
    event_type: str | None
    outcome: ReplayOutcome
    """``applied``: stored and folded now, as if just uploaded; ``already_held``: central's log
    already holds this very event, so nothing was folded again (the entry is closed);
    ``quarantined``: this build cannot apply it either (``reason`` says why, and it stays);
    ``replayed_before``: an earlier replay applied it (``replayed_at``)."""
    reason: str | None
    """Why it stays in quarantine; null otherwise."""
    replayed_at: datetime | None


class QuarantineReplayOut(msgspec.Struct, kw_only=True):
    """The outcome of one replay call, per event, oldest first."""

    items: list[QuarantineReplayed]
    applied: int
    """Events stored and folded by this call (``already_held`` ones are not counted)."""
    quarantined: int
    """Events this build cannot apply either; they stay in quarantine."""
    next_after: int | None
    """More entries wait: call again with ``after=next_after``; null when none is left."""
