"""The commands of daily operations, one module per record kind: ``checklist`` (开门准备),
``faults`` (设备故障), ``safety`` (消防演练, 防火检查) and ``training`` (培训)."""

from __future__ import annotations

from server.domain.ops.commands.checklist import (
    STANDARD_ITEMS,
    check_item,
    complete_checklist,
    start_checklist,
)
from server.domain.ops.commands.faults import (
    cancel_fault,
    reopen_fault,
    repair_fault,
    report_fault,
    start_repair,
)
from server.domain.ops.commands.safety import record_fire_drill, record_fire_inspection
from server.domain.ops.commands.training import (
    cancel_training,
    complete_training,
    plan_training,
    record_attendance,
)

__all__ = [
    "STANDARD_ITEMS",
    "cancel_fault",
    "cancel_training",
    "check_item",
    "complete_checklist",
    "complete_training",
    "plan_training",
    "record_attendance",
    "record_fire_drill",
    "record_fire_inspection",
    "reopen_fault",
    "repair_fault",
    "report_fault",
    "start_checklist",
    "start_repair",
]
