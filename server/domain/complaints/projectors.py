"""Complaint events → the ``complaints`` row (current state) and ``complaint_steps`` (timeline).

Projectors write from the event's own fields (and the row the earlier events built), so folding
the log from scratch, here or at central, rebuilds identical rows. They do not re-check the state
machine: commands did that before emitting, and a fact in the log is applied as recorded.
Loaded by the projector registry, ``server.domain.projection``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from schema.events import Event
from schema.events.complaints import (
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintEscalated,
    ComplaintFeedbackRecorded,
    ComplaintOpened,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResponded,
)
from schema.tables.complaints import complaint_steps, complaints
from server.domain.projection import projects
from server.domain.rows import Rows

# What a reopening undoes: the previous round's resolution and feedback (the steps keep them).
_RESOLUTION_CLEARED: dict[str, Any] = {
    "resolved_at": None,
    "resolved_day": None,
    "resolved_by": None,
    "remedy": None,
    "verified": None,
    "counts_against_staff": False,
    "resolution_within_sla": None,
    "feedback_satisfied": None,
    "feedback_rating": None,
    "feedback_comment": None,
    "feedback_at": None,
    "closed_at": None,
}


def _key(e: Event, complaint_id: UUID) -> dict[str, Any]:
    return {"store_id": e.store_id, "complaint_id": complaint_id}


def _step(rows: Rows, e: Event, complaint_id: UUID, kind: str, **columns: Any) -> None:
    rows.insert(
        complaint_steps,
        {
            "store_id": e.store_id,
            "step_id": e.id,
            "complaint_id": complaint_id,
            "kind": kind,
            "at": e.at,
            "actor": e.actor,
            **columns,
        },
    )


def _update(rows: Rows, e: Event, complaint_id: UUID, **values: Any) -> None:
    rows.update(complaints, _key(e, complaint_id), set={"updated_at": e.at, **values})


@projects(ComplaintOpened)
def _opened(rows: Rows, e: ComplaintOpened) -> None:
    rows.insert(
        complaints,
        dict(
            store_id=e.store_id,
            complaint_id=e.complaint_id,
            number=e.number,
            channel=e.channel,
            category=e.category,
            description=e.description,
            customer_phone_masked=e.customer_phone_masked,
            customer_phone_hash=e.customer_phone_hash,
            staff_id=e.staff_id,
            ticket_id=e.ticket_id,
            status="open",
            escalation_level="none",
            owner_id=None,
            opened_at=e.at,
            opened_day=e.opened_day,
            opened_by=e.actor,
            first_response_due_at=e.first_response_due_at,
            resolution_due_at=e.resolution_due_at,
            counts_against_staff=False,
            reopen_count=0,
            updated_at=e.at,
        ),
    )
    _step(rows, e, e.complaint_id, "opened", note=e.description)


@projects(ComplaintAssigned, reads=lambda e: [(complaints, _key(e, e.complaint_id))])
def _assigned(rows: Rows, e: ComplaintAssigned) -> None:
    # Assignment moves a new complaint on; a reassignment later keeps the stage it reached.
    current = rows.get(complaints, _key(e, e.complaint_id))
    moved = {"status": "assigned"} if current is not None and current["status"] == "open" else {}
    _update(rows, e, e.complaint_id, owner_id=e.owner_id, **moved)
    _step(rows, e, e.complaint_id, "assigned", owner_id=e.owner_id)


@projects(ComplaintResponded)
def _responded(rows: Rows, e: ComplaintResponded) -> None:
    _update(
        rows,
        e,
        e.complaint_id,
        status="responded",
        first_responded_at=e.at,
        first_responded_by=e.actor,
        first_response_within_sla=e.within_sla,
    )
    _step(rows, e, e.complaint_id, "responded", note=e.note, within_sla=e.within_sla)


@projects(ComplaintEscalated)
def _escalated(rows: Rows, e: ComplaintEscalated) -> None:
    _update(rows, e, e.complaint_id, escalation_level=e.level)
    _step(rows, e, e.complaint_id, "escalated", note=e.reason, level=e.level)


@projects(ComplaintResolved)
def _resolved(rows: Rows, e: ComplaintResolved) -> None:
    _update(
        rows,
        e,
        e.complaint_id,
        status="resolved",
        resolved_at=e.at,
        resolved_day=e.resolved_day,
        resolved_by=e.actor,
        remedy=e.remedy,
        verified=e.verified,
        staff_id=e.staff_id,
        counts_against_staff=e.counts_against_staff,
        resolution_within_sla=e.within_sla,
    )
    _step(
        rows,
        e,
        e.complaint_id,
        "resolved",
        note=e.remedy,
        within_sla=e.within_sla,
        verified=e.verified,
    )


@projects(ComplaintFeedbackRecorded)
def _feedback(rows: Rows, e: ComplaintFeedbackRecorded) -> None:
    _update(
        rows,
        e,
        e.complaint_id,
        feedback_satisfied=e.satisfied,
        feedback_rating=e.rating,
        feedback_comment=e.comment,
        feedback_at=e.at,
    )
    _step(
        rows,
        e,
        e.complaint_id,
        "feedback",
        note=e.comment or None,
        satisfied=e.satisfied,
        rating=e.rating,
    )


@projects(ComplaintClosed)
def _closed(rows: Rows, e: ComplaintClosed) -> None:
    _update(rows, e, e.complaint_id, status="closed", closed_at=e.at)
    _step(rows, e, e.complaint_id, "closed", note=e.note or None)


@projects(ComplaintReopened)
def _reopened(rows: Rows, e: ComplaintReopened) -> None:
    rows.update(
        complaints,
        _key(e, e.complaint_id),
        set={
            "status": "reopened",
            "resolution_due_at": e.resolution_due_at,
            "updated_at": e.at,
            **_RESOLUTION_CLEARED,
        },
        inc={"reopen_count": 1},
    )
    _step(rows, e, e.complaint_id, "reopened", note=e.reason, due_at=e.resolution_due_at)
