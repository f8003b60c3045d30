"""The manager's KPIs of a store-day (今日指标)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from schema.api.kpis import StoreKpisOut
from server.domain.kpis import store_kpis
from server.store.api.common import AnyRequest, node, read
from server.store.auth import requires


class KpiController(Controller):
    path = "/api/v1/kpis"
    tags = ["kpis"]

    @get("/", guards=[requires()])
    async def get_kpis(
        self,
        request: AnyRequest,
        day: Annotated[
            date | None, QueryParameter(description="store-local day; default today")
        ] = None,
    ) -> StoreKpisOut:
        """Store KPIs of a day (门店指标): visits, waits, satisfaction, complaints, stock, staff."""
        store_id = node(request).store_id
        now = node(request).writer.clock()
        return await read(request, lambda c: store_kpis(c, store_id, now, day))


ROUTES = [KpiController]
