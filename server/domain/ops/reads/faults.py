"""Reads of equipment faults (设备故障): one fault with its timeline, lists, and the count of
open faults for the store KPIs.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.ops import FaultDetailOut, FaultOut, FaultStatus, FaultStepOut
from schema.events.ops import FaultKind, FaultSeverity
from schema.tables.ops import ops_fault_steps, ops_faults
from server.domain.sql import row_or_404

OPEN_STATUSES: tuple[FaultStatus, ...] = ("reported", "in_repair")
"""A fault in one of these states still needs a repair."""


def fault_row(conn: Connection, store_id: str, fault_id: UUID) -> Any:
    """The fault's row, or 404."""
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
    row = fault_row(conn, store_id, fault_id)
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
