"""The queue domain (排队叫号): windows, tickets, appointments and the live queue state.

This module is the domain's one entry point: importing it registers every queue projector
(``server.domain.projection`` loads it), and it names the commands and reads the API calls.
The work is split by noun:

- ``queue_common``: rules in numbers (recall limit, check-in window, ranks), lookups, guards,
  and the privacy helpers (masked + hashed phone numbers, masked names);
- ``queue_projectors``: events → ``queue_windows``, ``queue_tickets``, ``queue_appointments``;
- ``queue_window_commands``, ``queue_ticket_commands``, ``queue_appointment_commands``;
- ``queue_reads``: single rows, list queries, and ``queue_state`` for the display board.
"""

from __future__ import annotations

from server.domain import queue_projectors  # noqa: F401  - registers the projectors
from server.domain.queue_appointment_commands import book, cancel_appointment, check_in
from server.domain.queue_appointment_commands import mark_no_show as appointment_no_show
from server.domain.queue_common import (
    CHECK_IN_EARLY,
    CHECK_IN_LATE,
    MAX_CALLS,
    mask_name,
)
from server.domain.queue_reads import (
    appointment_out,
    get_appointment,
    get_ticket,
    get_window,
    list_appointments,
    list_tickets,
    list_windows,
    queue_state,
    ticket_out,
    window_out,
)
from server.domain.queue_ticket_commands import (
    call_next,
    cancel,
    finish,
    issue_ticket,
    rate,
    recall,
    start_service,
    transfer,
)
from server.domain.queue_ticket_commands import mark_no_show as ticket_no_show
from server.domain.queue_window_commands import (
    close_window,
    define_window,
    open_window,
    pause_window,
    resume_window,
    update_window,
)
from server.errors import QueueEmpty

__all__ = [
    "CHECK_IN_EARLY",
    "CHECK_IN_LATE",
    "MAX_CALLS",
    "QueueEmpty",
    "appointment_no_show",
    "appointment_out",
    "book",
    "call_next",
    "cancel",
    "cancel_appointment",
    "check_in",
    "close_window",
    "define_window",
    "finish",
    "get_appointment",
    "get_ticket",
    "get_window",
    "issue_ticket",
    "list_appointments",
    "list_tickets",
    "list_windows",
    "mask_name",
    "open_window",
    "pause_window",
    "queue_state",
    "rate",
    "recall",
    "resume_window",
    "start_service",
    "ticket_no_show",
    "ticket_out",
    "transfer",
    "update_window",
    "window_out",
]
