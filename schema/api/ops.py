"""REST types of daily operations (日常运营): the opening checklist, equipment faults, fire
safety records, and training sessions (培训)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from schema.api.common import Code, LocalTime, Name, Text
from schema.events.ops import FaultKind, FaultSeverity, TrainingAttendanceStatus, TrainingKind

Note = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
"""Free text that must be given: a resolution, a reason, a scenario."""
Issue = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
"""One problem found by an inspection."""
StaffIds = Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=200)]
"""User ids of staff members (at least one)."""

ChecklistStatus = Literal["open", "completed"]
ItemStatus = Literal["unchecked", "ok", "not_ok"]
FaultStatus = Literal["reported", "in_repair", "repaired", "cancelled"]
"""报修 reported, 维修中 in_repair, 已修复 repaired, 已取消 cancelled (a mistaken report)."""
FaultAction = Literal["reported", "repair_started", "repaired", "reopened", "cancelled"]
TrainingStatus = Literal["planned", "completed", "cancelled"]

# ---------------------------------------------------------------- opening checklist


class CheckItemIn(msgspec.Struct, kw_only=True):
    """Mark one checklist item ok or not ok (a note is required when not ok)."""

    ok: bool
    note: Text = ""
    fault_id: UUID | None = None
    """Link the equipment fault reported for this item (POST /api/v1/faults first)."""


class ChecklistItemOut(msgspec.Struct, kw_only=True):
    code: str
    label: str
    """What staff see, zh-CN."""
    equipment: FaultKind | None
    """The equipment kind the item checks, if it is an equipment item."""
    status: ItemStatus
    note: str
    fault_id: UUID | None
    checked_by: str | None
    checked_at: datetime | None
    suggest_fault: bool
    """True for a not-ok equipment item with no fault linked yet: report one (报修)."""


class ChecklistOut(msgspec.Struct, kw_only=True):
    """One day's opening checklist (开门准备) with all its items."""

    checklist_id: UUID
    day: date
    status: ChecklistStatus
    started_at: datetime
    started_by: str
    completed_at: datetime | None
    completed_by: str | None
    minutes_after_open: int | None
    """On completion: minutes after the opening time (negative = before the hall opened)."""
    unchecked: list[str]
    """Codes of the items still to check; completion needs this empty."""
    items: list[ChecklistItemOut]


class ChecklistSummaryOut(msgspec.Struct, kw_only=True):
    """One day's checklist in a list: progress and completion time, for opening audits."""

    checklist_id: UUID
    day: date
    status: ChecklistStatus
    started_at: datetime
    started_by: str
    completed_at: datetime | None
    completed_by: str | None
    minutes_after_open: int | None
    item_count: int
    checked_count: int
    not_ok_count: int


# ---------------------------------------------------------------- equipment faults


class FaultIn(msgspec.Struct, kw_only=True):
    """Report an equipment fault (设备报修)."""

    kind: FaultKind
    asset_name: Name
    """Which device, in words, e.g. ``2号窗口打印机``."""
    asset_tag: Code | None = None
    """The asset tag (资产编号) on the device, if any."""
    description: Note
    severity: FaultSeverity = "medium"


class FaultNoteIn(msgspec.Struct, kw_only=True):
    note: Text = ""


class FaultRepairIn(msgspec.Struct, kw_only=True):
    resolution: Note
    """What was done to fix it."""


class FaultReasonIn(msgspec.Struct, kw_only=True):
    reason: Note


class FaultOut(msgspec.Struct, kw_only=True):
    fault_id: UUID
    day: date
    """Store-local day of the report."""
    kind: FaultKind
    asset_tag: str | None
    asset_name: str
    description: str
    severity: FaultSeverity
    status: FaultStatus
    reported_at: datetime
    reported_by: str
    repair_started_at: datetime | None
    repaired_at: datetime | None
    resolution: str | None
    time_to_repair_s: int | None
    """Seconds from the report (or latest reopening) to the repair."""
    reopen_count: int
    closed_reason: str | None
    """Why the report was cancelled."""


class FaultStepOut(msgspec.Struct, kw_only=True):
    action: FaultAction
    at: datetime
    actor: str
    note: str
    time_to_repair_s: int | None
    """On ``repaired`` steps: seconds this repair took."""


class FaultDetailOut(FaultOut, kw_only=True):
    """A fault with its timeline, oldest step first."""

    timeline: list[FaultStepOut]


# ---------------------------------------------------------------- fire safety


class FireDrillIn(msgspec.Struct, kw_only=True):
    """Record a fire drill (消防演练) that took place."""

    day: date
    """Store-local day of the drill."""
    start_time: LocalTime
    """Store-local wall-clock start (``HH:MM:SS``, no UTC offset)."""
    end_time: LocalTime
    """Store-local wall-clock end, after the start."""
    scenario: Note
    participants: StaffIds
    conducted_by: Name
    """Who led the drill, by name."""
    findings: Text = ""


class FireDrillOut(msgspec.Struct, kw_only=True):
    drill_id: UUID
    day: date
    start_time: time
    end_time: time
    duration_min: int
    scenario: str
    participants: list[UUID]
    findings: str
    conducted_by: str
    recorded_at: datetime
    recorded_by: str


class FireInspectionIn(msgspec.Struct, kw_only=True):
    """Record a fire safety inspection (防火检查)."""

    day: date
    inspector: Name
    passed: bool
    issues: Annotated[list[Issue], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )
    """Problems found; at least one when not passed."""
    note: Text = ""


class FireInspectionOut(msgspec.Struct, kw_only=True):
    inspection_id: UUID
    day: date
    inspector: str
    passed: bool
    issues: list[str]
    note: str
    recorded_at: datetime
    recorded_by: str


# ---------------------------------------------------------------- training


class TrainingIn(msgspec.Struct, kw_only=True):
    """Plan a training session (培训)."""

    topic: Name
    kind: TrainingKind
    day: date
    """Store-local day of the session."""
    start_time: LocalTime
    """Store-local wall-clock start (``HH:MM:SS``, no UTC offset)."""
    duration_min: Annotated[int, msgspec.Meta(ge=5, le=600)]
    trainer: Name
    invited: StaffIds


class AttendanceEntryIn(msgspec.Struct, kw_only=True):
    user_id: UUID
    status: TrainingAttendanceStatus
    note: Text = ""


class AttendanceIn(msgspec.Struct, kw_only=True):
    """Attendance of some staff members; staff not invited are added as walk-ins."""

    entries: Annotated[list[AttendanceEntryIn], msgspec.Meta(min_length=1, max_length=200)]


class TrainingReasonIn(msgspec.Struct, kw_only=True):
    reason: Note


class TrainingOut(msgspec.Struct, kw_only=True):
    session_id: UUID
    topic: str
    kind: TrainingKind
    day: date
    start_time: time
    duration_min: int
    trainer: str
    status: TrainingStatus
    planned_at: datetime
    planned_by: str
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    invited_count: int
    present: int
    absent: int
    excused: int


class TrainingAttendanceOut(msgspec.Struct, kw_only=True):
    """One staff member's attendance of a training session."""

    user_id: UUID
    username: str
    display_name: str
    invited: bool
    status: TrainingAttendanceStatus | None
    """Null until recorded."""
    note: str
    recorded_at: datetime | None
    recorded_by: str | None


class TrainingDetailOut(TrainingOut, kw_only=True):
    attendance: list[TrainingAttendanceOut]


class MonthlyAttendanceOut(msgspec.Struct, kw_only=True):
    """One staff member's training attendance in a month (月度培训出勤); cancelled sessions
    do not count."""

    month: str
    """``YYYY-MM``, store-local."""
    user_id: UUID
    username: str
    display_name: str
    role: str
    sessions: int
    """Sessions the member was invited to or attended."""
    present: int
    absent: int
    excused: int
    unrecorded: int
    """Sessions with no attendance recorded for the member yet."""
    minutes_trained: int
    """Sum of the planned length of the sessions attended."""
