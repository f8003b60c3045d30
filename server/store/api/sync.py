"""The manager's view of the node's sync with central (同步状态), and the conflicts to review
(同步冲突): HQ events the node refused because its own history made them illegal."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from schema.api.common import Page
from schema.api.conflicts import ConflictOut, ConflictResolveIn, ConflictStatus
from schema.api.sync import SyncStatusOut
from schema.events.conflicts import ConflictEntity, ConflictReason
from server.domain import conflicts as domain
from server.domain.paging import paginate
from server.store.api.common import AnyRequest, PagingDep, node, read, submit
from server.store.auth import requires
from server.store.sync_service import SyncService, read_status

MANAGER = requires()
"""Sync and its conflicts are the hall manager's (厅长)."""


class SyncController(Controller):
    path = "/api/v1/sync"
    tags = ["sync"]

    @get("/status", guards=[MANAGER])
    async def status(self, request: AnyRequest) -> SyncStatusOut:
        """Sync status (同步状态): what central holds, what is pending, the last error."""
        service: SyncService | None = request.app.state.sync
        if service is not None:
            return await service.status()
        store_id = node(request).store_id
        return await read(request, lambda c: read_status(c, store_id, None, connected=False))

    @get("/conflicts", guards=[MANAGER])
    async def list_conflicts(
        self,
        request: AnyRequest,
        paging: PagingDep,
        status: Annotated[
            ConflictStatus | None, QueryParameter(description="open or resolved")
        ] = None,
        reason: Annotated[
            ConflictReason | None, QueryParameter(description="why the node refused it")
        ] = None,
        entity: Annotated[
            ConflictEntity | None, QueryParameter(description="what it was about")
        ] = None,
    ) -> Page[ConflictOut]:
        """Conflicts (同步冲突), newest first: HQ events the node kept in its HQ log but did not
        apply, because the store's own history made them illegal (HQ changing a member the
        hall manager deactivated, a user name the store already gave to its own staff, …).
        Central gets each one through sync, so HQ sees the same list."""
        query = domain.list_conflicts(
            node(request).store_id, status=status, reason=reason, entity=entity
        )
        return await read(
            request,
            lambda c: paginate(
                c, query, domain.conflict_out, limit=paging.limit, offset=paging.offset
            ),
        )

    @post("/conflicts/{conflict_id:uuid}/resolve", guards=[MANAGER], status_code=200)
    async def resolve_conflict(
        self, request: AnyRequest, conflict_id: FromPath[UUID], data: JSONBody[ConflictResolveIn]
    ) -> Response[ConflictOut]:
        """Resolve a conflict with a note on what was decided or done (manager). A resolved
        conflict (here, or by HQ) is answered as it is, unchanged."""
        return await submit(
            request, lambda ctx: domain.resolve(ctx, conflict_id, data.note), status_code=200
        )


ROUTES = [SyncController]
