"""Events of daily operations (日常运营) and training (培训).

Four record kinds, each its own small state machine or plain record:

- the opening checklist (开门准备): ``checklist.started`` → ``checklist.item_checked``… →
  ``checklist.completed``; one checklist per store-local day;
- equipment faults (设备故障): ``fault.reported`` → ``fault.repair_started`` → ``fault.repaired``
  (→ ``fault.reopened`` → …), or ``fault.cancelled`` when the report was a mistake;
- fire safety records: ``fire_drill.recorded`` (消防演练) and ``fire_inspection.recorded``
  (防火检查), plain records;
- training sessions (培训): ``training.planned`` → ``training.attendance_recorded``… →
  ``training.completed``, or ``training.cancelled``.

Everything a projector needs is in the payload (days, durations, time to repair), so folding the
log rebuilds the same rows on the store node and on central.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args
from uuid import UUID

import msgspec

from schema.api.common import LocalTime
from schema.events.base import Event, FreeText

FaultKind = Literal[
    "cash_register",
    "printer",
    "pc",
    "pos",
    "queue_machine",
    "display",
    "network",
    "aircon",
    "other",
]
"""Equipment kinds: 收款机, 打印机, 电脑, POS机, 排队机, 显示屏, 网络, 空调, 其他."""

FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

FaultSeverity = Literal["low", "medium", "high", "critical"]
"""How badly the fault hurts service: low 轻微, medium 一般, high 严重 (a window or service is
down), critical 紧急 (the hall cannot serve, e.g. network or all cash registers down)."""

TrainingKind = Literal["service", "product", "privacy", "fire_safety", "other"]
"""Training topics: 服务规范 service, 产品业务 product, 个人信息保护 privacy,
消防安全 fire_safety, 其他 other."""

TrainingAttendanceStatus = Literal["present", "absent", "excused"]
"""Training attendance: 出席 present, 缺席 absent, 请假 excused."""


# ---------------------------------------------------------------- opening checklist


class ChecklistItemSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One check item as it stood when the day's checklist was started."""

    code: str
    """Stable item code, e.g. ``cash_register``, ``fire_exits_clear``."""
    label: str
    """What staff see (zh-CN), e.g. ``收款机正常``."""
    equipment: FaultKind | None = None
    """Equipment kind the item checks; a not-ok equipment item suggests reporting a fault."""


class ChecklistStarted(Event, tag="checklist.started", frozen=True):
    """The opening checklist (开门准备) of a store-local day was started."""

    checklist_id: UUID
    day: date
    """The store-local day the checklist is for."""
    items: tuple[ChecklistItemSpec, ...]
    """The items to check, in display order (the standard list at the time)."""


class ChecklistItemChecked(Event, tag="checklist.item_checked", frozen=True):
    """One item of an open checklist was marked ok or not ok (who and when: the envelope)."""

    checklist_id: UUID
    item: str
    """Code of the item checked."""
    ok: bool
    """True when the item is in order; false when it is not (a note says why)."""
    note: FreeText = ""
    """What was seen, required when not ok."""
    fault_id: UUID | None = None
    """The equipment fault reported for this item, when one was linked."""


class ChecklistCompleted(Event, tag="checklist.completed", frozen=True):
    """Every item of the checklist was checked and the checklist was signed off."""

    checklist_id: UUID
    day: date
    """The store-local day of the checklist."""
    not_ok_items: tuple[str, ...]
    """Codes of the items found not ok at completion."""
    minutes_after_open: int
    """Completion time minus the day's opening time (营业开始), in whole minutes; negative when
    the checklist was completed before the hall opened."""


# ---------------------------------------------------------------- equipment faults


class FaultReported(Event, tag="fault.reported", frozen=True):
    """A staff member reported an equipment fault (设备故障)."""

    fault_id: UUID
    day: date
    """Store-local day of the report."""
    kind: FaultKind
    asset_tag: str | None
    """The asset tag (资产编号) on the device, when it has one."""
    asset_name: FreeText
    """Which device, in words, e.g. ``2号窗口打印机``."""
    description: FreeText
    """What is wrong, as the reporter put it."""
    severity: FaultSeverity


class FaultRepairStarted(Event, tag="fault.repair_started", frozen=True):
    """Technical support acknowledged the fault and started the repair."""

    fault_id: UUID
    note: FreeText = ""
    """What support said or plans, if anything."""


class FaultRepaired(Event, tag="fault.repaired", frozen=True):
    """The fault was repaired."""

    fault_id: UUID
    resolution: FreeText
    """What was done (更换硒鼓, 重启网络…)."""
    time_to_repair_s: int
    """Seconds from the report (or from the latest reopening) to this repair."""


class FaultReopened(Event, tag="fault.reopened", frozen=True):
    """A repaired fault recurred; it is open again and its repair clock restarts now."""

    fault_id: UUID
    reason: FreeText
    """How the fault showed up again."""


class FaultCancelled(Event, tag="fault.cancelled", frozen=True):
    """The manager cancelled a mistaken fault report; it no longer counts as a fault."""

    fault_id: UUID
    reason: FreeText
    """Why the report was a mistake."""


# ---------------------------------------------------------------- fire safety


class FireDrillRecorded(Event, tag="fire_drill.recorded", frozen=True):
    """A fire drill (消防演练) was held and recorded."""

    drill_id: UUID
    day: date
    """Store-local day of the drill."""
    start_time: LocalTime
    """Store-local wall-clock start."""
    end_time: LocalTime
    """Store-local wall-clock end."""
    duration_min: int
    """Minutes from start to end."""
    scenario: FreeText
    """What was drilled, e.g. ``营业厅后仓起火疏散``."""
    participants: tuple[UUID, ...]
    """User ids of the staff who took part."""
    findings: FreeText
    """What went well or wrong, and follow-ups."""
    conducted_by: FreeText
    """Who led the drill (a staff member or the mall's fire officer), by name."""


class FireInspectionRecorded(Event, tag="fire_inspection.recorded", frozen=True):
    """A fire safety inspection (防火检查) was done and recorded."""

    inspection_id: UUID
    day: date
    """Store-local day of the inspection."""
    inspector: FreeText
    """Who inspected, by name."""
    passed: bool
    """True when nothing needs fixing."""
    issues: list[FreeText]
    """Problems found (blocked exit, expired extinguisher…); at least one when not passed."""
    note: FreeText = ""
    """Anything else the inspector remarked."""


# ---------------------------------------------------------------- training


class TrainingPlanned(Event, tag="training.planned", frozen=True):
    """A training session (培训) was planned, with the staff invited to it."""

    session_id: UUID
    topic: FreeText
    """What the session is about, e.g. ``5G 套餐新政``."""
    kind: TrainingKind
    day: date
    """Store-local day of the session."""
    start_time: LocalTime
    """Store-local wall-clock start."""
    duration_min: int
    """Planned length in minutes."""
    trainer: FreeText
    """Who trains, by name."""
    invited: tuple[UUID, ...]
    """User ids of the staff expected to attend."""


class TrainingAttendanceRecorded(Event, tag="training.attendance_recorded", frozen=True):
    """Whether one staff member attended a session; a later record replaces an earlier one."""

    session_id: UUID
    user_id: UUID
    status: TrainingAttendanceStatus
    note: FreeText = ""
    """Why absent or excused, if said."""


class TrainingCompleted(Event, tag="training.completed", frozen=True):
    """The session was held and its attendance is final."""

    session_id: UUID
    present: int
    """Staff marked present."""
    absent: int
    """Staff marked absent."""
    excused: int
    """Staff marked excused."""


class TrainingCancelled(Event, tag="training.cancelled", frozen=True):
    """The session will not take place."""

    session_id: UUID
    reason: FreeText
    """Why the session is called off."""


EVENTS: tuple[type[Event], ...] = (
    ChecklistStarted,
    ChecklistItemChecked,
    ChecklistCompleted,
    FaultReported,
    FaultRepairStarted,
    FaultRepaired,
    FaultReopened,
    FaultCancelled,
    FireDrillRecorded,
    FireInspectionRecorded,
    TrainingPlanned,
    TrainingAttendanceRecorded,
    TrainingCompleted,
    TrainingCancelled,
)
