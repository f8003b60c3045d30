"""Publishing HQ-authored data: from an HQ user's request to one event in central's HQ log.

A publish checks the audience against the stores central knows and the user's regions, stamps a
typed event from ``schema.events`` as a store node stamps its own (``server.domain.stamp``:
UUIDv7 id, hybrid logical clock, UTC time, actor), and appends it with ``hq.log.publish``, all
in one transaction. The event
carries ``store_id = "*"`` and ``seq = 0``: it belongs to no store's log; each addressed store
folds it as its own (``apply_hq_batch`` replaces ``store_id``), and the projectors it reuses
never read ``seq``.

A retried publish with the same ``Idempotency-Key`` finds the event the first attempt appended
(keys are per HQ user, kept with the event) and answers with it instead of appending another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.api.common import Page
from schema.api.hq import Addressed, Audience, Delivery, PublishedEvent
from schema.events import Event, encode, tag_of
from schema.tables.sync import central_stores, hq_events
from server.central.hq import log as hq_log
from server.central.hq.auth import HqUser
from server.domain.stamp import stamp as stamp_event
from server.errors import Forbidden, ValidationFailed
from server.idempotency import Idempotency
from sync.clock import HybridClock

E = TypeVar("E", bound=Event)

HQ_STORE_ID = "*"
HQ_DEVICE = "hq"


# ------------------------------------------------------------------ audience


@dataclass(frozen=True)
class Addressee:
    """A checked audience: ``target`` is ``""`` for every store."""

    audience: Audience
    target: str

    def reaches(self) -> Any:
        """SQL: the ``central_stores`` row is one this audience addresses."""
        if self.audience == "region":
            return central_stores.c.region == self.target
        if self.audience == "store":
            return central_stores.c.store_id == self.target
        return sa.true()


def addresses(audience: Any, target: Any) -> Any:
    """SQL: the ``central_stores`` row is addressed by an event with this audience and target
    (columns or values)."""
    return sa.or_(
        audience == "all",
        sa.and_(audience == "region", central_stores.c.region == target),
        sa.and_(audience == "store", central_stores.c.store_id == target),
    )


async def resolve(conn: AsyncConnection, user: HqUser, data: Addressed) -> Addressee:
    """Check an audience: the target exists and the user may address it.

    A region-scoped user may address only their regions (403 otherwise) and the stores in them;
    a store outside their regions is reported like an unknown one, as the HQ API never reveals
    stores a user cannot see. A revoked store will never sync again: addressing it is an error.
    """
    if data.audience == "all":
        if data.target:
            raise ValidationFailed("leave target empty when the audience is all", field="target")
        if user.regions:
            raise Forbidden(
                "you may address only your regions, not every store", regions=list(user.regions)
            )
        return Addressee("all", "")
    if not data.target:
        raise ValidationFailed(f"name the {data.audience} to address", field="target")
    if data.audience == "region":
        known = (
            await conn.execute(
                sa.select(central_stores.c.store_id)
                .where(central_stores.c.region == data.target)
                .limit(1)
            )
        ).first()
        if known is None:
            raise ValidationFailed(f"no store is in region {data.target!r}", field="target")
        if not user.sees(data.target):
            raise Forbidden(f"region {data.target!r} is outside your regions", region=data.target)
        return Addressee("region", data.target)
    row = (
        await conn.execute(
            sa.select(central_stores.c.region, central_stores.c.status).where(
                central_stores.c.store_id == data.target
            )
        )
    ).first()
    if row is None or not user.sees(row.region):
        raise ValidationFailed(f"no store {data.target!r}", field="target")
    if row.status == "revoked":
        raise ValidationFailed(f"store {data.target!r} is revoked", field="target")
    return Addressee("store", data.target)


def addressed_stores(to: Addressee) -> sa.Select[tuple[str]]:
    """The stores an audience reaches (not revoked), as a subquery for checks against central's
    copies of their projections."""
    return sa.select(central_stores.c.store_id).where(
        central_stores.c.status != "revoked", to.reaches()
    )


# ------------------------------------------------------------------ idempotency


async def replay(
    conn: AsyncConnection, user: HqUser, idem: Idempotency | None
) -> PublishedEvent | None:
    """What an earlier publish with this key appended, or None for a new key. Call with the
    publish lock held, so two attempts racing with one key cannot both append."""
    if idem is None:
        return None
    row = await hq_log.find_by_key(conn, user.username, idem.key)
    if row is None:
        return None
    idem.check_replay(row.request_hash)
    return (await published(conn, user, [row]))[0]


# ------------------------------------------------------------------ the event


def stamp(
    event_type: type[E], *, newest_hlc: int, user: HqUser, now: datetime, **payload: Any
) -> E:
    """A typed HQ event, stamped as a store node stamps its own (``server.domain.stamp``):
    HQ's store id and seq 0, an HLC after ``newest_hlc``, the HQ user as actor."""
    return stamp_event(
        event_type,
        payload,
        store_id=HQ_STORE_ID,
        seq=0,
        clock=HybridClock(newest_hlc),
        now=now,
        actor=user.username,
        device=HQ_DEVICE,
    )


async def append(
    conn: AsyncConnection,
    event: Event,
    *,
    to: Addressee,
    user: HqUser,
    subject: str | None,
    idem: Idempotency | None,
) -> PublishedEvent:
    """Append ``event`` to the HQ log (in the caller's transaction) and describe it."""
    cursor = await hq_log.publish(
        conn,
        audience=to.audience,
        target=to.target,
        event_type=tag_of(event),
        body=encode(event),
        created_by=user.username,
        now=event.at,
        event_id=event.id,
        subject=subject,
        idempotency_key=idem.key if idem else None,
        request_hash=idem.fingerprint if idem else None,
    )
    row = (await conn.execute(sa.select(hq_events).where(hq_events.c.cursor == cursor))).one()
    return (await published(conn, user, [row]))[0]


# ------------------------------------------------------------------ what was published


def visible_events(user: HqUser) -> Any:
    """SQL: the ``hq_events`` row reaches a store the user may see (every event does for a
    user of every region)."""
    if not user.regions:
        return sa.true()
    in_their_regions = (
        sa.select(central_stores.c.store_id)
        .where(central_stores.c.store_id == hq_events.c.target, user.store_scope())
        .exists()
    )
    return sa.or_(
        hq_events.c.audience == "all",
        sa.and_(hq_events.c.audience == "region", hq_events.c.target.in_(user.regions)),
        sa.and_(hq_events.c.audience == "store", in_their_regions),
    )


async def delivery(
    conn: AsyncConnection, user: HqUser, cursors: Sequence[int]
) -> dict[int, Delivery]:
    """For each HQ event: the active stores it addresses (that the user may see) and how many
    of them acknowledged a cursor at or past it. One grouped query for a whole page."""
    if not cursors:
        return {}
    stores = central_stores
    applied = sa.case((stores.c.hq_acked >= hq_events.c.cursor, 1), else_=0)
    rows = await conn.execute(
        sa.select(
            hq_events.c.cursor,
            sa.func.count(stores.c.store_id).label("addressed"),
            sa.func.coalesce(sa.func.sum(applied), 0).label("applied"),
        )
        .select_from(hq_events)
        .join(
            stores,
            sa.and_(
                stores.c.status == "active",
                user.store_scope(),
                addresses(hq_events.c.audience, hq_events.c.target),
            ),
        )
        .where(hq_events.c.cursor.in_(list(cursors)))
        .group_by(hq_events.c.cursor)
    )
    found = {int(r.cursor): Delivery(addressed=r.addressed, applied=int(r.applied)) for r in rows}
    return {c: found.get(c, Delivery(addressed=0, applied=0)) for c in cursors}


def _body(raw: bytes) -> dict[str, Any]:
    try:
        decoded = msgspec.msgpack.decode(raw)
    except msgspec.DecodeError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


async def published(
    conn: AsyncConnection, user: HqUser, rows: Sequence[Any]
) -> list[PublishedEvent]:
    """``hq_events`` rows as the HQ API shows them, with their delivery progress."""
    progress = await delivery(conn, user, [int(r.cursor) for r in rows])
    return [
        PublishedEvent(
            cursor=int(r.cursor),
            id=r.id,
            type=r.type,
            audience=r.audience,
            target=r.target,
            subject=r.subject,
            created_by=r.created_by,
            created_at=r.created_at,
            event=_body(r.body),
            delivery=progress[int(r.cursor)],
        )
        for r in rows
    ]


async def list_published(
    conn: AsyncConnection,
    user: HqUser,
    *,
    event_type: str | None,
    audience: str | None,
    target: str | None,
    subject: str | None,
    limit: int,
    offset: int,
) -> Page[PublishedEvent]:
    """HQ events the user may see, newest first, filtered."""
    where = [visible_events(user)]
    for column, value in (
        (hq_events.c.type, event_type),
        (hq_events.c.audience, audience),
        (hq_events.c.target, target),
        (hq_events.c.subject, subject),
    ):
        if value is not None:
            where.append(column == value)
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(hq_events).where(*where))
    ).scalar_one()
    rows = (
        await conn.execute(
            sa.select(hq_events)
            .where(*where)
            .order_by(hq_events.c.cursor.desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    items = await published(conn, user, rows)
    nxt = offset + len(items)
    return Page(
        items=items,
        total=int(total),
        limit=limit,
        offset=offset,
        next_offset=nxt if nxt < total else None,
    )
