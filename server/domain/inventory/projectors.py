"""Inventory events → projection rows (loaded by the registry, ``server.domain.projection``).

On-hand is only ever changed here, by adding each movement's signed delta, so the stock level
is the fold of the log: commutative per SKU, and identical when central replays it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa

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
from server.domain.rows import Rows

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


def _stock_key(e: Event, sku: str) -> dict[str, Any]:
    return {"store_id": e.store_id, "sku": sku}


def _stock_reads(e: Event, skus: Iterable[str]) -> list[tuple[sa.Table, dict[str, Any]]]:
    """The stock rows ``_bump`` will read (``projects(reads=…)``)."""
    return [(stock, _stock_key(e, sku)) for sku in dict.fromkeys(skus)]


def _bump(rows: Rows, e: Event, deltas: Sequence[tuple[str, int]]) -> list[int]:
    """Add each ``(sku, delta)`` to on-hand, in order; the on-hand after each, in that order.

    One upsert per SKU (``on_hand + delta``), then a read of each SKU's row: its projector
    declares those reads, so central reads a whole batch's in one statement.
    """
    totals: dict[str, int] = {}
    for sku, delta in deltas:
        totals[sku] = totals.get(sku, 0) + delta
    running: dict[str, int] = {}
    for sku, total in totals.items():
        rows.upsert(
            stock,
            {"store_id": e.store_id, "sku": sku, "on_hand": total, "updated_at": e.at},
            set=("updated_at",),
            inc=("on_hand",),
        )
        row = rows.get(stock, _stock_key(e, sku))
        assert row is not None  # just upserted
        running[sku] = row["on_hand"] - total
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


@dataclass(frozen=True)
class _SerialMove:
    """One serialised unit moving to ``status`` (``sale_price_cents`` is kept on a sale)."""

    serial: str
    sku: str
    status: SerialStatus
    sale_price_cents: int | None = None


_SERIAL_MOVED = ("sku", "status", "last_movement_id", "updated_at")


def _serials_moved(
    rows: Rows,
    e: Event,
    moves: Sequence[_SerialMove],
    *,
    movement_id: UUID,
    kind: MovementKind,
    day: date,
) -> None:
    """Move serialised units to their new status and add the step to each one's history.

    A sale records the price each unit went for; any other move keeps the last sale price
    (a return refunds it by default).
    """
    for sold in (False, True):  # a sale also sets the price: two shapes of row
        rows.upsert_many(
            serials_t,
            [
                {
                    "store_id": e.store_id,
                    "serial": m.serial,
                    "sku": m.sku,
                    "status": m.status,
                    "last_movement_id": movement_id,
                    "updated_at": e.at,
                    **({"sale_price_cents": m.sale_price_cents} if sold else {}),
                }
                for m in moves
                if (m.status == "sold") == sold
            ],
            set=(*_SERIAL_MOVED, "sale_price_cents") if sold else _SERIAL_MOVED,
        )
    rows.insert_many(
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
def _item_defined(rows: Rows, e: ItemDefined) -> None:
    rows.upsert(
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
        # A redefined item keeps when it was first defined (``created_at``).
        set=("name", "category", "unit_price_cents", "serialised", "active", "updated_at"),
    )


@projects(ItemPriceChanged)
def _price_changed(rows: Rows, e: ItemPriceChanged) -> None:
    rows.update(
        items,
        {"store_id": e.store_id, "sku": e.sku},
        set={"unit_price_cents": e.unit_price_cents, "updated_at": e.at},
    )


# ---------------------------------------------------------------- movements


@projects(
    StockReceived,
    StockTransferredIn,
    StockReturned,
    StockSold,
    StockTransferredOut,
    StockWrittenOff,
    reads=lambda e: _stock_reads(e, (line.sku for line in e.lines)),
)
def _moved(rows: Rows, e: StockMovement) -> None:
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
    after = _bump(rows, e, [(line.sku, sign * line.qty) for line in e.lines])
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
    rows.insert_many(movements, ledger)
    _serials_moved(rows, e, moves, movement_id=e.movement_id, kind=kind, day=e.day)


# ---------------------------------------------------------------- adjustments


def _adjustment_key(e: AdjustmentRequested | AdjustmentRejected | StockAdjusted) -> dict[str, Any]:
    return {"store_id": e.store_id, "adjustment_id": e.adjustment_id}


@projects(AdjustmentRequested)
def _adjustment_requested(rows: Rows, e: AdjustmentRequested) -> None:
    rows.insert(
        adjustments,
        dict(
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
        ),
    )


@projects(AdjustmentRejected)
def _adjustment_rejected(rows: Rows, e: AdjustmentRejected) -> None:
    rows.update(
        adjustments,
        _adjustment_key(e),
        set=dict(status="rejected", decided_by=e.actor, decided_at=e.at, decision_note=e.note),
    )


@projects(StockAdjusted, reads=lambda e: _stock_reads(e, [e.sku]))
def _adjusted(rows: Rows, e: StockAdjusted) -> None:
    # An approval decides the pending request; a manager's own adjustment had no request, so
    # its row is created here. Either way the request's own fields are the first writer's.
    rows.upsert(
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
        set=("status", "decided_by", "decided_at", "decision_note"),
    )
    (after,) = _bump(rows, e, [(e.sku, e.delta)])
    rows.insert(
        movements,
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
        ),
    )
    status: SerialStatus = "in_stock" if e.delta > 0 else "written_off"
    _serials_moved(
        rows,
        e,
        [_SerialMove(s, e.sku, status) for s in e.serials],
        movement_id=e.adjustment_id,
        kind="adjust",
        day=e.day,
    )


# ---------------------------------------------------------------- counts


def _count_key(
    e: CountOpened | CountLineRecorded | CountCancelled | StockCounted,
) -> dict[str, Any]:
    return {"store_id": e.store_id, "count_id": e.count_id}


def _line_key(e: CountLineRecorded | StockCounted, sku: str) -> dict[str, Any]:
    return {"store_id": e.store_id, "count_id": e.count_id, "sku": sku}


@projects(CountOpened)
def _count_opened(rows: Rows, e: CountOpened) -> None:
    rows.insert(
        counts,
        dict(
            store_id=e.store_id,
            count_id=e.count_id,
            status="open",
            all_items=e.all_items,
            note=e.note,
            opened_by=e.actor,
            opened_at=e.at,
            cancel_reason="",
        ),
    )
    rows.insert_many(
        count_lines,
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


@projects(CountLineRecorded)
def _count_line(rows: Rows, e: CountLineRecorded) -> None:
    rows.update(
        count_lines,
        _line_key(e, e.sku),
        set=dict(counted=e.counted, serials=list(e.serials), recorded_by=e.actor, recorded_at=e.at),
    )


@projects(CountCancelled)
def _count_cancelled(rows: Rows, e: CountCancelled) -> None:
    rows.update(
        counts,
        _count_key(e),
        set=dict(status="cancelled", closed_by=e.actor, closed_at=e.at, cancel_reason=e.reason),
    )


def _moved_lines(e: StockCounted) -> list[tuple[int, Any]]:
    """The count's lines where something moved (the others get no ledger row)."""
    return [
        (line_no, line)
        for line_no, line in enumerate(e.lines)
        if line.variance != 0 or line.missing or line.unexpected
    ]


@projects(StockCounted, reads=lambda e: _stock_reads(e, (line.sku for _, line in _moved_lines(e))))
def _counted(rows: Rows, e: StockCounted) -> None:
    rows.update(
        counts,
        _count_key(e),
        set=dict(status="posted", closed_by=e.actor, closed_at=e.at, posted_day=e.day),
    )
    for line in e.lines:
        rows.update(
            count_lines,
            _line_key(e, line.sku),
            set={
                "book": line.book,
                "variance": line.variance,
                "unit_price_cents": line.unit_price_cents,
                "missing": list(line.missing),
                "unexpected": list(line.unexpected),
            },
        )
    moved = _moved_lines(e)
    after = _bump(rows, e, [(line.sku, line.variance) for _, line in moved])
    rows.insert_many(
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
        rows,
        e,
        [
            *(_SerialMove(s, line.sku, "written_off") for _, line in moved for s in line.missing),
            *(_SerialMove(s, line.sku, "in_stock") for _, line in moved for s in line.unexpected),
        ],
        movement_id=e.count_id,
        kind="count",
        day=e.day,
    )
