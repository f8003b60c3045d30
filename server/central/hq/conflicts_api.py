"""The HQ API of sync conflicts (同步冲突): HQ events a store refused because its own history made
them illegal (a role change for a member the hall manager deactivated, a user name the store had
already given to its own staff, …), as the stores synced them.

Every HQ role reads them, region-scoped users for their regions' stores; ops and admins resolve
them. A resolution goes down to the store as an HQ event (see ``server.central.hq.conflicts``).
"""

from __future__ import annotations

import logging
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from schema.api.common import Page
from schema.api.conflicts import ConflictResolveIn, ConflictStatus, HqConflictOut
from schema.events.conflicts import ConflictEntity, ConflictReason
from server.central import db
from server.central.context import central
from server.central.hq import conflicts
from server.central.hq.api import HqRequest, Limit, Offset
from server.central.hq.auth import ANY_HQ_ROLE, requires
from server.web.contract import key_not_used

log = logging.getLogger(__name__)

RESOLVERS = requires("ops")
"""Who may resolve: ops and admins (``requires`` always admits admins)."""


class HqConflictsController(Controller):
    path = "/api/v1/hq/conflicts"
    tags = ["hq"]

    @get("/", guards=[ANY_HQ_ROLE])
    async def list_conflicts(
        self,
        request: HqRequest,
        store_id: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        status: FromQuery[ConflictStatus | None] = None,
        reason: FromQuery[ConflictReason | None] = None,
        entity: FromQuery[ConflictEntity | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[HqConflictOut]:
        """HQ events the stores refused after merge, newest first, as of each store's last
        upload: what HQ sent (type, cursor, by whom), what in the store's own history it
        collided with, why, and its resolution. Filter by ``store_id``, ``region``,
        ``status`` (``open``, ``resolved``), ``reason`` or ``entity``. A resolution HQ sent that
        the store has not synced back yet shows as ``hq_resolution``."""
        c = central(request)
        async with db.read(c.engine) as conn:
            return await conflicts.list_conflicts(
                conn,
                request.user,
                store_id=store_id,
                region=region,
                status=status,
                reason=reason,
                entity=entity,
                limit=limit,
                offset=offset,
            )

    @post(
        "/{conflict_id:uuid}/resolve",
        guards=[RESOLVERS],
        status_code=200,
        opt=key_not_used(
            "a conflict resolved already, or whose resolution HQ sent already, is answered as "
            "it is, so a retry sends nothing twice"
        ),
    )
    async def resolve(
        self, request: HqRequest, conflict_id: FromPath[UUID], data: JSONBody[ConflictResolveIn]
    ) -> HqConflictOut:
        """Resolve a conflict with a note (ops, admin): publishes ``sync.conflict_resolved`` to
        its store, which records it (unless its manager resolved the conflict first) and syncs
        it back; until then the answer shows it as ``hq_resolution``. 422 when the store is
        revoked (it will never sync again)."""
        c = central(request)
        user = request.user
        async with db.write(c.engine) as conn:
            out, published = await conflicts.resolve(
                conn, user, conflict_id, data.note, now=c.clock()
            )
        if published:
            c.hq_notifier.published()  # this replica's connections look now; others hear NOTIFY
            log.info(
                "HQ user %s resolved conflict %s of store %s",
                user.username,
                conflict_id,
                out.store_id,
            )
        return out


ROUTES = [HqConflictsController]
