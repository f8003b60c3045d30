"""Tablet routes of the inventory domain (库存 · 物资).

Who may do what: any staff member reads the catalog and stock levels; clerks sell and take
returns; the general admin (综合管理) receives, transfers, writes off, counts and asks for
adjustments; the manager approves adjustments (and may do everything). Selling below an item's
list price is the manager's too (403 for anyone else).

Status codes: recording something new answers 201 (an item, a movement, an adjustment, a
count); every other step answers 200. Bodies whose fields all have defaults may be left out.
Day ranges are ``from``/``to``: store-local days, both inclusive.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from schema.api.common import Page
from schema.api.inventory import (
    AdjustmentIn,
    AdjustmentOut,
    AdjustmentStatus,
    CancelIn,
    CountIn,
    CountLineIn,
    CountOut,
    CountStatus,
    DecisionIn,
    ItemIn,
    ItemOut,
    ItemUpdateIn,
    MovementLineOut,
    MovementOut,
    ReceiveIn,
    ReturnIn,
    SaleIn,
    SerialOut,
    StockLevelOut,
    TransferInIn,
    TransferOutIn,
    WriteOffIn,
)
from schema.events.inventory import ItemCategory, MovementKind
from server.domain import inventory as domain
from server.domain.calendar import check_date_range
from server.domain.context import Ctx
from server.domain.paging import paginate
from server.store.api.common import AnyRequest, PagingDep, node, read, submit
from server.store.auth import ALL_ROLES, requires

ADMIN = requires("admin")
CLERK = requires("clerk")
CLERK_OR_ADMIN = requires("clerk", "admin")
MANAGER = requires()

CategoryQ = Annotated[
    ItemCategory | None, QueryParameter(description="phone, sim, accessory, supply")
]
ActiveQ = Annotated[bool | None, QueryParameter(description="filter by the active flag")]
TextQ = Annotated[str | None, QueryParameter(description="text in the SKU or name")]
SkuQ = Annotated[str | None, QueryParameter(description="only this SKU")]


class ItemController(Controller):
    path = "/api/v1/items"
    tags = ["inventory"]

    @get("/", guards=[ALL_ROLES])
    async def list_items(
        self,
        request: AnyRequest,
        paging: PagingDep,
        category: CategoryQ = None,
        active: ActiveQ = None,
        q: TextQ = None,
    ) -> Page[ItemOut]:
        """The store's catalog (商品目录), filtered by category, active flag or text."""
        sid = node(request).store_id
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.list_items(c, sid, category=category, active=active, q=q),
                domain.item_out,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @post("/", guards=[ADMIN], status_code=201)
    async def define_item(self, request: AnyRequest, data: JSONBody[ItemIn]) -> Response[ItemOut]:
        """Define an item (新增商品) with its SKU, category, price and serial tracking."""
        return await submit(request, lambda ctx: domain.define_item(ctx, data))

    @get("/{sku:str}", guards=[ALL_ROLES])
    async def get_item(self, request: AnyRequest, sku: FromPath[str]) -> ItemOut:
        """One item (商品) of the catalog."""
        sid = node(request).store_id
        return await read(request, lambda c: domain.get_item(c, sid, sku))

    @patch("/{sku:str}", guards=[ADMIN], status_code=200)
    async def update_item(
        self, request: AnyRequest, sku: FromPath[str], data: JSONBody[ItemUpdateIn | None] = None
    ) -> Response[ItemOut]:
        """Change an item's name, category, price or active flag (修改商品)."""
        cmd = data or ItemUpdateIn()
        return await submit(request, lambda ctx: domain.update_item(ctx, sku, cmd), status_code=200)


class StockController(Controller):
    path = "/api/v1/stock"
    tags = ["inventory"]

    @get("/", guards=[ALL_ROLES])
    async def list_stock(
        self,
        request: AnyRequest,
        paging: PagingDep,
        category: CategoryQ = None,
        active: ActiveQ = None,
        out_of_stock: Annotated[
            bool | None, QueryParameter(description="true: active items with nothing on hand")
        ] = None,
        low: Annotated[
            bool | None,
            QueryParameter(description="true: active items with at most `threshold` units"),
        ] = None,
        threshold: Annotated[
            int, QueryParameter(ge=0, le=100_000, description="units counted as low")
        ] = domain.DEFAULT_LOW_THRESHOLD,
        q: TextQ = None,
    ) -> Page[StockLevelOut]:
        """Stock on hand per SKU (库存量), filtered by category, stock-out (缺货) or low stock."""
        sid = node(request).store_id
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.list_stock(
                    c,
                    sid,
                    category=category,
                    active=active,
                    out_of_stock=out_of_stock,
                    low=low,
                    threshold=threshold,
                    q=q,
                ),
                domain.stock_out,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @get("/{sku:str}", guards=[ALL_ROLES])
    async def get_stock(self, request: AnyRequest, sku: FromPath[str]) -> StockLevelOut:
        """On hand of one SKU (库存量)."""
        sid = node(request).store_id
        return await read(request, lambda c: domain.get_stock(c, sid, sku))

    @post("/receive", guards=[ADMIN], status_code=201)
    async def receive(
        self, request: AnyRequest, data: JSONBody[ReceiveIn]
    ) -> Response[MovementOut]:
        """Receive goods into stock (入库): quantities, or the serial of each unit."""
        return await submit(request, lambda ctx: domain.receive(ctx, data))

    @post("/sell", guards=[CLERK], status_code=201)
    async def sell(self, request: AnyRequest, data: JSONBody[SaleIn]) -> Response[MovementOut]:
        """Record a sale (销售) with the price charged; one serial per line for phones and SIMs.

        A price below the list price needs a manager; ``ticket_id`` must be a ticket of this
        store (422 otherwise)."""
        return await submit(request, lambda ctx: domain.sell(ctx, data))

    @post("/transfer-out", guards=[ADMIN], status_code=201)
    async def transfer_out(
        self, request: AnyRequest, data: JSONBody[TransferOutIn]
    ) -> Response[MovementOut]:
        """Send goods to another store (调拨出)."""
        return await submit(request, lambda ctx: domain.transfer_out(ctx, data))

    @post("/transfer-in", guards=[ADMIN], status_code=201)
    async def transfer_in(
        self, request: AnyRequest, data: JSONBody[TransferInIn]
    ) -> Response[MovementOut]:
        """Take in goods from another store by its transfer note (调拨入)."""
        return await submit(request, lambda ctx: domain.transfer_in(ctx, data))

    @post("/return", guards=[CLERK], status_code=201)
    async def return_stock(
        self, request: AnyRequest, data: JSONBody[ReturnIn]
    ) -> Response[MovementOut]:
        """Take back a customer's return into stock (退货); serials must have been sold here."""
        return await submit(request, lambda ctx: domain.return_stock(ctx, data))

    @post("/write-off", guards=[ADMIN], status_code=201)
    async def write_off(
        self, request: AnyRequest, data: JSONBody[WriteOffIn]
    ) -> Response[MovementOut]:
        """Write off damaged or lost goods with a reason (报损)."""
        return await submit(request, lambda ctx: domain.write_off(ctx, data))


class MovementController(Controller):
    path = "/api/v1/movements"
    tags = ["inventory"]

    @get("/", guards=[CLERK_OR_ADMIN])
    async def list_movements(
        self,
        request: AnyRequest,
        paging: PagingDep,
        kind: Annotated[MovementKind | None, QueryParameter(description="movement kind")] = None,
        sku: SkuQ = None,
        date_from: Annotated[
            date | None,
            QueryParameter(name="from", description="first store-local day (inclusive)"),
        ] = None,
        date_to: Annotated[
            date | None,
            QueryParameter(name="to", description="last store-local day (inclusive)"),
        ] = None,
    ) -> Page[MovementLineOut]:
        """The stock ledger (出入库台账), newest first, by kind, SKU and store-local days."""
        check_date_range(date_from, date_to)
        sid = node(request).store_id
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.list_movements(
                    c, sid, kind=kind, sku=sku, date_from=date_from, date_to=date_to
                ),
                domain.movement_line_out,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @get("/{movement_id:uuid}", guards=[CLERK_OR_ADMIN])
    async def get_movement(self, request: AnyRequest, movement_id: FromPath[UUID]) -> MovementOut:
        """One movement (出入库单) with its lines."""
        sid = node(request).store_id
        return await read(request, lambda c: domain.get_movement(c, sid, movement_id))


class SerialController(Controller):
    path = "/api/v1/serials"
    tags = ["inventory"]

    @get("/{serial:str}", guards=[CLERK_OR_ADMIN])
    async def get_serial(self, request: AnyRequest, serial: FromPath[str]) -> SerialOut:
        """Look up one IMEI/ICCID (串号查询): its item, where it is and its history."""
        sid = node(request).store_id
        return await read(request, lambda c: domain.get_serial(c, sid, serial))


class AdjustmentController(Controller):
    path = "/api/v1/adjustments"
    tags = ["inventory"]

    @get("/", guards=[ADMIN])
    async def list_adjustments(
        self,
        request: AnyRequest,
        paging: PagingDep,
        status: Annotated[
            AdjustmentStatus | None, QueryParameter(description="pending, approved, rejected")
        ] = None,
        sku: SkuQ = None,
    ) -> Page[AdjustmentOut]:
        """Stock adjustments (库存调整), newest first; ``status=pending`` awaits the manager."""
        sid = node(request).store_id
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.list_adjustments(c, sid, status=status, sku=sku),
                domain.adjustment_out,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @post("/", guards=[ADMIN], status_code=201)
    async def create_adjustment(
        self, request: AnyRequest, data: JSONBody[AdjustmentIn]
    ) -> Response[AdjustmentOut]:
        """Adjust one SKU's stock (调整): pending approval, or applied at once by the manager."""
        by_manager = request.user.role == "manager"

        def command(ctx: Ctx) -> AdjustmentOut:
            if by_manager:
                return domain.adjust(ctx, data)
            return domain.request_adjustment(ctx, data)

        return await submit(request, command)

    @get("/{adjustment_id:uuid}", guards=[ADMIN])
    async def get_adjustment(
        self, request: AnyRequest, adjustment_id: FromPath[UUID]
    ) -> AdjustmentOut:
        """One stock adjustment (库存调整)."""
        sid = node(request).store_id
        return await read(request, lambda c: domain.get_adjustment(c, sid, adjustment_id))

    @post("/{adjustment_id:uuid}/approve", guards=[MANAGER], status_code=200)
    async def approve(
        self,
        request: AnyRequest,
        adjustment_id: FromPath[UUID],
        data: JSONBody[DecisionIn | None] = None,
    ) -> Response[AdjustmentOut]:
        """Approve a pending adjustment (审批通过); stock moves now (manager)."""
        note = data.note if data is not None else ""
        return await submit(
            request,
            lambda ctx: domain.approve_adjustment(ctx, adjustment_id, note),
            status_code=200,
        )

    @post("/{adjustment_id:uuid}/reject", guards=[MANAGER], status_code=200)
    async def reject(
        self,
        request: AnyRequest,
        adjustment_id: FromPath[UUID],
        data: JSONBody[DecisionIn | None] = None,
    ) -> Response[AdjustmentOut]:
        """Reject a pending adjustment (驳回); stock is unchanged (manager)."""
        note = data.note if data is not None else ""
        return await submit(
            request,
            lambda ctx: domain.reject_adjustment(ctx, adjustment_id, note),
            status_code=200,
        )


class CountController(Controller):
    path = "/api/v1/counts"
    tags = ["inventory"]

    @get("/", guards=[ADMIN])
    async def list_counts(
        self,
        request: AnyRequest,
        paging: PagingDep,
        status: Annotated[
            CountStatus | None, QueryParameter(description="open, posted, cancelled")
        ] = None,
        sku: Annotated[str | None, QueryParameter(description="counts including this SKU")] = None,
    ) -> Page[CountOut]:
        """Stock counts (盘点) with their lines and variances, newest first."""
        sid = node(request).store_id
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.list_counts(c, sid, status=status, sku=sku),
                lambda row: domain.count_out(c, row),
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @post("/", guards=[ADMIN], status_code=201)
    async def open_count(
        self, request: AnyRequest, data: JSONBody[CountIn | None] = None
    ) -> Response[CountOut]:
        """Open a stock count (开始盘点) over some SKUs, or every active item by default."""
        cmd = data or CountIn()
        return await submit(request, lambda ctx: domain.open_count(ctx, cmd))

    @get("/{count_id:uuid}", guards=[ADMIN])
    async def get_count(self, request: AnyRequest, count_id: FromPath[UUID]) -> CountOut:
        """One stock count (盘点单) with its lines and variances."""
        sid = node(request).store_id
        return await read(request, lambda c: domain.get_count(c, sid, count_id))

    @post("/{count_id:uuid}/lines", guards=[ADMIN], status_code=200)
    async def record_line(
        self, request: AnyRequest, count_id: FromPath[UUID], data: JSONBody[CountLineIn]
    ) -> Response[CountOut]:
        """Record what was found for one SKU (录入盘点数), replacing an earlier record."""
        return await submit(
            request, lambda ctx: domain.record_count_line(ctx, count_id, data), status_code=200
        )

    @post("/{count_id:uuid}/post", guards=[ADMIN], status_code=200)
    async def post_count(self, request: AnyRequest, count_id: FromPath[UUID]) -> Response[CountOut]:
        """Post a count (盘点过账): on hand becomes the counted figure; variances are kept."""
        return await submit(request, lambda ctx: domain.post_count(ctx, count_id), status_code=200)

    @post("/{count_id:uuid}/cancel", guards=[ADMIN], status_code=200)
    async def cancel_count(
        self, request: AnyRequest, count_id: FromPath[UUID], data: JSONBody[CancelIn | None] = None
    ) -> Response[CountOut]:
        """Cancel an open count (取消盘点); stock is unchanged."""
        reason = data.reason if data is not None else ""
        return await submit(
            request,
            lambda ctx: domain.cancel_count(ctx, count_id, reason),
            status_code=200,
        )


ROUTES = [
    ItemController,
    StockController,
    MovementController,
    SerialController,
    AdjustmentController,
    CountController,
]
