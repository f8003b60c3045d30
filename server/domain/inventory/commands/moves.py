"""Inventory commands for the catalog and for stock movements (入库 销售 调拨 退货 报损).

Each command validates against the projections, then emits one event that carries everything
the projectors need (lines with category, price and serials, the store-local day).

Stock may not go negative at the store: taking out more than is on hand is refused with 409
and the on-hand figure, so the tablet can show what is really there. (A store node is the only
writer of its own stock, so the books can always be kept whole here; a physical surplus is
recorded with a receipt, a count or an adjustment, never by selling from nothing.)

One request lists at most ``MAX_SERIALS`` serials over all its lines (a pallet of phones is a
few hundred), which bounds the work one command does inside the single writer. Selling below
the list price is the manager's decision. A sale or return made under a queue ticket names a
ticket this node issued (tickets never come from elsewhere), so an unknown one is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from uuid_utils.compat import uuid7

from schema.api.inventory import (
    ItemIn,
    ItemOut,
    ItemUpdateIn,
    LineIn,
    MovementOut,
    ReceiveIn,
    ReturnIn,
    ReturnLineIn,
    SaleIn,
    TransferInIn,
    TransferOutIn,
    WriteOffIn,
)
from schema.events.inventory import (
    ItemDefined,
    ItemPriceChanged,
    MovementLine,
    StockMovement,
    StockReceived,
    StockReturned,
    StockSold,
    StockTransferredIn,
    StockTransferredOut,
    StockWrittenOff,
)
from schema.tables.queue import queue_tickets
from server.domain.context import Ctx
from server.domain.guards import actor_role
from server.domain.inventory import reads
from server.domain.inventory.rules import (
    MAX_SERIALS,
    SERIALISABLE,
    check_serial,
    check_serials,
    serial_kind_of,
)
from server.domain.sql import find_row
from server.errors import (
    Conflict,
    Forbidden,
    InsufficientStock,
    ItemDiscontinued,
    SerialInStock,
    SerialUnavailable,
    TransferAlreadyReceived,
    ValidationFailed,
)
from server.privacy import redact_text

# ---------------------------------------------------------------- catalog


def define_item(ctx: Ctx, cmd: ItemIn) -> ItemOut:
    """Add an item (商品) to the store's catalog."""
    if reads.item_row(ctx.conn, ctx.store_id, cmd.sku) is not None:
        raise Conflict(f"SKU {cmd.sku} is already defined", field="sku")
    if cmd.serialised and cmd.category not in SERIALISABLE:
        raise ValidationFailed(
            "only phones (IMEI) and SIM cards (ICCID) can be serialised", field="serialised"
        )
    ctx.emit(
        ItemDefined,
        sku=cmd.sku,
        name=cmd.name,
        category=cmd.category,
        unit_price_cents=cmd.unit_price_cents,
        serialised=cmd.serialised,
        active=cmd.active,
    )
    return reads.get_item(ctx.conn, ctx.store_id, cmd.sku)


def update_item(ctx: Ctx, sku: str, cmd: ItemUpdateIn) -> ItemOut:
    """Rename, recategorise, reprice or (de)activate an item.

    A price-only change is an ``item.price_changed``; anything else redefines the whole item.
    """
    cur = reads.get_item(ctx.conn, ctx.store_id, sku)
    name = cmd.name if cmd.name is not None else cur.name
    category = cmd.category if cmd.category is not None else cur.category
    price = cmd.unit_price_cents if cmd.unit_price_cents is not None else cur.unit_price_cents
    active = cmd.active if cmd.active is not None else cur.active
    if cur.serialised and category != cur.category:
        # The serial format (IMEI or ICCID) hangs on the category.
        raise ValidationFailed("a serialised item cannot change category", field="category")
    if (name, category, active) != (cur.name, cur.category, cur.active):
        ctx.emit(
            ItemDefined,
            sku=sku,
            name=name,
            category=category,
            unit_price_cents=price,
            serialised=cur.serialised,
            active=active,
        )
    elif price != cur.unit_price_cents:
        ctx.emit(ItemPriceChanged, sku=sku, unit_price_cents=price)
    return reads.get_item(ctx.conn, ctx.store_id, sku)


# ---------------------------------------------------------------- validating lines


@dataclass
class Checked:
    """One request line, validated against the catalog: what goes into the event."""

    item: Any
    qty: int
    serials: list[str]
    field: str
    """Where the line sits in the request body, for error messages."""
    unit_price_cents: int | None = None
    single: bool = False
    """A sale line: one ``serial`` field rather than a ``serials`` list."""

    def serial_field(self, j: int) -> str:
        """Where the line's ``j``-th serial sits in the request body."""
        return at(self.field, "serial" if self.single else f"serials[{j}]")

    def event_line(self) -> MovementLine:
        return MovementLine(
            sku=self.item.sku,
            category=self.item.category,
            qty=self.qty,
            serials=self.serials,
            unit_price_cents=self.unit_price_cents,
        )


def at(field: str, name: str) -> str:
    """The path of ``name`` inside the request part ``field`` ("" for the body itself)."""
    return f"{field}.{name}" if field else name


def item_for(ctx: Ctx, sku: str, field: str) -> Any:
    """The catalog row of a SKU named in a request, or 422 naming the field."""
    row = reads.item_row(ctx.conn, ctx.store_id, sku)
    if row is None:
        raise ValidationFailed(f"no item with SKU {sku}", field=field)
    return row


def check_line(ctx: Ctx, sku: str, qty: int | None, serials: Sequence[str], field: str) -> Checked:
    """Validate one line: ``qty`` for a plain item, well-formed ``serials`` for a serialised one."""
    item = item_for(ctx, sku, at(field, "sku"))
    kind = serial_kind_of(item.category, item.serialised)
    if kind is None:
        if serials:
            raise ValidationFailed(f"{sku} is not serialised; give qty", field=at(field, "serials"))
        if qty is None:
            raise ValidationFailed(f"give the quantity of {sku}", field=at(field, "qty"))
        return Checked(item, qty, [], field)
    if not serials:
        raise ValidationFailed(
            f"{sku} is serialised; list the {kind.upper()} of each unit", field=at(field, "serials")
        )
    checked = check_serials(serials, kind, at(field, "serials"))
    if qty is not None and qty != len(checked):
        raise ValidationFailed(
            f"qty {qty} does not match the {len(checked)} serials given", field=at(field, "qty")
        )
    return Checked(item, len(checked), checked, field)


def cap_serials(lines: Sequence[LineIn | ReturnLineIn]) -> None:
    """Refuse (422 naming the line) a request listing more than ``MAX_SERIALS`` serials.

    Checked before any serial is validated, so an oversized request costs nothing.
    """
    total = 0
    for i, line in enumerate(lines):
        total += len(line.serials)
        if total > MAX_SERIALS:
            raise ValidationFailed(
                f"one request may list at most {MAX_SERIALS} serials over all its lines; "
                f"split it (line {i} brings it to {total})",
                field=f"lines[{i}].serials",
            )


def check_ticket(ctx: Ctx, ticket_id: UUID | None) -> None:
    """A sale or return names a queue ticket of this store, if any (else 422 ``ticket_id``)."""
    if ticket_id is None:
        return
    t = queue_tickets
    if find_row(ctx.conn, t, ctx.store_id, t.c.ticket_id, ticket_id) is None:
        raise ValidationFailed(f"no queue ticket {ticket_id} in this store", field="ticket_id")


def no_serial_twice(lines: Iterable[Checked]) -> None:
    """Refuse the same serial on two lines of one request."""
    seen: set[str] = set()
    for line in lines:
        for j, s in enumerate(line.serials):
            if s in seen:
                raise ValidationFailed(f"serial {s} is listed twice", field=line.serial_field(j))
            seen.add(s)


def check_takeout(ctx: Ctx, lines: Sequence[Checked]) -> None:
    """Everything the lines take out must be in stock: 409 with the on-hand figure if not."""
    need: dict[str, int] = {}
    for line in lines:
        if not line.serials:
            need[line.item.sku] = need.get(line.item.sku, 0) + line.qty
    for sku, n in need.items():
        have = reads.on_hand(ctx.conn, ctx.store_id, sku)
        if n > have:
            raise InsufficientStock(
                f"only {have} of {sku} on hand; cannot take out {n}",
                sku=sku,
                on_hand=have,
                requested=n,
            )
    for line in lines:
        known = reads.serial_rows(ctx.conn, ctx.store_id, line.serials)
        for j, s in enumerate(line.serials):
            row = known.get(s)
            field = line.serial_field(j)
            if row is None or row.status != "in_stock":
                status = row.status if row is not None else "unknown"
                raise SerialUnavailable(
                    f"serial {s} is not in stock ({status})", serial=s, status=status, field=field
                )
            if row.sku != line.item.sku:
                raise SerialUnavailable(
                    f"serial {s} belongs to SKU {row.sku}", serial=s, sku=row.sku, field=field
                )


def check_takein(ctx: Ctx, lines: Sequence[Checked]) -> None:
    """Serials coming in must not be in stock already, nor be known under another SKU."""
    for line in lines:
        known = reads.serial_rows(ctx.conn, ctx.store_id, line.serials)
        for j, s in enumerate(line.serials):
            row = known.get(s)
            field = line.serial_field(j)
            if row is None:
                continue
            if row.sku != line.item.sku:
                raise SerialUnavailable(
                    f"serial {s} belongs to SKU {row.sku}", serial=s, sku=row.sku, field=field
                )
            if row.status == "in_stock":
                raise SerialInStock(f"serial {s} is already in stock", serial=s, field=field)


def _active(lines: Sequence[Checked]) -> None:
    for line in lines:
        if not line.item.active:
            raise ItemDiscontinued(
                f"{line.item.sku} is discontinued; it can no longer come into stock",
                field=f"{line.field}.sku",
            )


def _plain_lines(ctx: Ctx, lines: Sequence[LineIn]) -> list[Checked]:
    cap_serials(lines)
    checked = [
        check_line(ctx, ln.sku, ln.qty, ln.serials, f"lines[{i}]") for i, ln in enumerate(lines)
    ]
    no_serial_twice(checked)
    return checked


def _emit(
    ctx: Ctx,
    event_type: type[StockMovement],
    lines: Sequence[Checked],
    *,
    movement_id: UUID | None = None,
    **payload: Any,
) -> MovementOut:
    """Record the movement, dated the store-local today, and answer with its ledger lines."""
    movement_id = movement_id or uuid7()
    ctx.emit(
        event_type,
        movement_id=movement_id,
        day=ctx.today,
        lines=[ln.event_line() for ln in lines],
        **payload,
    )
    return reads.get_movement(ctx.conn, ctx.store_id, movement_id)


# ---------------------------------------------------------------- movements


def receive(ctx: Ctx, cmd: ReceiveIn) -> MovementOut:
    """Take delivered goods into stock (入库)."""
    lines = _plain_lines(ctx, cmd.lines)
    _active(lines)
    check_takein(ctx, lines)
    return _emit(
        ctx, StockReceived, lines, supplier=cmd.supplier, reference=cmd.reference, note=cmd.note
    )


def sell(ctx: Ctx, cmd: SaleIn) -> MovementOut:
    """Sell goods to a customer (销售): a quantity of a plain item or one serial per line.

    A price below the item's list price is a discount only the manager may give (403).
    """
    check_ticket(ctx, cmd.ticket_id)
    lines: list[Checked] = []
    for i, ln in enumerate(cmd.lines):
        field = f"lines[{i}]"
        item = item_for(ctx, ln.sku, f"{field}.sku")
        kind = serial_kind_of(item.category, item.serialised)
        price = ln.unit_price_cents if ln.unit_price_cents is not None else item.unit_price_cents
        if price < item.unit_price_cents and not _by_manager(ctx):
            raise Forbidden(
                f"selling {ln.sku} at {price} fen, below its list price of "
                f"{item.unit_price_cents} fen, needs a manager",
                field=f"{field}.unit_price_cents",
                list_price_cents=item.unit_price_cents,
            )
        if kind is None:
            if ln.serial is not None:
                raise ValidationFailed(f"{ln.sku} is not serialised", field=f"{field}.serial")
            if ln.qty is None:
                raise ValidationFailed(f"give the quantity of {ln.sku}", field=f"{field}.qty")
            lines.append(Checked(item, ln.qty, [], field, price))
            continue
        if ln.serial is None:
            raise ValidationFailed(f"give the {kind.upper()} sold", field=f"{field}.serial")
        if ln.qty not in (None, 1):
            raise ValidationFailed("a serialised line sells exactly one unit", field=f"{field}.qty")
        serial = check_serial(ln.serial, kind, f"{field}.serial")
        lines.append(Checked(item, 1, [serial], field, price, single=True))
    no_serial_twice(lines)
    check_takeout(ctx, lines)
    amount = sum((ln.unit_price_cents or 0) * ln.qty for ln in lines)
    return _emit(ctx, StockSold, lines, ticket_id=cmd.ticket_id, amount_cents=amount, note=cmd.note)


def _by_manager(ctx: Ctx) -> bool:
    return actor_role(ctx.conn, ctx.store_id, ctx.actor) == "manager"


def transfer_out(ctx: Ctx, cmd: TransferOutIn) -> MovementOut:
    """Send goods to another store of the chain (调拨出)."""
    if cmd.to_store == ctx.store_id:
        raise ValidationFailed("a store cannot transfer to itself", field="to_store")
    lines = _plain_lines(ctx, cmd.lines)
    check_takeout(ctx, lines)
    movement_id = uuid7()
    reference = cmd.reference or _made_up_reference(ctx.store_id, movement_id)
    return _emit(
        ctx,
        StockTransferredOut,
        lines,
        movement_id=movement_id,
        to_store=cmd.to_store,
        reference=reference,
        note=cmd.note,
    )


_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O, read as 1 and 0


def _made_up_reference(store_id: str, movement_id: UUID) -> str:
    """A transfer note number for a transfer sent without one: the store id and 7 letters from
    the random tail of the movement id. Letters, not hex digits: references are masked like
    typed text, and a digit tail after a store id such as ``S139`` could read as a phone number
    and be masked, making two notes alike."""
    n, tail = int(movement_id.hex[-10:], 16), ""
    for _ in range(7):
        n, d = divmod(n, len(_LETTERS))
        tail += _LETTERS[d]
    return f"TR-{store_id}-{tail}"


def transfer_in(ctx: Ctx, cmd: TransferInIn) -> MovementOut:
    """Take in goods sent by another store (调拨入); each transfer note is taken in once."""
    if cmd.from_store == ctx.store_id:
        raise ValidationFailed("a store cannot transfer from itself", field="from_store")
    taken = ctx.conn.execute(
        reads.list_movements(
            ctx.conn,
            ctx.store_id,
            kind="transfer_in",
            reference=cmd.reference,
            counterparty=cmd.from_store,
        ).limit(1)
    ).first()
    if taken is not None:
        raise TransferAlreadyReceived(
            f"transfer {redact_text(cmd.reference)} from {cmd.from_store} was already taken in",
            movement_id=str(taken.movement_id),
            field="reference",
        )
    lines = _plain_lines(ctx, cmd.lines)
    _active(lines)
    check_takein(ctx, lines)
    return _emit(
        ctx,
        StockTransferredIn,
        lines,
        from_store=cmd.from_store,
        reference=cmd.reference,
        note=cmd.note,
    )


def return_stock(ctx: Ctx, cmd: ReturnIn) -> MovementOut:
    """Take back goods a customer returns (退货); a serial must have been sold here.

    Serialised units are refunded at the price each was sold for unless a price is given, so
    each becomes its own line.
    """
    check_ticket(ctx, cmd.ticket_id)
    cap_serials(cmd.lines)
    lines: list[Checked] = []
    for i, ln in enumerate(cmd.lines):
        line = check_line(ctx, ln.sku, ln.qty, ln.serials, f"lines[{i}]")
        if not line.serials:
            price = ln.unit_price_cents
            line.unit_price_cents = price if price is not None else line.item.unit_price_cents
            lines.append(line)
            continue
        known = reads.serial_rows(ctx.conn, ctx.store_id, line.serials)
        for j, s in enumerate(line.serials):
            row = known.get(s)
            field = line.serial_field(j)
            if row is None or row.status != "sold" or row.sku != line.item.sku:
                raise SerialUnavailable(
                    f"serial {s} of {line.item.sku} was not sold here", serial=s, field=field
                )
            price = ln.unit_price_cents
            if price is None:
                price = row.sale_price_cents
            if price is None:
                price = line.item.unit_price_cents
            lines.append(Checked(line.item, 1, [s], line.field, price))
    no_serial_twice(lines)
    amount = sum((ln.unit_price_cents or 0) * ln.qty for ln in lines)
    return _emit(
        ctx,
        StockReturned,
        lines,
        reason=cmd.reason,
        ticket_id=cmd.ticket_id,
        amount_cents=amount,
        note=cmd.note,
    )


def write_off(ctx: Ctx, cmd: WriteOffIn) -> MovementOut:
    """Write off damaged or lost goods (报损)."""
    lines = _plain_lines(ctx, cmd.lines)
    check_takeout(ctx, lines)
    return _emit(ctx, StockWrittenOff, lines, reason=cmd.reason, note=cmd.note)
