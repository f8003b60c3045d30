"""Daily operations and training through the domain commands, at controlled times."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from uuid_utils.compat import uuid7

from schema.api.ops import (
    AttendanceEntryIn,
    CheckItemIn,
    ChecklistOut,
    FaultIn,
    FireDrillIn,
    FireInspectionIn,
    TrainingIn,
)
from schema.tables.core import events
from server.domain import ops
from server.domain import store as store_domain
from server.domain.calendar import parse_month
from server.domain.context import Ctx
from server.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from tests.conftest import STORE_ID, Harness

# 2026-11-26 10:00 in Shanghai; the hall opened at 08:00 local = 00:00 UTC.
T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
DAY = date(2026, 11, 26)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def rows(h: Harness, query: Callable[[Any], sa.Select[Any]], to: Callable[[Any], Any]) -> list[Any]:
    return h.read(lambda c: [to(r) for r in c.execute(query(c)).all()])


def event_count(h: Harness, tag: str) -> int:
    q = sa.select(sa.func.count()).select_from(events).where(events.c.type == tag)
    n: int = h.read(lambda c: c.execute(q).scalar_one())
    return n


def start(h: Harness, **kw: Any) -> ChecklistOut:
    """Start the day's checklist (``actor``, ``now`` as for ``Harness.run``) and return it."""
    return h.run(ops.start_checklist, **kw).checklist


def add_staff(h: Harness, username: str, role: Any = "clerk") -> UUID:
    out = h.run(
        lambda ctx: store_domain.add_staff(
            ctx, username=username, display_name=username.title(), role=role, password_hash="x"
        )
    )
    return out.user_id


# ---------------------------------------------------------------- opening checklist


def test_start_creates_todays_checklist_with_the_standard_items(harness: Harness) -> None:
    cl = start(harness, actor="tech1", now=T0)
    assert cl.day == DAY and cl.status == "open" and cl.started_by == "tech1"
    assert [i.code for i in cl.items] == [s.code for s in ops.STANDARD_ITEMS]
    assert cl.unchecked == [i.code for i in cl.items]
    assert {i.code for i in cl.items} >= {"cash_register", "queue_machine", "fire_exits_clear"}


def test_start_twice_the_same_day_returns_the_same_checklist(harness: Harness) -> None:
    first = harness.run(ops.start_checklist, now=T0)
    again = harness.run(ops.start_checklist, now=at(60))
    assert (first.created, again.created) == (True, False)
    assert again.checklist.checklist_id == first.checklist.checklist_id
    assert event_count(harness, "checklist.started") == 1


def test_the_day_is_the_store_local_day(harness: Harness) -> None:
    # 17:30 UTC on the 25th is 01:30 on the 26th in Shanghai.
    cl = start(harness, now=datetime(2026, 11, 25, 17, 30, tzinfo=UTC))
    assert cl.day == DAY
    nxt = start(harness, now=T0 + timedelta(days=1))
    assert nxt.day == DAY + timedelta(days=1) and nxt.checklist_id != cl.checklist_id


def test_check_item_records_mark_note_who_and_when(harness: Harness) -> None:
    cl = start(harness, now=T0)
    out = harness.run(
        lambda ctx: ops.check_item(ctx, cl.checklist_id, "hall_clean", CheckItemIn(ok=True)),
        actor="greeter1",
        now=at(5),
    )
    item = next(i for i in out.items if i.code == "hall_clean")
    assert (item.status, item.checked_by, item.checked_at) == ("ok", "greeter1", at(5))
    assert "hall_clean" not in out.unchecked
    # Checking again replaces the mark.
    out = harness.run(
        lambda ctx: ops.check_item(
            ctx, cl.checklist_id, "hall_clean", CheckItemIn(ok=False, note=" 地面有水 ")
        ),
        now=at(7),
    )
    item = next(i for i in out.items if i.code == "hall_clean")
    assert (item.status, item.note, item.suggest_fault) == ("not_ok", "地面有水", False)


def test_not_ok_needs_a_note(harness: Harness) -> None:
    cl = start(harness, now=T0)
    with pytest.raises(ValidationFailed) as err:
        harness.run(
            lambda ctx: ops.check_item(ctx, cl.checklist_id, "pos", CheckItemIn(ok=False, note=" "))
        )
    assert err.value.extra["errors"][0]["field"] == "note"


def test_not_ok_equipment_item_suggests_a_fault_until_one_is_linked(harness: Harness) -> None:
    cl = start(harness, now=T0)
    out = harness.run(
        lambda ctx: ops.check_item(
            ctx, cl.checklist_id, "printers", CheckItemIn(ok=False, note="卡纸")
        )
    )
    printers = next(i for i in out.items if i.code == "printers")
    assert printers.equipment == "printer" and printers.suggest_fault
    fault = harness.run(
        lambda ctx: ops.report_fault(
            ctx, FaultIn(kind="printer", asset_name="1号窗口打印机", description="卡纸")
        )
    )
    out = harness.run(
        lambda ctx: ops.check_item(
            ctx,
            cl.checklist_id,
            "printers",
            CheckItemIn(ok=False, note="卡纸，已报修", fault_id=fault.fault_id),
        )
    )
    printers = next(i for i in out.items if i.code == "printers")
    assert printers.fault_id == fault.fault_id and not printers.suggest_fault


def test_linking_an_unknown_fault_is_refused(harness: Harness) -> None:
    cl = start(harness, now=T0)
    with pytest.raises(ValidationFailed) as err:
        harness.run(
            lambda ctx: ops.check_item(
                ctx, cl.checklist_id, "pos", CheckItemIn(ok=False, note="x", fault_id=uuid7())
            )
        )
    assert err.value.extra["errors"][0]["field"] == "fault_id"


def test_unknown_item_or_checklist_is_not_found(harness: Harness) -> None:
    cl = start(harness, now=T0)
    with pytest.raises(NotFound):
        harness.run(
            lambda ctx: ops.check_item(ctx, cl.checklist_id, "coffee", CheckItemIn(ok=True))
        )
    with pytest.raises(NotFound):
        harness.run(lambda ctx: ops.check_item(ctx, uuid7(), "pos", CheckItemIn(ok=True)))
    with pytest.raises(NotFound):
        harness.read(lambda c: ops.get_checklist_by_day(c, STORE_ID, date(2026, 1, 1)))


def _check_all(h: Harness, checklist_id: UUID, *, except_: tuple[str, ...] = ()) -> None:
    def command(ctx: Ctx) -> None:
        for spec in ops.STANDARD_ITEMS:
            if spec.code not in except_:
                ops.check_item(ctx, checklist_id, spec.code, CheckItemIn(ok=True))

    h.run(command, now=at(10))


def test_complete_is_refused_while_items_are_unchecked_and_lists_them(harness: Harness) -> None:
    cl = start(harness, now=T0)
    _check_all(harness, cl.checklist_id, except_=("pos", "signage"))
    with pytest.raises(Conflict) as err:
        harness.run(lambda ctx: ops.complete_checklist(ctx, cl.checklist_id))
    assert not isinstance(err.value, IllegalTransition)
    assert err.value.extra["unchecked"] == ["pos", "signage"]
    assert harness.read(lambda c: ops.get_checklist(c, STORE_ID, cl.checklist_id)).status == "open"


def test_complete_records_time_relative_to_opening(harness: Harness) -> None:
    early = datetime(2026, 11, 25, 23, 40, tzinfo=UTC)  # 07:40 local
    cl = start(harness, now=early)
    _check_all(harness, cl.checklist_id, except_=("pos",))
    harness.run(
        lambda ctx: ops.check_item(ctx, cl.checklist_id, "pos", CheckItemIn(ok=False, note="坏"))
    )
    done = harness.run(
        lambda ctx: ops.complete_checklist(ctx, cl.checklist_id),
        actor="admin1",
        now=datetime(2026, 11, 25, 23, 50, tzinfo=UTC),
    )
    assert done.status == "completed" and done.completed_by == "admin1"
    assert done.minutes_after_open == -10
    summary = rows(harness, lambda c: ops.list_checklists(c, STORE_ID), ops.checklist_summary_out)
    assert summary[0].not_ok_count == 1 and summary[0].checked_count == summary[0].item_count


def test_late_completion_counts_minutes_after_opening(harness: Harness) -> None:
    cl = start(harness, now=T0)
    _check_all(harness, cl.checklist_id)
    done = harness.run(lambda ctx: ops.complete_checklist(ctx, cl.checklist_id), now=at(30))
    assert done.minutes_after_open == 150  # 10:30 local, opening 08:00


def test_a_completed_checklist_is_closed(harness: Harness) -> None:
    cl = start(harness, now=T0)
    _check_all(harness, cl.checklist_id)
    harness.run(lambda ctx: ops.complete_checklist(ctx, cl.checklist_id))
    with pytest.raises(IllegalTransition) as err:
        harness.run(lambda ctx: ops.complete_checklist(ctx, cl.checklist_id))
    assert err.value.extra["state"] == "completed"
    with pytest.raises(IllegalTransition):
        harness.run(lambda ctx: ops.check_item(ctx, cl.checklist_id, "pos", CheckItemIn(ok=True)))
    # Starting again that day still answers with the completed checklist.
    assert start(harness, now=at(60)).status == "completed"


def test_list_checklists_by_range_and_status(harness: Harness) -> None:
    for d in range(3):
        start(harness, now=T0 + timedelta(days=d))
    first = harness.read(lambda c: ops.get_checklist_by_day(c, STORE_ID, DAY))
    _check_all(harness, first.checklist_id)
    harness.run(lambda ctx: ops.complete_checklist(ctx, first.checklist_id))

    def days(**kw: Any) -> list[date]:
        out = rows(harness, lambda c: ops.list_checklists(c, STORE_ID, **kw), lambda r: r.day)
        return out

    assert days() == [DAY + timedelta(days=2), DAY + timedelta(days=1), DAY]
    assert days(date_from=DAY + timedelta(days=1), date_to=DAY + timedelta(days=1)) == [
        DAY + timedelta(days=1)
    ]
    assert days(status="completed") == [DAY]


# ---------------------------------------------------------------- equipment faults


def _report(h: Harness, *, now: datetime = T0, **kw: Any) -> UUID:
    cmd = FaultIn(
        kind=kw.get("kind", "queue_machine"),
        asset_name=kw.get("asset_name", "大厅排队机"),
        asset_tag=kw.get("asset_tag", "QM-01"),
        description=kw.get("description", "不出号"),
        severity=kw.get("severity", "high"),
    )
    return h.run(lambda ctx: ops.report_fault(ctx, cmd), actor="clerk1", now=now).fault_id


def test_report_fault(harness: Harness) -> None:
    fault_id = _report(harness, now=datetime(2026, 11, 25, 16, 30, tzinfo=UTC))
    f = harness.read(lambda c: ops.get_fault(c, STORE_ID, fault_id))
    assert (f.status, f.kind, f.severity, f.reported_by) == (
        "reported",
        "queue_machine",
        "high",
        "clerk1",
    )
    assert f.day == DAY  # 00:30 local on the 26th
    assert [s.action for s in f.timeline] == ["reported"]
    assert harness.read(lambda c: ops.open_faults(c, STORE_ID)) == 1


def test_repair_cycle_keeps_time_to_repair(harness: Harness) -> None:
    fault_id = _report(harness)
    f = harness.run(
        lambda ctx: ops.start_repair(ctx, fault_id, "去看看"), actor="tech1", now=at(10)
    )
    assert f.status == "in_repair" and f.repair_started_at == at(10)
    f = harness.run(
        lambda ctx: ops.repair_fault(ctx, fault_id, "更换热敏头"), actor="tech1", now=at(90)
    )
    assert (f.status, f.resolution, f.time_to_repair_s) == ("repaired", "更换热敏头", 5400)
    assert [s.action for s in f.timeline] == ["reported", "repair_started", "repaired"]
    assert f.timeline[-1].time_to_repair_s == 5400 and f.timeline[-1].actor == "tech1"
    assert harness.read(lambda c: ops.open_faults(c, STORE_ID)) == 0


def test_quick_fix_without_acknowledging(harness: Harness) -> None:
    fault_id = _report(harness)
    f = harness.run(lambda ctx: ops.repair_fault(ctx, fault_id, "重启"), now=at(5))
    assert f.status == "repaired" and f.repair_started_at is None and f.time_to_repair_s == 300


def test_reopen_restarts_the_repair_clock(harness: Harness) -> None:
    fault_id = _report(harness)
    harness.run(lambda ctx: ops.repair_fault(ctx, fault_id, "重启"), now=at(20))
    f = harness.run(lambda ctx: ops.reopen_fault(ctx, fault_id, "又不出号了"), now=at(120))
    assert (f.status, f.reopen_count, f.repaired_at, f.time_to_repair_s) == (
        "reported",
        1,
        None,
        None,
    )
    assert harness.read(lambda c: ops.open_faults(c, STORE_ID)) == 1
    harness.run(lambda ctx: ops.start_repair(ctx, fault_id), now=at(125))
    f = harness.run(lambda ctx: ops.repair_fault(ctx, fault_id, "更换主板"), now=at(150))
    assert f.time_to_repair_s == 1800
    assert [(s.action, s.time_to_repair_s) for s in f.timeline] == [
        ("reported", None),
        ("repaired", 1200),
        ("reopened", None),
        ("repair_started", None),
        ("repaired", 1800),
    ]


@pytest.mark.parametrize("from_state", ["reported", "in_repair"])
def test_cancel_a_mistaken_report(harness: Harness, from_state: str) -> None:
    fault_id = _report(harness)
    if from_state == "in_repair":
        harness.run(lambda ctx: ops.start_repair(ctx, fault_id))
    f = harness.run(lambda ctx: ops.cancel_fault(ctx, fault_id, "误报，设备正常"))
    assert (f.status, f.closed_reason) == ("cancelled", "误报，设备正常")
    assert harness.read(lambda c: ops.open_faults(c, STORE_ID)) == 0


_ACTIONS: dict[str, Callable[..., Any]] = {
    "start_repair": lambda ctx, fault_id: ops.start_repair(ctx, fault_id),
    "repair": lambda ctx, fault_id: ops.repair_fault(ctx, fault_id, "done"),
    "reopen": lambda ctx, fault_id: ops.reopen_fault(ctx, fault_id, "again"),
    "cancel": lambda ctx, fault_id: ops.cancel_fault(ctx, fault_id, "mistake"),
}
_TO_STATE: dict[str, list[str]] = {
    "reported": [],
    "in_repair": ["start_repair"],
    "repaired": ["repair"],
    "cancelled": ["cancel"],
}
_LEGAL = {
    ("reported", "start_repair"),
    ("reported", "repair"),
    ("reported", "cancel"),
    ("in_repair", "repair"),
    ("in_repair", "cancel"),
    ("repaired", "reopen"),
}


@pytest.mark.parametrize("state", list(_TO_STATE))
@pytest.mark.parametrize("action", list(_ACTIONS))
def test_fault_transition_matrix(harness: Harness, state: str, action: str) -> None:
    fault_id = _report(harness)
    for step in _TO_STATE[state]:
        harness.run(functools.partial(_ACTIONS[step], fault_id=fault_id))
    if (state, action) in _LEGAL:
        harness.run(lambda ctx: _ACTIONS[action](ctx, fault_id))
        return
    with pytest.raises(IllegalTransition) as err:
        harness.run(lambda ctx: _ACTIONS[action](ctx, fault_id))
    assert err.value.extra["state"] == state
    assert harness.read(lambda c: ops.get_fault(c, STORE_ID, fault_id)).status == state


def test_blank_resolution_or_reason_is_refused(harness: Harness) -> None:
    fault_id = _report(harness)
    with pytest.raises(ValidationFailed):
        harness.run(lambda ctx: ops.repair_fault(ctx, fault_id, "  "))
    with pytest.raises(ValidationFailed):
        harness.run(lambda ctx: ops.cancel_fault(ctx, fault_id, ""))


def test_unknown_fault_is_not_found(harness: Harness) -> None:
    with pytest.raises(NotFound):
        harness.run(lambda ctx: ops.start_repair(ctx, uuid7()))
    with pytest.raises(NotFound):
        harness.read(lambda c: ops.get_fault(c, STORE_ID, uuid7()))


def test_list_faults_filters(harness: Harness) -> None:
    a = _report(harness, kind="printer", severity="low", now=T0)
    b = _report(harness, kind="network", severity="critical", now=at(60 * 24))
    c = _report(harness, kind="printer", severity="medium", now=at(60 * 48))
    harness.run(lambda ctx: ops.repair_fault(ctx, a, "换纸"), now=at(60 * 49))
    harness.run(lambda ctx: ops.start_repair(ctx, c), now=at(60 * 49))

    def ids(**kw: Any) -> list[UUID]:
        return rows(
            harness, lambda conn: ops.list_faults(conn, STORE_ID, **kw), lambda r: r.fault_id
        )

    assert ids() == [c, b, a]
    assert ids(kind="printer") == [c, a]
    assert ids(status="repaired") == [a]
    assert ids(open_only=True) == [c, b]
    assert ids(severity="critical") == [b]
    assert ids(date_from=DAY + timedelta(days=1)) == [c, b]
    assert ids(date_to=DAY + timedelta(days=1)) == [b, a]
    assert harness.read(lambda conn: ops.open_faults(conn, STORE_ID)) == 2


# ---------------------------------------------------------------- fire safety


def _drill(**kw: Any) -> FireDrillIn:
    base: dict[str, Any] = {
        "day": DAY,
        "start_time": time(8, 30),
        "end_time": time(9, 5),
        "scenario": "后仓起火疏散",
        "participants": [],
        "conducted_by": "商场消防员王工",
        "findings": "疏散用时4分钟",
    }
    return FireDrillIn(**{**base, **kw})


def test_record_fire_drill(harness: Harness) -> None:
    u1, u2 = add_staff(harness, "clerk1"), add_staff(harness, "clerk2")
    d = harness.run(
        lambda ctx: ops.record_fire_drill(ctx, _drill(participants=[u2, u1, u2])),
        actor="admin1",
    )
    assert d.duration_min == 35 and d.recorded_by == "admin1"
    assert sorted(d.participants) == sorted([u1, u2])
    page = harness.read(
        lambda c: ops.page_fire_drills(c, STORE_ID, date_from=DAY, date_to=DAY, limit=10, offset=0)
    )
    assert page.total == 1 and page.items[0] == d
    empty = harness.read(
        lambda c: ops.page_fire_drills(
            c, STORE_ID, date_from=DAY + timedelta(days=1), date_to=None, limit=10, offset=0
        )
    )
    assert empty.total == 0 and empty.items == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_time": time(8, 30)}, "end_time"),
        ({"day": DAY + timedelta(days=1)}, "day"),
        ({"participants": [UUID(int=7)]}, "participants"),
        ({"scenario": "   "}, "scenario"),
    ],
)
def test_fire_drill_validation(harness: Harness, change: dict[str, Any], field: str) -> None:
    u1 = add_staff(harness, "clerk1")
    cmd = _drill(**{"participants": [u1], **change})
    with pytest.raises(ValidationFailed) as err:
        harness.run(lambda ctx: ops.record_fire_drill(ctx, cmd))
    assert err.value.extra["errors"][0]["field"] == field


def test_fire_inspections(harness: Harness) -> None:
    with pytest.raises(ValidationFailed) as err:
        harness.run(
            lambda ctx: ops.record_fire_inspection(
                ctx, FireInspectionIn(day=DAY, inspector="李主管", passed=False, issues=[" "])
            )
        )
    assert err.value.extra["errors"][0]["field"] == "issues"
    with pytest.raises(ValidationFailed):
        harness.run(
            lambda ctx: ops.record_fire_inspection(
                ctx, FireInspectionIn(day=DAY + timedelta(days=1), inspector="李", passed=True)
            )
        )
    failed = harness.run(
        lambda ctx: ops.record_fire_inspection(
            ctx,
            FireInspectionIn(
                day=DAY - timedelta(days=3), inspector="李主管", passed=False, issues=["灭火器过期"]
            ),
        )
    )
    ok = harness.run(
        lambda ctx: ops.record_fire_inspection(
            ctx, FireInspectionIn(day=DAY, inspector="李主管", passed=True)
        )
    )
    assert failed.issues == ["灭火器过期"] and ok.issues == []

    def ids(**kw: Any) -> list[UUID]:
        return rows(
            harness,
            lambda c: ops.list_fire_inspections(c, STORE_ID, **kw),
            lambda r: r.inspection_id,
        )

    assert ids() == [ok.inspection_id, failed.inspection_id]
    assert ids(passed=False) == [failed.inspection_id]
    assert ids(date_to=DAY - timedelta(days=1)) == [failed.inspection_id]


# ---------------------------------------------------------------- training


def _plan(h: Harness, invited: list[UUID], *, day: date = DAY, kind: Any = "privacy") -> UUID:
    cmd = TrainingIn(
        topic="客户个人信息保护",
        kind=kind,
        day=day,
        start_time=time(8, 0),
        duration_min=45,
        trainer="区域培训师",
        invited=invited,
    )
    return h.run(lambda ctx: ops.plan_training(ctx, cmd), actor="admin1").session_id


def _attend(h: Harness, session_id: UUID, *entries: tuple[UUID, Any], now: datetime = T0) -> Any:
    return h.run(
        lambda ctx: ops.record_attendance(
            ctx, session_id, [AttendanceEntryIn(user_id=u, status=s) for u, s in entries]
        ),
        now=now,
    )


def test_plan_training_invites_staff(harness: Harness) -> None:
    u1, u2 = add_staff(harness, "clerk1"), add_staff(harness, "clerk2")
    sid = _plan(harness, [u1, u2, u1])
    t = harness.read(lambda c: ops.get_training(c, STORE_ID, sid))
    assert (t.status, t.invited_count, t.present, t.planned_by) == ("planned", 2, 0, "admin1")
    assert [(a.username, a.invited, a.status) for a in t.attendance] == [
        ("clerk1", True, None),
        ("clerk2", True, None),
    ]


def test_plan_refuses_unknown_or_former_staff(harness: Harness) -> None:
    u1 = add_staff(harness, "clerk1")
    from schema.api.store import StaffUpdate

    harness.run(lambda ctx: store_domain.update_staff(ctx, u1, StaffUpdate(active=False)))
    for invited in ([u1], [uuid7()]):
        with pytest.raises(ValidationFailed) as err:
            _plan(harness, invited)
        assert err.value.extra["errors"][0]["field"] == "invited"


def test_attendance_records_replace_and_walk_ins_join(harness: Harness) -> None:
    u1, u2, u3 = (add_staff(harness, n) for n in ("clerk1", "clerk2", "greeter1"))
    sid = _plan(harness, [u1, u2])
    _attend(harness, sid, (u1, "absent"))
    t = _attend(harness, sid, (u1, "present"), (u3, "present"))
    by_name = {a.username: a for a in t.attendance}
    assert by_name["clerk1"].status == "present"
    assert by_name["greeter1"].invited is False and by_name["greeter1"].status == "present"
    assert by_name["clerk2"].status is None
    assert (t.invited_count, t.present) == (2, 2)


def test_attendance_is_validated(harness: Harness) -> None:
    u1 = add_staff(harness, "clerk1")
    sid = _plan(harness, [u1])
    with pytest.raises(ValidationFailed):
        _attend(harness, sid, (u1, "present"), (u1, "absent"))
    with pytest.raises(ValidationFailed):
        _attend(harness, sid, (uuid7(), "present"))
    later = _plan(harness, [u1], day=DAY + timedelta(days=2))
    with pytest.raises(Conflict):
        _attend(harness, later, (u1, "present"))


def test_complete_needs_everyones_attendance(harness: Harness) -> None:
    u1, u2 = add_staff(harness, "clerk1"), add_staff(harness, "clerk2")
    sid = _plan(harness, [u1, u2])
    _attend(harness, sid, (u1, "present"))
    with pytest.raises(Conflict) as err:
        harness.run(lambda ctx: ops.complete_training(ctx, sid))
    assert err.value.extra["missing"] == [str(u2)]
    _attend(harness, sid, (u2, "excused"))
    t = harness.run(lambda ctx: ops.complete_training(ctx, sid), now=at(60))
    assert (t.status, t.completed_at, t.present, t.absent, t.excused) == (
        "completed",
        at(60),
        1,
        0,
        1,
    )


def test_a_future_session_cannot_be_completed(harness: Harness) -> None:
    u1 = add_staff(harness, "clerk1")
    sid = _plan(harness, [u1], day=DAY + timedelta(days=1))
    with pytest.raises(Conflict):
        harness.run(lambda ctx: ops.complete_training(ctx, sid))


_TRAINING_ACTIONS: dict[str, Callable[[Ctx, UUID, UUID], Any]] = {
    "attend": lambda ctx, s, u: ops.record_attendance(
        ctx, s, [AttendanceEntryIn(user_id=u, status="present")]
    ),
    "complete": lambda ctx, s, u: ops.complete_training(ctx, s),
    "cancel": lambda ctx, s, u: ops.cancel_training(ctx, s, "培训师请假"),
}


@pytest.mark.parametrize("state", ["planned", "completed", "cancelled"])
@pytest.mark.parametrize("action", list(_TRAINING_ACTIONS))
def test_training_transition_matrix(harness: Harness, state: str, action: str) -> None:
    u1 = add_staff(harness, "clerk1")
    sid = _plan(harness, [u1])
    if state == "completed":
        _attend(harness, sid, (u1, "present"))
        harness.run(lambda ctx: ops.complete_training(ctx, sid))
    elif state == "cancelled":
        harness.run(lambda ctx: ops.cancel_training(ctx, sid, "改期"))
    if state == "planned":
        if action == "complete":
            _attend(harness, sid, (u1, "present"))
        harness.run(lambda ctx: _TRAINING_ACTIONS[action](ctx, sid, u1))
        return
    with pytest.raises(IllegalTransition) as err:
        harness.run(lambda ctx: _TRAINING_ACTIONS[action](ctx, sid, u1))
    assert err.value.extra["state"] == state


def test_monthly_attendance_per_staff_member(harness: Harness) -> None:
    u1, u2, u3 = (add_staff(harness, n) for n in ("clerk1", "clerk2", "greeter1"))
    nov_a = _plan(harness, [u1, u2], day=date(2026, 11, 3), kind="privacy")
    nov_b = _plan(harness, [u1], day=date(2026, 11, 20), kind="fire_safety")
    nov_cancelled = _plan(harness, [u1, u2], day=date(2026, 11, 30))
    dec = _plan(harness, [u1], day=date(2026, 12, 1))
    harness.run(lambda ctx: ops.cancel_training(ctx, nov_cancelled, "改期"))
    _attend(harness, nov_a, (u1, "present"), (u2, "absent"))
    _attend(harness, nov_b, (u1, "present"))
    _attend(harness, dec, (u1, "present"), now=datetime(2026, 12, 1, 2, tzinfo=UTC))

    def month(m: str, **kw: Any) -> dict[str, Any]:
        out = rows(
            harness,
            lambda c: ops.monthly_attendance(c, STORE_ID, parse_month(m), **kw),
            ops.monthly_attendance_out,
        )
        return {r.username: r for r in out}

    nov = month("2026-11")
    assert set(nov) == {"manager", "clerk1", "clerk2", "greeter1"}  # zeros included
    c1 = nov["clerk1"]
    assert (c1.sessions, c1.present, c1.absent, c1.minutes_trained) == (2, 2, 0, 90)
    assert (nov["clerk2"].sessions, nov["clerk2"].absent) == (1, 1)
    assert nov["greeter1"].sessions == 0 and nov["greeter1"].month == "2026-11"
    assert month("2026-12")["clerk1"].present == 1
    assert month("2026-11", kind="fire_safety")["clerk1"].sessions == 1
    assert list(month("2026-11", user_id=u3)) == ["greeter1"]
