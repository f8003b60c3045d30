"""The inventory (库存 · 物资) part of the tablet client: items, stock, movements, serials,
adjustments and counts.

Mixed into ``clients.tablet.TabletClient``; import that, not this.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote
from uuid import UUID

from clients.http import HttpCore
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

_ITEMS = "/api/v1/items"
_STOCK = "/api/v1/stock"
_ADJUSTMENTS = "/api/v1/adjustments"
_COUNTS = "/api/v1/counts"


class InventoryApi(HttpCore):
    """Anyone reads the catalog and stock; clerks sell and take returns; the general admin
    receives, transfers, writes off, counts and asks for adjustments; the manager approves."""

    # ---------------------------------------------------------------- items (商品目录)

    async def list_items(
        self,
        *,
        category: ItemCategory | None = None,
        active: bool | None = None,
        q: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[ItemOut]:
        """The catalog; ``q`` matches text in the SKU or name."""
        params = {"category": category, "active": active, "q": q, "limit": limit, "offset": offset}
        return await self.request("GET", _ITEMS, Page[ItemOut], params=params)

    async def define_item(self, body: ItemIn, *, idempotency_key: str | None = None) -> ItemOut:
        """Add an item to the catalog (admin)."""
        return await self.request(
            "POST", _ITEMS, ItemOut, body=body, idempotency_key=idempotency_key
        )

    async def get_item(self, sku: str) -> ItemOut:
        return await self.request("GET", f"{_ITEMS}/{quote(sku, safe='')}", ItemOut)

    async def update_item(
        self, sku: str, body: ItemUpdateIn | None = None, *, idempotency_key: str | None = None
    ) -> ItemOut:
        """Change an item's name, category, price or active flag (admin)."""
        return await self.request(
            "PATCH",
            f"{_ITEMS}/{quote(sku, safe='')}",
            ItemOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    # ---------------------------------------------------------------- stock (库存量)

    async def list_stock(
        self,
        *,
        category: ItemCategory | None = None,
        active: bool | None = None,
        out_of_stock: bool | None = None,
        low: bool | None = None,
        threshold: int | None = None,
        q: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[StockLevelOut]:
        """On hand per SKU; ``low=True`` keeps items with at most ``threshold`` units."""
        params = {
            "category": category,
            "active": active,
            "out_of_stock": out_of_stock,
            "low": low,
            "threshold": threshold,
            "q": q,
            "limit": limit,
            "offset": offset,
        }
        return await self.request("GET", _STOCK, Page[StockLevelOut], params=params)

    async def get_stock(self, sku: str) -> StockLevelOut:
        return await self.request("GET", f"{_STOCK}/{quote(sku, safe='')}", StockLevelOut)

    async def receive(self, body: ReceiveIn, *, idempotency_key: str | None = None) -> MovementOut:
        """Receive goods into stock (入库, admin)."""
        return await self.request(
            "POST", f"{_STOCK}/receive", MovementOut, body=body, idempotency_key=idempotency_key
        )

    async def sell(self, body: SaleIn, *, idempotency_key: str | None = None) -> MovementOut:
        """Record a sale (销售, clerk); one serial per line for phones and SIMs. A price below
        the list price is ``forbidden`` unless the manager sells."""
        return await self.request(
            "POST", f"{_STOCK}/sell", MovementOut, body=body, idempotency_key=idempotency_key
        )

    async def transfer_out(
        self, body: TransferOutIn, *, idempotency_key: str | None = None
    ) -> MovementOut:
        """Send goods to another store (调拨出, admin)."""
        return await self.request(
            "POST",
            f"{_STOCK}/transfer-out",
            MovementOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def transfer_in(
        self, body: TransferInIn, *, idempotency_key: str | None = None
    ) -> MovementOut:
        """Take in goods from another store by its transfer note (调拨入, admin)."""
        return await self.request(
            "POST", f"{_STOCK}/transfer-in", MovementOut, body=body, idempotency_key=idempotency_key
        )

    async def return_stock(
        self, body: ReturnIn, *, idempotency_key: str | None = None
    ) -> MovementOut:
        """Take back a customer's return (退货, clerk)."""
        return await self.request(
            "POST", f"{_STOCK}/return", MovementOut, body=body, idempotency_key=idempotency_key
        )

    async def write_off(
        self, body: WriteOffIn, *, idempotency_key: str | None = None
    ) -> MovementOut:
        """Write off damaged or lost goods (报损, admin)."""
        return await self.request(
            "POST", f"{_STOCK}/write-off", MovementOut, body=body, idempotency_key=idempotency_key
        )

    # ---------------------------------------------------------------- movements and serials

    async def list_movements(
        self,
        *,
        kind: MovementKind | None = None,
        sku: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[MovementLineOut]:
        """The stock ledger, newest first (clerk or admin); days are store-local, inclusive."""
        params = {
            "kind": kind,
            "sku": sku,
            "from": date_from,
            "to": date_to,
            "limit": limit,
            "offset": offset,
        }
        return await self.request("GET", "/api/v1/movements", Page[MovementLineOut], params=params)

    async def get_movement(self, movement_id: UUID) -> MovementOut:
        return await self.request("GET", f"/api/v1/movements/{movement_id}", MovementOut)

    async def get_serial(self, serial: str) -> SerialOut:
        """One IMEI/ICCID: its item, where it is and its history (clerk or admin)."""
        return await self.request("GET", f"/api/v1/serials/{quote(serial, safe='')}", SerialOut)

    # ---------------------------------------------------------------- adjustments (库存调整)

    async def list_adjustments(
        self,
        *,
        status: AdjustmentStatus | None = None,
        sku: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[AdjustmentOut]:
        """Adjustments, newest first (admin); ``status="pending"`` awaits the manager."""
        params = {"status": status, "sku": sku, "limit": limit, "offset": offset}
        return await self.request("GET", _ADJUSTMENTS, Page[AdjustmentOut], params=params)

    async def create_adjustment(
        self, body: AdjustmentIn, *, idempotency_key: str | None = None
    ) -> AdjustmentOut:
        """Adjust one SKU's stock: pending approval, or applied at once when the manager asks."""
        return await self.request(
            "POST", _ADJUSTMENTS, AdjustmentOut, body=body, idempotency_key=idempotency_key
        )

    async def get_adjustment(self, adjustment_id: UUID) -> AdjustmentOut:
        return await self.request("GET", f"{_ADJUSTMENTS}/{adjustment_id}", AdjustmentOut)

    async def approve_adjustment(
        self,
        adjustment_id: UUID,
        body: DecisionIn | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> AdjustmentOut:
        """Approve a pending adjustment; stock moves now (manager)."""
        return await self.request(
            "POST",
            f"{_ADJUSTMENTS}/{adjustment_id}/approve",
            AdjustmentOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def reject_adjustment(
        self,
        adjustment_id: UUID,
        body: DecisionIn | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> AdjustmentOut:
        """Reject a pending adjustment; stock is unchanged (manager)."""
        return await self.request(
            "POST",
            f"{_ADJUSTMENTS}/{adjustment_id}/reject",
            AdjustmentOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    # ---------------------------------------------------------------- counts (盘点)

    async def list_counts(
        self,
        *,
        status: CountStatus | None = None,
        sku: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[CountOut]:
        """Stock counts with their lines, newest first (admin); ``sku`` keeps counts with it."""
        params = {"status": status, "sku": sku, "limit": limit, "offset": offset}
        return await self.request("GET", _COUNTS, Page[CountOut], params=params)

    async def open_count(
        self, body: CountIn | None = None, *, idempotency_key: str | None = None
    ) -> CountOut:
        """Open a count over some SKUs, or every active item by default (admin)."""
        return await self.request(
            "POST", _COUNTS, CountOut, body=body, idempotency_key=idempotency_key
        )

    async def get_count(self, count_id: UUID) -> CountOut:
        return await self.request("GET", f"{_COUNTS}/{count_id}", CountOut)

    async def record_count_line(
        self, count_id: UUID, body: CountLineIn, *, idempotency_key: str | None = None
    ) -> CountOut:
        """Record what was found for one SKU, replacing an earlier record of it."""
        return await self.request(
            "POST",
            f"{_COUNTS}/{count_id}/lines",
            CountOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def post_count(self, count_id: UUID, *, idempotency_key: str | None = None) -> CountOut:
        """Post the count: on hand becomes the counted figure; variances are kept."""
        return await self.request(
            "POST", f"{_COUNTS}/{count_id}/post", CountOut, idempotency_key=idempotency_key
        )

    async def cancel_count(
        self, count_id: UUID, body: CancelIn | None = None, *, idempotency_key: str | None = None
    ) -> CountOut:
        """Cancel an open count; stock is unchanged."""
        return await self.request(
            "POST",
            f"{_COUNTS}/{count_id}/cancel",
            CountOut,
            body=body,
            idempotency_key=idempotency_key,
        )
