"""What every part of the queue domain shares: rules in numbers, lookups, privacy helpers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.events.queue import SERVICE_CATEGORIES, ServiceCategory, WindowKind
from schema.tables.queue import queue_appointments, queue_tickets, queue_windows
from server.domain.common import actor_role, find_row, one_of, row_or_404
from server.domain.context import Ctx
from server.errors import Forbidden, ValidationFailed
from server.privacy import is_mobile, mask_phone

MAX_CALLS = 3
"""A called ticket is called at most this many times (first call + 2 recalls); the recall that
would exceed it marks the ticket a no-show (过号) instead."""

CHECK_IN_EARLY = timedelta(minutes=30)
"""An appointment may check in from this long before its slot…"""
CHECK_IN_LATE = timedelta(minutes=15)
"""…until this long after it; later, it can be marked no-show and the customer takes a ticket."""

BOOKING_HORIZON = timedelta(days=30)
"""How far ahead a slot may be booked."""

RANK_TRANSFERRED = 0
"""Transferred tickets go to the head of their new queue: the customer already waited once."""
RANK_PRIORITY = 1
"""VIP customers and checked-in appointments come before walk-ins."""
RANK_WALK_IN = 2

ACTIVE = ("called", "serving")
"""Ticket states that occupy a window."""

DEFAULT_CATEGORIES: dict[WindowKind, list[ServiceCategory]] = {
    "consultation": ["consultation"],
    "business": ["new_line", "plan_change", "billing", "porting", "loss_report", "broadband"],
    "after_sales": ["after_sales"],
    "cashier": ["billing", "device_purchase"],
    "vip": list(SERVICE_CATEGORIES),
}
"""What a window of each kind serves when the manager does not say otherwise."""


# ---------------------------------------------------------------- privacy


def contact(ctx: Ctx, phone: str, field: str, token: str | None) -> tuple[str, str]:
    """The masked display form and matching token of a customer's mobile number (``token``
    when the route computed it already, see ``Ctx.contact_token``).

    The raw number goes no further than this function: not into events, rows or messages.
    """
    check_mobile(phone, field)
    return mask_phone(phone), ctx.contact_token(phone, token)


def check_mobile(phone: str, field: str) -> None:
    """422 unless ``phone`` is a mainland mobile number; never echoes the value."""
    if not is_mobile(phone):
        raise ValidationFailed("not a mainland mobile number (11 digits, 1[3-9]…)", field=field)


def mask_name(name: str) -> str:
    """A customer's name for display: the first character kept, the rest masked (``张**``)."""
    name = name.strip()
    if len(name) <= 1:
        return name + "*"
    return name[0] + "*" * (len(name) - 1)


# ---------------------------------------------------------------- lookups


def window_row(
    conn: Connection, store_id: str, window_id: UUID, *, field: str | None = None
) -> Any:
    """The window's projection row, or 404 (422 naming ``field`` when it came from a body)."""
    w = queue_windows
    if field is None:
        return row_or_404(conn, w, store_id, w.c.window_id, window_id, "window")
    row = find_row(conn, w, store_id, w.c.window_id, window_id)
    if row is None:
        raise ValidationFailed(f"no window {window_id}", field=field)
    return row


def ticket_row(conn: Connection, store_id: str, ticket_id: UUID) -> Any:
    t = queue_tickets
    return row_or_404(conn, t, store_id, t.c.ticket_id, ticket_id, "ticket")


def appointment_row(conn: Connection, store_id: str, appointment_id: UUID) -> Any:
    a = queue_appointments
    return row_or_404(conn, a, store_id, a.c.appointment_id, appointment_id, "appointment")


_ACTIVE_AT_WINDOW = sa.select(queue_tickets).where(
    queue_tickets.c.store_id == sa.bindparam("store_id"),
    queue_tickets.c.window_id == sa.bindparam("window_id"),
    one_of(queue_tickets.c.status, ACTIVE),
)


def active_ticket_at(conn: Connection, store_id: str, window_id: UUID) -> Any:
    """The ticket a window has called or is serving, if any (there is at most one)."""
    return conn.execute(_ACTIVE_AT_WINDOW, {"store_id": store_id, "window_id": window_id}).first()


# ---------------------------------------------------------------- guards


def require_operator(ctx: Ctx, window: Any) -> None:
    """Only the staff member at a window (or a manager) works its tickets."""
    if window.staff == ctx.actor or actor_role(ctx.conn, ctx.store_id, ctx.actor) == "manager":
        return
    who = window.staff or "nobody"
    raise Forbidden(f"window {window.code} is worked by {who}; only they or a manager may use it")
