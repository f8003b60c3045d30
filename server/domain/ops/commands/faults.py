"""Equipment faults (设备故障): reported by anyone, repaired by technical support.

    reported ──start_repair──▶ in_repair ──repair──▶ repaired ──reopen──▶ reported …
        │  └────────────────repair (quick fix)──────▲
        └──cancel (manager, mistaken report)──▶ cancelled ◀──cancel── in_repair

Time to repair (repaired − reported, or − the latest reopening) is computed when the repair is
recorded and kept in the event, so KPIs and audits never recompute it from mutable rows.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from uuid_utils.compat import uuid7

from schema.api.ops import FaultDetailOut, FaultIn, FaultStatus
from schema.events.ops import (
    FaultCancelled,
    FaultReopened,
    FaultRepaired,
    FaultRepairStarted,
    FaultReported,
)
from server.domain.calendar import elapsed_seconds
from server.domain.context import Ctx
from server.domain.guards import blank_checked, require_state
from server.domain.ops.reads.faults import fault_row, get_fault

_ALLOWED: dict[str, tuple[FaultStatus, ...]] = {
    "start the repair of": ("reported",),
    "mark repaired": ("reported", "in_repair"),
    "reopen": ("repaired",),
    "cancel": ("reported", "in_repair"),
}
"""Which states each action may start from; anything else is an illegal transition."""


def report_fault(ctx: Ctx, cmd: FaultIn) -> FaultDetailOut:
    """Record a new equipment fault (报修)."""
    event = ctx.emit(
        FaultReported,
        fault_id=uuid7(),
        day=ctx.today,
        kind=cmd.kind,
        asset_tag=cmd.asset_tag,
        asset_name=blank_checked(cmd.asset_name, "asset_name"),
        description=blank_checked(cmd.description, "description"),
        severity=cmd.severity,
    )
    return get_fault(ctx.conn, ctx.store_id, event.fault_id)


def _transition(ctx: Ctx, fault_id: UUID, action: str) -> Any:
    row = fault_row(ctx.conn, ctx.store_id, fault_id)
    require_state(row.status, _ALLOWED[action], action, f"the fault on {row.asset_name}")
    return row


def start_repair(ctx: Ctx, fault_id: UUID, note: str = "") -> FaultDetailOut:
    """Technical support takes the fault on (受理 / 开始维修)."""
    _transition(ctx, fault_id, "start the repair of")
    ctx.emit(FaultRepairStarted, fault_id=fault_id, note=note.strip())
    return get_fault(ctx.conn, ctx.store_id, fault_id)


def repair_fault(ctx: Ctx, fault_id: UUID, resolution: str) -> FaultDetailOut:
    """Record the repair and how long it took since the fault was reported (or reopened)."""
    row = _transition(ctx, fault_id, "mark repaired")
    ctx.emit(
        FaultRepaired,
        fault_id=fault_id,
        resolution=blank_checked(resolution, "resolution"),
        time_to_repair_s=elapsed_seconds(row.cycle_started_at, ctx.now),
    )
    return get_fault(ctx.conn, ctx.store_id, fault_id)


def reopen_fault(ctx: Ctx, fault_id: UUID, reason: str) -> FaultDetailOut:
    """The fault came back after its repair; its repair clock restarts now."""
    _transition(ctx, fault_id, "reopen")
    ctx.emit(FaultReopened, fault_id=fault_id, reason=blank_checked(reason, "reason"))
    return get_fault(ctx.conn, ctx.store_id, fault_id)


def cancel_fault(ctx: Ctx, fault_id: UUID, reason: str) -> FaultDetailOut:
    """Withdraw a mistaken report (manager); it stops counting as an open fault."""
    _transition(ctx, fault_id, "cancel")
    ctx.emit(FaultCancelled, fault_id=fault_id, reason=blank_checked(reason, "reason"))
    return get_fault(ctx.conn, ctx.store_id, fault_id)
