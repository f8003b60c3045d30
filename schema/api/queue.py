"""REST types of the queue domain (排队叫号): windows, tickets, appointments, live state."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from schema.api.common import Name, Text
from schema.events.queue import (
    CancelReason,
    NoShowReason,
    Outcome,
    PauseReason,
    ServiceCategory,
    WindowKind,
)

TicketStatus = Literal["waiting", "called", "serving", "done", "no_show", "cancelled"]
"""Ticket states: 等候 waiting, 已叫号 called, 办理中 serving, 已办结 done, 过号 no_show,
已离开/取消 cancelled."""

WindowStatus = Literal["closed", "open", "paused"]
"""Window states: 关闭 closed, 服务中 open, 暂停服务 paused."""

AppointmentStatus = Literal["booked", "checked_in", "cancelled", "no_show"]
"""Appointment states: 已预约 booked, 已签到 checked_in, 已取消 cancelled, 爽约 no_show."""

WindowCode = Annotated[
    str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[A-Z][A-Z0-9-]*\Z")
]
"""A window's short code as shown above the desk: ``W1``, ``VIP``, ``C-2``."""
Categories = Annotated[list[ServiceCategory], msgspec.Meta(min_length=1, max_length=9)]
Phone = Annotated[str, msgspec.Meta(min_length=5, max_length=20, pattern=r"^\+?[0-9 ()\-]+\Z")]
"""A customer phone number as typed; stored only masked and hashed."""
Score = Annotated[int, msgspec.Meta(ge=1, le=5)]
"""Satisfaction 1 (very dissatisfied) … 5 (very satisfied)."""

# ---------------------------------------------------------------- windows


class WindowIn(msgspec.Struct, kw_only=True):
    """Define a service window (manager). It starts closed."""

    code: WindowCode
    name: Name
    kind: WindowKind
    categories: Categories | None = None
    """Categories it calls; omitted → the usual set for its kind."""


class WindowUpdateIn(msgspec.Struct, kw_only=True):
    """Rename a window or change what it serves; omitted fields keep their value."""

    name: Name | None = None
    categories: Categories | None = None


class WindowPauseIn(msgspec.Struct, kw_only=True):
    reason: PauseReason
    note: Text | None = None


class CurrentTicketOut(msgspec.Struct, kw_only=True):
    """The ticket a window has called or is serving."""

    ticket_id: UUID
    number: str
    status: TicketStatus
    since: datetime
    """When it was last called, or when service started."""


class WindowOut(msgspec.Struct, kw_only=True):
    window_id: UUID
    code: str
    name: str
    kind: WindowKind
    categories: list[ServiceCategory]
    status: WindowStatus
    staff: str | None
    """User name of the staff member at the window (open or paused)."""
    pause_reason: PauseReason | None
    pause_note: str | None
    status_since: datetime
    current: CurrentTicketOut | None


# ---------------------------------------------------------------- tickets


class TicketIn(msgspec.Struct, kw_only=True):
    """Issue a queue ticket (取号) for a service."""

    category: ServiceCategory
    vip: bool = False
    customer_phone: Phone | None = None
    """Optional, for an SMS when the turn comes; kept only masked and hashed."""


class FinishIn(msgspec.Struct, kw_only=True):
    outcome: Outcome
    note: Text | None = None


class TransferIn(msgspec.Struct, kw_only=True):
    """Send the ticket to another category's queue, to one window, or both."""

    category: ServiceCategory | None = None
    window_id: UUID | None = None
    note: Text | None = None


class CancelIn(msgspec.Struct, kw_only=True):
    reason: CancelReason = "walkout"


class RatingIn(msgspec.Struct, kw_only=True):
    score: Score
    comment: Text | None = None


class TicketOut(msgspec.Struct, kw_only=True):
    ticket_id: UUID
    number: str
    day: date
    category: ServiceCategory
    """The queue it is in now (differs from ``issued_category`` after a transfer)."""
    issued_category: ServiceCategory
    status: TicketStatus
    vip: bool
    priority: bool
    """Called before walk-ins: VIP, a checked-in appointment, or a transfer."""
    appointment_id: UUID | None
    customer_phone: str | None
    """Masked (``138****5678``)."""
    issued_at: datetime
    queued_at: datetime
    target_window_id: UUID | None
    window_id: UUID | None
    window_code: str | None
    called_by: str | None
    called_at: datetime | None
    """First call; the visit's wait is ``called_at − issued_at``."""
    last_called_at: datetime | None
    call_count: int
    wait_seconds: int | None
    serving_at: datetime | None
    served_by: str | None
    service_seconds: int
    done_at: datetime | None
    ended_at: datetime | None
    outcome: Outcome | None
    note: str | None
    no_show_reason: NoShowReason | None
    cancel_reason: CancelReason | None
    transfer_count: int
    score: int | None
    comment: str | None
    rated_at: datetime | None
    ahead: int | None = None
    """Waiting tickets that would be called before this one (only on issue and single reads)."""


# ---------------------------------------------------------------- appointments


class AppointmentSearchIn(msgspec.Struct, kw_only=True):
    """Find a customer's appointments of a day by phone number (in the body, never the URL)."""

    customer_phone: Phone
    day: date | None = None
    """Store-local day; default today."""


class AppointmentIn(msgspec.Struct, kw_only=True):
    """Book an appointment (线上预约)."""

    category: ServiceCategory
    slot_start: datetime
    """Slot start; without a time zone it is read as the store's local time."""
    customer_name: Name
    """Stored masked (``张*``)."""
    customer_phone: Phone
    """Stored masked and hashed; a mainland mobile number."""
    note: Text | None = None


class AppointmentCancelIn(msgspec.Struct, kw_only=True):
    reason: Text | None = None


class AppointmentOut(msgspec.Struct, kw_only=True):
    appointment_id: UUID
    day: date
    slot_start: datetime
    category: ServiceCategory
    customer_name: str
    customer_phone: str
    note: str | None
    status: AppointmentStatus
    booked_at: datetime
    booked_by: str
    check_in_opens_at: datetime
    """Earliest check-in."""
    check_in_closes_at: datetime
    """Latest check-in; after it the appointment can be marked no-show."""
    checked_in_at: datetime | None
    ticket_id: UUID | None
    ticket_number: str | None
    lateness_seconds: int | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    no_show_at: datetime | None


class CheckInOut(msgspec.Struct, kw_only=True):
    """A checked-in appointment and the priority ticket issued for it."""

    appointment: AppointmentOut
    ticket: TicketOut


# ---------------------------------------------------------------- live state


class CategoryStateOut(msgspec.Struct, kw_only=True):
    category: ServiceCategory
    letter: str
    waiting: int
    longest_wait_seconds: int
    """How long the longest-waiting customer of this category has waited so far."""
    oldest_issued_at: datetime | None


class WindowStateOut(msgspec.Struct, kw_only=True):
    window_id: UUID
    code: str
    name: str
    kind: WindowKind
    status: WindowStatus
    staff: str | None
    current: CurrentTicketOut | None


class RecentCallOut(msgspec.Struct, kw_only=True):
    """One line of the display's "now calling" list (请 B023 到 W1 号窗口)."""

    number: str
    window_code: str
    called_at: datetime
    call_count: int


class QueueTotalsOut(msgspec.Struct, kw_only=True):
    issued: int
    """Tickets issued today."""
    waiting: int
    called: int
    serving: int
    done: int
    no_show: int
    cancelled: int
    open_windows: int
    paused_windows: int


class QueueStateOut(msgspec.Struct, kw_only=True):
    """The hall's live queue (what the display board and the manager's tablet show)."""

    as_of: datetime
    day: date
    categories: list[CategoryStateOut]
    windows: list[WindowStateOut]
    recent_calls: list[RecentCallOut]
    totals: QueueTotalsOut
