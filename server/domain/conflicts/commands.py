"""Commands of sync conflicts: applying one HQ event on the store node (folded, or refused and
recorded as a conflict), and resolving a conflict (by the hall manager, or by HQ's resolution
arriving).

An HQ event is never dropped and never wedges sync: applied or refused, it is kept in
``hq_log`` and the HQ cursor moves past it (``server.store.sync_service.apply_hq_batch``); a
refusal is a ``sync.conflict_recorded`` event in the store's own log, in the same transaction,
so central learns of it through sync like of any other store fact.
"""

from __future__ import annotations

import logging
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from uuid_utils.compat import uuid7

from schema.api.conflicts import ConflictOut
from schema.events import Event, tag_of
from schema.events.conflicts import ConflictRecorded, ConflictResolved
from schema.tables.conflicts import sync_conflicts
from server.domain import projection
from server.domain.conflicts import reads
from server.domain.conflicts.rules import Collision, collision, not_applied
from server.domain.context import Ctx
from server.errors import NotFound

log = logging.getLogger(__name__)


def apply_hq_event(ctx: Ctx, event: Event, cursor: int) -> bool:
    """Fold one HQ event (its ``store_id`` already this store's) into the projections, or
    record why the store refuses it. True when it was folded.

    Call inside the batch's write transaction. HQ's resolution of a conflict is recorded as
    the store's own ``sync.conflict_resolved`` (see ``resolve_from_hq``) and not folded itself.
    """
    if isinstance(event, ConflictResolved):
        resolve_from_hq(ctx, event)
        return False
    if _refused_before(ctx, event):
        return False  # delivered again (a restored node downloads HQ's log anew)
    found = collision(ctx, event)
    if found is None:
        savepoint = ctx.conn.begin_nested()
        try:
            projection.apply(ctx.conn, event)
        except OperationalError:
            raise  # the database failed, not the event: the batch is retried, not acked
        except Exception as exc:
            # A refusal no rule foresaw (a projector's own check): still a conflict to review.
            savepoint.rollback()
            log.debug("HQ event failure", exc_info=True)
            found = not_applied(event, exc)
        else:
            savepoint.commit()
            return True
    record(ctx, event, cursor, found)
    return False


def record(ctx: Ctx, event: Event, cursor: int, found: Collision) -> ConflictRecorded:
    """Record that the store refused the HQ event ``event`` (at ``cursor`` of HQ's log)."""
    own = found.store_event
    recorded = ctx.emit(
        ConflictRecorded,
        conflict_id=uuid7(),
        entity=found.entity,
        entity_id=found.entity_id,
        reason=found.reason,
        detail=found.detail,
        hq_event_id=event.id,
        hq_event_type=tag_of(event),
        hq_cursor=cursor,
        hq_actor=event.actor,
        hq_at=event.at,
        store_event_id=own.id if own is not None else None,
        store_event_seq=own.seq if own is not None else None,
        store_event_type=tag_of(own) if own is not None else None,
    )
    log.warning(
        "HQ event %s at cursor %d refused (%s), kept for review as conflict %s",
        tag_of(event),
        cursor,
        found.reason,
        recorded.conflict_id,
    )
    return recorded


def resolve(ctx: Ctx, conflict_id: UUID, note: str) -> ConflictOut:
    """Resolve a conflict with a note (the hall manager). Resolving a resolved conflict
    changes nothing and answers it as it is."""
    row = reads.conflict_row(ctx.conn, ctx.store_id, conflict_id)
    if row is None:
        raise NotFound(f"no conflict {conflict_id}")
    if row.status == "open":
        ctx.emit(
            ConflictResolved,
            conflict_id=conflict_id,
            note=note,
            resolved_by=ctx.actor,
            side="store",
        )
    return reads.get_conflict(ctx.conn, ctx.store_id, conflict_id)


def resolve_from_hq(ctx: Ctx, hq: ConflictResolved) -> ConflictResolved | None:
    """HQ's resolution reached the store: record it as the store's own event, so central learns
    of it from the store's log like of every other resolution. Nothing when the conflict is
    resolved already (the hall manager was first) or unknown here."""
    row = reads.conflict_row(ctx.conn, ctx.store_id, hq.conflict_id)
    if row is None or row.status != "open":
        return None
    return ctx.emit(
        ConflictResolved,
        conflict_id=hq.conflict_id,
        note=hq.note,
        resolved_by=hq.resolved_by,
        side="hq",
    )


def _refused_before(ctx: Ctx, event: Event) -> bool:
    found = ctx.conn.execute(
        sa.select(sync_conflicts.c.conflict_id).where(
            sync_conflicts.c.store_id == ctx.store_id,
            sync_conflicts.c.hq_event_id == event.id,
        )
    ).first()
    return found is not None
