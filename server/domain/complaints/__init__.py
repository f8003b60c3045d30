"""The complaints domain (投诉): a state machine from opening to closing, with SLAs.

- ``commands``: open, assign, respond, escalate, resolve, feedback, close, reopen (the state
  machine is drawn there);
- ``projectors``: events → ``complaints`` (current state) and ``complaint_steps`` (timeline);
- ``reads``: single complaints, lists, phone search, overdue clauses and the KPI counts.

The names below are the package's public face, imported from their module on first use
(``server.domain.facade``), so that loading the projectors imports no command or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.domain.complaints.commands import assign as assign
    from server.domain.complaints.commands import close as close
    from server.domain.complaints.commands import escalate as escalate
    from server.domain.complaints.commands import open_complaint as open_complaint
    from server.domain.complaints.commands import record_feedback as record_feedback
    from server.domain.complaints.commands import reopen as reopen
    from server.domain.complaints.commands import resolve as resolve
    from server.domain.complaints.commands import respond as respond
    from server.domain.complaints.reads import check_customer_phone as check_customer_phone
    from server.domain.complaints.reads import complaint_out as complaint_out
    from server.domain.complaints.reads import get_complaint as get_complaint
    from server.domain.complaints.reads import list_complaints as list_complaints
    from server.domain.complaints.reads import open_and_overdue as open_and_overdue
    from server.domain.complaints.reads import search_by_phone as search_by_phone
    from server.domain.complaints.reads import staff_attitude_strikes as staff_attitude_strikes
else:
    from server.domain.facade import lazy_names

    __getattr__, __dir__ = lazy_names(
        __name__,
        commands=(
            "assign",
            "close",
            "escalate",
            "open_complaint",
            "record_feedback",
            "reopen",
            "resolve",
            "respond",
        ),
        reads=(
            "check_customer_phone",
            "complaint_out",
            "get_complaint",
            "list_complaints",
            "open_and_overdue",
            "search_by_phone",
            "staff_attitude_strikes",
        ),
    )
