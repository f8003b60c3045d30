"""Tablet routes of daily operations (日常运营) and training (培训): the opening checklist,
equipment faults, fire drills and inspections, training sessions.

Status codes: recording something new answers 201 (starting the day's checklist answers 200
when it was started already); every other step answers 200. Bodies whose fields all have
defaults may be left out. Day ranges are ``from``/``to``: store-local days, both inclusive.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from schema.api.common import Page
from schema.api.ops import (
    AttendanceIn,
    CheckItemIn,
    ChecklistOut,
    ChecklistStatus,
    ChecklistSummaryOut,
    FaultDetailOut,
    FaultIn,
    FaultNoteIn,
    FaultOut,
    FaultReasonIn,
    FaultRepairIn,
    FaultStatus,
    FireDrillIn,
    FireDrillOut,
    FireInspectionIn,
    FireInspectionOut,
    MonthlyAttendanceOut,
    TrainingDetailOut,
    TrainingIn,
    TrainingOut,
    TrainingReasonIn,
    TrainingStatus,
)
from schema.events.ops import FaultKind, FaultSeverity, TrainingKind
from server.domain import ops as domain
from server.domain.calendar import check_date_range, parse_month, store_today
from server.domain.context import Ctx
from server.domain.paging import paginate
from server.store.api.common import AnyRequest, PagingDep, node, read, submit
from server.store.auth import ALL_ROLES, requires

FromDay = Annotated[
    date | None, QueryParameter(name="from", description="first store-local day (inclusive)")
]
ToDay = Annotated[
    date | None, QueryParameter(name="to", description="last store-local day (inclusive)")
]


async def _store_today(request: AnyRequest) -> date:
    """The store-local day now, by the clock the node stamps its commands with."""
    n = node(request)
    now = n.writer.clock()
    return await read(request, lambda c: store_today(c, n.store_id, now))


class ChecklistController(Controller):
    path = "/api/v1/checklists"
    tags = ["opening checklist"]

    @post(
        "/",
        guards=[requires("tech", "admin")],
        status_code=201,
        responses={
            200: ResponseSpec(
                data_container=ChecklistOut,
                description="Today's checklist was already started: that checklist, unchanged.",
            )
        },
    )
    async def start(self, request: AnyRequest) -> Response[ChecklistOut]:
        """Start today's opening checklist (开门准备): 201; again the same day returns the
        same checklist with 200."""
        created = False  # the command says; it does not run when an answer is replayed

        def command(ctx: Ctx) -> ChecklistOut:
            nonlocal created
            started = domain.start_checklist(ctx)
            created = started.created
            return started.checklist

        # With an Idempotency-Key the writer stores the status given here, not the one set
        # below; storing 200 means a replay never claims to have created what existed.
        response = await submit(request, command, status_code=200)
        if created:
            response.status_code = 201
        return response

    @get("/today", guards=[ALL_ROLES])
    async def today(self, request: AnyRequest) -> ChecklistOut:
        """Today's opening checklist (今日开门准备); 404 until it is started."""
        n = node(request)
        day = await _store_today(request)
        return await read(request, lambda c: domain.get_checklist_by_day(c, n.store_id, day))

    @get("/{day:date}", guards=[ALL_ROLES])
    async def by_day(self, request: AnyRequest, day: FromPath[date]) -> ChecklistOut:
        """The opening checklist of a store-local day (某日开门准备)."""
        n = node(request)
        return await read(request, lambda c: domain.get_checklist_by_day(c, n.store_id, day))

    @get("/", guards=[ALL_ROLES])
    async def list_checklists(
        self,
        request: AnyRequest,
        paging: PagingDep,
        date_from: FromDay = None,
        date_to: ToDay = None,
        status: Annotated[
            ChecklistStatus | None, QueryParameter(description="open or completed")
        ] = None,
    ) -> Page[ChecklistSummaryOut]:
        """Checklists by day with completion time (开门准备记录), newest first."""
        check_date_range(date_from, date_to)
        n = node(request)
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.list_checklists(
                    c, n.store_id, date_from=date_from, date_to=date_to, status=status
                ),
                domain.checklist_summary_out,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @post("/{checklist_id:uuid}/items/{code:str}/check", guards=[ALL_ROLES], status_code=200)
    async def check_item(
        self,
        request: AnyRequest,
        checklist_id: FromPath[UUID],
        code: FromPath[str],
        data: JSONBody[CheckItemIn],
    ) -> Response[ChecklistOut]:
        """Mark one item ok / not ok (检查项确认); a not-ok device suggests a fault report."""
        return await submit(
            request,
            lambda ctx: domain.check_item(ctx, checklist_id, code, data),
            status_code=200,
        )

    @post("/{checklist_id:uuid}/complete", guards=[requires("admin")], status_code=200)
    async def complete(
        self, request: AnyRequest, checklist_id: FromPath[UUID]
    ) -> Response[ChecklistOut]:
        """Sign the checklist off (开门准备完成); 409 lists the items still unchecked."""
        return await submit(
            request, lambda ctx: domain.complete_checklist(ctx, checklist_id), status_code=200
        )


class FaultController(Controller):
    path = "/api/v1/faults"
    tags = ["equipment faults"]

    @post("/", guards=[ALL_ROLES])
    async def report(
        self, request: AnyRequest, data: JSONBody[FaultIn]
    ) -> Response[FaultDetailOut]:
        """Report an equipment fault (设备报修)."""
        return await submit(request, lambda ctx: domain.report_fault(ctx, data))

    @get("/", guards=[ALL_ROLES])
    async def list_faults(
        self,
        request: AnyRequest,
        paging: PagingDep,
        status: Annotated[FaultStatus | None, QueryParameter(description="fault status")] = None,
        kind: Annotated[FaultKind | None, QueryParameter(description="equipment kind")] = None,
        severity: Annotated[FaultSeverity | None, QueryParameter(description="severity")] = None,
        open_only: Annotated[
            bool, QueryParameter(name="open", description="only faults awaiting repair")
        ] = False,
        date_from: FromDay = None,
        date_to: ToDay = None,
    ) -> Page[FaultOut]:
        """Equipment faults (设备故障列表), newest first; filter by status, kind, day range."""
        check_date_range(date_from, date_to)
        n = node(request)
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.list_faults(
                    c,
                    n.store_id,
                    status=status,
                    kind=kind,
                    severity=severity,
                    open_only=open_only,
                    date_from=date_from,
                    date_to=date_to,
                ),
                domain.fault_out,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @get("/{fault_id:uuid}", guards=[ALL_ROLES])
    async def get_fault(self, request: AnyRequest, fault_id: FromPath[UUID]) -> FaultDetailOut:
        """One fault with its timeline (故障详情)."""
        n = node(request)
        return await read(request, lambda c: domain.get_fault(c, n.store_id, fault_id))

    @post("/{fault_id:uuid}/start-repair", guards=[requires("tech")], status_code=200)
    async def start_repair(
        self,
        request: AnyRequest,
        fault_id: FromPath[UUID],
        data: JSONBody[FaultNoteIn | None] = None,
    ) -> Response[FaultDetailOut]:
        """Acknowledge the fault and start repairing it (受理维修; tech)."""
        note = (data or FaultNoteIn()).note
        return await submit(
            request, lambda ctx: domain.start_repair(ctx, fault_id, note), status_code=200
        )

    @post("/{fault_id:uuid}/repair", guards=[requires("tech")], status_code=200)
    async def repair(
        self, request: AnyRequest, fault_id: FromPath[UUID], data: JSONBody[FaultRepairIn]
    ) -> Response[FaultDetailOut]:
        """Mark the fault repaired with what was done (维修完成; tech)."""
        return await submit(
            request,
            lambda ctx: domain.repair_fault(ctx, fault_id, data.resolution),
            status_code=200,
        )

    @post("/{fault_id:uuid}/reopen", guards=[requires("tech")], status_code=200)
    async def reopen(
        self, request: AnyRequest, fault_id: FromPath[UUID], data: JSONBody[FaultReasonIn]
    ) -> Response[FaultDetailOut]:
        """Reopen a repaired fault that came back (故障复发; tech). Anyone may report a new
        fault; judging that a repair did not hold is technical support's."""
        return await submit(
            request, lambda ctx: domain.reopen_fault(ctx, fault_id, data.reason), status_code=200
        )

    @post("/{fault_id:uuid}/cancel", guards=[requires()], status_code=200)
    async def cancel(
        self, request: AnyRequest, fault_id: FromPath[UUID], data: JSONBody[FaultReasonIn]
    ) -> Response[FaultDetailOut]:
        """Cancel a mistaken fault report (撤销报修; manager)."""
        return await submit(
            request, lambda ctx: domain.cancel_fault(ctx, fault_id, data.reason), status_code=200
        )


class FireSafetyController(Controller):
    path = "/api/v1"
    tags = ["fire safety"]

    @post("/fire-drills", guards=[requires("admin")])
    async def record_drill(
        self, request: AnyRequest, data: JSONBody[FireDrillIn]
    ) -> Response[FireDrillOut]:
        """Record a fire drill that took place (消防演练记录; admin)."""
        return await submit(request, lambda ctx: domain.record_fire_drill(ctx, data))

    @get("/fire-drills", guards=[ALL_ROLES])
    async def list_drills(
        self,
        request: AnyRequest,
        paging: PagingDep,
        date_from: FromDay = None,
        date_to: ToDay = None,
    ) -> Page[FireDrillOut]:
        """Fire drills by day range (消防演练列表), newest first."""
        check_date_range(date_from, date_to)
        n = node(request)
        return await read(
            request,
            lambda c: domain.page_fire_drills(
                c,
                n.store_id,
                date_from=date_from,
                date_to=date_to,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @get("/fire-drills/{drill_id:uuid}", guards=[ALL_ROLES])
    async def get_drill(self, request: AnyRequest, drill_id: FromPath[UUID]) -> FireDrillOut:
        """One fire drill with its participants (消防演练详情)."""
        n = node(request)
        return await read(request, lambda c: domain.get_fire_drill(c, n.store_id, drill_id))

    @post("/fire-inspections", guards=[requires("admin")])
    async def record_inspection(
        self, request: AnyRequest, data: JSONBody[FireInspectionIn]
    ) -> Response[FireInspectionOut]:
        """Record a fire safety inspection (防火检查记录; admin)."""
        return await submit(request, lambda ctx: domain.record_fire_inspection(ctx, data))

    @get("/fire-inspections", guards=[ALL_ROLES])
    async def list_inspections(
        self,
        request: AnyRequest,
        paging: PagingDep,
        date_from: FromDay = None,
        date_to: ToDay = None,
        passed: Annotated[bool | None, QueryParameter(description="passed or failed")] = None,
    ) -> Page[FireInspectionOut]:
        """Fire inspections by day range (防火检查列表), newest first."""
        check_date_range(date_from, date_to)
        n = node(request)
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.list_fire_inspections(
                    c, n.store_id, date_from=date_from, date_to=date_to, passed=passed
                ),
                domain.fire_inspection_out,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @get("/fire-inspections/{inspection_id:uuid}", guards=[ALL_ROLES])
    async def get_inspection(
        self, request: AnyRequest, inspection_id: FromPath[UUID]
    ) -> FireInspectionOut:
        """One fire inspection (防火检查详情)."""
        n = node(request)
        return await read(
            request, lambda c: domain.get_fire_inspection(c, n.store_id, inspection_id)
        )


class TrainingController(Controller):
    path = "/api/v1/trainings"
    tags = ["training"]

    @post("/", guards=[requires("admin")])
    async def plan(
        self, request: AnyRequest, data: JSONBody[TrainingIn]
    ) -> Response[TrainingDetailOut]:
        """Plan a training session and invite staff (培训计划; admin)."""
        return await submit(request, lambda ctx: domain.plan_training(ctx, data))

    @get("/", guards=[ALL_ROLES])
    async def list_sessions(
        self,
        request: AnyRequest,
        paging: PagingDep,
        date_from: FromDay = None,
        date_to: ToDay = None,
        kind: Annotated[TrainingKind | None, QueryParameter(description="training kind")] = None,
        status: Annotated[TrainingStatus | None, QueryParameter(description="status")] = None,
    ) -> Page[TrainingOut]:
        """Training sessions by day range (培训列表), newest first."""
        check_date_range(date_from, date_to)
        n = node(request)
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.list_trainings(
                    c, n.store_id, date_from=date_from, date_to=date_to, kind=kind, status=status
                ),
                domain.training_out,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @get("/monthly-attendance", guards=[requires("admin")])
    async def monthly_attendance(
        self,
        request: AnyRequest,
        paging: PagingDep,
        month: Annotated[
            str | None,
            QueryParameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])\Z", description="YYYY-MM; this month"),
        ] = None,
        kind: Annotated[TrainingKind | None, QueryParameter(description="training kind")] = None,
        user_id: Annotated[UUID | None, QueryParameter(description="one staff member")] = None,
    ) -> Page[MonthlyAttendanceOut]:
        """Training attendance per staff member in a month (月度培训出勤; admin)."""
        n = node(request)
        the_month = parse_month(month) if month is not None else await _store_today(request)
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.monthly_attendance(c, n.store_id, the_month, kind=kind, user_id=user_id),
                domain.monthly_attendance_out,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @get("/{session_id:uuid}", guards=[ALL_ROLES])
    async def get_session(
        self, request: AnyRequest, session_id: FromPath[UUID]
    ) -> TrainingDetailOut:
        """One training session with everyone's attendance (培训详情)."""
        n = node(request)
        return await read(request, lambda c: domain.get_training(c, n.store_id, session_id))

    @post("/{session_id:uuid}/attendance", guards=[requires("admin")], status_code=200)
    async def attendance(
        self, request: AnyRequest, session_id: FromPath[UUID], data: JSONBody[AttendanceIn]
    ) -> Response[TrainingDetailOut]:
        """Record present / absent / excused per staff member (培训签到; admin)."""
        return await submit(
            request,
            lambda ctx: domain.record_attendance(ctx, session_id, data.entries),
            status_code=200,
        )

    @post("/{session_id:uuid}/complete", guards=[requires("admin")], status_code=200)
    async def complete(
        self, request: AnyRequest, session_id: FromPath[UUID]
    ) -> Response[TrainingDetailOut]:
        """Close the session once attendance is recorded (培训完成; admin)."""
        return await submit(
            request, lambda ctx: domain.complete_training(ctx, session_id), status_code=200
        )

    @post("/{session_id:uuid}/cancel", guards=[requires("admin")], status_code=200)
    async def cancel(
        self, request: AnyRequest, session_id: FromPath[UUID], data: JSONBody[TrainingReasonIn]
    ) -> Response[TrainingDetailOut]:
        """Call a planned session off (取消培训; admin)."""
        return await submit(
            request,
            lambda ctx: domain.cancel_training(ctx, session_id, data.reason),
            status_code=200,
        )


ROUTES = [ChecklistController, FaultController, FireSafetyController, TrainingController]
