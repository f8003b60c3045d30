"""The queue's commands, one module per noun: ``windows`` (服务窗口), ``tickets`` (排队取号 →
叫号 → 办理), ``appointments`` (预约 → 签到)."""

from __future__ import annotations

from server.domain.queue.commands.appointments import book, cancel_appointment, check_in
from server.domain.queue.commands.appointments import mark_no_show as appointment_no_show
from server.domain.queue.commands.tickets import (
    call_next,
    cancel,
    finish,
    issue_ticket,
    rate,
    recall,
    start_service,
    transfer,
)
from server.domain.queue.commands.tickets import mark_no_show as ticket_no_show
from server.domain.queue.commands.windows import (
    close_window,
    define_window,
    open_window,
    pause_window,
    resume_window,
    update_window,
)

__all__ = [
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
]
