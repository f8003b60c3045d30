"""REST types of the inventory domain (库存 · 物资): items, stock, movements, counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from schema.api.common import Code, Name, Text
from schema.events.inventory import ItemCategory, MovementKind, SerialStatus

Cents = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
"""An amount of money in fen (分), never negative."""
Qty = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
"""A number of units moved: always positive."""
Serial = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
"""An IMEI (15 digits) or ICCID (19–20 digits, starts 89); both end in a Luhn check digit."""
Serials = Annotated[list[Serial], msgspec.Meta(max_length=1000)]
StoreId = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
Reference = Annotated[str, msgspec.Meta(max_length=120)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
SerialKind = Literal["imei", "iccid"]
AdjustmentStatus = Literal["pending", "approved", "rejected"]
CountStatus = Literal["open", "posted", "cancelled"]


# ---------------------------------------------------------------- items


class ItemIn(msgspec.Struct, kw_only=True):
    """Define an item (商品) in the store's catalog."""

    sku: Code
    name: Name
    category: ItemCategory
    unit_price_cents: Cents
    """List price per unit, in fen (分)."""
    serialised: bool = False
    """Track each unit by serial: IMEI for phones, ICCID for SIM cards (only those two)."""
    active: bool = True


class ItemUpdateIn(msgspec.Struct, kw_only=True):
    """Change an item; omitted fields keep their value. ``serialised`` cannot change."""

    name: Name | None = None
    category: ItemCategory | None = None
    unit_price_cents: Cents | None = None
    active: bool | None = None
    """Set ``false`` to discontinue (停售): no more receiving; remaining stock may still go."""


class ItemOut(msgspec.Struct, kw_only=True):
    sku: str
    name: str
    category: ItemCategory
    unit_price_cents: int
    serialised: bool
    serial_kind: SerialKind | None
    """What identifies each unit of a serialised item; null otherwise."""
    active: bool
    created_at: datetime
    updated_at: datetime


class StockLevelOut(msgspec.Struct, kw_only=True):
    """On-hand of one SKU (库存量) with its item."""

    sku: str
    name: str
    category: ItemCategory
    serialised: bool
    active: bool
    unit_price_cents: int
    on_hand: int
    """Units in stock, derived from every movement and count."""
    value_cents: int
    """``on_hand x unit_price_cents``, in fen."""
    out_of_stock: bool
    """Active item with nothing on hand (缺货)."""
    last_movement_at: datetime | None


# ---------------------------------------------------------------- movements


class LineIn(msgspec.Struct, kw_only=True):
    """One SKU of a movement: ``qty`` for plain items, ``serials`` for serialised ones."""

    sku: Code
    qty: Qty | None = None
    """Units; for serialised items it may be omitted (it is the number of serials)."""
    serials: Serials = []


class SaleLineIn(msgspec.Struct, kw_only=True):
    """One line of a sale: ``qty`` of a plain item, or exactly one serial of a serialised one."""

    sku: Code
    qty: Qty | None = None
    serial: Serial | None = None
    unit_price_cents: Cents | None = None
    """Price charged per unit in fen; the item's list price when omitted."""


Lines = Annotated[list[LineIn], msgspec.Meta(min_length=1, max_length=200)]


class ReceiveIn(msgspec.Struct, kw_only=True):
    """Goods received into stock (入库)."""

    supplier: Name
    reference: Reference = ""
    """Delivery note or purchase order number."""
    lines: Lines
    note: Text = ""


class SaleIn(msgspec.Struct, kw_only=True):
    """A sale to a customer (销售)."""

    lines: Annotated[list[SaleLineIn], msgspec.Meta(min_length=1, max_length=200)]
    ticket_id: UUID | None = None
    """The queue ticket being served, if any."""
    note: Text = ""


class TransferOutIn(msgspec.Struct, kw_only=True):
    """Goods sent to another store (调拨出)."""

    to_store: StoreId
    reference: Reference = ""
    """Transfer note number; one is made up from the movement id when omitted."""
    lines: Lines
    note: Text = ""


class TransferInIn(msgspec.Struct, kw_only=True):
    """Goods received from another store (调拨入)."""

    from_store: StoreId
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    """The sending store's transfer note number; each is taken in once."""
    lines: Lines
    note: Text = ""


class ReturnLineIn(msgspec.Struct, kw_only=True):
    """One returned SKU; ``unit_price_cents`` is the refund per unit."""

    sku: Code
    qty: Qty | None = None
    serials: Serials = []
    unit_price_cents: Cents | None = None
    """Refund per unit in fen; defaults to the serial's sale price, else the list price."""


class ReturnIn(msgspec.Struct, kw_only=True):
    """A customer return back into stock (退货)."""

    reason: Reason
    lines: Annotated[list[ReturnLineIn], msgspec.Meta(min_length=1, max_length=200)]
    ticket_id: UUID | None = None
    note: Text = ""


class WriteOffIn(msgspec.Struct, kw_only=True):
    """Damaged or lost goods written off (报损)."""

    reason: Reason
    lines: Lines
    note: Text = ""


class MovementLineOut(msgspec.Struct, kw_only=True):
    """One ledger row: one SKU of one movement (台账明细)."""

    movement_id: UUID
    line_no: int
    kind: MovementKind
    day: date
    """Store-local business day."""
    at: datetime
    actor: str
    sku: str
    category: ItemCategory
    qty: int
    """Units moved (positive)."""
    delta: int
    """Signed change to on-hand."""
    on_hand_after: int
    serials: list[str]
    unit_price_cents: int | None
    amount_cents: int | None
    counterparty: str
    """Supplier (receive) or the other store (transfers)."""
    reference: str
    reason: str
    note: str
    ticket_id: UUID | None


class MovementOut(msgspec.Struct, kw_only=True):
    """One movement (a receipt, a sale, a transfer note…) with its lines."""

    movement_id: UUID
    kind: MovementKind
    day: date
    at: datetime
    actor: str
    amount_cents: int | None
    """Total money of the movement (sale charged, return refunded), in fen."""
    lines: list[MovementLineOut]


# ---------------------------------------------------------------- serials


class SerialHistoryOut(msgspec.Struct, kw_only=True):
    movement_id: UUID
    kind: MovementKind
    sku: str
    status_after: SerialStatus
    day: date
    at: datetime
    actor: str


class SerialOut(msgspec.Struct, kw_only=True):
    """One serialised unit (串号) and everything that happened to it here."""

    serial: str
    kind: SerialKind
    sku: str
    name: str
    status: SerialStatus
    sale_price_cents: int | None
    updated_at: datetime
    history: list[SerialHistoryOut]
    """Oldest first."""


# ---------------------------------------------------------------- adjustments


class AdjustmentIn(msgspec.Struct, kw_only=True):
    """Correct one SKU's stock (调整). A manager's adjustment applies at once; anyone else's
    waits for the manager's approval."""

    sku: Code
    delta: Annotated[int, msgspec.Meta(ge=-100_000, le=100_000)]
    """Signed change in units (not 0); for serialised items ``±len(serials)``."""
    serials: Serials = []
    """Serialised items: the units to add (delta > 0) or remove (delta < 0)."""
    reason: Reason


class DecisionIn(msgspec.Struct, kw_only=True):
    note: Text = ""


class AdjustmentOut(msgspec.Struct, kw_only=True):
    adjustment_id: UUID
    sku: str
    delta: int
    serials: list[str]
    reason: str
    status: AdjustmentStatus
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str


# ---------------------------------------------------------------- counts


class CountIn(msgspec.Struct, kw_only=True):
    """Open a stock count (盘点) over some SKUs, or every active item when ``skus`` is empty."""

    skus: Annotated[list[Code], msgspec.Meta(max_length=1000)] = []
    note: Text = ""


class CountLineIn(msgspec.Struct, kw_only=True):
    """What was found for one SKU: ``counted`` for plain items, scanned ``serials`` for
    serialised ones. Recording a SKU again replaces its line."""

    sku: Code
    counted: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None
    serials: Serials = []


class CancelIn(msgspec.Struct, kw_only=True):
    reason: Text = ""


class CountLineOut(msgspec.Struct, kw_only=True):
    sku: str
    name: str
    serialised: bool
    counted: int | None
    """Null until recorded."""
    serials: list[str]
    recorded_by: str | None
    recorded_at: datetime | None
    book: int | None
    """On-hand by the books: set when the count is posted."""
    variance: int | None
    """``counted - book``, set when posted."""
    variance_value_cents: int | None
    """``variance x list price at posting``, in fen."""
    missing: list[str]
    unexpected: list[str]


class CountOut(msgspec.Struct, kw_only=True):
    count_id: UUID
    status: CountStatus
    all_items: bool
    note: str
    opened_by: str
    opened_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    posted_day: date | None
    cancel_reason: str
    lines: list[CountLineOut]
    total_variance: int | None
    """Sum of the lines' variances once posted."""
