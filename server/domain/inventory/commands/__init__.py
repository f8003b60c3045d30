"""The inventory's commands, one module per noun: ``moves`` (the catalog and stock movements:
入库 销售 调拨 退货 报损) and ``counts`` (adjustments 调整 and stock counts 盘点)."""

from __future__ import annotations

from server.domain.inventory.commands.counts import (
    adjust,
    approve_adjustment,
    cancel_count,
    open_count,
    post_count,
    record_count_line,
    reject_adjustment,
    request_adjustment,
)
from server.domain.inventory.commands.moves import (
    define_item,
    receive,
    return_stock,
    sell,
    transfer_in,
    transfer_out,
    update_item,
    write_off,
)

__all__ = [
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
]
