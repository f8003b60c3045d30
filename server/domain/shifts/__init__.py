"""Staff shifts and attendance (排班 · 考勤).

- ``commands``: one module per noun, ``planning`` (排班) and ``clock`` (签到 / 签退 / 休息);
- ``projectors``: events → ``shifts``, ``attendance_records``, ``attendance_breaks``;
- ``reads``: shifts, attendance records, planned against actual, monthly summaries;
- ``rules``: staff hours, the grace period, lateness and early leave in minutes.

The names below are the package's public face, imported from their module on first use
(``server.domain.facade``), so that loading the projectors imports no command or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.domain.shifts.commands import cancel_shift as cancel_shift
    from server.domain.shifts.commands import change_shift as change_shift
    from server.domain.shifts.commands import clock_in as clock_in
    from server.domain.shifts.commands import clock_out as clock_out
    from server.domain.shifts.commands import end_break as end_break
    from server.domain.shifts.commands import explain_absence as explain_absence
    from server.domain.shifts.commands import plan_shift as plan_shift
    from server.domain.shifts.commands import plan_shifts as plan_shifts
    from server.domain.shifts.commands import record_reason as record_reason
    from server.domain.shifts.commands import start_break as start_break
    from server.domain.shifts.commands import swap_shifts as swap_shifts
    from server.domain.shifts.reads import attendance_day_out as attendance_day_out
    from server.domain.shifts.reads import attendance_summary as attendance_summary
    from server.domain.shifts.reads import attendance_today as attendance_today
    from server.domain.shifts.reads import clock_status as clock_status
    from server.domain.shifts.reads import get_attendance as get_attendance
    from server.domain.shifts.reads import get_shift as get_shift
    from server.domain.shifts.reads import list_attendance as list_attendance
    from server.domain.shifts.reads import list_shifts as list_shifts
    from server.domain.shifts.reads import shift_out as shift_out
    from server.domain.shifts.reads import summary_out as summary_out
    from server.domain.shifts.rules import GRACE_MINUTES as GRACE_MINUTES
    from server.domain.shifts.rules import STAFF_AFTER_CLOSE as STAFF_AFTER_CLOSE
else:
    from server.domain.facade import lazy_names

    __getattr__, __dir__ = lazy_names(
        __name__,
        commands=(
            "cancel_shift",
            "change_shift",
            "clock_in",
            "clock_out",
            "end_break",
            "explain_absence",
            "plan_shift",
            "plan_shifts",
            "record_reason",
            "start_break",
            "swap_shifts",
        ),
        reads=(
            "attendance_day_out",
            "attendance_summary",
            "attendance_today",
            "clock_status",
            "get_attendance",
            "get_shift",
            "list_attendance",
            "list_shifts",
            "shift_out",
            "summary_out",
        ),
        rules=(
            "GRACE_MINUTES",
            "STAFF_AFTER_CLOSE",
        ),
    )
