"""Inventory events → projection rows (loaded by the registry, ``server.domain.projection``).

On-hand is only ever changed here, by adding each movement's signed delta, so the stock level
is the fold of the log: commutative per SKU, and identical when central replays it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
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
from server.domain.sql import upsert

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

# Built once (see ``server.domain.sql``).
_ON_HAND_OF_SKUS = sa.select(stock.c.sku, stock.c.on_hand).where(
    stock.c.store_id == sa.bindparam("store_id"),
    stock.c.sku.in_(sa.bindparam("skus", expanding=True)),
)


def _bump(conn: Connection, e: Event, deltas: Sequence[tuple[str, int]]) -> list[int]:
    """Add each ``(sku, delta)`` to on-hand, in order; the on-hand after each, in that order.

    One upsert per SKU (an atomic ``on_hand + delta``), sent as one ``executemany``, then one
    read of the results, whatever the number of lines.
    """
    totals: dict[str, int] = {}
    for sku, delta in deltas:
        totals[sku] = totals.get(sku, 0) + delta
    if not totals:
        return []
    upsert(
        conn,
        stock,
        [
            {"store_id": e.store_id, "sku": sku, "on_hand": total, "updated_at": e.at}
            for sku, total in totals.items()
        ],
        ["store_id", "sku"],
        increment=["on_hand"],
    )
    final: dict[str, int] = {
        sku: on_hand
        for sku, on_hand in conn.execute(
            _ON_HAND_OF_SKUS, {"store_id": e.store_id, "skus": list(totals)}
        )
    }
    running = {sku: final[sku] - total for sku, total in totals.items()}
    after: list[int] = []
    for sku, delta in deltas:
        running[sku] += delta
        after.append(running[sku])
    return after


def _ledger_row(e: Event, **row: Any) -> dict[str, Any]:
    """One ledger row; columns not given are empty (every row has the same columns, so a
    movement's rows go in as one ``executemany``)."""
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
    return values


def _insert_all(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_insert_of(table), rows)


@functools.cache
def _insert_of(table: sa.Table) -> sa.Insert:
    """``table.insert()``, built once (see ``server.domain.sql``)."""
    return table.insert()


@dataclass(frozen=True)
class _SerialMove:
    """One serialised unit moving to ``status`` (``sale_price_cents`` is kept on a sale)."""

    serial: str
    sku: str
    status: SerialStatus
    sale_price_cents: int | None = None


def _serials_moved(
    conn: Connection,
    e: Event,
    moves: Sequence[_SerialMove],
    *,
    movement_id: UUID,
    kind: MovementKind,
    day: date,
) -> None:
    """Move serialised units to their new status and add the step to each one's history.

    A sale records the price each unit went for; any other move keeps the last sale price
    (a return refunds it by default). Rows are upserted per set of columns, as an
    ``executemany`` needs the same columns in every row.
    """
    rows = [
        {
            "store_id": e.store_id,
            "serial": m.serial,
            "sku": m.sku,
            "status": m.status,
            "last_movement_id": movement_id,
            "updated_at": e.at,
            **({"sale_price_cents": m.sale_price_cents} if m.status == "sold" else {}),
        }
        for m in moves
    ]
    for columns in {tuple(row) for row in rows}:
        same = [row for row in rows if tuple(row) == columns]
        upsert(conn, serials_t, same, ["store_id", "serial"])
    _insert_all(
        conn,
        serial_history,
        [
            {
                "store_id": e.store_id,
                "serial": m.serial,
                "movement_id": movement_id,
                "seq": e.seq,
                "kind": kind,
                "sku": m.sku,
                "status_after": m.status,
                "day": day,
                "at": e.at,
                "actor": e.actor,
            }
            for m in moves
        ],
    )


# ---------------------------------------------------------------- catalog


@projects(ItemDefined)
def _item_defined(conn: Connection, e: ItemDefined) -> None:
    upsert(
        conn,
        items,
        {
            "store_id": e.store_id,
            "sku": e.sku,
            "name": e.name,
            "category": e.category,
            "unit_price_cents": e.unit_price_cents,
            "serialised": e.serialised,
            "active": e.active,
            "created_at": e.at,
            "updated_at": e.at,
        },
        ["store_id", "sku"],
        insert_only=["created_at"],  # a redefined item keeps when it was first defined
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
    after = _bump(conn, e, [(line.sku, sign * line.qty) for line in e.lines])
    ledger: list[dict[str, Any]] = []
    moves: list[_SerialMove] = []
    for line_no, line in enumerate(e.lines):
        price = line.unit_price_cents
        ledger.append(
            _ledger_row(
                e,
                movement_id=e.movement_id,
                line_no=line_no,
                kind=kind,
                day=e.day,
                sku=line.sku,
                category=line.category,
                qty=line.qty,
                delta=sign * line.qty,
                on_hand_after=after[line_no],
                serials=list(line.serials),
                unit_price_cents=price,
                amount_cents=None if price is None else price * line.qty,
                **header,
            )
        )
        moves.extend(_SerialMove(s, line.sku, serial_status, price) for s in line.serials)
    _insert_all(conn, movements, ledger)
    _serials_moved(conn, e, moves, movement_id=e.movement_id, kind=kind, day=e.day)


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
    # An approval decides the pending request; a manager's own adjustment had no request, so
    # its row is created here. Either way the request's own fields are the first writer's.
    upsert(
        conn,
        adjustments,
        {
            "store_id": e.store_id,
            "adjustment_id": e.adjustment_id,
            "sku": e.sku,
            "delta": e.delta,
            "serials": list(e.serials),
            "reason": e.reason,
            "requested_by": e.requested_by,
            "requested_at": e.at,
            "status": "approved",
            "decided_by": e.actor,
            "decided_at": e.at,
            "decision_note": e.note,
        },
        ["store_id", "adjustment_id"],
        insert_only=["sku", "delta", "serials", "reason", "requested_by", "requested_at"],
    )
    (after,) = _bump(conn, e, [(e.sku, e.delta)])
    _insert_all(
        conn,
        movements,
        [
            _ledger_row(
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
        ],
    )
    status: SerialStatus = "in_stock" if e.delta > 0 else "written_off"
    _serials_moved(
        conn,
        e,
        [_SerialMove(s, e.sku, status) for s in e.serials],
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
    if not e.lines:
        return
    conn.execute(
        count_lines.update()
        .where(
            count_lines.c.store_id == e.store_id,
            count_lines.c.count_id == e.count_id,
            count_lines.c.sku == sa.bindparam("b_sku"),
        )
        .values(
            book=sa.bindparam("b_book"),
            variance=sa.bindparam("b_variance"),
            unit_price_cents=sa.bindparam("b_price"),
            missing=sa.bindparam("b_missing"),
            unexpected=sa.bindparam("b_unexpected"),
        ),
        [
            {
                "b_sku": line.sku,
                "b_book": line.book,
                "b_variance": line.variance,
                "b_price": line.unit_price_cents,
                "b_missing": list(line.missing),
                "b_unexpected": list(line.unexpected),
            }
            for line in e.lines
        ],
    )
    # Lines where nothing moved get no ledger row.
    moved = [
        (line_no, line)
        for line_no, line in enumerate(e.lines)
        if line.variance != 0 or line.missing or line.unexpected
    ]
    after = _bump(conn, e, [(line.sku, line.variance) for _, line in moved])
    _insert_all(
        conn,
        movements,
        [
            _ledger_row(
                e,
                movement_id=e.count_id,
                line_no=line_no,
                kind="count",
                day=e.day,
                sku=line.sku,
                category=line.category,
                qty=abs(line.variance),
                delta=line.variance,
                on_hand_after=after[i],
                serials=[*line.missing, *line.unexpected],
                unit_price_cents=line.unit_price_cents,
                amount_cents=line.variance * line.unit_price_cents,
            )
            for i, (line_no, line) in enumerate(moved)
        ],
    )
    _serials_moved(
        conn,
        e,
        [
            *(_SerialMove(s, line.sku, "written_off") for _, line in moved for s in line.missing),
            *(_SerialMove(s, line.sku, "in_stock") for _, line in moved for s in line.unexpected),
        ],
        movement_id=e.count_id,
        kind="count",
        day=e.day,
    )
