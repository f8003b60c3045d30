"""The inventory domain (库存 · 物资): the catalog, stock movements, adjustments and counts.

- ``commands``: one module per noun, ``moves`` (the catalog and stock movements: 入库 销售 调拨
  退货 报损) and ``counts`` (adjustments 调整 and stock counts 盘点);
- ``projectors``: events → the catalog, stock levels, the ledger, serials, adjustments, counts;
- ``reads``: every read, and ``stockouts`` for the store KPIs;
- ``rules``: which items carry serials, IMEI / ICCID validation.

The names below are the package's public face, imported from their module on first use
(``server.domain.facade``), so that loading the projectors imports no command or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.domain.inventory.commands import adjust as adjust
    from server.domain.inventory.commands import approve_adjustment as approve_adjustment
    from server.domain.inventory.commands import cancel_count as cancel_count
    from server.domain.inventory.commands import define_item as define_item
    from server.domain.inventory.commands import open_count as open_count
    from server.domain.inventory.commands import post_count as post_count
    from server.domain.inventory.commands import receive as receive
    from server.domain.inventory.commands import record_count_line as record_count_line
    from server.domain.inventory.commands import reject_adjustment as reject_adjustment
    from server.domain.inventory.commands import request_adjustment as request_adjustment
    from server.domain.inventory.commands import return_stock as return_stock
    from server.domain.inventory.commands import sell as sell
    from server.domain.inventory.commands import transfer_in as transfer_in
    from server.domain.inventory.commands import transfer_out as transfer_out
    from server.domain.inventory.commands import update_item as update_item
    from server.domain.inventory.commands import write_off as write_off
    from server.domain.inventory.reads import DEFAULT_LOW_THRESHOLD as DEFAULT_LOW_THRESHOLD
    from server.domain.inventory.reads import adjustment_out as adjustment_out
    from server.domain.inventory.reads import count_out as count_out
    from server.domain.inventory.reads import get_adjustment as get_adjustment
    from server.domain.inventory.reads import get_count as get_count
    from server.domain.inventory.reads import get_item as get_item
    from server.domain.inventory.reads import get_movement as get_movement
    from server.domain.inventory.reads import get_serial as get_serial
    from server.domain.inventory.reads import get_stock as get_stock
    from server.domain.inventory.reads import item_out as item_out
    from server.domain.inventory.reads import list_adjustments as list_adjustments
    from server.domain.inventory.reads import list_counts as list_counts
    from server.domain.inventory.reads import list_items as list_items
    from server.domain.inventory.reads import list_movements as list_movements
    from server.domain.inventory.reads import list_stock as list_stock
    from server.domain.inventory.reads import movement_line_out as movement_line_out
    from server.domain.inventory.reads import on_hand as on_hand
    from server.domain.inventory.reads import stock_out as stock_out
    from server.domain.inventory.reads import stockouts as stockouts
    from server.domain.inventory.rules import luhn_ok as luhn_ok
else:
    from server.domain.facade import lazy_names

    __getattr__, __dir__ = lazy_names(
        __name__,
        commands=(
            "adjust",
            "approve_adjustment",
            "cancel_count",
            "define_item",
            "open_count",
            "post_count",
            "receive",
            "record_count_line",
            "reject_adjustment",
            "request_adjustment",
            "return_stock",
            "sell",
            "transfer_in",
            "transfer_out",
            "update_item",
            "write_off",
        ),
        reads=(
            "DEFAULT_LOW_THRESHOLD",
            "adjustment_out",
            "count_out",
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
            "movement_line_out",
            "on_hand",
            "stock_out",
            "stockouts",
        ),
        rules=("luhn_ok",),
    )
