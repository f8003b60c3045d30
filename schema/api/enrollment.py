"""What a store node and central say to each other over HTTP: enrollment and restore.

A node trades a one-time enrollment code for its identity and sync credential
(``POST ENROLL_PATH``, JSON), and a replaced node downloads its own log back a page at a time
(``GET RESTORE_PATH``, msgpack, authenticated by the credential). Central answers with these
types and the node decodes them, so both sides read them from here. Sync itself is the
websocket of ``sync.protocol``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from schema.api.common import StoreCode, TimeZone

ENROLL_PATH = "/api/v1/enroll"
RESTORE_PATH = "/api/v1/restore/events"
"""Query: ``after`` (the last seq the node already has) and ``limit`` (page size)."""


class EnrollIn(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A node's request to enroll (``POST ENROLL_PATH``); a node sends only what differs
    from the defaults, so a central of an earlier release reads it as it always did."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    """The one-time enrollment code printed by ``hallsync central enroll-store``."""
    restore: bool = False
    """True when a replaced node will rebuild its log from central (``RESTORE_PATH``)."""
    store_id: StoreCode | None = None
    """The store an existing node already is (a standalone node enrolling later): a code
    issued for another store is refused, and stays unused."""
    tz: TimeZone | None = None
    """The existing node's time zone: it must be the one central registered for the store, or
    the two would disagree on where a business day ends."""


class EnrollOut(msgspec.Struct, frozen=True, kw_only=True):
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


class RestorePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a store's own log as central holds it (``application/msgpack``)."""

    events: list[msgspec.Raw]
    """Each event's msgpack bytes exactly as the store logged them, in ``seq`` order."""
    next_after: int | None
    """Ask again with ``after=next_after``; null when the page reached ``high_water``."""
    high_water: int
    """Central holds every event of the store up to this seq."""
