"""Inventory commands for adjustments (调整) and stock counts (盘点).

An adjustment corrects one SKU: an admin asks, the manager approves or rejects, and only an
approved one moves stock; a manager's own adjustment applies at once.

A count records what was physically found; posting it computes, per SKU, the variance
``counted - book`` against on-hand at that moment and puts it in the event, so on-hand becomes
the counted figure by adding a delta (the fold stays a pure sum). Movements recorded while a
count is open are in the book figure at posting, so count only when the shelf is quiet.
"""

from __future__ import annotations

from uuid import UUID

from uuid_utils.compat import uuid7

from schema.api.inventory import AdjustmentIn, AdjustmentOut, CountIn, CountLineIn, CountOut
from schema.events.inventory import (
    AdjustmentRejected,
    AdjustmentRequested,
    CountCancelled,
    CountLine,
    CountLineRecorded,
    CountOpened,
    StockAdjusted,
    StockCounted,
)
from server.domain.context import Ctx
from server.domain.guards import require_state
from server.domain.inventory import reads
from server.domain.inventory.commands.moves import (
    Checked,
    check_line,
    check_takein,
    check_takeout,
    item_for,
)
from server.domain.inventory.rules import check_serials, serial_kind_of
from server.errors import Conflict, SerialUnavailable, ValidationFailed

# ---------------------------------------------------------------- adjustments


def _check_adjustment(ctx: Ctx, sku: str, delta: int, serials: list[str]) -> Checked:
    """Validate an adjustment against the catalog and current stock (at request and approval)."""
    if delta == 0:
        raise ValidationFailed("an adjustment must change stock", field="delta")
    item = item_for(ctx, sku, "sku")
    if item.serialised and len(serials) != abs(delta):
        raise ValidationFailed(
            f"list exactly {abs(delta)} serials for a change of {delta}", field="serials"
        )
    line = check_line(ctx, sku, abs(delta), serials, "")
    if delta < 0:
        check_takeout(ctx, [line])
    else:
        check_takein(ctx, [line])
    return line


def request_adjustment(ctx: Ctx, cmd: AdjustmentIn) -> AdjustmentOut:
    """Ask the manager to correct one SKU's stock (调整申请); nothing moves yet."""
    line = _check_adjustment(ctx, cmd.sku, cmd.delta, cmd.serials)
    adjustment_id = uuid7()
    ctx.emit(
        AdjustmentRequested,
        adjustment_id=adjustment_id,
        sku=cmd.sku,
        delta=cmd.delta,
        serials=line.serials,
        reason=cmd.reason,
    )
    return reads.get_adjustment(ctx.conn, ctx.store_id, adjustment_id)


def adjust(ctx: Ctx, cmd: AdjustmentIn) -> AdjustmentOut:
    """The manager corrects one SKU's stock directly (approved by being the manager's)."""
    line = _check_adjustment(ctx, cmd.sku, cmd.delta, cmd.serials)
    adjustment_id = uuid7()
    ctx.emit(
        StockAdjusted,
        adjustment_id=adjustment_id,
        day=ctx.today,
        sku=cmd.sku,
        category=line.item.category,
        delta=cmd.delta,
        serials=line.serials,
        reason=cmd.reason,
        requested_by=ctx.actor,
    )
    return reads.get_adjustment(ctx.conn, ctx.store_id, adjustment_id)


def _pending(ctx: Ctx, adjustment_id: UUID, verb: str) -> AdjustmentOut:
    cur = reads.get_adjustment(ctx.conn, ctx.store_id, adjustment_id)
    require_state(cur.status, ["pending"], verb, f"adjustment {adjustment_id}")
    return cur


def approve_adjustment(ctx: Ctx, adjustment_id: UUID, note: str = "") -> AdjustmentOut:
    """Approve a pending adjustment: stock moves now, checked against stock now."""
    cur = _pending(ctx, adjustment_id, "approve")
    line = _check_adjustment(ctx, cur.sku, cur.delta, cur.serials)
    ctx.emit(
        StockAdjusted,
        adjustment_id=adjustment_id,
        day=ctx.today,
        sku=cur.sku,
        category=line.item.category,
        delta=cur.delta,
        serials=cur.serials,
        reason=cur.reason,
        requested_by=cur.requested_by,
        note=note,
    )
    return reads.get_adjustment(ctx.conn, ctx.store_id, adjustment_id)


def reject_adjustment(ctx: Ctx, adjustment_id: UUID, note: str = "") -> AdjustmentOut:
    """Refuse a pending adjustment (驳回); stock is unchanged."""
    _pending(ctx, adjustment_id, "reject")
    ctx.emit(AdjustmentRejected, adjustment_id=adjustment_id, note=note)
    return reads.get_adjustment(ctx.conn, ctx.store_id, adjustment_id)


# ---------------------------------------------------------------- counts


def open_count(ctx: Ctx, cmd: CountIn) -> CountOut:
    """Start a count (盘点) over the given SKUs, or over every active item (and any inactive one
    with stock left) if none are given.

    A SKU can be in one open count at a time.
    """
    if cmd.skus:
        for i, sku in enumerate(cmd.skus):
            item_for(ctx, sku, f"skus[{i}]")
            if sku in cmd.skus[:i]:
                raise ValidationFailed(f"SKU {sku} is listed twice", field=f"skus[{i}]")
        skus = list(cmd.skus)
    else:
        skus = reads.countable_skus(ctx.conn, ctx.store_id)
        if not skus:
            raise Conflict("there are no items to count")
    busy = reads.open_count_of(ctx.conn, ctx.store_id, skus)
    if busy:
        taken = sorted(busy)
        raise Conflict(
            f"already being counted: {', '.join(taken)}",
            skus=taken,
            count_id=str(busy[taken[0]]),
        )
    count_id = uuid7()
    ctx.emit(CountOpened, count_id=count_id, all_items=not cmd.skus, skus=skus, note=cmd.note)
    return reads.get_count(ctx.conn, ctx.store_id, count_id)


def _open(ctx: Ctx, count_id: UUID, verb: str) -> None:
    row = reads.count_row(ctx.conn, ctx.store_id, count_id)
    require_state(row.status, ["open"], verb, f"stock count {count_id}")


def record_count_line(ctx: Ctx, count_id: UUID, cmd: CountLineIn) -> CountOut:
    """Record what was found for one SKU of an open count; a second record replaces the first."""
    _open(ctx, count_id, "record a line of")
    lines = {r.sku: r for r in reads.count_line_rows(ctx.conn, ctx.store_id, count_id)}
    if cmd.sku not in lines:
        raise ValidationFailed(f"SKU {cmd.sku} is not part of this count", field="sku")
    item = item_for(ctx, cmd.sku, "sku")
    kind = serial_kind_of(item.category, item.serialised)
    if kind is None:
        if cmd.serials:
            raise ValidationFailed(f"{cmd.sku} is not serialised", field="serials")
        if cmd.counted is None:
            raise ValidationFailed("give the quantity found", field="counted")
        counted, serials = cmd.counted, []
    else:
        serials = check_serials(cmd.serials, kind, "serials")
        if cmd.counted is not None and cmd.counted != len(serials):
            raise ValidationFailed(
                f"counted {cmd.counted} does not match the {len(serials)} serials scanned",
                field="counted",
            )
        counted = len(serials)
        known = reads.serial_rows(ctx.conn, ctx.store_id, serials)
        elsewhere = {s: sku for sku, r in lines.items() if sku != cmd.sku for s in r.serials}
        for j, s in enumerate(serials):
            other = known[s].sku if s in known else elsewhere.get(s)
            if other is not None and other != cmd.sku:
                raise SerialUnavailable(
                    f"serial {s} belongs to SKU {other}", serial=s, sku=other, field=f"serials[{j}]"
                )
    ctx.emit(CountLineRecorded, count_id=count_id, sku=cmd.sku, counted=counted, serials=serials)
    return reads.get_count(ctx.conn, ctx.store_id, count_id)


def post_count(ctx: Ctx, count_id: UUID) -> CountOut:
    """Post an open count (过账): each SKU's on-hand becomes what was counted.

    Every SKU of the count must have been recorded (record 0 for an empty shelf), so a line
    nobody got to does not silently wipe stock.
    """
    _open(ctx, count_id, "post")
    rows = reads.count_line_rows(ctx.conn, ctx.store_id, count_id)
    uncounted = [r.sku for r in rows if r.counted is None]
    if uncounted:
        raise Conflict(
            f"not counted yet: {', '.join(uncounted)}; record 0 for an empty shelf",
            uncounted=uncounted,
        )
    lines: list[CountLine] = []
    for r in rows:
        book = reads.on_hand(ctx.conn, ctx.store_id, r.sku)
        missing: list[str] = []
        unexpected: list[str] = []
        if r.serialised:
            in_books = reads.in_stock_serials(ctx.conn, ctx.store_id, r.sku)
            scanned = set(r.serials)
            missing = [s for s in in_books if s not in scanned]
            booked = set(in_books)
            unexpected = sorted(s for s in r.serials if s not in booked)
            # A serial may have come into stock under another SKU since it was scanned.
            known = reads.serial_rows(ctx.conn, ctx.store_id, unexpected)
            for s in unexpected:
                if s in known and known[s].sku != r.sku:
                    raise SerialUnavailable(
                        f"serial {s} belongs to SKU {known[s].sku}", serial=s, sku=known[s].sku
                    )
        item = item_for(ctx, r.sku, "sku")
        lines.append(
            CountLine(
                sku=r.sku,
                category=item.category,
                book=book,
                counted=r.counted,
                variance=r.counted - book,
                unit_price_cents=item.unit_price_cents,
                missing=missing,
                unexpected=unexpected,
            )
        )
    ctx.emit(StockCounted, count_id=count_id, day=ctx.today, lines=lines)
    return reads.get_count(ctx.conn, ctx.store_id, count_id)


def cancel_count(ctx: Ctx, count_id: UUID, reason: str = "") -> CountOut:
    """Abandon an open count; stock is unchanged."""
    _open(ctx, count_id, "cancel")
    ctx.emit(CountCancelled, count_id=count_id, reason=reason)
    return reads.get_count(ctx.conn, ctx.store_id, count_id)
