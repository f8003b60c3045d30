"""Tablet routes of shift planning (排班) and attendance (考勤).

Managers plan, change, cancel and swap shifts. Every staff member reads the schedule, clocks
themselves in and out, takes breaks and explains their own lateness; attendance reads show a
non-manager only their own rows. A manager may clock for anyone, with a reason.

Status codes: planning a shift and clocking in answer 201, as each creates a record (a shift,
an attendance record); every other step answers 200, clock-out and breaks included, since
they change the record clock-in created. Bodies whose fields all have defaults may be left
out (``POST /api/v1/attendance/clock-in`` with no body clocks in yourself, now). Times of day
are store-local and refused with a UTC offset; day ranges are ``from``/``to``, inclusive.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import Connection

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
from server.domain import shifts as domain
from server.domain.calendar import check_date_range, parse_month, store_today
from server.domain.paging import paginate
from server.errors import Forbidden, ValidationFailed
from server.store.api.common import AnyRequest, PagingDep, node, read, submit
from server.store.auth import ALL_ROLES, requires

DayParam = Annotated[date | None, QueryParameter(description="one store-local day (ISO)")]
FromParam = Annotated[
    date | None, QueryParameter(name="from", description="first store-local day (ISO)")
]
ToParam = Annotated[
    date | None, QueryParameter(name="to", description="last store-local day (ISO)")
]
UserParam = Annotated[UUID | None, QueryParameter(description="only this staff member")]


def _now(request: AnyRequest) -> datetime:
    """The node's clock: reads judge "absent" and "today" by the time commands are stamped."""
    return node(request).writer.clock()


def _days(
    day: date | None, date_from: date | None, date_to: date | None
) -> tuple[date | None, date | None]:
    if day is not None:
        if date_from is not None or date_to is not None:
            raise ValidationFailed("give either day or from/to", field="query.day")
        return day, day
    check_date_range(date_from, date_to)
    return date_from, date_to


def _whose(request: AnyRequest, user_id: UUID | None) -> UUID | None:
    """Non-managers see only their own attendance; managers see whoever they ask for."""
    user = request.user
    if user.role == "manager":
        return user_id
    if user_id is not None and user_id != user.user_id:
        raise Forbidden("only a manager may see someone else's attendance", role=user.role)
    return user.user_id


class ShiftController(Controller):
    path = "/api/v1/shifts"
    tags = ["shifts"]

    @get("/", guards=[ALL_ROLES])
    async def list_shifts(
        self,
        request: AnyRequest,
        paging: PagingDep,
        day: DayParam = None,
        date_from: FromParam = None,
        date_to: ToParam = None,
        user_id: UserParam = None,
        window: Annotated[str | None, QueryParameter(description="window code")] = None,
        status: Annotated[ShiftStatus | None, QueryParameter(description="shift status")] = None,
    ) -> Page[ShiftOut]:
        """The schedule (排班表), by day range, staff member, window or status."""
        first, last = _days(day, date_from, date_to)
        store_id, now = node(request).store_id, _now(request)
        query = domain.list_shifts(
            store_id,
            now=now,
            date_from=first,
            date_to=last,
            user_id=user_id,
            window=window,
            status=status,
        )
        return await read(
            request,
            lambda c: paginate(
                c,
                query,
                lambda r: domain.shift_out(r, now),
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @get("/{shift_id:uuid}", guards=[ALL_ROLES])
    async def get_shift(self, request: AnyRequest, shift_id: FromPath[UUID]) -> ShiftOut:
        """One shift (班次)."""
        store_id, now = node(request).store_id, _now(request)
        return await read(request, lambda c: domain.get_shift(c, store_id, shift_id, now))

    @post("/", guards=[requires()], status_code=201)
    async def plan_shift(self, request: AnyRequest, data: JSONBody[ShiftIn]) -> Response[ShiftOut]:
        """Plan a shift for a staff member (排班, manager). A shift whose start has passed
        is 422 ``shift_in_past`` unless the body says ``"backdated": true``."""
        return await submit(request, lambda ctx: domain.plan_shift(ctx, data))

    @post("/bulk", guards=[requires()], status_code=201)
    async def plan_shifts(
        self, request: AnyRequest, data: JSONBody[ShiftBatchIn]
    ) -> Response[ShiftBatchOut]:
        """Plan many shifts at once, all or nothing (批量排班, manager)."""
        return await submit(request, lambda ctx: domain.plan_shifts(ctx, data))

    @patch("/{shift_id:uuid}", guards=[requires()], status_code=200)
    async def change_shift(
        self,
        request: AnyRequest,
        shift_id: FromPath[UUID],
        data: JSONBody[ShiftChangeIn | None] = None,
    ) -> Response[ShiftOut]:
        """Change a planned shift's times, window or note (调班, manager)."""
        cmd = data or ShiftChangeIn()
        return await submit(
            request, lambda ctx: domain.change_shift(ctx, shift_id, cmd), status_code=200
        )

    @post("/{shift_id:uuid}/cancel", guards=[requires()], status_code=200)
    async def cancel_shift(
        self,
        request: AnyRequest,
        shift_id: FromPath[UUID],
        data: JSONBody[ShiftCancelIn | None] = None,
    ) -> Response[ShiftOut]:
        """Cancel a shift (取消排班, manager): ahead, under way, absent or worked. A clock-in
        for it stays as unplanned work, without the lateness or early leave judged against it."""
        cmd = data or ShiftCancelIn()
        return await submit(
            request, lambda ctx: domain.cancel_shift(ctx, shift_id, cmd), status_code=200
        )

    @post("/swap", guards=[requires()], status_code=200)
    async def swap_shifts(
        self, request: AnyRequest, data: JSONBody[ShiftSwapIn]
    ) -> Response[ShiftSwapOut]:
        """Swap two staff members' planned shifts (换班, manager)."""
        return await submit(request, lambda ctx: domain.swap_shifts(ctx, data), status_code=200)

    @post("/{shift_id:uuid}/absence-reason", guards=[ALL_ROLES], status_code=200)
    async def explain_absence(
        self, request: AnyRequest, shift_id: FromPath[UUID], data: JSONBody[AbsenceReasonIn]
    ) -> Response[ShiftOut]:
        """Explain an absence (旷工说明) from a shift: the staff member or a manager."""
        return await submit(
            request, lambda ctx: domain.explain_absence(ctx, shift_id, data), status_code=200
        )


class AttendanceController(Controller):
    path = "/api/v1/attendance"
    tags = ["attendance"]

    @post("/clock-in", guards=[ALL_ROLES], status_code=201)
    async def clock_in(
        self, request: AnyRequest, data: JSONBody[ClockActionIn | None] = None
    ) -> Response[AttendanceOut]:
        """Clock in (签到): yourself, or a manager for someone, with a reason. 201: it opens
        an attendance record."""
        cmd = data or ClockActionIn()
        user_id = cmd.user_id or request.user.user_id
        return await submit(request, lambda ctx: domain.clock_in(ctx, user_id, cmd))

    @post("/clock-out", guards=[ALL_ROLES], status_code=200)
    async def clock_out(
        self, request: AnyRequest, data: JSONBody[ClockActionIn | None] = None
    ) -> Response[AttendanceOut]:
        """Clock out (签退): yourself, or a manager for someone, with a reason."""
        cmd = data or ClockActionIn()
        user_id = cmd.user_id or request.user.user_id
        return await submit(
            request, lambda ctx: domain.clock_out(ctx, user_id, cmd), status_code=200
        )

    @post("/breaks/start", guards=[ALL_ROLES], status_code=200)
    async def start_break(
        self, request: AnyRequest, data: JSONBody[ClockActionIn | None] = None
    ) -> Response[AttendanceOut]:
        """Start a break (开始休息) while clocked in."""
        cmd = data or ClockActionIn()
        user_id = cmd.user_id or request.user.user_id
        return await submit(
            request, lambda ctx: domain.start_break(ctx, user_id, cmd), status_code=200
        )

    @post("/breaks/end", guards=[ALL_ROLES], status_code=200)
    async def end_break(
        self, request: AnyRequest, data: JSONBody[ClockActionIn | None] = None
    ) -> Response[AttendanceOut]:
        """End the running break (结束休息)."""
        cmd = data or ClockActionIn()
        user_id = cmd.user_id or request.user.user_id
        return await submit(
            request, lambda ctx: domain.end_break(ctx, user_id, cmd), status_code=200
        )

    @post("/{attendance_id:uuid}/reason", guards=[ALL_ROLES], status_code=200)
    async def record_reason(
        self, request: AnyRequest, attendance_id: FromPath[UUID], data: JSONBody[ReasonIn]
    ) -> Response[AttendanceOut]:
        """Explain lateness (迟到原因) or early leave (早退原因): the person or a manager."""
        return await submit(
            request, lambda ctx: domain.record_reason(ctx, attendance_id, data), status_code=200
        )

    @get("/{attendance_id:uuid}", guards=[ALL_ROLES])
    async def get_record(self, request: AnyRequest, attendance_id: FromPath[UUID]) -> AttendanceOut:
        """One attendance record (考勤记录); staff see only their own."""
        store_id = node(request).store_id
        record = await read(request, lambda c: domain.get_attendance(c, store_id, attendance_id))
        _whose(request, record.user_id)
        return record

    @get("/", guards=[ALL_ROLES])
    async def list_attendance(
        self,
        request: AnyRequest,
        paging: PagingDep,
        day: DayParam = None,
        date_from: FromParam = None,
        date_to: ToParam = None,
        user_id: UserParam = None,
        status: Annotated[
            AttendanceStatus | None, QueryParameter(description="on_time, late, absent, …")
        ] = None,
    ) -> Page[AttendanceDayOut]:
        """Attendance per day (每日考勤): planned vs actual; today unless a day range is given."""
        first, last = _days(day, date_from, date_to)
        store_id, now = node(request).store_id, _now(request)
        who = _whose(request, user_id)

        def run(c: Connection) -> Page[AttendanceDayOut]:
            lo, hi = first, last
            if lo is None and hi is None:
                lo = hi = store_today(c, store_id, now)
            query = domain.list_attendance(
                store_id, now=now, date_from=lo, date_to=hi, user_id=who, status=status
            )
            return paginate(
                c, query, domain.attendance_day_out, limit=paging.limit, offset=paging.offset
            )

        return await read(request, run)

    @get("/summary", guards=[ALL_ROLES])
    async def summary(
        self,
        request: AnyRequest,
        paging: PagingDep,
        month: Annotated[
            str | None,
            QueryParameter(
                pattern=r"^\d{4}-(0[1-9]|1[0-2])\Z", description="YYYY-MM; the current month"
            ),
        ] = None,
        user_id: UserParam = None,
    ) -> Page[AttendanceSummaryOut]:
        """Monthly attendance per person (月度考勤汇总): late, early, absences, hours."""
        store_id, now = node(request).store_id, _now(request)
        who = _whose(request, user_id)
        asked = parse_month(month) if month is not None else None

        def run(c: Connection) -> Page[AttendanceSummaryOut]:
            first = asked or store_today(c, store_id, now).replace(day=1)
            query = domain.attendance_summary(store_id, month=first, now=now, user_id=who)
            return paginate(
                c,
                query,
                lambda r: domain.summary_out(first, r),
                limit=paging.limit,
                offset=paging.offset,
            )

        return await read(request, run)

    @get("/current", guards=[ALL_ROLES])
    async def current(self, request: AnyRequest, user_id: UserParam = None) -> ClockStatusOut:
        """Clocked in or not, on a break, and today's shifts (当前考勤状态)."""
        store_id, now = node(request).store_id, _now(request)
        who = _whose(request, user_id) or request.user.user_id
        return await read(
            request,
            lambda c: domain.clock_status(c, store_id, who, store_today(c, store_id, now), now),
        )

    @get("/today", guards=[requires()])
    async def today(self, request: AnyRequest, day: DayParam = None) -> AttendanceTodayOut:
        """Attendance counts of a day (今日考勤): planned, clocked in, late, absent (manager)."""
        store_id, now = node(request).store_id, _now(request)
        return await read(
            request,
            lambda c: domain.attendance_today(
                c, store_id, day or store_today(c, store_id, now), now=now
            ),
        )


ROUTES = [ShiftController, AttendanceController]
