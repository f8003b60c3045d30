"""Daily operations (日常运营) and training (培训): the domain's one entry point.

The logic lives in one module per record kind; importing them here registers their projectors
(``server.domain.projection`` imports this module) and gives callers one name to import:

- ``ops_checklist``: the opening checklist (开门准备), one per store-local day;
- ``ops_faults``: equipment faults (设备故障) and their repair;
- ``ops_safety``: fire drills (消防演练) and fire inspections (防火检查);
- ``ops_training``: training sessions (培训) and monthly attendance.
"""

from __future__ import annotations

from server.domain.ops_checklist import (
    STANDARD_ITEMS,
    check_item,
    checklist_id_of,
    checklist_summary_out,
    complete_checklist,
    get_checklist,
    get_checklist_by_day,
    list_checklists,
    start_checklist,
)
from server.domain.ops_faults import (
    OPEN_STATUSES,
    cancel_fault,
    fault_out,
    get_fault,
    list_faults,
    open_faults,
    reopen_fault,
    repair_fault,
    report_fault,
    start_repair,
)
from server.domain.ops_safety import (
    fire_inspection_out,
    get_fire_drill,
    get_fire_inspection,
    list_fire_inspections,
    page_fire_drills,
    record_fire_drill,
    record_fire_inspection,
)
from server.domain.ops_training import (
    cancel_training,
    complete_training,
    get_training,
    list_trainings,
    monthly_attendance,
    monthly_attendance_out,
    plan_training,
    record_attendance,
    training_out,
)

__all__ = [
    "OPEN_STATUSES",
    "STANDARD_ITEMS",
    "cancel_fault",
    "cancel_training",
    "check_item",
    "checklist_id_of",
    "checklist_summary_out",
    "complete_checklist",
    "complete_training",
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
    "plan_training",
    "record_attendance",
    "record_fire_drill",
    "record_fire_inspection",
    "reopen_fault",
    "repair_fault",
    "report_fault",
    "start_checklist",
    "start_repair",
    "training_out",
]
