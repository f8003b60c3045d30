"""The opening checklist (开门准备): one per store-local day, every item checked before the day's
checklist can be signed off. Its commands.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from uuid_utils.compat import uuid7

from schema.api.ops import CheckItemIn, ChecklistOut
from schema.events.ops import (
    ChecklistCompleted,
    ChecklistItemChecked,
    ChecklistItemSpec,
    ChecklistStarted,
)
from schema.tables.ops import ops_faults
from server.domain.calendar import whole_minutes
from server.domain.context import Ctx
from server.domain.guards import require_state
from server.domain.ops.reads.checklist import (
    checklist_by_day,
    checklist_items,
    checklist_row,
    get_checklist,
    get_checklist_by_day,
)
from server.domain.sql import find_row
from server.errors import Incomplete, NotFound, ValidationFailed

STANDARD_ITEMS: tuple[ChecklistItemSpec, ...] = (
    ChecklistItemSpec(code="staff_on_time", label="员工按时到岗、着装规范"),
    ChecklistItemSpec(code="cash_register", label="收款机正常", equipment="cash_register"),
    ChecklistItemSpec(code="printers", label="打印机正常、纸张充足", equipment="printer"),
    ChecklistItemSpec(code="pcs", label="业务电脑正常登录", equipment="pc"),
    ChecklistItemSpec(code="pos", label="POS机正常", equipment="pos"),
    ChecklistItemSpec(code="queue_machine", label="排队叫号机正常", equipment="queue_machine"),
    ChecklistItemSpec(code="displays", label="叫号屏、宣传屏正常", equipment="display"),
    ChecklistItemSpec(code="network", label="网络畅通", equipment="network"),
    ChecklistItemSpec(code="hall_clean", label="厅堂干净整洁"),
    ChecklistItemSpec(code="desks_in_order", label="台席物品摆放整齐"),
    ChecklistItemSpec(code="signage", label="标识牌、暂停服务牌齐备"),
    ChecklistItemSpec(code="fire_exits_clear", label="消防通道畅通、灭火器到位"),
)
"""The standard opening checks. A started checklist keeps the list it was started with (it is
in the event), so changing this list never rewrites past days."""


class Started(NamedTuple):
    """What starting the day's checklist gave: the checklist, and whether this call created
    it (False when it had been started already)."""

    checklist: ChecklistOut
    created: bool


def start_checklist(ctx: Ctx) -> Started:
    """Start today's checklist; if it is already started, return it unchanged (idempotent)."""
    day = ctx.today
    created = checklist_by_day(ctx.conn, ctx.store_id, day) is None
    if created:
        ctx.emit(ChecklistStarted, checklist_id=uuid7(), day=day, items=STANDARD_ITEMS)
    return Started(get_checklist_by_day(ctx.conn, ctx.store_id, day), created)


def _open_checklist(ctx: Ctx, checklist_id: UUID, action: str) -> Any:
    row = checklist_row(ctx.conn, ctx.store_id, checklist_id)
    require_state(row.status, ["open"], action, f"the checklist of {row.day}")
    return row


def check_item(ctx: Ctx, checklist_id: UUID, code: str, cmd: CheckItemIn) -> ChecklistOut:
    """Mark one item ok or not ok; checking it again replaces the earlier mark."""
    row = _open_checklist(ctx, checklist_id, "check an item of")
    items = {i.code: i for i in checklist_items(ctx.conn, ctx.store_id, checklist_id)}
    if code not in items:
        raise NotFound(f"the checklist of {row.day} has no item {code!r}")
    note = cmd.note.strip()
    if not cmd.ok and not note:
        raise ValidationFailed("say what is wrong when an item is not ok", field="note")
    if cmd.fault_id is not None:
        f = ops_faults
        if find_row(ctx.conn, f, ctx.store_id, f.c.fault_id, cmd.fault_id) is None:
            raise ValidationFailed(f"no fault {cmd.fault_id} in this store", field="fault_id")
    ctx.emit(
        ChecklistItemChecked,
        checklist_id=checklist_id,
        item=code,
        ok=cmd.ok,
        note=note,
        fault_id=cmd.fault_id,
    )
    return get_checklist(ctx.conn, ctx.store_id, checklist_id)


def complete_checklist(ctx: Ctx, checklist_id: UUID) -> ChecklistOut:
    """Sign the checklist off; refused while any item is unchecked."""
    row = _open_checklist(ctx, checklist_id, "complete")
    items = checklist_items(ctx.conn, ctx.store_id, checklist_id)
    unchecked = [i.code for i in items if i.status == "unchecked"]
    if unchecked:
        raise Incomplete(
            f"{len(unchecked)} item(s) not checked yet: {', '.join(unchecked)}",
            unchecked=unchecked,
        )
    opening = datetime.combine(row.day, ctx.store.open_time, tzinfo=ctx.store.zone)
    ctx.emit(
        ChecklistCompleted,
        checklist_id=checklist_id,
        day=row.day,
        not_ok_items=tuple(i.code for i in items if i.status == "not_ok"),
        minutes_after_open=whole_minutes(opening, ctx.now),
    )
    return get_checklist(ctx.conn, ctx.store_id, checklist_id)
