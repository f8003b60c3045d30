"""Inventory events → projection rows (imported by ``server.domain.inventory`` to register).

On-hand is only ever changed here, by adding each movement's signed delta, so the stock level
is the fold of the log: commutative per SKU, and identical when central replays it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.events import Event
from schema.events.inventory import (
    AdjustmentRejected,
    AdjustmentRequested,
    CountCancelled,
    CountLineRecorded,
    CountOpened,
    ItemDefined,
    ItemPriceChanged,
    MovementKind,
    SerialStatus,
    StockAdjusted,
    StockCounted,
    StockMovement,
    StockReceived,
    StockReturned,
    StockSold,
    StockTransferredIn,
    StockTransferredOut,
    StockWrittenOff,
)
from schema.tables import inventory as tables
from server.domain.projection import projects

adjustments = tables.inventory_adjustments
count_lines = tables.inventory_count_lines
counts = tables.inventory_counts
items = tables.inventory_items
movements = tables.inventory_movements
serial_history = tables.inventory_serial_history
serials_t = tables.inventory_serials
stock = tables.inventory_stock

# What each movement event does: its ledger kind, the sign of its lines, where serials end up.
_MOVES: dict[type[StockMovement], tuple[MovementKind, int, SerialStatus]] = {
    StockReceived: ("receive", 1, "in_stock"),
    StockTransferredIn: ("transfer_in", 1, "in_stock"),
    StockReturned: ("return", 1, "in_stock"),
    StockSold: ("sell", -1, "sold"),
    StockTransferredOut: ("transfer_out", -1, "transferred_out"),
    StockWrittenOff: ("write_off", -1, "written_off"),
}


# ---------------------------------------------------------------- helpers


def _bump(conn: Connection, store_id: str, sku: str, delta: int, at: datetime) -> int:
    """Add ``delta`` to the SKU's on-hand and return the new figure."""
    key = (stock.c.store_id == store_id, stock.c.sku == sku)
    done = conn.execute(
        stock.update().where(*key).values(on_hand=stock.c.on_hand + delta, updated_at=at)
    )
    if done.rowcount == 0:
        conn.execute(
            stock.insert().values(store_id=store_id, sku=sku, on_hand=delta, updated_at=at)
        )
    return int(conn.execute(sa.select(stock.c.on_hand).where(*key)).scalar_one())


def _ledger(conn: Connection, e: Event, **row: Any) -> None:
    """One ledger row; columns not given are empty."""
    values: dict[str, Any] = {
        "store_id": e.store_id,
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor,
        "serials": [],
        "unit_price_cents": None,
        "amount_cents": None,
        "counterparty": "",
        "reference": "",
        "reason": "",
        "note": "",
        "ticket_id": None,
    }
    values.update(row)
    conn.execute(movements.insert().values(**values))


def _serial_moved(
    conn: Connection,
    e: Event,
    *,
    serial: str,
    sku: str,
    status: SerialStatus,
    movement_id: UUID,
    kind: MovementKind,
    day: date,
    sale_price_cents: int | None = None,
) -> None:
    """Move one serialised unit to ``status`` and add the step to its history."""
    key = (serials_t.c.store_id == e.store_id, serials_t.c.serial == serial)
    values: dict[str, Any] = {
        "sku": sku,
        "status": status,
        "last_movement_id": movement_id,
        "updated_at": e.at,
    }
    if status == "sold":
        values["sale_price_cents"] = sale_price_cents
    if conn.execute(serials_t.update().where(*key).values(**values)).rowcount == 0:
        values.setdefault("sale_price_cents", None)
        conn.execute(serials_t.insert().values(store_id=e.store_id, serial=serial, **values))
    conn.execute(
        serial_history.insert().values(
            store_id=e.store_id,
            serial=serial,
            movement_id=movement_id,
            seq=e.seq,
            kind=kind,
            sku=sku,
            status_after=status,
            day=day,
            at=e.at,
            actor=e.actor,
        )
    )


# ---------------------------------------------------------------- catalog


@projects(ItemDefined)
def _item_defined(conn: Connection, e: ItemDefined) -> None:
    values = {
        "name": e.name,
        "category": e.category,
        "unit_price_cents": e.unit_price_cents,
        "serialised": e.serialised,
        "active": e.active,
        "updated_at": e.at,
    }
    key = (items.c.store_id == e.store_id, items.c.sku == e.sku)
    # Update-then-insert keeps ``created_at`` of a redefined item.
    if conn.execute(items.update().where(*key).values(**values)).rowcount == 0:
        conn.execute(
            items.insert().values(store_id=e.store_id, sku=e.sku, created_at=e.at, **values)
        )


@projects(ItemPriceChanged)
def _price_changed(conn: Connection, e: ItemPriceChanged) -> None:
    conn.execute(
        items.update()
        .where(items.c.store_id == e.store_id, items.c.sku == e.sku)
        .values(unit_price_cents=e.unit_price_cents, updated_at=e.at)
    )


# ---------------------------------------------------------------- movements


@projects(
    StockReceived,
    StockTransferredIn,
    StockReturned,
    StockSold,
    StockTransferredOut,
    StockWrittenOff,
)
def _moved(conn: Connection, e: StockMovement) -> None:
    kind, sign, serial_status = _MOVES[type(e)]
    header: dict[str, Any] = {"note": e.note}
    if isinstance(e, StockReceived):
        header.update(counterparty=e.supplier, reference=e.reference)
    elif isinstance(e, StockTransferredOut):
        header.update(counterparty=e.to_store, reference=e.reference)
    elif isinstance(e, StockTransferredIn):
        header.update(counterparty=e.from_store, reference=e.reference)
    elif isinstance(e, StockSold):
        header.update(ticket_id=e.ticket_id)
    elif isinstance(e, StockReturned):
        header.update(reason=e.reason, ticket_id=e.ticket_id)
    elif isinstance(e, StockWrittenOff):
        header.update(reason=e.reason)
    for line_no, line in enumerate(e.lines):
        delta = sign * line.qty
        after = _bump(conn, e.store_id, line.sku, delta, e.at)
        price = line.unit_price_cents
        _ledger(
            conn,
            e,
            movement_id=e.movement_id,
            line_no=line_no,
            kind=kind,
            day=e.day,
            sku=line.sku,
            category=line.category,
            qty=line.qty,
            delta=delta,
            on_hand_after=after,
            serials=list(line.serials),
            unit_price_cents=price,
            amount_cents=None if price is None else price * line.qty,
            **header,
        )
        for serial in line.serials:
            _serial_moved(
                conn,
                e,
                serial=serial,
                sku=line.sku,
                status=serial_status,
                movement_id=e.movement_id,
                kind=kind,
                day=e.day,
                sale_price_cents=price,
            )


# ---------------------------------------------------------------- adjustments


@projects(AdjustmentRequested)
def _adjustment_requested(conn: Connection, e: AdjustmentRequested) -> None:
    conn.execute(
        adjustments.insert().values(
            store_id=e.store_id,
            adjustment_id=e.adjustment_id,
            sku=e.sku,
            delta=e.delta,
            serials=list(e.serials),
            reason=e.reason,
            status="pending",
            requested_by=e.actor,
            requested_at=e.at,
            decision_note="",
        )
    )


@projects(AdjustmentRejected)
def _adjustment_rejected(conn: Connection, e: AdjustmentRejected) -> None:
    conn.execute(
        adjustments.update()
        .where(adjustments.c.store_id == e.store_id, adjustments.c.adjustment_id == e.adjustment_id)
        .values(status="rejected", decided_by=e.actor, decided_at=e.at, decision_note=e.note)
    )


@projects(StockAdjusted)
def _adjusted(conn: Connection, e: StockAdjusted) -> None:
    decided = {
        "status": "approved",
        "decided_by": e.actor,
        "decided_at": e.at,
        "decision_note": e.note,
    }
    key = (adjustments.c.store_id == e.store_id, adjustments.c.adjustment_id == e.adjustment_id)
    if conn.execute(adjustments.update().where(*key).values(**decided)).rowcount == 0:
        # A manager's own adjustment: no request came first.
        conn.execute(
            adjustments.insert().values(
                store_id=e.store_id,
                adjustment_id=e.adjustment_id,
                sku=e.sku,
                delta=e.delta,
                serials=list(e.serials),
                reason=e.reason,
                requested_by=e.requested_by,
                requested_at=e.at,
                **decided,
            )
        )
    after = _bump(conn, e.store_id, e.sku, e.delta, e.at)
    _ledger(
        conn,
        e,
        movement_id=e.adjustment_id,
        line_no=0,
        kind="adjust",
        day=e.day,
        sku=e.sku,
        category=e.category,
        qty=abs(e.delta),
        delta=e.delta,
        on_hand_after=after,
        serials=list(e.serials),
        reason=e.reason,
        note=e.note,
    )
    status: SerialStatus = "in_stock" if e.delta > 0 else "written_off"
    for serial in e.serials:
        _serial_moved(
            conn,
            e,
            serial=serial,
            sku=e.sku,
            status=status,
            movement_id=e.adjustment_id,
            kind="adjust",
            day=e.day,
        )


# ---------------------------------------------------------------- counts


def _count_key(e: CountOpened | CountLineRecorded | CountCancelled | StockCounted) -> Any:
    return sa.and_(counts.c.store_id == e.store_id, counts.c.count_id == e.count_id)


@projects(CountOpened)
def _count_opened(conn: Connection, e: CountOpened) -> None:
    conn.execute(
        counts.insert().values(
            store_id=e.store_id,
            count_id=e.count_id,
            status="open",
            all_items=e.all_items,
            note=e.note,
            opened_by=e.actor,
            opened_at=e.at,
            cancel_reason="",
        )
    )
    if e.skus:
        conn.execute(
            count_lines.insert(),
            [
                {
                    "store_id": e.store_id,
                    "count_id": e.count_id,
                    "sku": sku,
                    "serials": [],
                    "missing": [],
                    "unexpected": [],
                }
                for sku in e.skus
            ],
        )


def _line_key(e: CountLineRecorded | StockCounted, sku: str) -> Any:
    return sa.and_(
        count_lines.c.store_id == e.store_id,
        count_lines.c.count_id == e.count_id,
        count_lines.c.sku == sku,
    )


@projects(CountLineRecorded)
def _count_line(conn: Connection, e: CountLineRecorded) -> None:
    conn.execute(
        count_lines.update()
        .where(_line_key(e, e.sku))
        .values(counted=e.counted, serials=list(e.serials), recorded_by=e.actor, recorded_at=e.at)
    )


@projects(CountCancelled)
def _count_cancelled(conn: Connection, e: CountCancelled) -> None:
    conn.execute(
        counts.update()
        .where(_count_key(e))
        .values(status="cancelled", closed_by=e.actor, closed_at=e.at, cancel_reason=e.reason)
    )


@projects(StockCounted)
def _counted(conn: Connection, e: StockCounted) -> None:
    conn.execute(
        counts.update()
        .where(_count_key(e))
        .values(status="posted", closed_by=e.actor, closed_at=e.at, posted_day=e.day)
    )
    for line_no, line in enumerate(e.lines):
        conn.execute(
            count_lines.update()
            .where(_line_key(e, line.sku))
            .values(
                book=line.book,
                variance=line.variance,
                unit_price_cents=line.unit_price_cents,
                missing=list(line.missing),
                unexpected=list(line.unexpected),
            )
        )
        if line.variance == 0 and not line.missing and not line.unexpected:
            continue  # nothing moved: no ledger row
        after = _bump(conn, e.store_id, line.sku, line.variance, e.at)
        _ledger(
            conn,
            e,
            movement_id=e.count_id,
            line_no=line_no,
            kind="count",
            day=e.day,
            sku=line.sku,
            category=line.category,
            qty=abs(line.variance),
            delta=line.variance,
            on_hand_after=after,
            serials=[*line.missing, *line.unexpected],
            unit_price_cents=line.unit_price_cents,
            amount_cents=line.variance * line.unit_price_cents,
        )
        moves: list[tuple[str, SerialStatus]] = [
            *((s, "written_off") for s in line.missing),
            *((s, "in_stock") for s in line.unexpected),
        ]
        for serial, status in moves:
            _serial_moved(
                conn,
                e,
                serial=serial,
                sku=line.sku,
                status=status,
                movement_id=e.count_id,
                kind="count",
                day=e.day,
            )
