"""Opening checklist events → ``ops_checklists`` and ``ops_checklist_items`` rows."""

from __future__ import annotations

from sqlalchemy import Connection

from schema.events.ops import ChecklistCompleted, ChecklistItemChecked, ChecklistStarted
from schema.tables.ops import ops_checklist_items, ops_checklists
from server.domain.projection import projects


@projects(ChecklistStarted)
def _started(conn: Connection, e: ChecklistStarted) -> None:
    conn.execute(
        ops_checklists.insert().values(
            store_id=e.store_id,
            checklist_id=e.checklist_id,
            day=e.day,
            status="open",
            item_count=len(e.items),
            started_at=e.at,
            started_by=e.actor,
        )
    )
    conn.execute(
        ops_checklist_items.insert(),
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
def _item_checked(conn: Connection, e: ChecklistItemChecked) -> None:
    t = ops_checklist_items
    conn.execute(
        t.update()
        .where(t.c.store_id == e.store_id, t.c.checklist_id == e.checklist_id, t.c.code == e.item)
        .values(
            status="ok" if e.ok else "not_ok",
            note=e.note,
            fault_id=e.fault_id,
            checked_by=e.actor,
            checked_at=e.at,
        )
    )


@projects(ChecklistCompleted)
def _completed(conn: Connection, e: ChecklistCompleted) -> None:
    t = ops_checklists
    conn.execute(
        t.update()
        .where(t.c.store_id == e.store_id, t.c.checklist_id == e.checklist_id)
        .values(
            status="completed",
            completed_at=e.at,
            completed_by=e.actor,
            not_ok_count=len(e.not_ok_items),
            minutes_after_open=e.minutes_after_open,
        )
    )
