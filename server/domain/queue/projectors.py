"""Queue events → ``queue_windows``, ``queue_tickets``, ``queue_appointments`` rows.

Each projector writes only from its event's fields (and, for counters, from the row the
earlier events built), so folding the log from scratch rebuilds identical rows here and at
central. Loaded by the projector registry, ``server.domain.projection``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from schema.events.queue import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentNoShow,
    TicketCalled,
    TicketCancelled,
    TicketFinished,
    TicketIssued,
    TicketNoShow,
    TicketRated,
    TicketRecalled,
    TicketServingStarted,
    TicketTransferred,
    WindowChanged,
    WindowClosed,
    WindowDefined,
    WindowOpened,
    WindowPaused,
    WindowResumed,
)
from schema.tables.queue import queue_appointments, queue_tickets, queue_windows
from server.domain.projection import projects
from server.domain.queue.rules import RANK_PRIORITY, RANK_TRANSFERRED, RANK_WALK_IN
from server.domain.rows import Rows


def _window(rows: Rows, store_id: str, window_id: UUID, **values: Any) -> None:
    rows.update(queue_windows, {"store_id": store_id, "window_id": window_id}, set=values)


def _ticket(rows: Rows, store_id: str, ticket_id: UUID, **values: Any) -> None:
    rows.update(queue_tickets, {"store_id": store_id, "ticket_id": ticket_id}, set=values)


def _appointment(rows: Rows, store_id: str, appointment_id: UUID, **values: Any) -> None:
    rows.update(
        queue_appointments, {"store_id": store_id, "appointment_id": appointment_id}, set=values
    )


# ---------------------------------------------------------------- windows


@projects(WindowDefined)
def _defined(rows: Rows, e: WindowDefined) -> None:
    rows.insert(
        queue_windows,
        dict(
            store_id=e.store_id,
            window_id=e.window_id,
            code=e.code,
            name=e.name,
            kind=e.kind,
            categories=list(e.categories),
            status="closed",
            staff=None,
            pause_reason=None,
            pause_note=None,
            status_since=e.at,
            defined_at=e.at,
        ),
    )


@projects(WindowChanged)
def _changed(rows: Rows, e: WindowChanged) -> None:
    _window(rows, e.store_id, e.window_id, name=e.name, categories=list(e.categories))


@projects(WindowOpened)
def _opened(rows: Rows, e: WindowOpened) -> None:
    _window(rows, e.store_id, e.window_id, status="open", staff=e.staff, status_since=e.at)


@projects(WindowPaused)
def _paused(rows: Rows, e: WindowPaused) -> None:
    _window(
        rows,
        e.store_id,
        e.window_id,
        status="paused",
        pause_reason=e.reason,
        pause_note=e.note,
        status_since=e.at,
    )


@projects(WindowResumed)
def _resumed(rows: Rows, e: WindowResumed) -> None:
    _window(
        rows,
        e.store_id,
        e.window_id,
        status="open",
        pause_reason=None,
        pause_note=None,
        status_since=e.at,
    )


@projects(WindowClosed)
def _closed(rows: Rows, e: WindowClosed) -> None:
    _window(
        rows,
        e.store_id,
        e.window_id,
        status="closed",
        staff=None,
        pause_reason=None,
        pause_note=None,
        status_since=e.at,
    )


# ---------------------------------------------------------------- tickets


@projects(TicketIssued)
def _issued(rows: Rows, e: TicketIssued) -> None:
    priority = e.vip or e.appointment_id is not None
    rows.insert(
        queue_tickets,
        dict(
            store_id=e.store_id,
            ticket_id=e.ticket_id,
            day=e.day,
            issued_category=e.category,
            seq_no=e.seq_no,
            number=e.number,
            category=e.category,
            status="waiting",
            vip=e.vip,
            appointment_id=e.appointment_id,
            rank=RANK_PRIORITY if priority else RANK_WALK_IN,
            phone_masked=e.phone_masked,
            phone_hash=e.phone_hash,
            issued_at=e.at,
            queued_at=e.at,
            target_window_id=None,
            window_id=None,
            called_by=None,
            called_at=None,
            last_called_at=None,
            call_count=0,
            wait_seconds=None,
            serving_at=None,
            served_by=None,
            service_seconds=0,
            done_at=None,
            ended_at=None,
            outcome=None,
            note=None,
            no_show_reason=None,
            cancel_reason=None,
            transfer_count=0,
            score=None,
            comment=None,
            rated_at=None,
        ),
    )


@projects(TicketCalled)
def _called(rows: Rows, e: TicketCalled) -> None:
    values: dict[str, Any] = {
        "status": "called",
        "window_id": e.window_id,
        "target_window_id": None,
        "called_by": e.staff,
        "last_called_at": e.at,
        "call_count": 1,
    }
    if e.first_call:
        values.update(called_at=e.at, wait_seconds=e.wait_seconds)
    _ticket(rows, e.store_id, e.ticket_id, **values)


@projects(TicketRecalled)
def _recalled(rows: Rows, e: TicketRecalled) -> None:
    _ticket(rows, e.store_id, e.ticket_id, last_called_at=e.at, call_count=e.call_count)


@projects(TicketNoShow)
def _no_show(rows: Rows, e: TicketNoShow) -> None:
    _ticket(
        rows,
        e.store_id,
        e.ticket_id,
        status="no_show",
        no_show_reason=e.reason,
        call_count=e.call_count,
        ended_at=e.at,
    )


@projects(TicketServingStarted)
def _serving(rows: Rows, e: TicketServingStarted) -> None:
    _ticket(rows, e.store_id, e.ticket_id, status="serving", serving_at=e.at, served_by=e.served_by)


@projects(TicketFinished)
def _finished(rows: Rows, e: TicketFinished) -> None:
    _ticket(
        rows,
        e.store_id,
        e.ticket_id,
        status="done",
        outcome=e.outcome,
        note=e.note,
        service_seconds=e.service_seconds,
        done_at=e.at,
        ended_at=e.at,
    )


@projects(TicketTransferred)
def _transferred(rows: Rows, e: TicketTransferred) -> None:
    # A transfer note explains the hand-over; it replaces an older note, never blanks one.
    note = {"note": e.note} if e.note else {}
    rows.update(
        queue_tickets,
        {"store_id": e.store_id, "ticket_id": e.ticket_id},
        set={
            "status": "waiting",
            "category": e.to_category,
            "target_window_id": e.to_window_id,
            "window_id": None,
            "rank": RANK_TRANSFERRED,
            "queued_at": e.at,
            "call_count": 0,
            "serving_at": None,
            "service_seconds": e.service_seconds,
            **note,
        },
        inc={"transfer_count": 1},
    )


@projects(TicketCancelled)
def _cancelled(rows: Rows, e: TicketCancelled) -> None:
    _ticket(
        rows, e.store_id, e.ticket_id, status="cancelled", cancel_reason=e.reason, ended_at=e.at
    )


@projects(TicketRated)
def _rated(rows: Rows, e: TicketRated) -> None:
    _ticket(rows, e.store_id, e.ticket_id, score=e.score, comment=e.comment, rated_at=e.at)


# ---------------------------------------------------------------- appointments


@projects(AppointmentBooked)
def _booked(rows: Rows, e: AppointmentBooked) -> None:
    rows.insert(
        queue_appointments,
        dict(
            store_id=e.store_id,
            appointment_id=e.appointment_id,
            day=e.day,
            slot_start=e.slot_start,
            category=e.category,
            customer_name=e.customer_name,
            phone_masked=e.phone_masked,
            phone_hash=e.phone_hash,
            note=e.note,
            status="booked",
            booked_at=e.at,
            booked_by=e.actor,
            checked_in_at=None,
            ticket_id=None,
            ticket_number=None,
            lateness_seconds=None,
            cancelled_at=None,
            cancel_reason=None,
            no_show_at=None,
        ),
    )


@projects(AppointmentCheckedIn)
def _checked_in(rows: Rows, e: AppointmentCheckedIn) -> None:
    _appointment(
        rows,
        e.store_id,
        e.appointment_id,
        status="checked_in",
        checked_in_at=e.at,
        ticket_id=e.ticket_id,
        ticket_number=e.number,
        lateness_seconds=e.lateness_seconds,
    )


@projects(AppointmentCancelled)
def _appointment_cancelled(rows: Rows, e: AppointmentCancelled) -> None:
    _appointment(
        rows,
        e.store_id,
        e.appointment_id,
        status="cancelled",
        cancelled_at=e.at,
        cancel_reason=e.reason,
    )


@projects(AppointmentNoShow)
def _appointment_no_show(rows: Rows, e: AppointmentNoShow) -> None:
    _appointment(rows, e.store_id, e.appointment_id, status="no_show", no_show_at=e.at)
