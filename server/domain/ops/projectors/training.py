"""Training events → ``ops_trainings`` and ``ops_training_attendance`` rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from schema.events.ops import (
    TrainingAttendanceRecorded,
    TrainingCancelled,
    TrainingCompleted,
    TrainingPlanned,
)
from schema.tables.ops import ops_training_attendance, ops_trainings
from server.domain.projection import projects
from server.domain.sql import upsert


@projects(TrainingPlanned)
def _planned(conn: Connection, e: TrainingPlanned) -> None:
    conn.execute(
        ops_trainings.insert().values(
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
        )
    )
    if e.invited:
        conn.execute(
            ops_training_attendance.insert(),
            [
                {
                    "store_id": e.store_id,
                    "session_id": e.session_id,
                    "user_id": u,
                    "invited": True,
                    "status": None,
                    "note": "",
                    "recorded_at": None,
                    "recorded_by": None,
                }
                for u in e.invited
            ],
        )


@projects(TrainingAttendanceRecorded)
def _attendance(conn: Connection, e: TrainingAttendanceRecorded) -> None:
    # An invited member's row exists from planning; anyone else joined uninvited (walk-in),
    # which only the row's creation says.
    upsert(
        conn,
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
        ["store_id", "session_id", "user_id"],
        insert_only=["invited"],
    )


@projects(TrainingCompleted)
def _completed(conn: Connection, e: TrainingCompleted) -> None:
    _set(conn, e.store_id, e.session_id, status="completed", completed_at=e.at)


@projects(TrainingCancelled)
def _cancelled(conn: Connection, e: TrainingCancelled) -> None:
    _set(
        conn,
        e.store_id,
        e.session_id,
        status="cancelled",
        cancelled_at=e.at,
        cancel_reason=e.reason,
    )


def _set(conn: Connection, store_id: str, session_id: UUID, **values: Any) -> None:
    t = ops_trainings
    conn.execute(
        t.update().where(t.c.store_id == store_id, t.c.session_id == session_id).values(**values)
    )
