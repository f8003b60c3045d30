"""Fire safety events → ``ops_fire_drills``, ``ops_fire_drill_participants`` and
``ops_fire_inspections`` rows.
"""

from __future__ import annotations

from schema.events.ops import FireDrillRecorded, FireInspectionRecorded
from schema.tables.ops import ops_fire_drill_participants, ops_fire_drills, ops_fire_inspections
from server.domain.projection import projects
from server.domain.rows import Rows


@projects(FireDrillRecorded)
def _drill(rows: Rows, e: FireDrillRecorded) -> None:
    rows.insert(
        ops_fire_drills,
        dict(
            store_id=e.store_id,
            drill_id=e.drill_id,
            day=e.day,
            start_time=e.start_time,
            end_time=e.end_time,
            duration_min=e.duration_min,
            scenario=e.scenario,
            findings=e.findings,
            conducted_by=e.conducted_by,
            participant_count=len(e.participants),
            recorded_at=e.at,
            recorded_by=e.actor,
        ),
    )
    rows.insert_many(
        ops_fire_drill_participants,
        [{"store_id": e.store_id, "drill_id": e.drill_id, "user_id": u} for u in e.participants],
    )


@projects(FireInspectionRecorded)
def _inspection(rows: Rows, e: FireInspectionRecorded) -> None:
    rows.insert(
        ops_fire_inspections,
        dict(
            store_id=e.store_id,
            inspection_id=e.inspection_id,
            day=e.day,
            inspector=e.inspector,
            passed=e.passed,
            issues=list(e.issues),
            note=e.note,
            recorded_at=e.at,
            recorded_by=e.actor,
        ),
    )
