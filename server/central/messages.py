"""Request and response bodies of central's REST API (enrollment, restore, HQ).

These are wire types other programs decode (the store node's enrollment and restore, HQ
clients); they belong in ``schema/api`` and live here only until that module exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schema.api.hq_users import HqRole

StoreCode = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+\Z")]
"""A store's code, e.g. ``S001``."""
Region = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
StoreStatusName = Literal["pending", "active", "revoked"]


# ------------------------------------------------------------------ store node ⇄ central


class EnrollIn(msgspec.Struct, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    """The one-time enrollment code printed by ``hallsync central enroll-store``."""
    restore: bool = False
    """True when a replaced node will rebuild its log from central (``/api/v1/restore``)."""
    store_id: StoreCode | None = None
    """The store an existing node already is (a standalone node enrolling later): a code
    issued for another store is refused, and stays unused."""
    tz: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    """The existing node's time zone: it must be the one central registered for the store, or
    the two would disagree on where a business day ends."""


class EnrollOut(msgspec.Struct, kw_only=True):
    """What a store node keeps after enrolling: who it is, how to sign in, the chain's key."""

    store_id: str
    name: str
    region: str
    tz: str
    credential: str
    """``hs1.<store_id>.<secret>``: the bearer credential of sync and restore. Shown once."""
    contact_key: str
    """The chain's key of customer contact hashes."""
    central_time: datetime
    """Central's clock (UTC) when it answered, for the node to check its own."""
    high_water: int = 0
    """How many of this store's events central holds (what a restore will bring back)."""


class RestorePage(msgspec.Struct, kw_only=True):
    """One page of a store's own log as central holds it (``application/msgpack``)."""

    events: list[msgspec.Raw]
    """Each event's msgpack bytes exactly as the store logged them, in ``seq`` order."""
    next_after: int | None
    """Ask again with ``after=next_after``; null when the page reached ``high_water``."""
    high_water: int
    """Central holds every event of the store up to this seq."""


# ------------------------------------------------------------------ HQ


class HqLoginIn(msgspec.Struct, kw_only=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class HqLoginOut(msgspec.Struct, kw_only=True):
    """Bearer token for ``Authorization: Bearer …`` on the HQ API."""

    access_token: str
    token_type: str
    expires_in: int
    """Seconds until the token expires."""
    username: str
    role: HqRole
    regions: list[str]
    """Regions the user may see; empty means every region."""


class StoreIn(msgspec.Struct, kw_only=True):
    store_id: StoreCode
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    region: Region
    tz: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "Asia/Shanghai"


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
