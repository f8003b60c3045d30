"""The shifts' commands, one module per noun: ``planning`` (排班: plan, change, cancel, swap,
explain an absence) and ``clock`` (签到 / 签退 / 休息, and the reasons for lateness)."""

from __future__ import annotations

from server.domain.shifts.commands.clock import (
    clock_in,
    clock_out,
    end_break,
    record_reason,
    start_break,
)
from server.domain.shifts.commands.planning import (
    cancel_shift,
    change_shift,
    explain_absence,
    plan_shift,
    plan_shifts,
    swap_shifts,
)

__all__ = [
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
]
