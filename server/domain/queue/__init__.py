"""The queue domain (排队叫号): windows, tickets, appointments and the live queue state.

- ``rules``: rules in numbers (recall limit, check-in window, ranks), who may work a window,
  and the privacy helpers (masked + hashed phone numbers, masked names);
- ``projectors``: events → ``queue_windows``, ``queue_tickets``, ``queue_appointments``;
- ``commands``: one module per noun (``windows``, ``tickets``, ``appointments``);
- ``reads``: row lookups, list queries, and ``queue_state`` for the display board.

The names below are the package's public face, imported from their module on first use
(``server.domain.facade``), so that loading the projectors imports no command or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.errors import QueueEmpty as QueueEmpty

if TYPE_CHECKING:
    from server.domain.queue.commands import appointment_no_show as appointment_no_show
    from server.domain.queue.commands import book as book
    from server.domain.queue.commands import call_next as call_next
    from server.domain.queue.commands import cancel as cancel
    from server.domain.queue.commands import cancel_appointment as cancel_appointment
    from server.domain.queue.commands import check_in as check_in
    from server.domain.queue.commands import close_window as close_window
    from server.domain.queue.commands import define_window as define_window
    from server.domain.queue.commands import finish as finish
    from server.domain.queue.commands import issue_ticket as issue_ticket
    from server.domain.queue.commands import open_window as open_window
    from server.domain.queue.commands import pause_window as pause_window
    from server.domain.queue.commands import rate as rate
    from server.domain.queue.commands import recall as recall
    from server.domain.queue.commands import resume_window as resume_window
    from server.domain.queue.commands import start_service as start_service
    from server.domain.queue.commands import ticket_no_show as ticket_no_show
    from server.domain.queue.commands import transfer as transfer
    from server.domain.queue.commands import update_window as update_window
    from server.domain.queue.reads import appointment_out as appointment_out
    from server.domain.queue.reads import get_appointment as get_appointment
    from server.domain.queue.reads import get_ticket as get_ticket
    from server.domain.queue.reads import get_window as get_window
    from server.domain.queue.reads import list_appointments as list_appointments
    from server.domain.queue.reads import list_tickets as list_tickets
    from server.domain.queue.reads import list_windows as list_windows
    from server.domain.queue.reads import queue_state as queue_state
    from server.domain.queue.reads import ticket_out as ticket_out
    from server.domain.queue.reads import window_out as window_out
    from server.domain.queue.rules import CHECK_IN_EARLY as CHECK_IN_EARLY
    from server.domain.queue.rules import CHECK_IN_LATE as CHECK_IN_LATE
    from server.domain.queue.rules import MAX_CALLS as MAX_CALLS
    from server.domain.queue.rules import mask_name as mask_name
else:
    from server.domain.facade import lazy_names

    __getattr__, __dir__ = lazy_names(
        __name__,
        commands=(
            "appointment_no_show",
            "book",
            "call_next",
            "cancel",
            "cancel_appointment",
            "check_in",
            "close_window",
            "define_window",
            "finish",
            "issue_ticket",
            "open_window",
            "pause_window",
            "rate",
            "recall",
            "resume_window",
            "start_service",
            "ticket_no_show",
            "transfer",
            "update_window",
        ),
        reads=(
            "appointment_out",
            "get_appointment",
            "get_ticket",
            "get_window",
            "list_appointments",
            "list_tickets",
            "list_windows",
            "queue_state",
            "ticket_out",
            "window_out",
        ),
        rules=(
            "CHECK_IN_EARLY",
            "CHECK_IN_LATE",
            "MAX_CALLS",
            "mask_name",
        ),
    )
