"""Reads of the queue domain: single rows, list queries for paging, and the live queue state."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.queue import (
    AppointmentOut,
    AppointmentStatus,
    CategoryStateOut,
    CurrentTicketOut,
    QueueStateOut,
    QueueTotalsOut,
    RecentCallOut,
    TicketOut,
    TicketStatus,
    WindowOut,
    WindowStateOut,
    WindowStatus,
)
from schema.events.queue import CATEGORY_LETTERS, SERVICE_CATEGORIES, ServiceCategory, WindowKind
from schema.tables.queue import queue_appointments, queue_tickets, queue_windows
from server.domain.calendar import elapsed_seconds, store_today
from server.domain.queue.rules import ACTIVE, CHECK_IN_EARLY, CHECK_IN_LATE, RANK_WALK_IN
from server.domain.sql import find_row, one_of, row_or_404
from server.errors import NotFound, ValidationFailed

RECENT_CALLS = 6
"""How many of the latest calls the display's "now calling" list shows."""

t = queue_tickets
w = queue_windows
a = queue_appointments


# ---------------------------------------------------------------- lookups


def window_row(
    conn: Connection, store_id: str, window_id: UUID, *, field: str | None = None
) -> Any:
    """The window's projection row, or 404 (422 naming ``field`` when it came from a body)."""
    if field is None:
        return row_or_404(conn, w, store_id, w.c.window_id, window_id, "window")
    row = find_row(conn, w, store_id, w.c.window_id, window_id)
    if row is None:
        raise ValidationFailed(f"no window {window_id}", field=field)
    return row


def ticket_row(conn: Connection, store_id: str, ticket_id: UUID) -> Any:
    return row_or_404(conn, t, store_id, t.c.ticket_id, ticket_id, "ticket")


def appointment_row(conn: Connection, store_id: str, appointment_id: UUID) -> Any:
    return row_or_404(conn, a, store_id, a.c.appointment_id, appointment_id, "appointment")


_ACTIVE_AT_WINDOW = sa.select(queue_tickets).where(
    queue_tickets.c.store_id == sa.bindparam("store_id"),
    queue_tickets.c.window_id == sa.bindparam("window_id"),
    one_of(queue_tickets.c.status, ACTIVE),
)


def active_ticket_at(conn: Connection, store_id: str, window_id: UUID) -> Any:
    """The ticket a window has called or is serving, if any (there is at most one)."""
    return conn.execute(_ACTIVE_AT_WINDOW, {"store_id": store_id, "window_id": window_id}).first()


# ---------------------------------------------------------------- tickets


_TICKETS = sa.select(t, w.c.code.label("window_code")).outerjoin(
    w, sa.and_(w.c.store_id == t.c.store_id, w.c.window_id == t.c.window_id)
)
"""Tickets with the code of the window that called them, for ``ticket_out``."""

_TICKET_BY_ID = _TICKETS.where(
    t.c.store_id == sa.bindparam("store_id"), t.c.ticket_id == sa.bindparam("ticket_id")
)


def ticket_select(store_id: str) -> sa.Select[Any]:
    """The store's tickets with the code of the window that called them, for ``ticket_out``."""
    return _TICKETS.where(t.c.store_id == store_id)


def ticket_out(row: Any, ahead: int | None = None) -> TicketOut:
    return TicketOut(
        ticket_id=row.ticket_id,
        number=row.number,
        day=row.day,
        category=row.category,
        issued_category=row.issued_category,
        status=row.status,
        vip=row.vip,
        priority=row.rank < RANK_WALK_IN,
        appointment_id=row.appointment_id,
        customer_phone=row.phone_masked,
        issued_at=row.issued_at,
        queued_at=row.queued_at,
        target_window_id=row.target_window_id,
        window_id=row.window_id,
        window_code=row.window_code,
        called_by=row.called_by,
        called_at=row.called_at,
        last_called_at=row.last_called_at,
        call_count=row.call_count,
        wait_seconds=row.wait_seconds,
        serving_at=row.serving_at,
        served_by=row.served_by,
        service_seconds=row.service_seconds,
        done_at=row.done_at,
        ended_at=row.ended_at,
        outcome=row.outcome,
        note=row.note,
        no_show_reason=row.no_show_reason,
        cancel_reason=row.cancel_reason,
        transfer_count=row.transfer_count,
        score=row.score,
        comment=row.comment,
        rated_at=row.rated_at,
        ahead=ahead,
    )


def _ahead_statement(*, sent_to_window: bool) -> sa.Select[Any]:
    same_queue = (
        t.c.target_window_id == sa.bindparam("target_window_id")
        if sent_to_window
        else sa.and_(t.c.target_window_id.is_(None), t.c.category == sa.bindparam("category"))
    )
    rank: sa.BindParameter[int] = sa.bindparam("rank")
    queued_at: sa.BindParameter[datetime] = sa.bindparam("queued_at")
    before = sa.or_(
        t.c.rank < rank,
        sa.and_(t.c.rank == rank, t.c.queued_at < queued_at),
        sa.and_(
            t.c.rank == rank, t.c.queued_at == queued_at, t.c.ticket_id < sa.bindparam("ticket_id")
        ),
    )
    return (
        sa.select(sa.func.count())
        .select_from(t)
        .where(
            t.c.store_id == sa.bindparam("store_id"),
            t.c.day == sa.bindparam("day"),
            t.c.status == "waiting",
            same_queue,
            before,
        )
    )


_AHEAD_AT_WINDOW = _ahead_statement(sent_to_window=True)
_AHEAD_IN_CATEGORY = _ahead_statement(sent_to_window=False)


def tickets_ahead(conn: Connection, row: Any) -> int | None:
    """How many waiting tickets of the same queue come before this one (None unless waiting).

    The same queue is the same window for a ticket sent to one window, else the same category.
    A VIP window's preference for VIP tickets is not counted: this is the usual order.
    """
    if row.status != "waiting":
        return None
    params = {
        "store_id": row.store_id,
        "day": row.day,
        "rank": row.rank,
        "queued_at": row.queued_at,
        "ticket_id": row.ticket_id,
    }
    if row.target_window_id is not None:
        stmt, params["target_window_id"] = _AHEAD_AT_WINDOW, row.target_window_id
    else:
        stmt, params["category"] = _AHEAD_IN_CATEGORY, row.category
    count: int = conn.execute(stmt, params).scalar_one()
    return count


def get_ticket(conn: Connection, store_id: str, ticket_id: UUID) -> TicketOut:
    row = conn.execute(_TICKET_BY_ID, {"store_id": store_id, "ticket_id": ticket_id}).first()
    if row is None:
        raise NotFound(f"no ticket {ticket_id}")
    return ticket_out(row, tickets_ahead(conn, row))


def list_tickets(
    store_id: str,
    *,
    day: date,
    status: TicketStatus | None = None,
    category: ServiceCategory | None = None,
    window_id: UUID | None = None,
    number: str | None = None,
) -> sa.Select[Any]:
    """One day's tickets in issue order, filtered; the API layer pages it."""
    q = ticket_select(store_id).where(t.c.day == day)
    if status is not None:
        q = q.where(t.c.status == status)
    if category is not None:
        q = q.where(t.c.category == category)
    if window_id is not None:
        q = q.where(t.c.window_id == window_id)
    if number is not None:
        q = q.where(t.c.number == number.upper())
    return q.order_by(t.c.issued_at, t.c.ticket_id)


# ---------------------------------------------------------------- windows


_CURRENT_TICKET = (
    t.c.ticket_id.label("cur_ticket_id"),
    t.c.number.label("cur_number"),
    t.c.status.label("cur_status"),
    t.c.last_called_at.label("cur_called_at"),
    t.c.serving_at.label("cur_serving_at"),
)
_WITH_CURRENT_TICKET = w.outerjoin(
    t,
    sa.and_(
        t.c.store_id == w.c.store_id,
        t.c.window_id == w.c.window_id,
        one_of(t.c.status, ACTIVE),
    ),
)
_WINDOWS = sa.select(w, *_CURRENT_TICKET).select_from(_WITH_CURRENT_TICKET)
"""Windows with the ticket each has called or is serving, for ``window_out``."""

_WINDOW_BY_ID = _WINDOWS.where(
    w.c.store_id == sa.bindparam("store_id"), w.c.window_id == sa.bindparam("window_id")
)


def window_select(store_id: str) -> sa.Select[Any]:
    """The store's windows with the ticket each has called or is serving, for ``window_out``."""
    return _WINDOWS.where(w.c.store_id == store_id)


def _current(row: Any) -> CurrentTicketOut | None:
    if row.cur_ticket_id is None:
        return None
    serving = row.cur_status == "serving"
    return CurrentTicketOut(
        ticket_id=row.cur_ticket_id,
        number=row.cur_number,
        status=row.cur_status,
        since=row.cur_serving_at if serving else row.cur_called_at,
    )


def window_out(row: Any) -> WindowOut:
    return WindowOut(
        window_id=row.window_id,
        code=row.code,
        name=row.name,
        kind=row.kind,
        categories=list(row.categories),
        status=row.status,
        staff=row.staff,
        pause_reason=row.pause_reason,
        pause_note=row.pause_note,
        status_since=row.status_since,
        current=_current(row),
    )


def get_window(conn: Connection, store_id: str, window_id: UUID) -> WindowOut:
    row = conn.execute(_WINDOW_BY_ID, {"store_id": store_id, "window_id": window_id}).first()
    if row is None:
        raise NotFound(f"no window {window_id}")
    return window_out(row)


def list_windows(
    store_id: str,
    *,
    status: WindowStatus | None = None,
    kind: WindowKind | None = None,
    staff: str | None = None,
) -> sa.Select[Any]:
    """The store's windows by code, filtered; the API layer pages it."""
    q = window_select(store_id)
    if status is not None:
        q = q.where(w.c.status == status)
    if kind is not None:
        q = q.where(w.c.kind == kind)
    if staff is not None:
        q = q.where(w.c.staff == staff)
    return q.order_by(w.c.code)


# ---------------------------------------------------------------- appointments


def appointment_out(row: Any) -> AppointmentOut:
    return AppointmentOut(
        appointment_id=row.appointment_id,
        day=row.day,
        slot_start=row.slot_start,
        category=row.category,
        customer_name=row.customer_name,
        customer_phone=row.phone_masked,
        note=row.note,
        status=row.status,
        booked_at=row.booked_at,
        booked_by=row.booked_by,
        check_in_opens_at=row.slot_start - CHECK_IN_EARLY,
        check_in_closes_at=row.slot_start + CHECK_IN_LATE,
        checked_in_at=row.checked_in_at,
        ticket_id=row.ticket_id,
        ticket_number=row.ticket_number,
        lateness_seconds=row.lateness_seconds,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        no_show_at=row.no_show_at,
    )


def get_appointment(conn: Connection, store_id: str, appointment_id: UUID) -> AppointmentOut:
    return appointment_out(appointment_row(conn, store_id, appointment_id))


def list_appointments(
    store_id: str,
    *,
    day: date,
    status: AppointmentStatus | None = None,
    category: ServiceCategory | None = None,
    phone_token: str | None = None,
) -> sa.Select[Any]:
    """One day's appointments by slot, filtered; ``phone_token`` matches one customer's
    (``server.contact_hash``: the display form shows no digit to match on)."""
    q = sa.select(a).where(a.c.store_id == store_id, a.c.day == day)
    if status is not None:
        q = q.where(a.c.status == status)
    if category is not None:
        q = q.where(a.c.category == category)
    if phone_token is not None:
        q = q.where(a.c.phone_hash == phone_token)
    return q.order_by(a.c.slot_start, a.c.appointment_id)


# ---------------------------------------------------------------- live state


_today = sa.and_(t.c.store_id == sa.bindparam("store_id"), t.c.day == sa.bindparam("day"))
_WAITING_BY_CATEGORY = (
    sa.select(t.c.category, sa.func.count().label("n"), sa.func.min(t.c.issued_at).label("oldest"))
    .where(_today, t.c.status == "waiting")
    .group_by(t.c.category)
)
_WINDOW_STATES = (
    sa.select(w.c.window_id, w.c.code, w.c.name, w.c.kind, w.c.status, w.c.staff, *_CURRENT_TICKET)
    .select_from(_WITH_CURRENT_TICKET)
    .where(w.c.store_id == sa.bindparam("store_id"))
    .order_by(w.c.code)
)
"""Just what the live state shows of each window, by code."""
_RECENT_CALLS = (
    sa.select(t.c.number, w.c.code, t.c.last_called_at, t.c.call_count)
    .join(w, sa.and_(w.c.store_id == t.c.store_id, w.c.window_id == t.c.window_id))
    .where(_today, t.c.last_called_at.is_not(None))
    .order_by(t.c.last_called_at.desc(), t.c.ticket_id.desc())
    .limit(RECENT_CALLS)
)
_TICKETS_BY_STATUS = sa.select(t.c.status, sa.func.count()).where(_today).group_by(t.c.status)


def queue_state(conn: Connection, store_id: str, now: datetime) -> QueueStateOut:
    """The hall's queue right now: per category, per window, the latest calls and totals."""
    today = store_today(conn, store_id, now)
    params = {"store_id": store_id, "day": today}
    waiting = {r.category: r for r in conn.execute(_WAITING_BY_CATEGORY, params)}
    categories = []
    for category in SERVICE_CATEGORIES:
        r = waiting.get(category)
        oldest = r.oldest if r is not None else None
        categories.append(
            CategoryStateOut(
                category=category,
                letter=CATEGORY_LETTERS[category],
                waiting=r.n if r is not None else 0,
                longest_wait_seconds=elapsed_seconds(oldest, now) if oldest is not None else 0,
                oldest_issued_at=oldest,
            )
        )
    window_rows = conn.execute(_WINDOW_STATES, params).all()
    windows = [
        WindowStateOut(
            window_id=r.window_id,
            code=r.code,
            name=r.name,
            kind=r.kind,
            status=r.status,
            staff=r.staff,
            current=_current(r),
        )
        for r in window_rows
    ]
    recent = conn.execute(_RECENT_CALLS, params).all()
    by_status: dict[str, int] = dict(conn.execute(_TICKETS_BY_STATUS, params).all())
    return QueueStateOut(
        as_of=now,
        day=today,
        categories=categories,
        windows=windows,
        recent_calls=[
            RecentCallOut(
                number=r.number,
                window_code=r.code,
                called_at=r.last_called_at,
                call_count=r.call_count,
            )
            for r in recent
        ],
        totals=QueueTotalsOut(
            issued=sum(by_status.values()),
            waiting=by_status.get("waiting", 0),
            called=by_status.get("called", 0),
            serving=by_status.get("serving", 0),
            done=by_status.get("done", 0),
            no_show=by_status.get("no_show", 0),
            cancelled=by_status.get("cancelled", 0),
            open_windows=sum(1 for r in window_rows if r.status == "open"),
            paused_windows=sum(1 for r in window_rows if r.status == "paused"),
        ),
    )
