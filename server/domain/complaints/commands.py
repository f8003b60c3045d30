"""Complaint commands (投诉): open, assign, respond, escalate, resolve, feedback, close, reopen.

The state machine (``ComplaintStatus``)::

    open ──assign──▶ assigned ──respond──▶ responded ──resolve──▶ resolved ──close──▶ closed
                                                          ▲            │                 │
                                        reopened ─resolve─┘            └──── reopen ─────┘
                                           ▲                                  │
                                           └──────────────────────────────────┘

- assign (manager): from any unfinished status; a reassignment keeps the stage reached.
- respond (owner or manager): once, after an owner is assigned. Its stamp is the SLA measure.
- escalate (owner or manager; anyone allowed to handle complaints while it has no owner): from
  any unfinished status, only upwards (manager → region → hq).
- resolve (owner or manager): after the first response, or after reopening.
- feedback (any handler): once per resolution, while resolved.
- close (manager): only once resolved; feedback is not required (an unreachable customer must
  not keep a complaint open; audits flag closures without feedback).
- reopen (owner or manager): from resolved or closed. The resolution clock restarts (a fresh
  resolution SLA window from the reopening, carried in the event); the first response is not
  asked again. The original due times stay in the log and the timeline.

Customer numbers are validated, then only masked and hashed (``server.privacy``); phone or ID
numbers typed into free text are masked before they reach the log (the events' ``FreeText``
fields, masked when the event is stamped: ``server.domain.stamp``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from uuid_utils.compat import uuid7

from schema.api.complaints import (
    ComplaintDetailOut,
    ComplaintIn,
    EscalateIn,
    FeedbackIn,
    ResolveIn,
)
from schema.events.complaints import (
    ESCALATION_ORDER,
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintEscalated,
    ComplaintFeedbackRecorded,
    ComplaintOpened,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResponded,
)
from schema.tables.complaints import complaints
from server.domain.complaints.reads import check_customer_phone, complaint_row, get_complaint
from server.domain.context import Ctx
from server.domain.guards import actor_staff, require_manager, require_state, staff_member
from server.errors import Conflict, Forbidden, IllegalTransition, ValidationFailed
from server.privacy import mask_phone

UNFINISHED = ("open", "assigned", "responded", "reopened")
"""Statuses in which a complaint is still being handled."""

OWNER_ROLES = ("clerk", "manager")
"""Who can own a complaint: the roles that handle complaints (业务员, 厅长)."""


# ---------------------------------------------------------------- checks


def _load(
    ctx: Ctx, complaint_id: UUID, action: str, allowed: tuple[str, ...], hint: str = ""
) -> Any:
    """The complaint's row, if it is in one of the ``allowed`` statuses for ``action``."""
    row = complaint_row(ctx.conn, ctx.store_id, complaint_id)
    require_state(row.status, allowed, action, f"complaint {row.number}", hint=hint)
    return row


def _require_manager(ctx: Ctx, action: str) -> None:
    require_manager(ctx.conn, ctx.store_id, ctx.actor, f"{action} a complaint")


def _require_handler(ctx: Ctx, row: Any, action: str, *, unowned_ok: bool = False) -> None:
    """The actor must be the complaint's owner or a manager (or anyone, if it has no owner
    and ``unowned_ok``)."""
    me = actor_staff(ctx.conn, ctx.store_id, ctx.actor)
    if me is not None and (
        me.role == "manager" or me.user_id == row.owner_id or (unowned_ok and row.owner_id is None)
    ):
        return
    raise Forbidden(f"only the complaint's owner or a manager may {action} it")


def _check_staff(ctx: Ctx, user_id: UUID, field: str) -> Any:
    """A staff member of this store (active or not: a complaint may outlive employment)."""
    return staff_member(ctx.conn, ctx.store_id, user_id, field=field, active=False)


def _result(ctx: Ctx, complaint_id: UUID) -> ComplaintDetailOut:
    return get_complaint(ctx.conn, ctx.store_id, complaint_id, ctx.now)


# ---------------------------------------------------------------- commands


_OPENED_ON_DAY = sa.select(sa.func.count()).where(
    complaints.c.store_id == sa.bindparam("store_id"),
    complaints.c.opened_day == sa.bindparam("day"),
)


def _next_number(ctx: Ctx) -> str:
    """``T`` + store-local date + the day's sequence: short enough to read out on the phone."""
    day = ctx.today
    count = ctx.conn.execute(_OPENED_ON_DAY, {"store_id": ctx.store_id, "day": day}).scalar_one()
    return f"T{day:%Y%m%d}-{count + 1:03d}"


def open_complaint(
    ctx: Ctx, cmd: ComplaintIn, *, phone_token: str | None = None
) -> ComplaintDetailOut:
    """Take in a complaint (受理); its SLA due times follow from the store's SLA hours now
    (``phone_token``: the customer's phone token, computed by the route)."""
    check_customer_phone(cmd.customer_phone)
    phone_hash = ctx.contact_token(cmd.customer_phone, phone_token)
    if cmd.staff_id is not None:
        _check_staff(ctx, cmd.staff_id, "staff_id")
    # The queue ticket is kept as a reference only: tickets are another domain's projection and
    # a complaint about a visit must be accepted even if that ticket is not on this node.
    settings = ctx.store
    complaint_id = uuid7()
    ctx.emit(
        ComplaintOpened,
        complaint_id=complaint_id,
        number=_next_number(ctx),
        channel=cmd.channel,
        category=cmd.category,
        description=cmd.description,
        customer_phone_masked=mask_phone(cmd.customer_phone),
        customer_phone_hash=phone_hash,
        staff_id=cmd.staff_id,
        ticket_id=cmd.ticket_id,
        opened_day=ctx.today,
        first_response_due_at=ctx.now + timedelta(hours=settings.first_response_sla_hours),
        resolution_due_at=ctx.now + timedelta(hours=settings.resolution_sla_hours),
    )
    return _result(ctx, complaint_id)


def assign(ctx: Ctx, complaint_id: UUID, owner_id: UUID) -> ComplaintDetailOut:
    """Make an active clerk or manager the complaint's owner (分派), or hand it over."""
    _require_manager(ctx, "assign")
    row = _load(ctx, complaint_id, "assign", UNFINISHED)
    owner = _check_staff(ctx, owner_id, "owner_id")
    if not owner.active:
        raise ValidationFailed(f"{owner.username} is no longer active", field="owner_id")
    if owner.role not in OWNER_ROLES:
        raise ValidationFailed(
            f"{owner.username} is a {owner.role}; complaints are owned by a clerk or manager",
            field="owner_id",
        )
    if row.owner_id == owner_id:
        raise Conflict(f"{owner.username} already owns complaint {row.number}")
    ctx.emit(
        ComplaintAssigned,
        complaint_id=complaint_id,
        owner_id=owner_id,
        previous_owner_id=row.owner_id,
    )
    return _result(ctx, complaint_id)


def respond(ctx: Ctx, complaint_id: UUID, note: str) -> ComplaintDetailOut:
    """Record the first response to the customer (首次响应), stamped now against its SLA."""
    row = complaint_row(ctx.conn, ctx.store_id, complaint_id)
    hint = "assign an owner first" if row.status == "open" else "the first response was given"
    require_state(row.status, ["assigned"], "respond to", f"complaint {row.number}", hint=hint)
    _require_handler(ctx, row, "respond to")
    ctx.emit(
        ComplaintResponded,
        complaint_id=complaint_id,
        note=note,
        within_sla=ctx.now <= row.first_response_due_at,
    )
    return _result(ctx, complaint_id)


def escalate(ctx: Ctx, complaint_id: UUID, cmd: EscalateIn) -> ComplaintDetailOut:
    """Escalate (升级) to the manager, the region or HQ; the level only goes up."""
    row = _load(ctx, complaint_id, "escalate", UNFINISHED)
    _require_handler(ctx, row, "escalate", unowned_ok=True)
    current = row.escalation_level
    if ESCALATION_ORDER.index(cmd.level) <= ESCALATION_ORDER.index(current):
        raise IllegalTransition(
            f"cannot escalate complaint {row.number} to {cmd.level}: it is {row.status} and "
            f"already escalated to {current}; escalation only goes up (manager → region → hq)",
            state=row.status,
            escalation_level=current,
        )
    ctx.emit(
        ComplaintEscalated,
        complaint_id=complaint_id,
        level=cmd.level,
        previous_level=current,
        reason=cmd.reason,
    )
    return _result(ctx, complaint_id)


def resolve(ctx: Ctx, complaint_id: UUID, cmd: ResolveIn) -> ComplaintDetailOut:
    """Resolve with a remedy (补救措施) and the verdict on whether the complaint was justified."""
    hint = ""
    row = complaint_row(ctx.conn, ctx.store_id, complaint_id)
    if row.status in ("open", "assigned"):
        hint = "give the first response first"
    require_state(
        row.status, ["responded", "reopened"], "resolve", f"complaint {row.number}", hint=hint
    )
    _require_handler(ctx, row, "resolve")
    staff_id = row.staff_id
    if cmd.staff_id is not None:
        staff_id = _check_staff(ctx, cmd.staff_id, "staff_id").user_id
    ctx.emit(
        ComplaintResolved,
        complaint_id=complaint_id,
        remedy=cmd.remedy,
        verified=cmd.verified,
        staff_id=staff_id,
        counts_against_staff=(
            cmd.verified and row.category == "service_attitude" and staff_id is not None
        ),
        resolved_day=ctx.today,
        within_sla=ctx.now <= row.resolution_due_at,
    )
    return _result(ctx, complaint_id)


def record_feedback(ctx: Ctx, complaint_id: UUID, cmd: FeedbackIn) -> ComplaintDetailOut:
    """Record the customer's feedback on the resolution (回访), once per resolution."""
    row = _load(ctx, complaint_id, "record feedback on", ("resolved",))
    if row.feedback_at is not None:
        raise IllegalTransition(
            f"cannot record feedback on complaint {row.number}: it is {row.status}; "
            "feedback on this resolution is already in",
            state=row.status,
        )
    ctx.emit(
        ComplaintFeedbackRecorded,
        complaint_id=complaint_id,
        satisfied=cmd.satisfied,
        rating=cmd.rating,
        comment=cmd.comment,
    )
    return _result(ctx, complaint_id)


def close(ctx: Ctx, complaint_id: UUID, note: str = "") -> ComplaintDetailOut:
    """Close a resolved complaint (结案)."""
    _require_manager(ctx, "close")
    _load(ctx, complaint_id, "close", ("resolved",))
    ctx.emit(ComplaintClosed, complaint_id=complaint_id, note=note)
    return _result(ctx, complaint_id)


def reopen(ctx: Ctx, complaint_id: UUID, reason: str) -> ComplaintDetailOut:
    """Reopen a resolved or closed complaint; a fresh resolution SLA window starts now."""
    row = _load(ctx, complaint_id, "reopen", ("resolved", "closed"))
    _require_handler(ctx, row, "reopen")
    ctx.emit(
        ComplaintReopened,
        complaint_id=complaint_id,
        reason=reason,
        previous_status=row.status,
        resolution_due_at=ctx.now + timedelta(hours=ctx.store.resolution_sla_hours),
    )
    return _result(ctx, complaint_id)
