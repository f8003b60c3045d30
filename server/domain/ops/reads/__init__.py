"""The reads of daily operations, one module per record kind: ``checklist`` (开门准备),
``faults`` (设备故障), ``safety`` (消防演练, 防火检查) and ``training`` (培训)."""

from __future__ import annotations

from server.domain.ops.reads.checklist import (
    checklist_id_of,
    checklist_summary_out,
    get_checklist,
    get_checklist_by_day,
    list_checklists,
)
from server.domain.ops.reads.faults import (
    OPEN_STATUSES,
    fault_out,
    get_fault,
    list_faults,
    open_faults,
)
from server.domain.ops.reads.safety import (
    fire_inspection_out,
    get_fire_drill,
    get_fire_inspection,
    list_fire_inspections,
    page_fire_drills,
)
from server.domain.ops.reads.training import (
    get_training,
    list_trainings,
    monthly_attendance,
    monthly_attendance_out,
    training_out,
)

__all__ = [
    "OPEN_STATUSES",
    "checklist_id_of",
    "checklist_summary_out",
    "fault_out",
    "fire_inspection_out",
    "get_checklist",
    "get_checklist_by_day",
    "get_fault",
    "get_fire_drill",
    "get_fire_inspection",
    "get_training",
    "list_checklists",
    "list_faults",
    "list_fire_inspections",
    "list_trainings",
    "monthly_attendance",
    "monthly_attendance_out",
    "open_faults",
    "page_fire_drills",
    "training_out",
]
