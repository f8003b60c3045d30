"""The inventory domain (库存 · 物资): commands, projectors and reads, in one namespace.

Importing this module registers the inventory projectors. The work lives in helpers:

- ``inventory_moves``: the catalog and stock movements (入库 销售 调拨 退货 报损)
- ``inventory_counts``: adjustments (调整) and stock counts (盘点)
- ``inventory_reads``: every read, and ``stockouts`` for the store KPIs
- ``inventory_serials``: IMEI / ICCID validation
- ``inventory_projectors``: events → tables
"""

from __future__ import annotations

from server.domain import inventory_projectors as _projectors  # noqa: F401 - registers them
from server.domain.inventory_counts import (
    adjust,
    approve_adjustment,
    cancel_count,
    open_count,
    post_count,
    record_count_line,
    reject_adjustment,
    request_adjustment,
)
from server.domain.inventory_moves import (
    define_item,
    receive,
    return_stock,
    sell,
    transfer_in,
    transfer_out,
    update_item,
    write_off,
)
from server.domain.inventory_reads import (
    DEFAULT_LOW_THRESHOLD,
    adjustment_out,
    count_out,
    get_adjustment,
    get_count,
    get_item,
    get_movement,
    get_serial,
    get_stock,
    item_out,
    list_adjustments,
    list_counts,
    list_items,
    list_movements,
    list_stock,
    movement_line_out,
    on_hand,
    stock_out,
    stockouts,
)
from server.domain.inventory_serials import luhn_ok

__all__ = [
    "DEFAULT_LOW_THRESHOLD",
    "adjust",
    "adjustment_out",
    "approve_adjustment",
    "cancel_count",
    "count_out",
    "define_item",
    "get_adjustment",
    "get_count",
    "get_item",
    "get_movement",
    "get_serial",
    "get_stock",
    "item_out",
    "list_adjustments",
    "list_counts",
    "list_items",
    "list_movements",
    "list_stock",
    "luhn_ok",
    "movement_line_out",
    "on_hand",
    "open_count",
    "post_count",
    "receive",
    "record_count_line",
    "reject_adjustment",
    "request_adjustment",
    "return_stock",
    "sell",
    "stock_out",
    "stockouts",
    "transfer_in",
    "transfer_out",
    "update_item",
    "write_off",
]
