"""REST types of complaints (投诉): intake, handling steps, the complaint and its timeline.

The customer's phone number comes in (intake, search) but never goes out: responses carry only
the masked form (``138****5678``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from schema.api.common import Text
from schema.events.complaints import Category, Channel, ComplaintStatus, EscalationLevel

Note = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
"""Free text that must not be empty: a description, a reason, a remedy."""

PhoneInput = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
"""A customer's mobile number as typed (spaces, dashes and ``+86`` allowed); the server checks
it is a mainland mobile number (``1[3-9]`` + 9 digits) and answers 422 naming the field if not."""

Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]
"""1 (very dissatisfied) to 5 (very satisfied)."""

EscalationTarget = Literal["manager", "region", "hq"]
"""Where a complaint can be escalated to: 厅长 manager, 区域 region, 总部 HQ."""

StepKind = Literal[
    "opened", "assigned", "responded", "escalated", "resolved", "feedback", "closed", "reopened"
]


class ComplaintIn(msgspec.Struct, kw_only=True):
    """Take in a complaint (受理)."""

    channel: Channel
    category: Category
    description: Note
    customer_phone: PhoneInput
    """Customer's mobile number; stored only masked and hashed."""
    staff_id: UUID | None = None
    """The staff member the complaint is about, if any."""
    ticket_id: UUID | None = None
    """The queue ticket of the visit concerned, if any."""


class AssignIn(msgspec.Struct, kw_only=True):
    """Make a staff member (clerk or manager) the complaint's owner (分派)."""

    owner_id: UUID


class RespondIn(msgspec.Struct, kw_only=True):
    """Record the first response given to the customer (首次响应)."""

    note: Note


class EscalateIn(msgspec.Struct, kw_only=True):
    """Escalate (升级) to a higher level than the current one."""

    level: EscalationTarget
    reason: Note


class ResolveIn(msgspec.Struct, kw_only=True):
    """Resolve with the remedy given to the customer (补救措施)."""

    remedy: Note
    verified: bool
    """Whether the complaint was found justified (核实属实). A verified service-attitude
    complaint about a staff member counts against their monthly performance."""
    staff_id: UUID | None = None
    """Name or correct the staff member concerned, as established by the investigation;
    omitted keeps the one given at intake."""


class FeedbackIn(msgspec.Struct, kw_only=True):
    """The customer's feedback on the resolution (回访)."""

    satisfied: bool
    rating: Rating
    comment: Text = ""


class CloseIn(msgspec.Struct, kw_only=True):
    """Close a resolved complaint (结案)."""

    note: Text = ""


class ReopenIn(msgspec.Struct, kw_only=True):
    """Reopen a resolved or closed complaint (重新打开)."""

    reason: Note


class ComplaintSearchIn(msgspec.Struct, kw_only=True):
    """Find a customer's complaints by phone number (sent in the body, never in the URL)."""

    customer_phone: PhoneInput


class FeedbackOut(msgspec.Struct, kw_only=True):
    satisfied: bool
    rating: int
    comment: str
    at: datetime


class ComplaintOut(msgspec.Struct, kw_only=True):
    """A complaint's current state, with its SLA due times and whether they are overdue now."""

    complaint_id: UUID
    number: str
    """Reference for the customer, e.g. ``T20261126-003``."""
    channel: Channel
    category: Category
    description: str
    customer_phone: str
    """Masked, e.g. ``138****5678``."""
    staff_id: UUID | None
    ticket_id: UUID | None
    status: ComplaintStatus
    escalation_level: EscalationLevel
    owner_id: UUID | None
    opened_at: datetime
    opened_day: date
    """Store-local day of intake."""
    opened_by: str
    first_response_due_at: datetime
    resolution_due_at: datetime
    """Due time of the current resolution round (restarts when reopened)."""
    first_responded_at: datetime | None
    first_responded_by: str | None
    first_response_within_sla: bool | None
    resolved_at: datetime | None
    resolved_by: str | None
    remedy: str | None
    verified: bool | None
    counts_against_staff: bool
    """A verified service-attitude complaint against ``staff_id`` (monthly performance)."""
    resolution_within_sla: bool | None
    feedback: FeedbackOut | None
    closed_at: datetime | None
    reopen_count: int
    first_response_overdue: bool
    """No first response yet and its due time has passed."""
    resolution_overdue: bool
    """Not resolved yet and the resolution due time has passed."""
    overdue: bool
    """Either of the two."""


class ComplaintStepOut(msgspec.Struct, kw_only=True):
    """One step of a complaint's timeline, stamped with its time and who did it."""

    step_id: UUID
    kind: StepKind
    at: datetime
    actor: str
    note: str | None
    owner_id: UUID | None
    level: EscalationLevel | None
    within_sla: bool | None
    verified: bool | None
    satisfied: bool | None
    rating: int | None
    due_at: datetime | None


class ComplaintDetailOut(ComplaintOut, kw_only=True):
    """A complaint with its whole timeline, oldest step first."""

    steps: list[ComplaintStepOut]


class ComplaintSummaryOut(msgspec.Struct, kw_only=True):
    """How many complaints are unresolved, and how many of those are overdue, right now."""

    open: int
    overdue: int
