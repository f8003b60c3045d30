"""Daily operations (日常运营) and training (培训).

``commands``, ``projectors`` and ``reads`` each hold one module per record kind:

- ``checklist``: the opening checklist (开门准备), one per store-local day;
- ``faults``: equipment faults (设备故障) and their repair;
- ``safety``: fire drills (消防演练) and fire inspections (防火检查);
- ``training``: training sessions (培训) and monthly attendance.

The names below are the package's public face, imported from their module on first use
(``server.domain.facade``), so that loading the projectors imports no command or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.domain.ops.commands import STANDARD_ITEMS as STANDARD_ITEMS
    from server.domain.ops.commands import cancel_fault as cancel_fault
    from server.domain.ops.commands import cancel_training as cancel_training
    from server.domain.ops.commands import check_item as check_item
    from server.domain.ops.commands import complete_checklist as complete_checklist
    from server.domain.ops.commands import complete_training as complete_training
    from server.domain.ops.commands import plan_training as plan_training
    from server.domain.ops.commands import record_attendance as record_attendance
    from server.domain.ops.commands import record_fire_drill as record_fire_drill
    from server.domain.ops.commands import record_fire_inspection as record_fire_inspection
    from server.domain.ops.commands import reopen_fault as reopen_fault
    from server.domain.ops.commands import repair_fault as repair_fault
    from server.domain.ops.commands import report_fault as report_fault
    from server.domain.ops.commands import start_checklist as start_checklist
    from server.domain.ops.commands import start_repair as start_repair
    from server.domain.ops.reads import OPEN_STATUSES as OPEN_STATUSES
    from server.domain.ops.reads import checklist_id_of as checklist_id_of
    from server.domain.ops.reads import checklist_summary_out as checklist_summary_out
    from server.domain.ops.reads import fault_out as fault_out
    from server.domain.ops.reads import fire_inspection_out as fire_inspection_out
    from server.domain.ops.reads import get_checklist as get_checklist
    from server.domain.ops.reads import get_checklist_by_day as get_checklist_by_day
    from server.domain.ops.reads import get_fault as get_fault
    from server.domain.ops.reads import get_fire_drill as get_fire_drill
    from server.domain.ops.reads import get_fire_inspection as get_fire_inspection
    from server.domain.ops.reads import get_training as get_training
    from server.domain.ops.reads import list_checklists as list_checklists
    from server.domain.ops.reads import list_faults as list_faults
    from server.domain.ops.reads import list_fire_inspections as list_fire_inspections
    from server.domain.ops.reads import list_trainings as list_trainings
    from server.domain.ops.reads import monthly_attendance as monthly_attendance
    from server.domain.ops.reads import monthly_attendance_out as monthly_attendance_out
    from server.domain.ops.reads import open_faults as open_faults
    from server.domain.ops.reads import page_fire_drills as page_fire_drills
    from server.domain.ops.reads import training_out as training_out
else:
    from server.domain.facade import lazy_names

    __getattr__, __dir__ = lazy_names(
        __name__,
        commands=(
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
        ),
        reads=(
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
        ),
    )
