"""Equipment faults (设备故障): reported by anyone, repaired by technical support.

    reported ──start_repair──▶ in_repair ──repair──▶ repaired ──reopen──▶ reported …
        │  └────────────────repair (quick fix)──────▲
        └──cancel (manager, mistaken report)──▶ cancelled ◀──cancel── in_repair

Time to repair (repaired − reported, or − the latest reopening) is computed when the repair is
recorded and kept in the event, so KPIs and audits never recompute it from mutable rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection
from uuid_utils.compat import uuid7

from schema.api.ops import FaultDetailOut, FaultIn, FaultOut, FaultStatus, FaultStepOut
from schema.events.base import Event
from schema.events.ops import (
    FaultCancelled,
    FaultKind,
    FaultReopened,
    FaultRepaired,
    FaultRepairStarted,
    FaultReported,
    FaultSeverity,
)
from schema.tables.ops import ops_fault_steps, ops_faults
from server.domain.common import blank_checked, elapsed_seconds, require_state, row_or_404
from server.domain.context import Ctx
from server.domain.projection import projects

OPEN_STATUSES: tuple[FaultStatus, ...] = ("reported", "in_repair")
"""A fault in one of these states still needs a repair."""

_ALLOWED: dict[str, tuple[FaultStatus, ...]] = {
    "start the repair of": ("reported",),
    "mark repaired": ("reported", "in_repair"),
    "reopen": ("repaired",),
    "cancel": ("reported", "in_repair"),
}
"""Which states each action may start from; anything else is an illegal transition."""


# ---------------------------------------------------------------- projectors


def _step(conn: Connection, e: Event, fault_id: UUID, action: str, note: str, **extra: Any) -> None:
    conn.execute(
        ops_fault_steps.insert().values(
            store_id=e.store_id,
            fault_id=fault_id,
            seq=e.seq,
            action=action,
            at=e.at,
            actor=e.actor,
            note=note,
            time_to_repair_s=extra.get("time_to_repair_s"),
        )
    )


def _set(conn: Connection, e: Event, fault_id: UUID, **values: Any) -> None:
    conn.execute(
        ops_faults.update()
        .where(ops_faults.c.store_id == e.store_id, ops_faults.c.fault_id == fault_id)
        .values(updated_at=e.at, **values)
    )


@projects(FaultReported)
def _reported(conn: Connection, e: FaultReported) -> None:
    conn.execute(
        ops_faults.insert().values(
            store_id=e.store_id,
            fault_id=e.fault_id,
            day=e.day,
            kind=e.kind,
            asset_tag=e.asset_tag,
            asset_name=e.asset_name,
            description=e.description,
            severity=e.severity,
            status="reported",
            reported_at=e.at,
            reported_by=e.actor,
            cycle_started_at=e.at,
            reopen_count=0,
            updated_at=e.at,
        )
    )
    _step(conn, e, e.fault_id, "reported", e.description)


@projects(FaultRepairStarted)
def _repair_started(conn: Connection, e: FaultRepairStarted) -> None:
    _set(conn, e, e.fault_id, status="in_repair", repair_started_at=e.at)
    _step(conn, e, e.fault_id, "repair_started", e.note)


@projects(FaultRepaired)
def _repaired(conn: Connection, e: FaultRepaired) -> None:
    _set(
        conn,
        e,
        e.fault_id,
        status="repaired",
        repaired_at=e.at,
        resolution=e.resolution,
        time_to_repair_s=e.time_to_repair_s,
    )
    _step(conn, e, e.fault_id, "repaired", e.resolution, time_to_repair_s=e.time_to_repair_s)


@projects(FaultReopened)
def _reopened(conn: Connection, e: FaultReopened) -> None:
    # The row shows the current repair cycle; earlier repairs stay in the timeline.
    _set(
        conn,
        e,
        e.fault_id,
        status="reported",
        cycle_started_at=e.at,
        repair_started_at=None,
        repaired_at=None,
        resolution=None,
        time_to_repair_s=None,
        reopen_count=ops_faults.c.reopen_count + 1,
    )
    _step(conn, e, e.fault_id, "reopened", e.reason)


@projects(FaultCancelled)
def _cancelled(conn: Connection, e: FaultCancelled) -> None:
    _set(conn, e, e.fault_id, status="cancelled", closed_reason=e.reason)
    _step(conn, e, e.fault_id, "cancelled", e.reason)


# ---------------------------------------------------------------- commands


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
    row = _row(ctx.conn, ctx.store_id, fault_id)
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


# ---------------------------------------------------------------- reads


def _row(conn: Connection, store_id: str, fault_id: UUID) -> Any:
    return row_or_404(conn, ops_faults, store_id, ops_faults.c.fault_id, fault_id, "fault")


def _fields(r: Any) -> dict[str, Any]:
    return {
        "fault_id": r.fault_id,
        "day": r.day,
        "kind": r.kind,
        "asset_tag": r.asset_tag,
        "asset_name": r.asset_name,
        "description": r.description,
        "severity": r.severity,
        "status": r.status,
        "reported_at": r.reported_at,
        "reported_by": r.reported_by,
        "repair_started_at": r.repair_started_at,
        "repaired_at": r.repaired_at,
        "resolution": r.resolution,
        "time_to_repair_s": r.time_to_repair_s,
        "reopen_count": r.reopen_count,
        "closed_reason": r.closed_reason,
    }


def fault_out(r: Any) -> FaultOut:
    return FaultOut(**_fields(r))


def get_fault(conn: Connection, store_id: str, fault_id: UUID) -> FaultDetailOut:
    """One fault with its timeline (报修 → 维修 → 修复 …), oldest step first."""
    row = _row(conn, store_id, fault_id)
    s = ops_fault_steps
    steps = conn.execute(
        sa.select(s).where(s.c.store_id == store_id, s.c.fault_id == fault_id).order_by(s.c.seq)
    ).all()
    timeline = [
        FaultStepOut(
            action=r.action,
            at=r.at,
            actor=r.actor,
            note=r.note,
            time_to_repair_s=r.time_to_repair_s,
        )
        for r in steps
    ]
    return FaultDetailOut(**_fields(row), timeline=timeline)


def list_faults(
    conn: Connection,
    store_id: str,
    *,
    status: FaultStatus | None = None,
    kind: FaultKind | None = None,
    severity: FaultSeverity | None = None,
    open_only: bool = False,
    date_from: date | None = None,
    date_to: date | None = None,
) -> sa.Select[Any]:
    """Faults, newest report first, filtered; the API layer pages it."""
    f = ops_faults
    q = sa.select(f).where(f.c.store_id == store_id)
    if status is not None:
        q = q.where(f.c.status == status)
    if kind is not None:
        q = q.where(f.c.kind == kind)
    if severity is not None:
        q = q.where(f.c.severity == severity)
    if open_only:
        q = q.where(f.c.status.in_(OPEN_STATUSES))
    if date_from is not None:
        q = q.where(f.c.day >= date_from)
    if date_to is not None:
        q = q.where(f.c.day <= date_to)
    return q.order_by(f.c.reported_at.desc(), f.c.fault_id.desc())


def open_faults(conn: Connection, store_id: str) -> int:
    """How many equipment faults of the store still await repair (for the store KPIs)."""
    count: int = conn.execute(
        sa.select(sa.func.count())
        .select_from(ops_faults)
        .where(ops_faults.c.store_id == store_id, ops_faults.c.status.in_(OPEN_STATUSES))
    ).scalar_one()
    return count
