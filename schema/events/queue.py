"""Events of the queue domain (排队叫号): service windows, tickets, appointments.

A visit is a ticket's life: ``ticket.issued`` (waiting) → ``ticket.called`` to a window →
``ticket.serving_started`` → ``ticket.finished`` (done), or ``ticket.no_show`` (过号) when the
called customer never came, or ``ticket.cancelled`` when they left while waiting (walkout 离开).
``ticket.transferred`` (转移) puts a called, served or waiting ticket back in a queue: another
category's, or one window's.

Everything a KPI needs is carried in the events themselves (the ticket number, the store-local
day, wait and service seconds), decided once by the command that recorded them, so central can
compute visits, waits, service times and no-show rates from the log alone.

Customer phone numbers never appear raw: events carry a masked display form and a keyed hash.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from schema.events.base import Event, FreeText

ServiceCategory = Literal[
    "consultation",
    "new_line",
    "plan_change",
    "billing",
    "porting",
    "loss_report",
    "after_sales",
    "device_purchase",
    "broadband",
]
"""Service categories (业务类别): 咨询 consultation, 开户 new_line (new line / SIM), 套餐变更
plan_change, 缴费/账单 billing, 携号转网 porting, 挂失 loss_report (loss report, suspension),
售后维修/退换 after_sales, 购机 device_purchase, 宽带 broadband."""

SERVICE_CATEGORIES: tuple[ServiceCategory, ...] = (
    "consultation",
    "new_line",
    "plan_change",
    "billing",
    "porting",
    "loss_report",
    "after_sales",
    "device_purchase",
    "broadband",
)

CATEGORY_LETTERS: dict[ServiceCategory, str] = {
    "consultation": "A",
    "new_line": "B",
    "plan_change": "C",
    "billing": "D",
    "porting": "E",
    "loss_report": "F",
    "after_sales": "G",
    "device_purchase": "H",
    # I and O are skipped: on a ticket or a display they read as 1 and 0.
    "broadband": "J",
}
"""The letter that starts a category's ticket numbers (``B023`` is the 23rd new line today)."""

WindowKind = Literal["consultation", "business", "after_sales", "cashier", "vip"]
"""Window kinds (服务台): 咨询台 consultation, 业务受理台 business, 售后服务台 after_sales,
结账台 cashier, VIP 专席 vip."""

WINDOW_KINDS: tuple[WindowKind, ...] = ("consultation", "business", "after_sales", "cashier", "vip")

PauseReason = Literal["break", "meal", "meeting", "training", "system_fault", "handover", "other"]
"""Why a window paused (暂停服务): 休息 break, 用餐 meal, 会议 meeting, 培训 training,
系统故障 system_fault, 交接班 handover, 其他 other."""

Outcome = Literal[
    "completed",
    "partially_completed",
    "referred",
    "missing_documents",
    "customer_declined",
    "unresolved",
]
"""How a served visit ended (办理结果), in the spirit of Qmatic's outcome codes: 已办结
completed, 部分办结 partially_completed, 转介 referred (sent to another channel, hall or the
hotline), 资料不全 missing_documents, 客户放弃 customer_declined, 未解决 unresolved."""

OUTCOMES: tuple[Outcome, ...] = (
    "completed",
    "partially_completed",
    "referred",
    "missing_documents",
    "customer_declined",
    "unresolved",
)

NoShowReason = Literal["clerk", "recall_limit"]
"""Why a called ticket became a no-show (过号): the clerk said so, or the last allowed recall
went unanswered."""

CancelReason = Literal["walkout", "customer_request", "issued_in_error"]
"""Why a waiting ticket was cancelled: 离开 walkout (left without a word), 客户取消
customer_request, 误取号 issued_in_error."""

# ---------------------------------------------------------------- windows


class WindowDefined(Event, tag="window.defined", frozen=True):
    """The manager set up a service window (窗口); it starts closed."""

    window_id: UUID
    code: str
    """Short code shown on the display and above the desk, e.g. ``W1``; unique in the store."""
    name: FreeText
    """Human name, e.g. ``1号业务受理台``."""
    kind: WindowKind
    categories: list[ServiceCategory]
    """Service categories whose tickets this window calls."""


class WindowChanged(Event, tag="window.changed", frozen=True):
    """The manager renamed a window or changed the categories it serves (full new values)."""

    window_id: UUID
    name: FreeText
    categories: list[ServiceCategory]


class WindowOpened(Event, tag="window.opened", frozen=True):
    """A staff member opened a window and now works at it (开窗)."""

    window_id: UUID
    staff: str
    """User name of the staff member at the window."""


class WindowPaused(Event, tag="window.paused", frozen=True):
    """The window stopped calling for a while (暂停服务); its staff member stays at it."""

    window_id: UUID
    reason: PauseReason
    note: FreeText | None = None
    """Free text detail of the reason, if given."""


class WindowResumed(Event, tag="window.resumed", frozen=True):
    """A paused window calls again (恢复服务)."""

    window_id: UUID


class WindowClosed(Event, tag="window.closed", frozen=True):
    """The window closed (关窗); nobody works at it any more."""

    window_id: UUID
    staff: str | None
    """Who was at the window until it closed (None if nobody was)."""


# ---------------------------------------------------------------- tickets


class TicketIssued(Event, tag="ticket.issued", frozen=True):
    """A queue ticket (排队号码) was issued: the customer waits for a window."""

    ticket_id: UUID
    number: str
    """Shown to the customer and on the display, e.g. ``B023``: letter + per-day sequence."""
    day: date
    """Store-local business day the ticket belongs to; numbering restarts each day."""
    category: ServiceCategory
    """The service asked for; also decides the number's letter."""
    seq_no: int
    """Position of the ticket in its category's numbering of the day (1, 2, 3, …)."""
    vip: bool = False
    """The customer is a VIP (e.g. high-tier plan): served with priority."""
    appointment_id: UUID | None = None
    """Set when the ticket came from an appointment's check-in: served with priority."""
    phone_masked: str | None = None
    """The customer's phone as displayed (``138****5678``), if given; never the full number."""
    phone_hash: str | None = None
    """Keyed hash of the normalised phone, for matching visits; never reversible here."""


class TicketCalled(Event, tag="ticket.called", frozen=True):
    """The ticket was called to a window (叫号)."""

    ticket_id: UUID
    window_id: UUID
    staff: str
    """User name of the staff member at the window who called."""
    first_call: bool
    """True on the ticket's first call ever: its ``wait_seconds`` is the visit's wait KPI."""
    wait_seconds: int
    """Seconds waited: since issue on the first call, since the transfer after a transfer."""


class TicketRecalled(Event, tag="ticket.recalled", frozen=True):
    """The called customer did not come yet and was called again (再次呼叫)."""

    ticket_id: UUID
    window_id: UUID
    call_count: int
    """How many times the ticket has now been called at this window (2, 3, …)."""


class TicketNoShow(Event, tag="ticket.no_show", frozen=True):
    """The called customer never came to the window (过号)."""

    ticket_id: UUID
    window_id: UUID
    reason: NoShowReason
    call_count: int
    """How many times the ticket had been called."""


class TicketServingStarted(Event, tag="ticket.serving_started", frozen=True):
    """The customer reached the window and service began (开始办理)."""

    ticket_id: UUID
    window_id: UUID
    served_by: str
    """User name of the staff member serving."""


class TicketFinished(Event, tag="ticket.finished", frozen=True):
    """Service ended (办结) with an outcome code."""

    ticket_id: UUID
    window_id: UUID
    served_by: str
    outcome: Outcome
    service_seconds: int
    """Seconds of service over the whole visit (the sum over windows if it was transferred)."""
    note: FreeText | None = None
    """The clerk's remark on the visit."""


class TicketTransferred(Event, tag="ticket.transferred", frozen=True):
    """The ticket went back to a queue (转移): another category's, or one window's.

    A transferred customer has already waited once, so they go to the head of the new queue:
    the ticket is ranked above every untransferred ticket, and among transferred ones by the
    time of transfer. Its issue time is kept, so the visit's wait KPI stays the first wait.
    """

    ticket_id: UUID
    from_status: Literal["waiting", "called", "serving"]
    from_category: ServiceCategory
    to_category: ServiceCategory
    from_window_id: UUID | None
    """The window that had called or was serving it (None if it was waiting)."""
    to_window_id: UUID | None
    """If set, only this window may call the ticket next."""
    service_seconds: int
    """Seconds of service so far over the visit, including the segment this transfer ends."""
    note: FreeText | None = None
    """Why the ticket was transferred."""


class TicketCancelled(Event, tag="ticket.cancelled", frozen=True):
    """A waiting ticket was given up (离开 walkout, or cancelled on request)."""

    ticket_id: UUID
    reason: CancelReason
    waited_seconds: int
    """Seconds from issue until the ticket was given up."""


class TicketRated(Event, tag="ticket.rated", frozen=True):
    """The customer rated the service (满意度评价); once per finished ticket."""

    ticket_id: UUID
    score: int
    """1 (very dissatisfied) … 5 (very satisfied)."""
    comment: FreeText | None
    """The customer's words, if any."""
    served_by: str | None
    """Who served the ticket: ratings feed the staff rankings."""
    window_id: UUID | None


# ---------------------------------------------------------------- appointments


class AppointmentBooked(Event, tag="appointment.booked", frozen=True):
    """A customer reserved a slot (线上预约) for a service."""

    appointment_id: UUID
    category: ServiceCategory
    slot_start: datetime
    """Start of the reserved slot, UTC."""
    day: date
    """Store-local day of the slot."""
    customer_name: str
    """The customer's name as displayed: first character kept, the rest masked (``张*``)."""
    phone_masked: str
    phone_hash: str
    note: FreeText | None = None
    """Free text from whoever booked it."""


class AppointmentCheckedIn(Event, tag="appointment.checked_in", frozen=True):
    """The customer arrived and checked in; a priority ticket was issued for them."""

    appointment_id: UUID
    ticket_id: UUID
    number: str
    lateness_seconds: int
    """Check-in time minus slot start, seconds; negative when early."""


class AppointmentCancelled(Event, tag="appointment.cancelled", frozen=True):
    """The appointment was cancelled before check-in."""

    appointment_id: UUID
    reason: FreeText | None = None
    """Why it was cancelled, if said."""


class AppointmentNoShow(Event, tag="appointment.no_show", frozen=True):
    """The customer never checked in before the slot's late limit (爽约)."""

    appointment_id: UUID


EVENTS: tuple[type[Event], ...] = (
    WindowDefined,
    WindowChanged,
    WindowOpened,
    WindowPaused,
    WindowResumed,
    WindowClosed,
    TicketIssued,
    TicketCalled,
    TicketRecalled,
    TicketNoShow,
    TicketServingStarted,
    TicketFinished,
    TicketTransferred,
    TicketCancelled,
    TicketRated,
    AppointmentBooked,
    AppointmentCheckedIn,
    AppointmentCancelled,
    AppointmentNoShow,
)
