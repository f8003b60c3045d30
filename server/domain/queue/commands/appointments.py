"""Appointment commands (线上预约): book, check in, cancel, mark no-show.

States: ``booked`` → ``checked_in`` (a priority ticket is issued), ``cancelled`` or ``no_show``.
Check-in is open from ``CHECK_IN_EARLY`` before the slot to ``CHECK_IN_LATE`` after it; once
that window has passed the appointment may be marked no-show (爽约) and the customer, if they
still come, takes an ordinary ticket.
"""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from uuid_utils.compat import uuid7

from schema.api.queue import AppointmentCancelIn, AppointmentIn, AppointmentOut, CheckInOut
from schema.events.queue import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentNoShow,
)
from schema.tables.queue import queue_appointments
from server.domain.calendar import request_instant, seconds_between
from server.domain.context import Ctx
from server.domain.guards import require_state
from server.domain.queue.commands.tickets import issue
from server.domain.queue.reads import appointment_row, get_appointment, get_ticket
from server.domain.queue.rules import (
    BOOKING_HORIZON,
    CHECK_IN_EARLY,
    CHECK_IN_LATE,
    contact,
    mask_name,
)
from server.errors import Conflict, TooEarlyToCheckIn, TooLateToCheckIn, ValidationFailed

a = queue_appointments


def book(ctx: Ctx, cmd: AppointmentIn, *, phone_token: str | None = None) -> AppointmentOut:
    """Reserve a slot for a service; a slot without a time zone is store-local time
    (``phone_token``: the customer's phone token, computed by the route)."""
    zone = ctx.store.zone
    slot = request_instant(cmd.slot_start, zone, "slot_start")
    if slot <= ctx.now:
        raise ValidationFailed("the slot has already begun", field="slot_start")
    if slot - ctx.now > BOOKING_HORIZON:
        raise ValidationFailed(
            f"slots can be booked at most {BOOKING_HORIZON.days} days ahead", field="slot_start"
        )
    local = slot.astimezone(zone)
    if not ctx.store.open_time <= local.time() < ctx.store.close_time:
        raise ValidationFailed(
            f"the hall is open {ctx.store.open_time:%H:%M}–{ctx.store.close_time:%H:%M}",
            field="slot_start",
        )
    masked, hashed = contact(ctx, cmd.customer_phone, "customer_phone", phone_token)
    day = local.date()
    duplicate = ctx.conn.execute(
        sa.select(a.c.appointment_id).where(
            a.c.store_id == ctx.store_id,
            a.c.day == day,
            a.c.phone_hash == hashed,
            a.c.status == "booked",
        )
    ).first()
    if duplicate is not None:
        raise Conflict(
            f"this phone number already holds an appointment on {day}",
            field="customer_phone",
            appointment_id=str(duplicate.appointment_id),
        )
    event = ctx.emit(
        AppointmentBooked,
        appointment_id=uuid7(),
        category=cmd.category,
        slot_start=slot,
        day=day,
        customer_name=mask_name(cmd.customer_name),
        phone_masked=masked,
        phone_hash=hashed,
        note=cmd.note or None,
    )
    return get_appointment(ctx.conn, ctx.store_id, event.appointment_id)


def check_in(ctx: Ctx, appointment_id: UUID) -> CheckInOut:
    """The customer arrived: check in and issue them a priority ticket (签到取号)."""
    row = appointment_row(ctx.conn, ctx.store_id, appointment_id)
    require_state(row.status, ["booked"], "check in", f"appointment {appointment_id}")
    opens, closes = row.slot_start - CHECK_IN_EARLY, row.slot_start + CHECK_IN_LATE
    if ctx.now < opens:
        local = ctx.local(opens)
        raise TooEarlyToCheckIn(f"too early: check-in opens at {local:%H:%M}", opens_at=opens)
    if ctx.now > closes:
        local = ctx.local(closes)
        raise TooLateToCheckIn(
            f"too late: check-in closed at {local:%H:%M}; issue an ordinary ticket",
            closed_at=closes,
        )
    ticket = issue(
        ctx,
        row.category,
        appointment_id=appointment_id,
        phone=(row.phone_masked, row.phone_hash),
    )
    ctx.emit(
        AppointmentCheckedIn,
        appointment_id=appointment_id,
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        lateness_seconds=seconds_between(row.slot_start, ctx.now),
    )
    return CheckInOut(
        appointment=get_appointment(ctx.conn, ctx.store_id, appointment_id),
        ticket=get_ticket(ctx.conn, ctx.store_id, ticket.ticket_id),
    )


def cancel_appointment(ctx: Ctx, appointment_id: UUID, cmd: AppointmentCancelIn) -> AppointmentOut:
    """Cancel an appointment that has not checked in."""
    row = appointment_row(ctx.conn, ctx.store_id, appointment_id)
    require_state(row.status, ["booked"], "cancel", f"appointment {appointment_id}")
    ctx.emit(
        AppointmentCancelled,
        appointment_id=appointment_id,
        reason=cmd.reason or None,
    )
    return get_appointment(ctx.conn, ctx.store_id, appointment_id)


def mark_no_show(ctx: Ctx, appointment_id: UUID) -> AppointmentOut:
    """The customer never came (爽约); allowed once the check-in window has closed."""
    row = appointment_row(ctx.conn, ctx.store_id, appointment_id)
    require_state(row.status, ["booked"], "mark a no-show", f"appointment {appointment_id}")
    closes = row.slot_start + CHECK_IN_LATE
    if ctx.now <= closes:
        raise Conflict(
            f"check-in is open until {ctx.local(closes):%H:%M}; the customer may still come",
            closes_at=closes,
        )
    ctx.emit(AppointmentNoShow, appointment_id=appointment_id)
    return get_appointment(ctx.conn, ctx.store_id, appointment_id)
