"""Reads of complaints: list and search queries, the detail with its timeline, SLA overdue flags
computed against "now", and the counts store KPIs need.

Overdue is never stored: it depends on the moment of the read. Every function here takes
``now`` (UTC) from its caller, so the API passes the node's clock and tests pass a fixed time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.complaints import (
    ComplaintDetailOut,
    ComplaintOut,
    ComplaintStepOut,
    FeedbackOut,
)
from schema.tables.complaints import complaint_steps, complaints
from server.domain.sql import row_or_404
from server.errors import ValidationFailed
from server.privacy import is_mobile

_c = complaints.c

FINISHED = ("resolved", "closed")
"""Statuses in which a complaint no longer runs against its resolution SLA."""


# ---------------------------------------------------------------- overdue, in SQL and in Python


def _unfinished() -> sa.ColumnElement[bool]:
    return _c.status.not_in(FINISHED)


def first_response_overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    """No first response yet, and its due time has passed."""
    return sa.and_(_unfinished(), _c.first_responded_at.is_(None), _c.first_response_due_at < now)


def resolution_overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    """Not resolved (this round), and the resolution due time has passed."""
    return sa.and_(_unfinished(), _c.resolution_due_at < now)


def overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    """Overdue for first response or for resolution."""
    return sa.or_(first_response_overdue_clause(now), resolution_overdue_clause(now))


def _overdue_flags(row: Any, now: datetime) -> tuple[bool, bool]:
    unfinished = row.status not in FINISHED
    first = unfinished and row.first_responded_at is None and row.first_response_due_at < now
    resolution = unfinished and row.resolution_due_at < now
    return first, resolution


# ---------------------------------------------------------------- rows → REST types


def _fields(row: Any, now: datetime) -> dict[str, Any]:
    first_overdue, resolution_overdue = _overdue_flags(row, now)
    feedback = None
    if row.feedback_at is not None:
        feedback = FeedbackOut(
            satisfied=row.feedback_satisfied,
            rating=row.feedback_rating,
            comment=row.feedback_comment,
            at=row.feedback_at,
        )
    return {
        "complaint_id": row.complaint_id,
        "number": row.number,
        "channel": row.channel,
        "category": row.category,
        "description": row.description,
        "customer_phone": row.customer_phone_masked,
        "staff_id": row.staff_id,
        "ticket_id": row.ticket_id,
        "status": row.status,
        "escalation_level": row.escalation_level,
        "owner_id": row.owner_id,
        "opened_at": row.opened_at,
        "opened_day": row.opened_day,
        "opened_by": row.opened_by,
        "first_response_due_at": row.first_response_due_at,
        "resolution_due_at": row.resolution_due_at,
        "first_responded_at": row.first_responded_at,
        "first_responded_by": row.first_responded_by,
        "first_response_within_sla": row.first_response_within_sla,
        "resolved_at": row.resolved_at,
        "resolved_by": row.resolved_by,
        "remedy": row.remedy,
        "verified": row.verified,
        "counts_against_staff": row.counts_against_staff,
        "resolution_within_sla": row.resolution_within_sla,
        "feedback": feedback,
        "closed_at": row.closed_at,
        "reopen_count": row.reopen_count,
        "first_response_overdue": first_overdue,
        "resolution_overdue": resolution_overdue,
        "overdue": first_overdue or resolution_overdue,
    }


def complaint_out(now: datetime) -> Callable[[Any], ComplaintOut]:
    """A row converter for ``paginate`` that flags overdue SLAs as of ``now``."""

    def convert(row: Any) -> ComplaintOut:
        return ComplaintOut(**_fields(row, now))

    return convert


def _step_out(row: Any) -> ComplaintStepOut:
    return ComplaintStepOut(
        step_id=row.step_id,
        kind=row.kind,
        at=row.at,
        actor=row.actor,
        note=row.note,
        owner_id=row.owner_id,
        level=row.level,
        within_sla=row.within_sla,
        verified=row.verified,
        satisfied=row.satisfied,
        rating=row.rating,
        due_at=row.due_at,
    )


# ---------------------------------------------------------------- single complaint


def complaint_row(conn: Connection, store_id: str, complaint_id: UUID) -> Any:
    """The projected row of one complaint; ``NotFound`` if the store has no such complaint."""
    return row_or_404(conn, complaints, store_id, _c.complaint_id, complaint_id, "complaint")


_STEPS = (
    sa.select(complaint_steps)
    .where(
        complaint_steps.c.store_id == sa.bindparam("store_id"),
        complaint_steps.c.complaint_id == sa.bindparam("complaint_id"),
    )
    # Step ids are UUIDv7 of the events: they break ties between steps stamped alike.
    .order_by(complaint_steps.c.at, complaint_steps.c.step_id)
)


def get_complaint(
    conn: Connection, store_id: str, complaint_id: UUID, now: datetime
) -> ComplaintDetailOut:
    """One complaint with its timeline (oldest step first), overdue flags as of ``now``."""
    row = complaint_row(conn, store_id, complaint_id)
    steps = conn.execute(_STEPS, {"store_id": store_id, "complaint_id": complaint_id}).all()
    return ComplaintDetailOut(**_fields(row, now), steps=[_step_out(s) for s in steps])


# ---------------------------------------------------------------- lists


def list_complaints(
    store_id: str,
    now: datetime,
    *,
    status: str | None = None,
    category: str | None = None,
    channel: str | None = None,
    owner_id: UUID | None = None,
    escalation_level: str | None = None,
    overdue: bool | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> sa.Select[Any]:
    """The complaints query, newest first, filtered; the API layer pages it.

    ``date_from``/``date_to`` bound the store-local day of intake, both inclusive.
    """
    q = sa.select(complaints).where(_c.store_id == store_id)
    if status is not None:
        q = q.where(_c.status == status)
    if category is not None:
        q = q.where(_c.category == category)
    if channel is not None:
        q = q.where(_c.channel == channel)
    if owner_id is not None:
        q = q.where(_c.owner_id == owner_id)
    if escalation_level is not None:
        q = q.where(_c.escalation_level == escalation_level)
    if overdue is not None:
        clause = overdue_clause(now)
        q = q.where(clause if overdue else sa.not_(clause))
    if date_from is not None:
        q = q.where(_c.opened_day >= date_from)
    if date_to is not None:
        q = q.where(_c.opened_day <= date_to)
    return q.order_by(_c.opened_at.desc(), _c.complaint_id.desc())


def check_customer_phone(raw: str) -> None:
    """422 unless ``raw`` is a mainland mobile number."""
    if not is_mobile(raw):
        # Never echo the value: it is personal data and error messages end up in logs.
        raise ValidationFailed(
            "customer_phone must be a mainland mobile number: 1[3-9] followed by 9 digits",
            field="customer_phone",
        )


def search_by_phone(store_id: str, token: str) -> sa.Select[Any]:
    """A customer's complaints, matched by the token of their number (``server.contact_hash``;
    check the number with ``check_customer_phone`` first), newest first."""
    return (
        sa.select(complaints)
        .where(_c.store_id == store_id, _c.customer_phone_hash == token)
        .order_by(_c.opened_at.desc(), _c.complaint_id.desc())
    )


# ---------------------------------------------------------------- KPI helpers


def open_and_overdue(conn: Connection, store_id: str, now: datetime) -> tuple[int, int]:
    """(unresolved complaints, of which overdue for first response or resolution) as of ``now``.

    "Open" means not yet resolved (this round): resolved-but-not-closed complaints no longer
    run against an SLA and are not counted.
    """
    row = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((overdue_clause(now), 1), else_=0)), 0),
        ).where(_c.store_id == store_id, _unfinished())
    ).one()
    return int(row[0]), int(row[1])


def staff_attitude_strikes(
    conn: Connection, store_id: str, first_day: date, last_day: date
) -> dict[UUID, int]:
    """Verified service-attitude complaints per staff member, by store-local resolution day
    (both bounds inclusive): what counts against monthly performance (月度绩效)."""
    rows = conn.execute(
        sa.select(_c.staff_id, sa.func.count())
        .where(
            _c.store_id == store_id,
            _c.counts_against_staff,
            _c.resolved_day >= first_day,
            _c.resolved_day <= last_day,
        )
        .group_by(_c.staff_id)
    ).all()
    return {r[0]: int(r[1]) for r in rows}
