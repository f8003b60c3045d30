"""Inventory reads: the catalog, stock levels, the ledger, serials, adjustments and counts.

List functions return the filtered, ordered query and the API layer pages it; ``*_out``
functions turn one row into its response struct.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.inventory import (
    AdjustmentOut,
    CountLineOut,
    CountOut,
    ItemOut,
    MovementLineOut,
    MovementOut,
    SerialHistoryOut,
    SerialOut,
    StockLevelOut,
)
from schema.tables import inventory as tables
from server.domain.inventory.rules import serial_kind_of
from server.domain.sql import find_row, row_or_404
from server.errors import NotFound
from server.privacy import redact_text

adjustments = tables.inventory_adjustments
count_lines = tables.inventory_count_lines
counts = tables.inventory_counts
items = tables.inventory_items
movements = tables.inventory_movements
serial_history = tables.inventory_serial_history
serials_t = tables.inventory_serials
stock = tables.inventory_stock

DEFAULT_LOW_THRESHOLD = 5
"""Units at or under which an active item counts as running low (低库存), unless asked."""

# ---------------------------------------------------------------- items and stock


def item_out(row: Any) -> ItemOut:
    return ItemOut(
        sku=row.sku,
        name=row.name,
        category=row.category,
        unit_price_cents=row.unit_price_cents,
        serialised=row.serialised,
        serial_kind=serial_kind_of(row.category, row.serialised),
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def item_row(conn: Connection, store_id: str, sku: str) -> Any | None:
    """The catalog row of a SKU, or None."""
    return find_row(conn, items, store_id, items.c.sku, sku)


def get_item(conn: Connection, store_id: str, sku: str) -> ItemOut:
    return item_out(row_or_404(conn, items, store_id, items.c.sku, sku, "item with SKU"))


def list_items(
    conn: Connection,
    store_id: str,
    *,
    category: str | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> sa.Select[Any]:
    """The catalog, filtered by category, active flag and a text match on SKU or name."""
    query = sa.select(items).where(items.c.store_id == store_id)
    if category is not None:
        query = query.where(items.c.category == category)
    if active is not None:
        query = query.where(items.c.active == active)
    if q:
        like = f"%{q}%"
        query = query.where(sa.or_(items.c.sku.ilike(like), items.c.name.ilike(like)))
    return query.order_by(items.c.sku)


_ON_HAND = sa.select(stock.c.on_hand).where(
    stock.c.store_id == sa.bindparam("store_id"), stock.c.sku == sa.bindparam("sku")
)


def on_hand(conn: Connection, store_id: str, sku: str) -> int:
    """Units of the SKU in stock now (0 when it never moved)."""
    value = conn.execute(_ON_HAND, {"store_id": store_id, "sku": sku}).scalar()
    return int(value or 0)


_on_hand_col = sa.func.coalesce(stock.c.on_hand, 0)


def _stock_query(store_id: str) -> sa.Select[Any]:
    return (
        sa.select(
            items,
            _on_hand_col.label("on_hand"),
            stock.c.updated_at.label("last_movement_at"),
        )
        .select_from(
            items.outerjoin(
                stock, sa.and_(stock.c.store_id == items.c.store_id, stock.c.sku == items.c.sku)
            )
        )
        .where(items.c.store_id == store_id)
    )


def countable_skus(conn: Connection, store_id: str) -> list[str]:
    """What an all-items count covers: every active item, and any other with stock left."""
    query = _stock_query(store_id).where(sa.or_(items.c.active, _on_hand_col != 0))
    return [r.sku for r in conn.execute(query.order_by(items.c.sku))]


def stock_out(row: Any) -> StockLevelOut:
    return StockLevelOut(
        sku=row.sku,
        name=row.name,
        category=row.category,
        serialised=row.serialised,
        active=row.active,
        unit_price_cents=row.unit_price_cents,
        on_hand=row.on_hand,
        value_cents=row.on_hand * row.unit_price_cents,
        out_of_stock=bool(row.active and row.on_hand <= 0),
        last_movement_at=row.last_movement_at,
    )


def list_stock(
    conn: Connection,
    store_id: str,
    *,
    category: str | None = None,
    active: bool | None = None,
    out_of_stock: bool | None = None,
    low: bool | None = None,
    threshold: int = DEFAULT_LOW_THRESHOLD,
    q: str | None = None,
) -> sa.Select[Any]:
    """Stock levels per SKU with their item.

    ``out_of_stock``: active items with nothing on hand (缺货). ``low``: active items with at
    most ``threshold`` units, out-of-stock ones included.
    """
    query = _stock_query(store_id)
    if category is not None:
        query = query.where(items.c.category == category)
    if active is not None:
        query = query.where(items.c.active == active)
    if out_of_stock is not None:
        empty = sa.and_(items.c.active, _on_hand_col <= 0)
        query = query.where(empty if out_of_stock else sa.not_(empty))
    if low is not None:
        short = sa.and_(items.c.active, _on_hand_col <= threshold)
        query = query.where(short if low else sa.not_(short))
    if q:
        like = f"%{q}%"
        query = query.where(sa.or_(items.c.sku.ilike(like), items.c.name.ilike(like)))
    return query.order_by(items.c.sku)


def get_stock(conn: Connection, store_id: str, sku: str) -> StockLevelOut:
    row = conn.execute(_stock_query(store_id).where(items.c.sku == sku)).first()
    if row is None:
        raise NotFound(f"no item with SKU {sku}")
    return stock_out(row)


def stockouts(conn: Connection, store_id: str) -> int:
    """How many active items have nothing on hand (缺货数), for the store's KPIs."""
    query = (
        sa.select(sa.func.count())
        .select_from(
            items.outerjoin(
                stock, sa.and_(stock.c.store_id == items.c.store_id, stock.c.sku == items.c.sku)
            )
        )
        .where(items.c.store_id == store_id, items.c.active, _on_hand_col <= 0)
    )
    return int(conn.execute(query).scalar_one())


# ---------------------------------------------------------------- ledger


def movement_line_out(row: Any) -> MovementLineOut:
    return MovementLineOut(
        movement_id=row.movement_id,
        line_no=row.line_no,
        kind=row.kind,
        day=row.day,
        at=row.at,
        actor=row.actor,
        sku=row.sku,
        category=row.category,
        qty=row.qty,
        delta=row.delta,
        on_hand_after=row.on_hand_after,
        serials=list(row.serials),
        unit_price_cents=row.unit_price_cents,
        amount_cents=row.amount_cents,
        counterparty=row.counterparty,
        reference=row.reference,
        reason=row.reason,
        note=row.note,
        ticket_id=row.ticket_id,
    )


def list_movements(
    conn: Connection,
    store_id: str,
    *,
    kind: str | None = None,
    sku: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    reference: str | None = None,
    counterparty: str | None = None,
) -> sa.Select[Any]:
    """Ledger rows, newest first, filtered by kind, SKU and store-local days (inclusive)."""
    query = sa.select(movements).where(movements.c.store_id == store_id)
    if kind is not None:
        query = query.where(movements.c.kind == kind)
    if sku is not None:
        query = query.where(movements.c.sku == sku)
    if date_from is not None:
        query = query.where(movements.c.day >= date_from)
    if date_to is not None:
        query = query.where(movements.c.day <= date_to)
    if reference:
        # References are stored masked (typed text): the one asked for is masked the same way.
        query = query.where(movements.c.reference == redact_text(reference))
    if counterparty:
        query = query.where(movements.c.counterparty == counterparty)
    return query.order_by(movements.c.seq.desc(), movements.c.line_no)


_MOVEMENT_LINES = (
    sa.select(movements)
    .where(
        movements.c.store_id == sa.bindparam("store_id"),
        movements.c.movement_id == sa.bindparam("movement_id"),
    )
    .order_by(movements.c.line_no)
)


def get_movement(conn: Connection, store_id: str, movement_id: UUID) -> MovementOut:
    rows = conn.execute(_MOVEMENT_LINES, {"store_id": store_id, "movement_id": movement_id}).all()
    if not rows:
        raise NotFound(f"no movement {movement_id}")
    lines = [movement_line_out(r) for r in rows]
    amounts = [ln.amount_cents for ln in lines if ln.amount_cents is not None]
    first = lines[0]
    return MovementOut(
        movement_id=movement_id,
        kind=first.kind,
        day=first.day,
        at=first.at,
        actor=first.actor,
        amount_cents=sum(amounts) if amounts else None,
        lines=lines,
    )


# ---------------------------------------------------------------- serials


def serial_rows(conn: Connection, store_id: str, serials: list[str]) -> dict[str, Any]:
    """Current rows of the given serials that the store has seen, by serial."""
    if not serials:
        return {}
    rows = conn.execute(
        sa.select(serials_t).where(
            serials_t.c.store_id == store_id, serials_t.c.serial.in_(serials)
        )
    ).all()
    return {r.serial: r for r in rows}


def in_stock_serials(conn: Connection, store_id: str, sku: str) -> list[str]:
    """Serials of the SKU in stock by the books, sorted."""
    return list(
        conn.execute(
            sa.select(serials_t.c.serial)
            .where(
                serials_t.c.store_id == store_id,
                serials_t.c.sku == sku,
                serials_t.c.status == "in_stock",
            )
            .order_by(serials_t.c.serial)
        ).scalars()
    )


def get_serial(conn: Connection, store_id: str, serial: str) -> SerialOut:
    row = conn.execute(
        sa.select(serials_t, items.c.name, items.c.category)
        .join(
            items, sa.and_(items.c.store_id == serials_t.c.store_id, items.c.sku == serials_t.c.sku)
        )
        .where(serials_t.c.store_id == store_id, serials_t.c.serial == serial)
    ).first()
    if row is None:
        raise NotFound(f"serial {serial} has never been in this store")
    history = conn.execute(
        sa.select(serial_history)
        .where(serial_history.c.store_id == store_id, serial_history.c.serial == serial)
        .order_by(serial_history.c.seq)
    ).all()
    return SerialOut(
        serial=row.serial,
        kind="imei" if row.category == "phone" else "iccid",
        sku=row.sku,
        name=row.name,
        status=row.status,
        sale_price_cents=row.sale_price_cents,
        updated_at=row.updated_at,
        history=[
            SerialHistoryOut(
                movement_id=h.movement_id,
                kind=h.kind,
                sku=h.sku,
                status_after=h.status_after,
                day=h.day,
                at=h.at,
                actor=h.actor,
            )
            for h in history
        ],
    )


# ---------------------------------------------------------------- adjustments


def adjustment_out(row: Any) -> AdjustmentOut:
    return AdjustmentOut(
        adjustment_id=row.adjustment_id,
        sku=row.sku,
        delta=row.delta,
        serials=list(row.serials),
        reason=row.reason,
        status=row.status,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
    )


def adjustment_row(conn: Connection, store_id: str, adjustment_id: UUID) -> Any:
    key = adjustments.c.adjustment_id
    return row_or_404(conn, adjustments, store_id, key, adjustment_id, "adjustment")


def get_adjustment(conn: Connection, store_id: str, adjustment_id: UUID) -> AdjustmentOut:
    return adjustment_out(adjustment_row(conn, store_id, adjustment_id))


def list_adjustments(
    conn: Connection, store_id: str, *, status: str | None = None, sku: str | None = None
) -> sa.Select[Any]:
    """Adjustments, newest first; ``status="pending"`` is the manager's approval queue."""
    query = sa.select(adjustments).where(adjustments.c.store_id == store_id)
    if status is not None:
        query = query.where(adjustments.c.status == status)
    if sku is not None:
        query = query.where(adjustments.c.sku == sku)
    return query.order_by(adjustments.c.requested_at.desc(), adjustments.c.adjustment_id.desc())


# ---------------------------------------------------------------- counts


def count_row(conn: Connection, store_id: str, count_id: UUID) -> Any:
    return row_or_404(conn, counts, store_id, counts.c.count_id, count_id, "stock count")


def count_line_rows(conn: Connection, store_id: str, count_id: UUID) -> list[Any]:
    """The count's lines with their items, by SKU."""
    return list(
        conn.execute(
            sa.select(count_lines, items.c.name, items.c.serialised, items.c.category)
            .join(
                items,
                sa.and_(
                    items.c.store_id == count_lines.c.store_id, items.c.sku == count_lines.c.sku
                ),
            )
            .where(count_lines.c.store_id == store_id, count_lines.c.count_id == count_id)
            .order_by(count_lines.c.sku)
        ).all()
    )


def count_out(conn: Connection, row: Any) -> CountOut:
    lines = [
        CountLineOut(
            sku=r.sku,
            name=r.name,
            serialised=r.serialised,
            counted=r.counted,
            serials=list(r.serials),
            recorded_by=r.recorded_by,
            recorded_at=r.recorded_at,
            book=r.book,
            variance=r.variance,
            variance_value_cents=(
                None
                if r.variance is None or r.unit_price_cents is None
                else r.variance * r.unit_price_cents
            ),
            missing=list(r.missing),
            unexpected=list(r.unexpected),
        )
        for r in count_line_rows(conn, row.store_id, row.count_id)
    ]
    posted = row.status == "posted"
    return CountOut(
        count_id=row.count_id,
        status=row.status,
        all_items=row.all_items,
        note=row.note,
        opened_by=row.opened_by,
        opened_at=row.opened_at,
        closed_by=row.closed_by,
        closed_at=row.closed_at,
        posted_day=row.posted_day,
        cancel_reason=row.cancel_reason,
        lines=lines,
        total_variance=sum(ln.variance or 0 for ln in lines) if posted else None,
    )


def get_count(conn: Connection, store_id: str, count_id: UUID) -> CountOut:
    return count_out(conn, count_row(conn, store_id, count_id))


def list_counts(
    conn: Connection, store_id: str, *, status: str | None = None, sku: str | None = None
) -> sa.Select[Any]:
    """Count sessions, newest first, filtered by status or by a SKU they include."""
    query = sa.select(counts).where(counts.c.store_id == store_id)
    if status is not None:
        query = query.where(counts.c.status == status)
    if sku is not None:
        query = query.where(
            sa.exists().where(
                count_lines.c.store_id == counts.c.store_id,
                count_lines.c.count_id == counts.c.count_id,
                count_lines.c.sku == sku,
            )
        )
    return query.order_by(counts.c.opened_at.desc(), counts.c.count_id.desc())


def open_count_of(conn: Connection, store_id: str, skus: list[str]) -> dict[str, UUID]:
    """For each of ``skus`` already in an open count, that count's id."""
    rows = conn.execute(
        sa.select(count_lines.c.sku, count_lines.c.count_id)
        .join(
            counts,
            sa.and_(
                counts.c.store_id == count_lines.c.store_id,
                counts.c.count_id == count_lines.c.count_id,
            ),
        )
        .where(
            count_lines.c.store_id == store_id,
            counts.c.status == "open",
            count_lines.c.sku.in_(skus),
        )
    ).all()
    return {r.sku: r.count_id for r in rows}
