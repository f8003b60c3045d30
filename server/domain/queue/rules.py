"""The queue's rules: limits and ranks in numbers, what each kind of window serves, who may work
a window, and how a customer's number and name are checked and shown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schema.events.queue import SERVICE_CATEGORIES, ServiceCategory, WindowKind
from server.domain.context import Ctx
from server.domain.guards import actor_role
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


# ---------------------------------------------------------------- guards


def require_operator(ctx: Ctx, window: Any) -> None:
    """Only the staff member at a window (or a manager) works its tickets."""
    if window.staff == ctx.actor or actor_role(ctx.conn, ctx.store_id, ctx.actor) == "manager":
        return
    who = window.staff or "nobody"
    raise Forbidden(f"window {window.code} is worked by {who}; only they or a manager may use it")
