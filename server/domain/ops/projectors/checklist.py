"""Opening checklist events → ``ops_checklists`` and ``ops_checklist_items`` rows."""

from __future__ import annotations

from schema.events.ops import ChecklistCompleted, ChecklistItemChecked, ChecklistStarted
from schema.tables.ops import ops_checklist_items, ops_checklists
from server.domain.projection import projects
from server.domain.rows import Rows


@projects(ChecklistStarted)
def _started(rows: Rows, e: ChecklistStarted) -> None:
    rows.insert(
        ops_checklists,
        dict(
            store_id=e.store_id,
            checklist_id=e.checklist_id,
            day=e.day,
            status="open",
            item_count=len(e.items),
            started_at=e.at,
            started_by=e.actor,
        ),
    )
    rows.insert_many(
        ops_checklist_items,
        [
            {
                "store_id": e.store_id,
                "checklist_id": e.checklist_id,
                "code": item.code,
                "position": i,
                "label": item.label,
                "equipment": item.equipment,
                "status": "unchecked",
                "note": "",
                "fault_id": None,
                "checked_by": None,
                "checked_at": None,
            }
            for i, item in enumerate(e.items)
        ],
    )


@projects(ChecklistItemChecked)
def _item_checked(rows: Rows, e: ChecklistItemChecked) -> None:
    rows.update(
        ops_checklist_items,
        {"store_id": e.store_id, "checklist_id": e.checklist_id, "code": e.item},
        set=dict(
            status="ok" if e.ok else "not_ok",
            note=e.note,
            fault_id=e.fault_id,
            checked_by=e.actor,
            checked_at=e.at,
        ),
    )


@projects(ChecklistCompleted)
def _completed(rows: Rows, e: ChecklistCompleted) -> None:
    rows.update(
        ops_checklists,
        {"store_id": e.store_id, "checklist_id": e.checklist_id},
        set=dict(
            status="completed",
            completed_at=e.at,
            completed_by=e.actor,
            not_ok_count=len(e.not_ok_items),
            minutes_after_open=e.minutes_after_open,
        ),
    )
