"""The manager's view of the node's sync with central (同步状态)."""

from __future__ import annotations

from litestar import Controller, get

from schema.api.sync import SyncStatusOut
from server.store.api.common import AnyRequest, node, read
from server.store.auth import requires
from server.store.sync_service import SyncService, read_status


class SyncController(Controller):
    path = "/api/v1/sync"
    tags = ["sync"]

    @get("/status", guards=[requires()])
    async def status(self, request: AnyRequest) -> SyncStatusOut:
        """Sync status (同步状态): what central holds, what is pending, the last error."""
        service: SyncService | None = request.app.state.sync
        if service is not None:
            return await service.status()
        store_id = node(request).store_id
        return await read(request, lambda c: read_status(c, store_id, None, connected=False))


ROUTES = [SyncController]
