"""Ticket commands (排队号码): issue, call next, recall, no-show, serve, finish, transfer, cancel,
rate.

States: ``waiting`` → ``called`` → ``serving`` → ``done``; ``called`` → ``no_show`` (过号) by the
clerk or when a recall would pass ``MAX_CALLS``; ``waiting`` → ``cancelled`` (walkout 离开);
``waiting | called | serving`` → ``waiting`` again on a transfer (转移). A done ticket may be
rated once, and not by the staff member who served it: the rating is the customer's.

Call order at a window: among today's waiting tickets that the window may call (those of its
categories not sent to another window, plus those sent to it), transferred tickets first, then
priority ones (VIP, checked-in appointments), then walk-ins; first come, first served within
each rank. A VIP window takes VIP tickets before anything else.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from uuid_utils.compat import uuid7

from schema.api.queue import CancelIn, FinishIn, RatingIn, TicketIn, TicketOut, TransferIn
from schema.events.queue import (
    CATEGORY_LETTERS,
    ServiceCategory,
    TicketCalled,
    TicketCancelled,
    TicketFinished,
    TicketIssued,
    TicketNoShow,
    TicketRated,
    TicketRecalled,
    TicketServingStarted,
    TicketTransferred,
)
from schema.tables.queue import queue_tickets
from server.domain.calendar import elapsed_seconds
from server.domain.context import Ctx
from server.domain.guards import require_state
from server.domain.queue.reads import active_ticket_at, get_ticket, ticket_row, window_row
from server.domain.queue.rules import MAX_CALLS, contact, require_operator
from server.errors import (
    Conflict,
    IllegalTransition,
    OwnVisitRating,
    QueueEmpty,
    ValidationFailed,
    WindowBusy,
)

t = queue_tickets

_LAST_SEQ_NO = sa.select(sa.func.max(t.c.seq_no)).where(
    t.c.store_id == sa.bindparam("store_id"),
    t.c.day == sa.bindparam("day"),
    t.c.issued_category == sa.bindparam("category"),
)


def issue(
    ctx: Ctx,
    category: ServiceCategory,
    *,
    vip: bool = False,
    appointment_id: UUID | None = None,
    phone: tuple[str, str] | None = None,
) -> TicketIssued:
    """Number and record a new waiting ticket; shared by walk-ins and appointment check-ins.

    The number is the category's letter and its next sequence number of the store-local day,
    decided here (the single writer makes it race-free) and carried in the event.
    """
    day = ctx.today
    last = ctx.conn.execute(
        _LAST_SEQ_NO, {"store_id": ctx.store_id, "day": day, "category": category}
    ).scalar()
    seq_no = (last or 0) + 1
    masked, hashed = phone if phone is not None else (None, None)
    return ctx.emit(
        TicketIssued,
        ticket_id=uuid7(),
        number=f"{CATEGORY_LETTERS[category]}{seq_no:03d}",
        day=day,
        category=category,
        seq_no=seq_no,
        vip=vip,
        appointment_id=appointment_id,
        phone_masked=masked,
        phone_hash=hashed,
    )


def issue_ticket(ctx: Ctx, cmd: TicketIn, *, phone_token: str | None = None) -> TicketOut:
    """Issue a walk-in ticket (取号) for a service category (``phone_token``: the customer's
    phone token, computed by the route)."""
    phone = (
        contact(ctx, cmd.customer_phone, "customer_phone", phone_token)
        if cmd.customer_phone
        else None
    )
    event = issue(ctx, cmd.category, vip=cmd.vip, phone=phone)
    return get_ticket(ctx.conn, ctx.store_id, event.ticket_id)


def _next_waiting_statement(*, vip_first: bool) -> sa.Select[Any]:
    order: list[Any] = [t.c.rank, t.c.queued_at, t.c.ticket_id]
    if vip_first:
        order.insert(0, t.c.vip.desc())
    return (
        sa.select(t)
        .where(
            t.c.store_id == sa.bindparam("store_id"),
            t.c.day == sa.bindparam("day"),
            t.c.status == "waiting",
            sa.or_(
                t.c.target_window_id == sa.bindparam("window_id"),
                sa.and_(
                    t.c.target_window_id.is_(None),
                    t.c.category.in_(sa.bindparam("categories", expanding=True)),
                ),
            ),
        )
        .order_by(*order)
        .limit(1)
    )


_NEXT_WAITING = _next_waiting_statement(vip_first=False)
_NEXT_WAITING_VIP_FIRST = _next_waiting_statement(vip_first=True)


def _next_waiting(ctx: Ctx, window: Any) -> Any:
    """The ticket this window should call now, by the call order in the module docstring:
    sent to this window, or of its categories and sent to no window; VIPs first at a VIP
    window."""
    stmt = _NEXT_WAITING_VIP_FIRST if window.kind == "vip" else _NEXT_WAITING
    return ctx.conn.execute(
        stmt,
        {
            "store_id": ctx.store_id,
            "day": ctx.today,
            "window_id": window.window_id,
            "categories": list(window.categories),
        },
    ).first()


def call_next(ctx: Ctx, window_id: UUID) -> TicketOut:
    """Call the next waiting ticket to an open window (叫号); 409 ``queue_empty`` if none."""
    window = window_row(ctx.conn, ctx.store_id, window_id)
    require_state(window.status, ["open"], "call a ticket to", f"window {window.code}")
    require_operator(ctx, window)
    busy = active_ticket_at(ctx.conn, ctx.store_id, window_id)
    if busy is not None:
        raise WindowBusy(
            f"window {window.code} still has ticket {busy.number} {busy.status}; "
            "finish, transfer or mark it no-show first",
            ticket=busy.number,
        )
    row = _next_waiting(ctx, window)
    if row is None:
        raise QueueEmpty(f"no ticket waits for window {window.code}", window=window.code)
    first = row.called_at is None
    ctx.emit(
        TicketCalled,
        ticket_id=row.ticket_id,
        window_id=window_id,
        staff=window.staff,
        first_call=first,
        wait_seconds=elapsed_seconds(row.issued_at if first else row.queued_at, ctx.now),
    )
    return get_ticket(ctx.conn, ctx.store_id, row.ticket_id)


def _at_window(ctx: Ctx, ticket_id: UUID, action: str, allowed: str) -> tuple[Any, Any]:
    """A ticket in the ``allowed`` state and its window, checked for the acting staff."""
    row = ticket_row(ctx.conn, ctx.store_id, ticket_id)
    require_state(row.status, [allowed], action, f"ticket {row.number}")
    window = window_row(ctx.conn, ctx.store_id, row.window_id)
    require_operator(ctx, window)
    return row, window


def recall(ctx: Ctx, ticket_id: UUID) -> TicketOut:
    """Call the ticket again (再次呼叫); past ``MAX_CALLS`` calls it becomes a no-show instead."""
    row, window = _at_window(ctx, ticket_id, "recall", "called")
    if row.call_count >= MAX_CALLS:
        ctx.emit(
            TicketNoShow,
            ticket_id=ticket_id,
            window_id=window.window_id,
            reason="recall_limit",
            call_count=row.call_count,
        )
    else:
        ctx.emit(
            TicketRecalled,
            ticket_id=ticket_id,
            window_id=window.window_id,
            call_count=row.call_count + 1,
        )
    return get_ticket(ctx.conn, ctx.store_id, ticket_id)


def mark_no_show(ctx: Ctx, ticket_id: UUID) -> TicketOut:
    """The called customer did not come (过号); the window is free to call the next."""
    row, window = _at_window(ctx, ticket_id, "mark a no-show", "called")
    ctx.emit(
        TicketNoShow,
        ticket_id=ticket_id,
        window_id=window.window_id,
        reason="clerk",
        call_count=row.call_count,
    )
    return get_ticket(ctx.conn, ctx.store_id, ticket_id)


def start_service(ctx: Ctx, ticket_id: UUID) -> TicketOut:
    """The called customer is at the desk: service starts (开始办理)."""
    _row, window = _at_window(ctx, ticket_id, "start serving", "called")
    ctx.emit(
        TicketServingStarted,
        ticket_id=ticket_id,
        window_id=window.window_id,
        served_by=window.staff or ctx.actor,
    )
    return get_ticket(ctx.conn, ctx.store_id, ticket_id)


def finish(ctx: Ctx, ticket_id: UUID, cmd: FinishIn) -> TicketOut:
    """Service ended (办结) with an outcome code; the service time is fixed here."""
    row, window = _at_window(ctx, ticket_id, "finish", "serving")
    ctx.emit(
        TicketFinished,
        ticket_id=ticket_id,
        window_id=window.window_id,
        served_by=row.served_by or ctx.actor,
        outcome=cmd.outcome,
        note=cmd.note or None,
        service_seconds=row.service_seconds + elapsed_seconds(row.serving_at, ctx.now),
    )
    return get_ticket(ctx.conn, ctx.store_id, ticket_id)


def transfer(ctx: Ctx, ticket_id: UUID, cmd: TransferIn) -> TicketOut:
    """Send a ticket to another category's queue and/or to one window (转移).

    The customer goes to the head of the new queue (see ``TicketTransferred``). A ticket at a
    window is transferred by that window's staff; a waiting one by the greeter or a clerk.
    """
    row = ticket_row(ctx.conn, ctx.store_id, ticket_id)
    require_state(row.status, ["waiting", "called", "serving"], "transfer", f"ticket {row.number}")
    if cmd.category is None and cmd.window_id is None:
        raise ValidationFailed("give the category or the window to transfer to", field="category")
    if row.window_id is not None:
        require_operator(ctx, window_row(ctx.conn, ctx.store_id, row.window_id))
    to_category = cmd.category or row.category
    if cmd.window_id is not None:
        target = window_row(ctx.conn, ctx.store_id, cmd.window_id, field="window_id")
        if target.status == "closed":
            raise Conflict(f"window {target.code} is closed", field="window_id", state="closed")
        if cmd.window_id == row.window_id:
            raise ValidationFailed("the ticket is already at that window", field="window_id")
    elif row.status == "waiting" and to_category == row.category and row.target_window_id is None:
        raise ValidationFailed(f"ticket {row.number} already waits there", field="category")
    served = elapsed_seconds(row.serving_at, ctx.now) if row.status == "serving" else 0
    ctx.emit(
        TicketTransferred,
        ticket_id=ticket_id,
        from_status=row.status,
        from_category=row.category,
        to_category=to_category,
        from_window_id=row.window_id,
        to_window_id=cmd.window_id,
        service_seconds=row.service_seconds + served,
        note=cmd.note or None,
    )
    return get_ticket(ctx.conn, ctx.store_id, ticket_id)


def cancel(ctx: Ctx, ticket_id: UUID, cmd: CancelIn) -> TicketOut:
    """A waiting customer left (离开) or gave up the ticket."""
    row = ticket_row(ctx.conn, ctx.store_id, ticket_id)
    require_state(row.status, ["waiting"], "cancel", f"ticket {row.number}")
    ctx.emit(
        TicketCancelled,
        ticket_id=ticket_id,
        reason=cmd.reason,
        waited_seconds=elapsed_seconds(row.issued_at, ctx.now),
    )
    return get_ticket(ctx.conn, ctx.store_id, ticket_id)


def rate(ctx: Ctx, ticket_id: UUID, cmd: RatingIn) -> TicketOut:
    """Record the customer's satisfaction (满意度评价) with a finished visit, once.

    The staff member who served the visit may not record its rating (ratings feed their
    ranking): the greeter or a colleague hands the customer the tablet.
    """
    row = ticket_row(ctx.conn, ctx.store_id, ticket_id)
    require_state(row.status, ["done"], "rate", f"ticket {row.number}")
    if row.score is not None:
        raise IllegalTransition(
            f"cannot rate ticket {row.number}: it is done and already rated ({row.score})",
            state=row.status,
        )
    if row.served_by == ctx.actor:
        raise OwnVisitRating(
            f"{ctx.actor} served ticket {row.number} and may not record its rating; "
            "the customer rates the service through the greeter or another colleague",
            served_by=row.served_by,
        )
    ctx.emit(
        TicketRated,
        ticket_id=ticket_id,
        score=cmd.score,
        comment=cmd.comment or None,
        served_by=row.served_by,
        window_id=row.window_id,
    )
    return get_ticket(ctx.conn, ctx.store_id, ticket_id)
