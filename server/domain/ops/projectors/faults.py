"""Equipment fault events → ``ops_faults`` (the current repair cycle) and ``ops_fault_steps``
(the timeline).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from schema.events.base import Event
from schema.events.ops import (
    FaultCancelled,
    FaultReopened,
    FaultRepaired,
    FaultRepairStarted,
    FaultReported,
)
from schema.tables.ops import ops_fault_steps, ops_faults
from server.domain.projection import projects
from server.domain.rows import Rows


def _step(rows: Rows, e: Event, fault_id: UUID, action: str, note: str, **extra: Any) -> None:
    rows.insert(
        ops_fault_steps,
        dict(
            store_id=e.store_id,
            fault_id=fault_id,
            seq=e.seq,
            action=action,
            at=e.at,
            actor=e.actor,
            note=note,
            time_to_repair_s=extra.get("time_to_repair_s"),
        ),
    )


def _set(
    rows: Rows, e: Event, fault_id: UUID, inc: dict[str, int] | None = None, **values: Any
) -> None:
    key = {"store_id": e.store_id, "fault_id": fault_id}
    rows.update(ops_faults, key, set={"updated_at": e.at, **values}, inc=inc)


@projects(FaultReported)
def _reported(rows: Rows, e: FaultReported) -> None:
    rows.insert(
        ops_faults,
        dict(
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
        ),
    )
    _step(rows, e, e.fault_id, "reported", e.description)


@projects(FaultRepairStarted)
def _repair_started(rows: Rows, e: FaultRepairStarted) -> None:
    _set(rows, e, e.fault_id, status="in_repair", repair_started_at=e.at)
    _step(rows, e, e.fault_id, "repair_started", e.note)


@projects(FaultRepaired)
def _repaired(rows: Rows, e: FaultRepaired) -> None:
    _set(
        rows,
        e,
        e.fault_id,
        status="repaired",
        repaired_at=e.at,
        resolution=e.resolution,
        time_to_repair_s=e.time_to_repair_s,
    )
    _step(rows, e, e.fault_id, "repaired", e.resolution, time_to_repair_s=e.time_to_repair_s)


@projects(FaultReopened)
def _reopened(rows: Rows, e: FaultReopened) -> None:
    # The row shows the current repair cycle; earlier repairs stay in the timeline.
    _set(
        rows,
        e,
        e.fault_id,
        status="reported",
        cycle_started_at=e.at,
        repair_started_at=None,
        repaired_at=None,
        resolution=None,
        time_to_repair_s=None,
        inc={"reopen_count": 1},
    )
    _step(rows, e, e.fault_id, "reopened", e.reason)


@projects(FaultCancelled)
def _cancelled(rows: Rows, e: FaultCancelled) -> None:
    _set(rows, e, e.fault_id, status="cancelled", closed_reason=e.reason)
    _step(rows, e, e.fault_id, "cancelled", e.reason)
