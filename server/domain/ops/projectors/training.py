"""Training events → ``ops_trainings`` and ``ops_training_attendance`` rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from schema.events.ops import (
    TrainingAttendanceRecorded,
    TrainingCancelled,
    TrainingCompleted,
    TrainingPlanned,
)
from schema.tables.ops import ops_training_attendance, ops_trainings
from server.domain.projection import projects
from server.domain.rows import Rows


@projects(TrainingPlanned)
def _planned(rows: Rows, e: TrainingPlanned) -> None:
    rows.insert(
        ops_trainings,
        dict(
            store_id=e.store_id,
            session_id=e.session_id,
            topic=e.topic,
            kind=e.kind,
            day=e.day,
            start_time=e.start_time,
            duration_min=e.duration_min,
            trainer=e.trainer,
            status="planned",
            planned_at=e.at,
            planned_by=e.actor,
        ),
    )
    rows.insert_many(
        ops_training_attendance,
        [
            {
                "store_id": e.store_id,
                "session_id": e.session_id,
                "user_id": user_id,
                "invited": True,
                "status": None,
                "note": "",
                "recorded_at": None,
                "recorded_by": None,
            }
            for user_id in e.invited
        ],
    )


@projects(TrainingAttendanceRecorded)
def _attendance(rows: Rows, e: TrainingAttendanceRecorded) -> None:
    # An invited member's row exists from planning; anyone else joined uninvited (walk-in),
    # which only the row's creation says.
    rows.upsert(
        ops_training_attendance,
        {
            "store_id": e.store_id,
            "session_id": e.session_id,
            "user_id": e.user_id,
            "invited": False,
            "status": e.status,
            "note": e.note,
            "recorded_at": e.at,
            "recorded_by": e.actor,
        },
        set=("status", "note", "recorded_at", "recorded_by"),
    )


@projects(TrainingCompleted)
def _completed(rows: Rows, e: TrainingCompleted) -> None:
    _set(rows, e.store_id, e.session_id, status="completed", completed_at=e.at)


@projects(TrainingCancelled)
def _cancelled(rows: Rows, e: TrainingCancelled) -> None:
    _set(
        rows,
        e.store_id,
        e.session_id,
        status="cancelled",
        cancelled_at=e.at,
        cancel_reason=e.reason,
    )


def _set(rows: Rows, store_id: str, session_id: UUID, **values: Any) -> None:
    rows.update(ops_trainings, {"store_id": store_id, "session_id": session_id}, set=values)
