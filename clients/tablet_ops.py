"""The daily operations (日常运营) part of the tablet client: the opening checklist, equipment
faults, fire drills and inspections, training sessions.

Mixed into ``clients.tablet.TabletClient``; import that, not this.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote
from uuid import UUID

from clients.http import HttpCore
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

_CHECKLISTS = "/api/v1/checklists"
_FAULTS = "/api/v1/faults"
_DRILLS = "/api/v1/fire-drills"
_INSPECTIONS = "/api/v1/fire-inspections"
_TRAININGS = "/api/v1/trainings"


class OpsApi(HttpCore):
    """Tech or admin staff start the checklist and anyone checks items; anyone reports faults
    and tech staff repair them; the general admin keeps fire safety and training records."""

    # ---------------------------------------------------------------- opening checklist (开门准备)

    async def start_checklist(self, *, idempotency_key: str | None = None) -> ChecklistOut:
        """Start today's checklist (tech or admin); starting it again returns the same one
        (the server answers 201 the first time, 200 after)."""
        return await self.request(
            "POST", _CHECKLISTS, ChecklistOut, idempotency_key=idempotency_key
        )

    async def get_todays_checklist(self) -> ChecklistOut:
        """Today's checklist; ``not_found`` until it is started."""
        return await self.request("GET", f"{_CHECKLISTS}/today", ChecklistOut)

    async def get_checklist(self, day: date) -> ChecklistOut:
        """The checklist of a store-local day."""
        return await self.request("GET", f"{_CHECKLISTS}/{day.isoformat()}", ChecklistOut)

    async def list_checklists(
        self,
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        status: ChecklistStatus | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[ChecklistSummaryOut]:
        """Checklists by day with their completion time, newest first."""
        params = {
            "from": date_from,
            "to": date_to,
            "status": status,
            "limit": limit,
            "offset": offset,
        }
        return await self.request("GET", _CHECKLISTS, Page[ChecklistSummaryOut], params=params)

    async def check_checklist_item(
        self,
        checklist_id: UUID,
        code: str,
        body: CheckItemIn,
        *,
        idempotency_key: str | None = None,
    ) -> ChecklistOut:
        """Mark one item ok or not ok (a note is required when not ok)."""
        return await self.request(
            "POST",
            f"{_CHECKLISTS}/{checklist_id}/items/{quote(code, safe='')}/check",
            ChecklistOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def complete_checklist(
        self, checklist_id: UUID, *, idempotency_key: str | None = None
    ) -> ChecklistOut:
        """Sign the checklist off (admin); ``incomplete`` lists the items still unchecked."""
        return await self.request(
            "POST",
            f"{_CHECKLISTS}/{checklist_id}/complete",
            ChecklistOut,
            idempotency_key=idempotency_key,
        )

    # ---------------------------------------------------------------- equipment faults (设备报修)

    async def report_fault(
        self, body: FaultIn, *, idempotency_key: str | None = None
    ) -> FaultDetailOut:
        return await self.request(
            "POST", _FAULTS, FaultDetailOut, body=body, idempotency_key=idempotency_key
        )

    async def list_faults(
        self,
        *,
        status: FaultStatus | None = None,
        kind: FaultKind | None = None,
        severity: FaultSeverity | None = None,
        open_only: bool | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[FaultOut]:
        """Faults, newest first; ``open_only=True`` keeps those awaiting repair."""
        params = {
            "status": status,
            "kind": kind,
            "severity": severity,
            "open": open_only,
            "from": date_from,
            "to": date_to,
            "limit": limit,
            "offset": offset,
        }
        return await self.request("GET", _FAULTS, Page[FaultOut], params=params)

    async def get_fault(self, fault_id: UUID) -> FaultDetailOut:
        """One fault with its timeline."""
        return await self.request("GET", f"{_FAULTS}/{fault_id}", FaultDetailOut)

    async def _fault_step(
        self, fault_id: UUID, step: str, body: object, idempotency_key: str | None
    ) -> FaultDetailOut:
        return await self.request(
            "POST",
            f"{_FAULTS}/{fault_id}/{step}",
            FaultDetailOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def start_fault_repair(
        self, fault_id: UUID, body: FaultNoteIn | None = None, *, idempotency_key: str | None = None
    ) -> FaultDetailOut:
        """Acknowledge the fault and start repairing it (tech)."""
        return await self._fault_step(fault_id, "start-repair", body, idempotency_key)

    async def repair_fault(
        self, fault_id: UUID, body: FaultRepairIn, *, idempotency_key: str | None = None
    ) -> FaultDetailOut:
        """Mark the fault repaired with what was done (tech)."""
        return await self._fault_step(fault_id, "repair", body, idempotency_key)

    async def reopen_fault(
        self, fault_id: UUID, body: FaultReasonIn, *, idempotency_key: str | None = None
    ) -> FaultDetailOut:
        """Reopen a repaired fault that came back (tech)."""
        return await self._fault_step(fault_id, "reopen", body, idempotency_key)

    async def cancel_fault(
        self, fault_id: UUID, body: FaultReasonIn, *, idempotency_key: str | None = None
    ) -> FaultDetailOut:
        """Cancel a mistaken report (manager)."""
        return await self._fault_step(fault_id, "cancel", body, idempotency_key)

    # ---------------------------------------------------------------- fire safety (消防)

    async def record_fire_drill(
        self, body: FireDrillIn, *, idempotency_key: str | None = None
    ) -> FireDrillOut:
        """Record a fire drill that took place (admin)."""
        return await self.request(
            "POST", _DRILLS, FireDrillOut, body=body, idempotency_key=idempotency_key
        )

    async def list_fire_drills(
        self,
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[FireDrillOut]:
        params = {"from": date_from, "to": date_to, "limit": limit, "offset": offset}
        return await self.request("GET", _DRILLS, Page[FireDrillOut], params=params)

    async def get_fire_drill(self, drill_id: UUID) -> FireDrillOut:
        return await self.request("GET", f"{_DRILLS}/{drill_id}", FireDrillOut)

    async def record_fire_inspection(
        self, body: FireInspectionIn, *, idempotency_key: str | None = None
    ) -> FireInspectionOut:
        """Record a fire safety inspection (admin)."""
        return await self.request(
            "POST", _INSPECTIONS, FireInspectionOut, body=body, idempotency_key=idempotency_key
        )

    async def list_fire_inspections(
        self,
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        passed: bool | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[FireInspectionOut]:
        params = {
            "from": date_from,
            "to": date_to,
            "passed": passed,
            "limit": limit,
            "offset": offset,
        }
        return await self.request("GET", _INSPECTIONS, Page[FireInspectionOut], params=params)

    async def get_fire_inspection(self, inspection_id: UUID) -> FireInspectionOut:
        return await self.request("GET", f"{_INSPECTIONS}/{inspection_id}", FireInspectionOut)

    # ---------------------------------------------------------------- training (培训)

    async def plan_training(
        self, body: TrainingIn, *, idempotency_key: str | None = None
    ) -> TrainingDetailOut:
        """Plan a session and invite staff (admin)."""
        return await self.request(
            "POST", _TRAININGS, TrainingDetailOut, body=body, idempotency_key=idempotency_key
        )

    async def list_trainings(
        self,
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        kind: TrainingKind | None = None,
        status: TrainingStatus | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[TrainingOut]:
        params = {
            "from": date_from,
            "to": date_to,
            "kind": kind,
            "status": status,
            "limit": limit,
            "offset": offset,
        }
        return await self.request("GET", _TRAININGS, Page[TrainingOut], params=params)

    async def list_training_attendance(
        self,
        *,
        month: str | None = None,
        kind: TrainingKind | None = None,
        user_id: UUID | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[MonthlyAttendanceOut]:
        """Training attendance per staff member in a month (``YYYY-MM``, default this one)."""
        params = {
            "month": month,
            "kind": kind,
            "user_id": user_id,
            "limit": limit,
            "offset": offset,
        }
        return await self.request(
            "GET", f"{_TRAININGS}/monthly-attendance", Page[MonthlyAttendanceOut], params=params
        )

    async def get_training(self, session_id: UUID) -> TrainingDetailOut:
        """One session with everyone's attendance."""
        return await self.request("GET", f"{_TRAININGS}/{session_id}", TrainingDetailOut)

    async def record_training_attendance(
        self, session_id: UUID, body: AttendanceIn, *, idempotency_key: str | None = None
    ) -> TrainingDetailOut:
        """Record present / absent / excused per staff member (admin)."""
        return await self.request(
            "POST",
            f"{_TRAININGS}/{session_id}/attendance",
            TrainingDetailOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def complete_training(
        self, session_id: UUID, *, idempotency_key: str | None = None
    ) -> TrainingDetailOut:
        """Close the session once attendance is recorded (admin)."""
        return await self.request(
            "POST",
            f"{_TRAININGS}/{session_id}/complete",
            TrainingDetailOut,
            idempotency_key=idempotency_key,
        )

    async def cancel_training(
        self, session_id: UUID, body: TrainingReasonIn, *, idempotency_key: str | None = None
    ) -> TrainingDetailOut:
        """Call a planned session off (admin)."""
        return await self.request(
            "POST",
            f"{_TRAININGS}/{session_id}/cancel",
            TrainingDetailOut,
            body=body,
            idempotency_key=idempotency_key,
        )
