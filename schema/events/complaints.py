"""Events of the complaints domain (投诉): intake, handling steps and their SLA stamps.

A complaint is a state machine (``ComplaintStatus``); every step is one event, stamped with the
envelope's ``at`` and ``actor``. Whatever the store knew at the time of a step and a projector
could not recompute from the log alone (due times from the store's SLA hours, whether a step met
its SLA, the store-local day) is carried in the payload, so central folds the same facts.

Customer contact data never appears raw: only the masked display form and a keyed hash.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from schema.events.base import Event, FreeText

Channel = Literal["in_store", "hotline", "online"]
"""Where the complaint came in: 门店 in store, 热线 hotline, 线上 online."""

Category = Literal[
    "service_attitude",
    "billing",
    "network_quality",
    "product",
    "waiting_time",
    "privacy",
    "other",
]
"""What it is about: 服务态度, 计费, 网络质量, 产品, 等候时间, 隐私, 其他."""

ComplaintStatus = Literal["open", "assigned", "responded", "resolved", "closed", "reopened"]
"""Where a complaint stands: 已受理 open (no owner yet), 已分派 assigned, 已响应 responded
(first response given), 已解决 resolved, 已关闭 closed, 重新打开 reopened (being resolved again)."""

EscalationLevel = Literal["none", "manager", "region", "hq"]
"""How far up it has gone: none, 厅长 manager, 区域 region, 总部 HQ (in this order)."""

ESCALATION_ORDER: tuple[EscalationLevel, ...] = ("none", "manager", "region", "hq")
"""Escalation levels from lowest to highest; a complaint only moves up this list."""


class ComplaintOpened(Event, tag="complaint.opened", frozen=True):
    """A complaint was taken in (受理)."""

    complaint_id: UUID
    """New complaint's id (UUIDv7)."""
    number: str
    """Reference read to the customer: ``T`` + store-local date + daily sequence, e.g.
    ``T20261126-003``; unique within the store."""
    channel: Channel
    """Where it came in (门店, 热线, 线上)."""
    category: Category
    """What it is about (服务态度, 计费, …)."""
    description: FreeText
    """What the customer complains about, with any phone or ID number masked."""
    customer_phone_masked: str
    """Display form of the customer's mobile number, e.g. ``138****5678``."""
    customer_phone_hash: str
    """HMAC-SHA256 (hex) of the normalised number, for finding a customer's complaints."""
    opened_day: date
    """Store-local calendar day of intake."""
    first_response_due_at: datetime
    """UTC instant by which a first response is due (opened + store first-response SLA hours)."""
    resolution_due_at: datetime
    """UTC instant by which a resolution is due (opened + store resolution SLA hours)."""
    staff_id: UUID | None = None
    """The staff member the complaint is about (被投诉员工), if any."""
    ticket_id: UUID | None = None
    """The queue ticket of the visit the complaint concerns, if any."""


class ComplaintAssigned(Event, tag="complaint.assigned", frozen=True):
    """A manager made a staff member the complaint's owner (分派), or handed it to another."""

    complaint_id: UUID
    """The complaint this step belongs to."""
    owner_id: UUID
    """User id of the new owner, who handles the complaint from now on."""
    previous_owner_id: UUID | None = None
    """User id of the owner before, if it was reassigned."""


class ComplaintResponded(Event, tag="complaint.responded", frozen=True):
    """The first response to the customer was given (首次响应); ``at`` is its SLA stamp."""

    complaint_id: UUID
    """The complaint this step belongs to."""
    note: FreeText
    """What the customer was told, with any phone or ID number masked."""
    within_sla: bool
    """Whether ``at`` was no later than the complaint's first-response due time."""


class ComplaintEscalated(Event, tag="complaint.escalated", frozen=True):
    """The complaint was escalated (升级) to a higher level."""

    complaint_id: UUID
    """The complaint this step belongs to."""
    level: EscalationLevel
    """Level escalated to; always higher than ``previous_level``."""
    previous_level: EscalationLevel
    """Level before this escalation (``none`` if never escalated)."""
    reason: FreeText
    """Why it was escalated, with any phone or ID number masked."""


class ComplaintResolved(Event, tag="complaint.resolved", frozen=True):
    """The complaint was resolved with a remedy (补救措施)."""

    complaint_id: UUID
    """The complaint this step belongs to."""
    remedy: FreeText
    """What was done for the customer, with any phone or ID number masked."""
    verified: bool
    """Whether the investigation found the complaint justified (核实属实)."""
    counts_against_staff: bool
    """A verified service-attitude complaint about a staff member: it counts against their
    monthly performance (月度绩效)."""
    resolved_day: date
    """Store-local calendar day of the resolution (the performance month is taken from it)."""
    within_sla: bool
    """Whether ``at`` was no later than the resolution due time in force."""
    staff_id: UUID | None = None
    """The staff member the complaint is about, as established at resolution."""


class ComplaintFeedbackRecorded(Event, tag="complaint.feedback_recorded", frozen=True):
    """The customer's feedback on the resolution was recorded (回访评价)."""

    complaint_id: UUID
    """The complaint this step belongs to."""
    satisfied: bool
    """Whether the customer is satisfied with the resolution."""
    rating: int
    """Customer's rating of the resolution, 1 (worst) to 5 (best)."""
    comment: FreeText = ""
    """The customer's words, with any phone or ID number masked."""


class ComplaintClosed(Event, tag="complaint.closed", frozen=True):
    """A manager closed the resolved complaint (结案)."""

    complaint_id: UUID
    """The complaint this step belongs to."""
    note: FreeText = ""
    """Closing remark, with any phone or ID number masked."""


class ComplaintReopened(Event, tag="complaint.reopened", frozen=True):
    """A resolved or closed complaint was reopened (重新打开); it must be resolved again."""

    complaint_id: UUID
    """The complaint this step belongs to."""
    reason: FreeText
    """Why it was reopened, with any phone or ID number masked."""
    previous_status: ComplaintStatus
    """``resolved`` or ``closed``."""
    resolution_due_at: datetime
    """New UTC resolution due time: reopening + the store's resolution SLA hours. The store gets
    a fresh SLA window per resolution round; the original due time stays in the log."""


EVENTS = (
    ComplaintOpened,
    ComplaintAssigned,
    ComplaintResponded,
    ComplaintEscalated,
    ComplaintResolved,
    ComplaintFeedbackRecorded,
    ComplaintClosed,
    ComplaintReopened,
)
