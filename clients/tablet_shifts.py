"""The shifts (排班) and attendance (考勤) part of the tablet client.

Mixed into ``clients.tablet.TabletClient``; import that, not this.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from clients.http import HttpCore
from schema.api.common import Page
from schema.api.shifts import (
    AbsenceReasonIn,
    AttendanceDayOut,
    AttendanceOut,
    AttendanceStatus,
    AttendanceSummaryOut,
    AttendanceTodayOut,
    ClockActionIn,
    ClockStatusOut,
    ReasonIn,
    ShiftBatchIn,
    ShiftBatchOut,
    ShiftCancelIn,
    ShiftChangeIn,
    ShiftIn,
    ShiftOut,
    ShiftStatus,
    ShiftSwapIn,
    ShiftSwapOut,
)

_SHIFTS = "/api/v1/shifts"
_ATTENDANCE = "/api/v1/attendance"


class ShiftsApi(HttpCore):
    """The manager plans shifts; everyone reads the schedule and clocks themselves in and out.
    Attendance reads show a non-manager only their own rows."""

    # ---------------------------------------------------------------- shifts (排班)

    async def list_shifts(
        self,
        *,
        day: date | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        user_id: UUID | None = None,
        window: str | None = None,
        status: ShiftStatus | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[ShiftOut]:
        """The schedule; give ``day`` or a ``date_from``/``date_to`` range (store-local)."""
        params = {
            "day": day,
            "from": date_from,
            "to": date_to,
            "user_id": user_id,
            "window": window,
            "status": status,
            "limit": limit,
            "offset": offset,
        }
        return await self.request("GET", _SHIFTS, Page[ShiftOut], params=params)

    async def get_shift(self, shift_id: UUID) -> ShiftOut:
        return await self.request("GET", f"{_SHIFTS}/{shift_id}", ShiftOut)

    async def plan_shift(self, body: ShiftIn, *, idempotency_key: str | None = None) -> ShiftOut:
        """Plan one shift for a staff member (manager)."""
        return await self.request(
            "POST", _SHIFTS, ShiftOut, body=body, idempotency_key=idempotency_key
        )

    async def plan_shifts(
        self, body: ShiftBatchIn, *, idempotency_key: str | None = None
    ) -> ShiftBatchOut:
        """Plan many shifts at once, all or nothing (manager)."""
        return await self.request(
            "POST", f"{_SHIFTS}/bulk", ShiftBatchOut, body=body, idempotency_key=idempotency_key
        )

    async def change_shift(
        self,
        shift_id: UUID,
        body: ShiftChangeIn | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> ShiftOut:
        """Change a planned shift's times, window or note (manager)."""
        return await self.request(
            "PATCH",
            f"{_SHIFTS}/{shift_id}",
            ShiftOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def cancel_shift(
        self,
        shift_id: UUID,
        body: ShiftCancelIn | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> ShiftOut:
        """Cancel a planned shift (manager)."""
        return await self.request(
            "POST",
            f"{_SHIFTS}/{shift_id}/cancel",
            ShiftOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def swap_shifts(
        self, body: ShiftSwapIn, *, idempotency_key: str | None = None
    ) -> ShiftSwapOut:
        """Swap two staff members' planned shifts (manager)."""
        return await self.request(
            "POST", f"{_SHIFTS}/swap", ShiftSwapOut, body=body, idempotency_key=idempotency_key
        )

    async def explain_absence(
        self, shift_id: UUID, body: AbsenceReasonIn, *, idempotency_key: str | None = None
    ) -> ShiftOut:
        """Explain why nobody clocked in for a shift: the staff member or a manager."""
        return await self.request(
            "POST",
            f"{_SHIFTS}/{shift_id}/absence-reason",
            ShiftOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    # ---------------------------------------------------------------- clocking (签到 · 签退)

    async def _clock(
        self, action: str, body: ClockActionIn | None, idempotency_key: str | None
    ) -> AttendanceOut:
        return await self.request(
            "POST",
            f"{_ATTENDANCE}/{action}",
            AttendanceOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def clock_in(
        self, body: ClockActionIn | None = None, *, idempotency_key: str | None = None
    ) -> AttendanceOut:
        """Clock in: yourself by default, or (manager) someone else with a reason."""
        return await self._clock("clock-in", body, idempotency_key)

    async def clock_out(
        self, body: ClockActionIn | None = None, *, idempotency_key: str | None = None
    ) -> AttendanceOut:
        """Clock out: yourself by default, or (manager) someone else with a reason."""
        return await self._clock("clock-out", body, idempotency_key)

    async def start_break(
        self, body: ClockActionIn | None = None, *, idempotency_key: str | None = None
    ) -> AttendanceOut:
        """Start a break while clocked in."""
        return await self._clock("breaks/start", body, idempotency_key)

    async def end_break(
        self, body: ClockActionIn | None = None, *, idempotency_key: str | None = None
    ) -> AttendanceOut:
        """End the running break."""
        return await self._clock("breaks/end", body, idempotency_key)

    async def record_attendance_reason(
        self, attendance_id: UUID, body: ReasonIn, *, idempotency_key: str | None = None
    ) -> AttendanceOut:
        """Explain lateness or an early leave: the person or a manager."""
        return await self.request(
            "POST",
            f"{_ATTENDANCE}/{attendance_id}/reason",
            AttendanceOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    # ---------------------------------------------------------------- attendance reads (考勤)

    async def get_attendance(self, attendance_id: UUID) -> AttendanceOut:
        """One attendance record; staff see only their own."""
        return await self.request("GET", f"{_ATTENDANCE}/{attendance_id}", AttendanceOut)

    async def list_attendance(
        self,
        *,
        day: date | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        user_id: UUID | None = None,
        status: AttendanceStatus | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[AttendanceDayOut]:
        """Planned vs actual per shift; today unless ``day`` or a range is given."""
        params = {
            "day": day,
            "from": date_from,
            "to": date_to,
            "user_id": user_id,
            "status": status,
            "limit": limit,
            "offset": offset,
        }
        return await self.request("GET", _ATTENDANCE, Page[AttendanceDayOut], params=params)

    async def list_attendance_summaries(
        self,
        *,
        month: str | None = None,
        user_id: UUID | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[AttendanceSummaryOut]:
        """Each person's month (``YYYY-MM``, default this month): lateness, absences, hours."""
        params = {"month": month, "user_id": user_id, "limit": limit, "offset": offset}
        return await self.request(
            "GET", f"{_ATTENDANCE}/summary", Page[AttendanceSummaryOut], params=params
        )

    async def get_clock_status(self, *, user_id: UUID | None = None) -> ClockStatusOut:
        """Clocked in or not, on a break, and today's shifts: yours, or (manager) anyone's."""
        return await self.request(
            "GET", f"{_ATTENDANCE}/current", ClockStatusOut, params={"user_id": user_id}
        )

    async def get_attendance_today(self, *, day: date | None = None) -> AttendanceTodayOut:
        """A day's attendance counts: planned, clocked in, late, absent (manager)."""
        return await self.request(
            "GET", f"{_ATTENDANCE}/today", AttendanceTodayOut, params={"day": day}
        )
