"""The opening checklist (开门准备): one per store-local day, every item checked before the day's
checklist can be signed off. Commands, projectors and reads; registered via ``server.domain.ops``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection
from uuid_utils.compat import uuid7

from schema.api.ops import (
    CheckItemIn,
    ChecklistItemOut,
    ChecklistOut,
    ChecklistStatus,
    ChecklistSummaryOut,
)
from schema.events.ops import (
    ChecklistCompleted,
    ChecklistItemChecked,
    ChecklistItemSpec,
    ChecklistStarted,
)
from schema.tables.ops import ops_checklist_items, ops_checklists, ops_faults
from server.domain.common import find_row, require_state, row_or_404, whole_minutes
from server.domain.context import Ctx
from server.domain.projection import projects
from server.errors import Incomplete, NotFound, ValidationFailed

STANDARD_ITEMS: tuple[ChecklistItemSpec, ...] = (
    ChecklistItemSpec(code="staff_on_time", label="员工按时到岗、着装规范"),
    ChecklistItemSpec(code="cash_register", label="收款机正常", equipment="cash_register"),
    ChecklistItemSpec(code="printers", label="打印机正常、纸张充足", equipment="printer"),
    ChecklistItemSpec(code="pcs", label="业务电脑正常登录", equipment="pc"),
    ChecklistItemSpec(code="pos", label="POS机正常", equipment="pos"),
    ChecklistItemSpec(code="queue_machine", label="排队叫号机正常", equipment="queue_machine"),
    ChecklistItemSpec(code="displays", label="叫号屏、宣传屏正常", equipment="display"),
    ChecklistItemSpec(code="network", label="网络畅通", equipment="network"),
    ChecklistItemSpec(code="hall_clean", label="厅堂干净整洁"),
    ChecklistItemSpec(code="desks_in_order", label="台席物品摆放整齐"),
    ChecklistItemSpec(code="signage", label="标识牌、暂停服务牌齐备"),
    ChecklistItemSpec(code="fire_exits_clear", label="消防通道畅通、灭火器到位"),
)
"""The standard opening checks. A started checklist keeps the list it was started with (it is
in the event), so changing this list never rewrites past days."""


# ---------------------------------------------------------------- projectors


@projects(ChecklistStarted)
def _started(conn: Connection, e: ChecklistStarted) -> None:
    conn.execute(
        ops_checklists.insert().values(
            store_id=e.store_id,
            checklist_id=e.checklist_id,
            day=e.day,
            status="open",
            item_count=len(e.items),
            started_at=e.at,
            started_by=e.actor,
        )
    )
    conn.execute(
        ops_checklist_items.insert(),
        [
            {
                "store_id": e.store_id,
                "checklist_id": e.checklist_id,
                "code": item.code,
                "position": i,
                "label": item.label,
                "equipment": item.equipment,
                "status": "unchecked",
                "note": "",
                "fault_id": None,
                "checked_by": None,
                "checked_at": None,
            }
            for i, item in enumerate(e.items)
        ],
    )


@projects(ChecklistItemChecked)
def _item_checked(conn: Connection, e: ChecklistItemChecked) -> None:
    t = ops_checklist_items
    conn.execute(
        t.update()
        .where(t.c.store_id == e.store_id, t.c.checklist_id == e.checklist_id, t.c.code == e.item)
        .values(
            status="ok" if e.ok else "not_ok",
            note=e.note,
            fault_id=e.fault_id,
            checked_by=e.actor,
            checked_at=e.at,
        )
    )


@projects(ChecklistCompleted)
def _completed(conn: Connection, e: ChecklistCompleted) -> None:
    t = ops_checklists
    conn.execute(
        t.update()
        .where(t.c.store_id == e.store_id, t.c.checklist_id == e.checklist_id)
        .values(
            status="completed",
            completed_at=e.at,
            completed_by=e.actor,
            not_ok_count=len(e.not_ok_items),
            minutes_after_open=e.minutes_after_open,
        )
    )


# ---------------------------------------------------------------- commands


class Started(NamedTuple):
    """What starting the day's checklist gave: the checklist, and whether this call created
    it (False when it had been started already)."""

    checklist: ChecklistOut
    created: bool


def start_checklist(ctx: Ctx) -> Started:
    """Start today's checklist; if it is already started, return it unchanged (idempotent)."""
    day = ctx.today
    created = _row_by_day(ctx.conn, ctx.store_id, day) is None
    if created:
        ctx.emit(ChecklistStarted, checklist_id=uuid7(), day=day, items=STANDARD_ITEMS)
    return Started(get_checklist_by_day(ctx.conn, ctx.store_id, day), created)


def _open_checklist(ctx: Ctx, checklist_id: UUID, action: str) -> Any:
    row = _row(ctx.conn, ctx.store_id, checklist_id)
    require_state(row.status, ["open"], action, f"the checklist of {row.day}")
    return row


def check_item(ctx: Ctx, checklist_id: UUID, code: str, cmd: CheckItemIn) -> ChecklistOut:
    """Mark one item ok or not ok; checking it again replaces the earlier mark."""
    row = _open_checklist(ctx, checklist_id, "check an item of")
    items = {i.code: i for i in _items(ctx.conn, ctx.store_id, checklist_id)}
    if code not in items:
        raise NotFound(f"the checklist of {row.day} has no item {code!r}")
    note = cmd.note.strip()
    if not cmd.ok and not note:
        raise ValidationFailed("say what is wrong when an item is not ok", field="note")
    if cmd.fault_id is not None:
        f = ops_faults
        if find_row(ctx.conn, f, ctx.store_id, f.c.fault_id, cmd.fault_id) is None:
            raise ValidationFailed(f"no fault {cmd.fault_id} in this store", field="fault_id")
    ctx.emit(
        ChecklistItemChecked,
        checklist_id=checklist_id,
        item=code,
        ok=cmd.ok,
        note=note,
        fault_id=cmd.fault_id,
    )
    return get_checklist(ctx.conn, ctx.store_id, checklist_id)


def complete_checklist(ctx: Ctx, checklist_id: UUID) -> ChecklistOut:
    """Sign the checklist off; refused while any item is unchecked."""
    row = _open_checklist(ctx, checklist_id, "complete")
    items = _items(ctx.conn, ctx.store_id, checklist_id)
    unchecked = [i.code for i in items if i.status == "unchecked"]
    if unchecked:
        raise Incomplete(
            f"{len(unchecked)} item(s) not checked yet: {', '.join(unchecked)}",
            unchecked=unchecked,
        )
    opening = datetime.combine(row.day, ctx.store.open_time, tzinfo=ctx.store.zone)
    ctx.emit(
        ChecklistCompleted,
        checklist_id=checklist_id,
        day=row.day,
        not_ok_items=tuple(i.code for i in items if i.status == "not_ok"),
        minutes_after_open=whole_minutes(opening, ctx.now),
    )
    return get_checklist(ctx.conn, ctx.store_id, checklist_id)


# ---------------------------------------------------------------- reads


def _row(conn: Connection, store_id: str, checklist_id: UUID) -> Any:
    c = ops_checklists
    return row_or_404(conn, c, store_id, c.c.checklist_id, checklist_id, "checklist")


def _row_by_day(conn: Connection, store_id: str, day: date) -> Any:
    return conn.execute(
        sa.select(ops_checklists).where(
            ops_checklists.c.store_id == store_id, ops_checklists.c.day == day
        )
    ).first()


def _items(conn: Connection, store_id: str, checklist_id: UUID) -> list[Any]:
    t = ops_checklist_items
    return list(
        conn.execute(
            sa.select(t)
            .where(t.c.store_id == store_id, t.c.checklist_id == checklist_id)
            .order_by(t.c.position)
        ).all()
    )


def _item_out(r: Any) -> ChecklistItemOut:
    return ChecklistItemOut(
        code=r.code,
        label=r.label,
        equipment=r.equipment,
        status=r.status,
        note=r.note,
        fault_id=r.fault_id,
        checked_by=r.checked_by,
        checked_at=r.checked_at,
        suggest_fault=r.status == "not_ok" and r.equipment is not None and r.fault_id is None,
    )


def _out(conn: Connection, row: Any) -> ChecklistOut:
    items = [_item_out(r) for r in _items(conn, row.store_id, row.checklist_id)]
    return ChecklistOut(
        checklist_id=row.checklist_id,
        day=row.day,
        status=row.status,
        started_at=row.started_at,
        started_by=row.started_by,
        completed_at=row.completed_at,
        completed_by=row.completed_by,
        minutes_after_open=row.minutes_after_open,
        unchecked=[i.code for i in items if i.status == "unchecked"],
        items=items,
    )


def checklist_id_of(conn: Connection, store_id: str, day: date) -> UUID | None:
    """The id of the day's checklist, or None when it was not started."""
    row = _row_by_day(conn, store_id, day)
    return None if row is None else row.checklist_id


def get_checklist(conn: Connection, store_id: str, checklist_id: UUID) -> ChecklistOut:
    return _out(conn, _row(conn, store_id, checklist_id))


def get_checklist_by_day(conn: Connection, store_id: str, day: date) -> ChecklistOut:
    """The checklist of a store-local day; 404 when none was started that day."""
    row = _row_by_day(conn, store_id, day)
    if row is None:
        raise NotFound(f"no opening checklist was started on {day}")
    return _out(conn, row)


def list_checklists(
    conn: Connection,
    store_id: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    status: ChecklistStatus | None = None,
) -> sa.Select[Any]:
    """Checklists by day (newest first) with their progress; the API layer pages it."""
    i = ops_checklist_items
    progress = (
        sa.select(
            i.c.checklist_id,
            sa.func.count().filter(i.c.status != "unchecked").label("checked_count"),
            sa.func.count().filter(i.c.status == "not_ok").label("not_ok_now"),
        )
        .where(i.c.store_id == store_id)
        .group_by(i.c.checklist_id)
        .subquery()
    )
    c = ops_checklists
    q = (
        sa.select(
            c,
            sa.func.coalesce(progress.c.checked_count, 0).label("checked_count"),
            sa.func.coalesce(progress.c.not_ok_now, 0).label("not_ok_now"),
        )
        .outerjoin(progress, progress.c.checklist_id == c.c.checklist_id)
        .where(c.c.store_id == store_id)
    )
    if date_from is not None:
        q = q.where(c.c.day >= date_from)
    if date_to is not None:
        q = q.where(c.c.day <= date_to)
    if status is not None:
        q = q.where(c.c.status == status)
    return q.order_by(c.c.day.desc())


def checklist_summary_out(r: Any) -> ChecklistSummaryOut:
    return ChecklistSummaryOut(
        checklist_id=r.checklist_id,
        day=r.day,
        status=r.status,
        started_at=r.started_at,
        started_by=r.started_by,
        completed_at=r.completed_at,
        completed_by=r.completed_by,
        minutes_after_open=r.minutes_after_open,
        item_count=r.item_count,
        checked_count=r.checked_count,
        not_ok_count=r.not_ok_now,
    )
