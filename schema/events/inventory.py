"""Events of the inventory domain (库存 · 物资): the catalog, stock movements, counts.

Stock on hand is never written: it is the fold of the movement events below, each carrying
the signed change it makes, so replaying the log (here or at central) rebuilds it exactly.

Directions: ``stock.received``, ``stock.transferred_in`` and ``stock.returned`` add their
lines' ``qty`` to on-hand; ``stock.sold``, ``stock.transferred_out`` and ``stock.written_off``
take it away; ``stock.adjusted`` and ``stock.counted`` carry a signed delta or variance.

Serialised items (phones by IMEI, SIMs by ICCID) are tracked one by one: their lines list the
serial numbers, and ``qty`` equals the number of serials.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

import msgspec

from schema.events.base import Event, FreeText

ItemCategory = Literal["phone", "sim", "accessory", "supply"]
"""Item categories: 手机 phone, SIM卡 sim, 配件 accessory, 物资 supply (consumables, forms)."""

ITEM_CATEGORIES: tuple[ItemCategory, ...] = ("phone", "sim", "accessory", "supply")

MovementKind = Literal[
    "receive", "sell", "transfer_out", "transfer_in", "return", "write_off", "adjust", "count"
]
"""Movement kinds: 入库 receive, 销售 sell, 调拨出 transfer_out, 调拨入 transfer_in, 退货 return,
报损 write_off, 调整 adjust, 盘点 count."""

MOVEMENT_KINDS: tuple[MovementKind, ...] = (
    "receive",
    "sell",
    "transfer_out",
    "transfer_in",
    "return",
    "write_off",
    "adjust",
    "count",
)

SerialStatus = Literal["in_stock", "sold", "transferred_out", "written_off"]
"""Where one serialised unit is: 在库 in stock, 已售 sold, 已调出 transferred out, 已报损 written
off (also what a unit missing at a count becomes)."""


# ---------------------------------------------------------------- catalog


class ItemDefined(Event, tag="item.defined", frozen=True, kw_only=True):
    """An item (商品) was defined, or redefined with all its fields.

    Shaped so that HQ can later push its catalog as the same event: it carries the whole item.
    """

    sku: str
    """Stock-keeping unit code, unique in the store's catalog."""
    name: FreeText
    """Display name, e.g. ``华为 Mate 60 256G 黑``."""
    category: ItemCategory
    """手机 phone, SIM卡 sim, 配件 accessory, 物资 supply; phones and SIMs may be serialised."""
    unit_price_cents: int
    """List price per unit, in fen (分)."""
    serialised: bool
    """True when every unit is tracked by serial (IMEI for phones, ICCID for SIM cards)."""
    active: bool
    """False once the item is discontinued: no more receiving; remaining stock may still go."""


class ItemPriceChanged(Event, tag="item.price_changed", frozen=True, kw_only=True):
    """An item's list price changed (by the store now, by HQ price pushes later)."""

    sku: str
    """The item repriced."""
    unit_price_cents: int
    """The new list price per unit, in fen (分)."""


# ---------------------------------------------------------------- movements


class MovementLine(msgspec.Struct, frozen=True, kw_only=True):
    """One SKU's part of a movement."""

    sku: str
    """The item moved."""
    category: ItemCategory
    """The item's category when the movement happened (sales by category fold from it)."""
    qty: int
    """Units moved, always positive; the event type says in or out."""
    serials: list[str] = []
    """IMEI/ICCID of each unit for serialised items (``len == qty``); empty otherwise."""
    unit_price_cents: int | None = None
    """Price per unit in fen: charged (sale), refunded (return); null where no money moves."""


class StockMovement(Event, frozen=True, kw_only=True):
    """Fields every stock movement has; a base class, not an event type by itself."""

    movement_id: UUID
    """UUIDv7 of the movement (one document: a receipt, a sale, a transfer note)."""
    day: date
    """Store-local business day of the movement."""
    lines: list[MovementLine]
    """One line per SKU (a sale of serialised units: one line per unit)."""
    note: FreeText = ""
    """Free text from the person who recorded it."""


class StockReceived(StockMovement, tag="stock.received", frozen=True, kw_only=True):
    """Goods were received into stock (入库) from a supplier or the carrier's warehouse."""

    supplier: FreeText
    """Who delivered, e.g. the regional warehouse, as typed."""
    reference: FreeText = ""
    """Delivery note or purchase order number, as typed."""


class StockSold(StockMovement, tag="stock.sold", frozen=True, kw_only=True):
    """Goods were sold to a customer (销售); each line carries the price charged."""

    ticket_id: UUID | None = None
    """The queue ticket the sale was made under, when there was one."""
    amount_cents: int
    """Total charged for all lines, in fen (分)."""


class StockTransferredOut(StockMovement, tag="stock.transferred_out", frozen=True, kw_only=True):
    """Goods left for another store of the chain (调拨出)."""

    to_store: str
    """Store id of the receiving store."""
    reference: FreeText
    """Transfer note number; the receiving store quotes it when it records the transfer in.
    Masked like any typed text: the same typed reference masks the same way on both sides."""


class StockTransferredIn(StockMovement, tag="stock.transferred_in", frozen=True, kw_only=True):
    """Goods arrived from another store of the chain (调拨入)."""

    from_store: str
    """Store id of the sending store."""
    reference: FreeText
    """The sending store's transfer note number, as typed (masked like the sender's)."""


class StockReturned(StockMovement, tag="stock.returned", frozen=True, kw_only=True):
    """A customer brought goods back and they went back into stock (退货)."""

    reason: FreeText
    """Why the customer returned it, e.g. ``七天无理由``."""
    ticket_id: UUID | None = None
    """The queue ticket of the return visit, when there was one."""
    amount_cents: int
    """Total refunded for all lines, in fen (分)."""


class StockWrittenOff(StockMovement, tag="stock.written_off", frozen=True, kw_only=True):
    """Damaged or lost goods were written off (报损)."""

    reason: FreeText
    """What happened, e.g. ``屏幕摔碎``."""


# ---------------------------------------------------------------- adjustments


class AdjustmentRequested(Event, tag="adjustment.requested", frozen=True, kw_only=True):
    """Someone asked to correct one SKU's stock (调整申请); nothing moves until approved."""

    adjustment_id: UUID
    """UUIDv7 of the adjustment; the approval's ``stock.adjusted`` carries the same id."""
    sku: str
    """The item whose stock is to be corrected."""
    delta: int
    """Signed change asked for, in units (never 0)."""
    serials: list[str] = []
    """Serialised items: the units added (delta > 0) or removed (delta < 0)."""
    reason: FreeText
    """Why the books are wrong, e.g. ``漏记入库``."""


class AdjustmentRejected(Event, tag="adjustment.rejected", frozen=True, kw_only=True):
    """The manager refused a requested adjustment (驳回); stock is unchanged."""

    adjustment_id: UUID
    """The pending adjustment refused."""
    note: FreeText = ""
    """The manager's reason for refusing."""


class StockAdjusted(Event, tag="stock.adjusted", frozen=True, kw_only=True):
    """An adjustment moved stock (调整): a request the manager approved, or the manager's own."""

    adjustment_id: UUID
    """The adjustment; also the movement id of the resulting ledger line."""
    day: date
    """Store-local business day the stock changed."""
    sku: str
    """The item corrected."""
    category: ItemCategory
    """The item's category at the time (like a movement line's)."""
    delta: int
    """Signed change to on-hand, in units (never 0)."""
    serials: list[str] = []
    """Serialised items: the units that went into (delta > 0) or out of (delta < 0) stock."""
    reason: FreeText
    """Why the books were wrong (from the request)."""
    requested_by: str
    """Who asked for it (the approving manager is the event's actor)."""
    note: FreeText = ""
    """The approver's note."""


# ---------------------------------------------------------------- counts


class CountOpened(Event, tag="count.opened", frozen=True, kw_only=True):
    """A stock count session (盘点) started over some SKUs or over every active item."""

    count_id: UUID
    """UUIDv7 of the count session."""
    all_items: bool
    """True when the admin asked for every item (active, or inactive with stock left);
    ``skus`` then lists them."""
    skus: list[str]
    """The SKUs to count, resolved when the count opened."""
    note: FreeText = ""
    """Free text, e.g. ``周盘``."""


class CountLineRecorded(Event, tag="count.line_recorded", frozen=True, kw_only=True):
    """What was physically found for one SKU; recording the SKU again replaces it."""

    count_id: UUID
    """The open count this line belongs to."""
    sku: str
    """The item counted; one of the count's SKUs."""
    counted: int
    """Units found (for serialised items, the number of scanned serials)."""
    serials: list[str] = []
    """Serialised items: the serials scanned."""


class CountCancelled(Event, tag="count.cancelled", frozen=True, kw_only=True):
    """An open count was abandoned; stock is unchanged."""

    count_id: UUID
    """The open count abandoned."""
    reason: FreeText = ""
    """Why it was abandoned."""


class CountLine(msgspec.Struct, frozen=True, kw_only=True):
    """One SKU's outcome of a posted count, computed when it was posted."""

    sku: str
    """The item counted."""
    category: ItemCategory
    """The item's category at posting (count variance by category folds from it)."""
    book: int
    """On-hand in the books at posting time, in units."""
    counted: int
    """Units found."""
    variance: int
    """``counted - book``: the signed change posting makes to on-hand."""
    unit_price_cents: int
    """List price at posting, in fen; variance value = variance x this."""
    missing: list[str] = []
    """Serials in stock by the books but not scanned; posting writes them off."""
    unexpected: list[str] = []
    """Serials scanned but not in stock by the books; posting takes them into stock."""


class StockCounted(Event, tag="stock.counted", frozen=True, kw_only=True):
    """A count was posted (盘点过账): on-hand of each counted SKU becomes the counted figure."""

    count_id: UUID
    """The count posted; also the movement id of its ledger lines."""
    day: date
    """Store-local business day of the posting."""
    lines: list[CountLine]
    """One per SKU of the count, variance or not."""


EVENTS: tuple[type[Event], ...] = (
    ItemDefined,
    ItemPriceChanged,
    StockReceived,
    StockSold,
    StockTransferredOut,
    StockTransferredIn,
    StockReturned,
    StockWrittenOff,
    AdjustmentRequested,
    AdjustmentRejected,
    StockAdjusted,
    CountOpened,
    CountLineRecorded,
    CountCancelled,
    StockCounted,
)
