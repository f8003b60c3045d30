"""Fire safety events → ``ops_fire_drills``, ``ops_fire_drill_participants`` and
``ops_fire_inspections`` rows.
"""

from __future__ import annotations

from sqlalchemy import Connection

from schema.events.ops import FireDrillRecorded, FireInspectionRecorded
from schema.tables.ops import ops_fire_drill_participants, ops_fire_drills, ops_fire_inspections
from server.domain.projection import projects


@projects(FireDrillRecorded)
def _drill(conn: Connection, e: FireDrillRecorded) -> None:
    conn.execute(
        ops_fire_drills.insert().values(
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
        )
    )
    if e.participants:
        conn.execute(
            ops_fire_drill_participants.insert(),
            [
                {"store_id": e.store_id, "drill_id": e.drill_id, "user_id": u}
                for u in e.participants
            ],
        )


@projects(FireInspectionRecorded)
def _inspection(conn: Connection, e: FireInspectionRecorded) -> None:
    conn.execute(
        ops_fire_inspections.insert().values(
            store_id=e.store_id,
            inspection_id=e.inspection_id,
            day=e.day,
            inspector=e.inspector,
            passed=e.passed,
            issues=list(e.issues),
            note=e.note,
            recorded_at=e.at,
            recorded_by=e.actor,
        )
    )
