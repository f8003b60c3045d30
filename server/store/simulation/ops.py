"""The daily operations' part of the day: the opening checklist, a fire inspection and a fire
drill, a training session with its attendance, and equipment faults reported and repaired."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from schema.api.ops import (
    AttendanceEntryIn,
    CheckItemIn,
    FaultIn,
    FireDrillIn,
    FireInspectionIn,
    TrainingIn,
)
from server.domain import ops
from server.domain.context import Ctx
from server.store.simulation.hall import Hall, step


def checklist(hall: Hall, now: datetime) -> None:
    """Tech support starts the opening checklist and checks its items (one in twenty fails);
    the admin completes it."""
    started = hall.run("tech1", now, ops.start_checklist)
    checklist = started.checklist
    for n, item in enumerate(checklist.items):
        ok = hall.rng.random() > 0.05
        check = partial(
            ops.check_item,
            checklist_id=checklist.checklist_id,
            code=item.code,
            cmd=CheckItemIn(ok=ok, note="" if ok else "需要报修"),
        )
        hall.later(now + timedelta(seconds=40 * (n + 1)), partial(step, hall, "tech1", check))
    hall.later(
        now + timedelta(minutes=12),
        lambda t: hall.run(
            "admin1", t, lambda c: ops.complete_checklist(c, checklist.checklist_id)
        ),
    )


def safety_and_training(hall: Hall) -> None:
    """A fire inspection in the morning, a training at noon, a fire drill in the afternoon."""
    users = hall.users
    inspection = FireInspectionIn(
        day=hall.day,
        inspector="消防安全员 王工",
        passed=False,
        issues=["2号安全出口前堆放纸箱", "1号灭火器压力表指针偏低"],
        note="纸箱已当场清理，灭火器已报更换",
    )
    hall.later(
        hall.at(10, 5),
        partial(step, hall, "admin1", partial(ops.record_fire_inspection, cmd=inspection)),
    )
    drill = FireDrillIn(
        day=hall.day,
        start_time=time(15),
        end_time=time(15, 15),
        scenario="模拟配电箱冒烟：切断电源、引导顾客疏散、使用灭火器",
        participants=[
            users[u]
            for u in ("manager", "greeter2", "tech1", "admin1", "admin2", "clerk06", "clerk07")
        ],
        conducted_by="admin1",
        findings="疏散用时 3 分钟；2 名新员工不熟悉灭火器使用，安排复训",
    )
    hall.later(
        hall.at(15, 30), partial(step, hall, "admin1", partial(ops.record_fire_drill, cmd=drill))
    )
    hall.later(hall.at(7, 32), partial(_training, hall))


def _training(hall: Hall, now: datetime) -> None:
    """Planned before opening for the noon hand-over; attendance taken after it."""
    users = hall.users
    invited = ["clerk01", "clerk02", "clerk03", "clerk04", "clerk05", "greeter1", "tech1"]
    plan = TrainingIn(
        topic="5G 新套餐与终端合约政策",
        kind="product",
        day=hall.day,
        start_time=time(12, 30),
        duration_min=30,
        trainer="区域培训师 李老师",
        invited=[users[u] for u in invited],
    )
    planned = hall.run("admin1", now, partial(ops.plan_training, cmd=plan))
    sid = planned.session_id
    attended = [
        AttendanceEntryIn(user_id=users[u], status="present")
        for u in ("clerk01", "clerk02", "clerk03", "clerk04", "greeter1")
    ]
    attended += [
        AttendanceEntryIn(user_id=users["clerk05"], status="excused", note="窗口值班"),
        AttendanceEntryIn(user_id=users["tech1"], status="absent", note="设备维修未到"),
        AttendanceEntryIn(user_id=users["clerk06"], status="present", note="自愿旁听"),
    ]
    record = partial(ops.record_attendance, session_id=sid, entries=attended)
    hall.later(hall.at(13, 5), partial(step, hall, "admin1", record))
    complete = partial(ops.complete_training, session_id=sid)
    hall.later(hall.at(13, 6), partial(step, hall, "admin1", complete))


def faults(hall: Hall) -> None:
    """A jammed printer taken on and repaired; the queue machine fixed at once, failing again
    later in the afternoon, and repaired for good."""
    printer = FaultIn(
        kind="printer",
        asset_name="3号窗口打印机",
        asset_tag="PRN-003",
        description="打印机卡纸，无法打印业务单据",
    )
    _fault(
        hall,
        hall.at(9, 40),
        "clerk03",
        printer,
        [
            (12, lambda f: partial(ops.start_repair, fault_id=f, note="到场检查")),
            (
                25,
                lambda f: partial(ops.repair_fault, fault_id=f, resolution="清理卡纸，更换搓纸轮"),
            ),
        ],
    )
    kiosk = FaultIn(
        kind="queue_machine",
        asset_name="大厅取号机",
        asset_tag="QM-001",
        description="取号机不出票，顾客无法取号",
        severity="high",
    )
    _fault(
        hall,
        hall.at(14, 20),
        "greeter2",
        kiosk,
        [
            (15, lambda f: partial(ops.repair_fault, fault_id=f, resolution="更换热敏纸卷")),
            (75, lambda f: partial(ops.reopen_fault, fault_id=f, reason="再次卡纸不出票")),
            (5, lambda f: partial(ops.start_repair, fault_id=f)),
            (35, lambda f: partial(ops.repair_fault, fault_id=f, resolution="更换打印头，已测试")),
        ],
    )


def _fault(
    hall: Hall,
    at: datetime,
    reporter: str,
    cmd: FaultIn,
    steps: list[tuple[int, Callable[[UUID], Callable[[Ctx], Any]]]],
) -> None:
    """Reported by ``reporter`` at ``at``; then each step by technical support, minutes apart."""

    def report(now: datetime) -> None:
        fid = hall.run(reporter, now, partial(ops.report_fault, cmd=cmd)).fault_id
        t = now
        for minutes, command in steps:
            t += timedelta(minutes=minutes)
            hall.later(t, partial(step, hall, "tech1", command(fid)))

    hall.later(at, report)
