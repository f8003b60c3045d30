"""Shift planning and attendance through the domain commands, at controlled times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from schema.api.shifts import (
    AbsenceReasonIn,
    AttendanceOut,
    ClockActionIn,
    ReasonIn,
    ShiftBatchIn,
    ShiftCancelIn,
    ShiftChangeIn,
    ShiftIn,
    ShiftOut,
    ShiftSwapIn,
)
from schema.api.store import StaffUpdate, StoreSettingsIn
from schema.events.store import Role
from schema.tables.shifts import attendance_breaks, attendance_records, shifts
from server.domain import shifts as domain
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.errors import Conflict, Forbidden, IllegalTransition, ShiftInPast, ValidationFailed
from tests.conftest import STORE_ID, TZ, Harness, assert_replay_matches

ZONE = ZoneInfo(TZ)
DAY = date(2026, 11, 26)
"""The harness's default day: its clock stands at 10:00 Shanghai time on this day."""
NEXT = DAY + timedelta(days=1)


def local(hour: int, minute: int = 0, second: int = 0, day: date = NEXT) -> datetime:
    """A Shanghai wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=ZONE).astimezone(UTC)


BEFORE = local(7, 0)
"""07:00 on the day the tests plan for: before any shift starts."""


@pytest.fixture
def staff(harness: Harness) -> dict[str, UUID]:
    """Two clerks and a greeter on the roster, by user name; plus the manager."""
    ids: dict[str, UUID] = {}
    roles: tuple[tuple[str, Role], ...] = (("ann", "clerk"), ("bob", "clerk"), ("gus", "greeter"))
    for name, role in roles:
        out = harness.run(
            partial(
                store_domain.add_staff,
                username=name,
                display_name=name.title(),
                role=role,
                password_hash="x",
            )
        )
        ids[name] = out.user_id
    found = harness.read(lambda c: store_domain.find_login(c, STORE_ID, "manager"))
    assert found is not None
    ids["manager"] = found[0].user_id
    return ids


def plan(
    harness: Harness,
    user_id: UUID,
    start: time = time(9),
    end: time = time(17),
    *,
    day: date = NEXT,
    window: str | None = "A1",
) -> ShiftOut:
    return harness.run(
        lambda ctx: domain.plan_shift(
            ctx, ShiftIn(user_id=user_id, day=day, start_time=start, end_time=end, window=window)
        )
    )


Clock = Callable[[Ctx, UUID, ClockActionIn], AttendanceOut]


def clock(
    harness: Harness,
    fn: Clock,
    user: str,
    ids: dict[str, UUID],
    now: datetime,
    *,
    actor: str | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> AttendanceOut:
    """Run a clock command for ``user`` (as themselves unless ``actor`` is given) at ``now``."""
    cmd = ClockActionIn(reason=reason, at=at)
    return harness.run(lambda ctx: fn(ctx, ids[user], cmd), actor=actor or user, now=now)


def shift_now(harness: Harness, shift_id: UUID, now: datetime) -> ShiftOut:
    return harness.read(lambda c: domain.get_shift(c, STORE_ID, shift_id, now))


def day_rows(harness: Harness, now: datetime, day: date = NEXT, **filters: Any) -> list[Any]:
    return harness.read(
        lambda c: [
            domain.attendance_day_out(r)
            for r in c.execute(
                domain.list_attendance(STORE_ID, now=now, date_from=day, date_to=day, **filters)
            ).all()
        ]
    )


# ---------------------------------------------------------------- planning


def test_plan_shift_records_local_times_and_utc_instants(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    s = plan(harness, staff["ann"], time(8), time(16, 30))
    assert (s.username, s.day, s.window, s.status) == ("ann", NEXT, "A1", "planned")
    assert s.starts_at == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert s.ends_at == datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
    assert s.minutes == 510 and s.planned_by == "manager" and s.attendance_id is None


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (time(12), time(11), "end_time"),
        (time(12), time(12), "end_time"),
        (time(7, 59), time(12), "start_time"),
        (time(12), time(20, 31), "end_time"),
    ],
)
def test_plan_refuses_times_outside_staff_hours(
    harness: Harness, staff: dict[str, UUID], start: time, end: time, field: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        plan(harness, staff["ann"], start, end)
    assert err.value.extra["errors"][0]["field"] == field


def test_staff_may_stay_until_half_an_hour_after_closing(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    assert plan(harness, staff["ann"], time(12), time(20, 30)).end_time == time(20, 30)


def test_staff_hours_follow_the_store_settings(harness: Harness, staff: dict[str, UUID]) -> None:
    harness.run(
        lambda ctx: store_domain.update_settings(
            ctx, StoreSettingsIn(open_time=time(9), close_time=time(21))
        )
    )
    with pytest.raises(ValidationFailed):
        plan(harness, staff["ann"], time(8, 30), time(12))
    assert plan(harness, staff["ann"], time(13), time(21, 30)).end_time == time(21, 30)


def test_plan_refuses_past_days_and_unknown_or_inactive_staff(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    with pytest.raises(ShiftInPast) as err:
        plan(harness, staff["ann"], day=DAY - timedelta(days=1))
    assert err.value.extra["errors"][0]["field"] == "day"
    with pytest.raises(ShiftInPast) as err:  # 09:00 today has passed: it is 10:00
        plan(harness, staff["ann"], day=DAY)
    assert err.value.extra["errors"][0]["field"] == "start_time"
    assert plan(harness, staff["ann"], time(11), day=DAY).day == DAY  # later today is fine
    with pytest.raises(ValidationFailed) as err:
        plan(harness, UUID(int=7))
    assert err.value.extra["errors"][0]["field"] == "user_id"
    harness.run(lambda ctx: store_domain.update_staff(ctx, staff["bob"], StaffUpdate(active=False)))
    with pytest.raises(ValidationFailed, match="no longer active"):
        plan(harness, staff["bob"])


def test_one_person_cannot_work_two_overlapping_shifts(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    first = plan(harness, staff["ann"], time(9), time(13))
    with pytest.raises(Conflict) as err:
        plan(harness, staff["ann"], time(12), time(16))
    assert err.value.extra["shift_id"] == str(first.shift_id)
    assert plan(harness, staff["ann"], time(13), time(17)).start_time == time(13)  # touching
    assert plan(harness, staff["bob"], time(9), time(13)).user_id == staff["bob"]
    harness.run(lambda ctx: domain.cancel_shift(ctx, first.shift_id, ShiftCancelIn()))
    assert plan(harness, staff["ann"], time(10), time(12)).start_time == time(10)


def test_bulk_planning_is_all_or_nothing(harness: Harness, staff: dict[str, UUID]) -> None:
    week = [NEXT + timedelta(days=i) for i in range(7)]
    items = [
        ShiftIn(user_id=staff[p], day=d, start_time=time(8), end_time=time(14))
        for d in week
        for p in ("ann", "bob")
    ]
    out = harness.run(lambda ctx: domain.plan_shifts(ctx, ShiftBatchIn(shifts=items)))
    assert len(out.items) == 14 and {s.day for s in out.items} == set(week)
    bad = [
        ShiftIn(user_id=staff["gus"], day=NEXT, start_time=time(8), end_time=time(12)),
        ShiftIn(user_id=staff["gus"], day=NEXT, start_time=time(11), end_time=time(15)),
    ]
    with pytest.raises(Conflict) as err:
        harness.run(lambda ctx: domain.plan_shifts(ctx, ShiftBatchIn(shifts=bad)))
    assert err.value.extra["field"] == "shifts[1].start_time"
    late = [ShiftIn(user_id=staff["gus"], day=NEXT, start_time=time(8), end_time=time(22))]
    with pytest.raises(ValidationFailed) as verr:
        harness.run(lambda ctx: domain.plan_shifts(ctx, ShiftBatchIn(shifts=late)))
    assert verr.value.extra["errors"][0]["field"] == "shifts[0].end_time"
    gus = harness.read(
        lambda c: c.execute(domain.list_shifts(STORE_ID, now=BEFORE, user_id=staff["gus"])).all()
    )
    assert gus == []


def test_change_moves_times_and_clears_or_keeps_window(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    s = plan(harness, staff["ann"])
    moved = harness.run(
        lambda ctx: domain.change_shift(
            ctx, s.shift_id, ShiftChangeIn(start_time=time(10), note="training first")
        )
    )
    assert (moved.start_time, moved.end_time, moved.window) == (time(10), time(17), "A1")
    assert moved.starts_at == local(10) and moved.minutes == 420
    assert moved.note == "training first"
    cleared = harness.run(
        lambda ctx: domain.change_shift(ctx, s.shift_id, ShiftChangeIn(window=None))
    )
    assert cleared.window is None and cleared.note == "training first"
    with pytest.raises(ValidationFailed):
        harness.run(
            lambda ctx: domain.change_shift(ctx, s.shift_id, ShiftChangeIn(end_time=time(9)))
        )


def test_change_refuses_overlap_with_the_same_persons_other_shift(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    s = plan(harness, staff["ann"], time(9), time(12))
    plan(harness, staff["ann"], time(14), time(18))
    with pytest.raises(Conflict):
        harness.run(
            lambda ctx: domain.change_shift(ctx, s.shift_id, ShiftChangeIn(end_time=time(15)))
        )


def test_cancel_then_no_more_changes(harness: Harness, staff: dict[str, UUID]) -> None:
    s = plan(harness, staff["ann"])
    out = harness.run(
        lambda ctx: domain.cancel_shift(ctx, s.shift_id, ShiftCancelIn(reason="年假"))
    )
    assert (out.status, out.cancel_reason) == ("cancelled", "年假")
    for command in (
        lambda ctx: domain.cancel_shift(ctx, s.shift_id, ShiftCancelIn()),
        lambda ctx: domain.change_shift(ctx, s.shift_id, ShiftChangeIn(start_time=time(10))),
    ):
        with pytest.raises(IllegalTransition) as err:
            harness.run(command)
        assert err.value.extra["state"] == "cancelled"


def test_started_and_past_shifts_are_history(harness: Harness, staff: dict[str, UUID]) -> None:
    started = plan(harness, staff["ann"])
    over = plan(harness, staff["bob"], time(8), time(9))
    clock(harness, domain.clock_in, "ann", staff, local(8, 55))
    later = local(9, 30)
    for shift_id, state in ((started.shift_id, "started"), (over.shift_id, "absent")):
        with pytest.raises(IllegalTransition) as err:
            harness.run(
                partial(domain.change_shift, shift_id=shift_id, cmd=ShiftChangeIn(note="x")),
                now=later,
            )
        assert err.value.extra["state"] == state


def test_a_mistaken_plan_can_always_be_cancelled(harness: Harness, staff: dict[str, UUID]) -> None:
    """Absent-looking or worked: cancelling takes the plan away, never the hours clocked."""
    worked = plan(harness, staff["ann"], time(8), time(12))
    over = plan(harness, staff["bob"], time(8), time(9))
    clock(harness, domain.clock_in, "ann", staff, local(9, 40))  # "late" for a wrong plan
    later = local(10)
    for s in (worked, over):
        out = harness.run(
            partial(domain.cancel_shift, shift_id=s.shift_id, cmd=ShiftCancelIn(reason="错排")),
            now=later,
        )
        assert out.status == "cancelled"
    rows = day_rows(harness, later)
    assert [(r.username, r.status, r.late_minutes) for r in rows] == [("ann", "unplanned", 0)]
    out = clock(harness, domain.clock_out, "ann", staff, local(11))
    assert (out.shift_id, out.early_minutes, out.worked_minutes) == (None, 0, 80)
    with pytest.raises(IllegalTransition) as err:
        harness.run(partial(domain.cancel_shift, shift_id=over.shift_id, cmd=ShiftCancelIn()))
    assert err.value.extra["state"] == "cancelled"
    assert_replay_matches(harness.data_dir, [shifts, attendance_records])


def test_a_past_shift_needs_a_backdated_plan(harness: Harness, staff: dict[str, UUID]) -> None:
    def back(day: date, start: time, end: time, *, backdated: bool) -> ShiftOut:
        cmd = ShiftIn(
            user_id=staff["ann"], day=day, start_time=start, end_time=end, backdated=backdated
        )
        return harness.run(lambda ctx: domain.plan_shift(ctx, cmd))

    with pytest.raises(ShiftInPast):
        back(DAY, time(8), time(9), backdated=False)
    assert back(DAY, time(9, 56), time(12), backdated=False).status == "planned"  # grace
    assert back(DAY, time(8), time(9), backdated=True).status == "absent"
    assert back(DAY - timedelta(days=7), time(12), time(18), backdated=True).status == "absent"
    with pytest.raises(ShiftInPast) as err:
        back(DAY - timedelta(days=8), time(12), time(18), backdated=True)
    assert err.value.extra["errors"][0]["field"] == "day"


def test_swap_gives_each_the_others_shift(harness: Harness, staff: dict[str, UUID]) -> None:
    a = plan(harness, staff["ann"], time(8), time(14), window="A1")
    b = plan(harness, staff["bob"], time(14), time(20), window="B2", day=NEXT + timedelta(1))
    out = harness.run(
        lambda ctx: domain.swap_shifts(
            ctx, ShiftSwapIn(first_shift_id=a.shift_id, second_shift_id=b.shift_id, reason="家事")
        )
    )
    assert (out.first.username, out.first.window) == ("bob", "A1")
    assert (out.second.username, out.second.day) == ("ann", NEXT + timedelta(1))


def test_swap_refusals(harness: Harness, staff: dict[str, UUID]) -> None:
    a = plan(harness, staff["ann"], time(8), time(12))
    a2 = plan(harness, staff["ann"], time(13), time(17))
    b = plan(harness, staff["bob"], time(8), time(12))
    b2 = plan(harness, staff["bob"], time(12), time(16))

    def swap(x: ShiftOut, y: ShiftOut) -> Callable[[Ctx], Any]:
        return lambda ctx: domain.swap_shifts(
            ctx, ShiftSwapIn(first_shift_id=x.shift_id, second_shift_id=y.shift_id)
        )

    with pytest.raises(ValidationFailed):
        harness.run(swap(a, a))
    with pytest.raises(ValidationFailed, match="same person"):
        harness.run(swap(a, a2))
    with pytest.raises(Conflict, match="overlaps"):  # bob would work 8–12 twice
        harness.run(swap(a, b2))
    clock(harness, domain.clock_in, "bob", staff, local(7, 58))
    with pytest.raises(IllegalTransition) as err:
        harness.run(swap(a, b), now=local(7, 59))
    assert err.value.extra["state"] == "started"


# ---------------------------------------------------------------- clock in / out


@pytest.mark.parametrize(
    ("arrival", "late"),
    [
        (local(8, 40), 0),
        (local(9, 0), 0),
        (local(9, 5, 59), 0),
        (local(9, 6), 6),
        (local(10, 1), 61),
    ],
)
def test_lateness_counts_from_shift_start_beyond_the_grace_period(
    harness: Harness, staff: dict[str, UUID], arrival: datetime, late: int
) -> None:
    s = plan(harness, staff["ann"])
    rec = clock(harness, domain.clock_in, "ann", staff, arrival)
    assert (rec.shift_id, rec.late_minutes, rec.day) == (s.shift_id, late, NEXT)
    assert shift_now(harness, s.shift_id, arrival).status == "started"


def test_clock_in_twice_or_out_without_in_is_illegal(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    with pytest.raises(IllegalTransition) as err:
        clock(harness, domain.clock_out, "ann", staff, local(9))
    assert err.value.extra["state"] == "clocked_out"
    clock(harness, domain.clock_in, "ann", staff, local(9))
    with pytest.raises(IllegalTransition) as err:
        clock(harness, domain.clock_in, "ann", staff, local(9, 1))
    assert err.value.extra["state"] == "clocked_in"


def test_clock_out_computes_early_leave_and_worked_minutes(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    s = plan(harness, staff["ann"])
    clock(harness, domain.clock_in, "ann", staff, local(8, 50))
    clock(harness, domain.start_break, "ann", staff, local(12, 0))
    on_break = clock(harness, domain.end_break, "ann", staff, local(12, 45, 30))
    assert on_break.break_minutes == 45 and not on_break.on_break
    out = clock(harness, domain.clock_out, "ann", staff, local(16, 30))
    assert (out.early_minutes, out.break_minutes, out.worked_minutes) == (30, 45, 415)
    assert out.clock_out_by == "ann"
    assert shift_now(harness, s.shift_id, local(16, 30)).status == "completed"


def test_unplanned_clock_in_is_never_late(harness: Harness, staff: dict[str, UUID]) -> None:
    rec = clock(harness, domain.clock_in, "gus", staff, local(11, 0))
    assert (rec.shift_id, rec.late_minutes) == (None, 0)
    out = clock(harness, domain.clock_out, "gus", staff, local(12, 0))
    assert (out.early_minutes, out.worked_minutes) == (0, 60)
    assert day_rows(harness, local(13))[0].status == "unplanned"


def test_clock_in_uses_the_store_local_day(harness: Harness, staff: dict[str, UUID]) -> None:
    """07:58 in Shanghai on the 27th is still the 26th in UTC: the shift of the 27th counts."""
    s = plan(harness, staff["ann"], time(8), time(12))
    arrival = local(7, 58)
    assert arrival.date() == DAY
    rec = clock(harness, domain.clock_in, "ann", staff, arrival)
    assert (rec.day, rec.shift_id, rec.late_minutes) == (NEXT, s.shift_id, 0)


def test_second_shift_of_the_day_gets_the_second_clock_in(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    morning = plan(harness, staff["ann"], time(8), time(12))
    evening = plan(harness, staff["ann"], time(15), time(20, 30))
    assert clock(harness, domain.clock_in, "ann", staff, local(8)).shift_id == morning.shift_id
    clock(harness, domain.clock_out, "ann", staff, local(12))
    second = clock(harness, domain.clock_in, "ann", staff, local(15, 10))
    assert (second.shift_id, second.late_minutes) == (evening.shift_id, 10)
    clock(harness, domain.clock_out, "ann", staff, local(20, 30))
    third = clock(harness, domain.clock_in, "ann", staff, local(20, 31))
    assert third.shift_id is None  # both shifts taken: overtime is unplanned


def test_breaks_only_within_a_clocked_in_period(harness: Harness, staff: dict[str, UUID]) -> None:
    with pytest.raises(IllegalTransition):
        clock(harness, domain.start_break, "ann", staff, local(9))
    clock(harness, domain.clock_in, "ann", staff, local(9))
    with pytest.raises(IllegalTransition) as err:
        clock(harness, domain.end_break, "ann", staff, local(10))
    assert err.value.extra["state"] == "working"
    assert clock(harness, domain.start_break, "ann", staff, local(10)).on_break
    with pytest.raises(IllegalTransition) as err:
        clock(harness, domain.start_break, "ann", staff, local(10, 5))
    assert err.value.extra["state"] == "on_break"
    out = clock(harness, domain.clock_out, "ann", staff, local(10, 20))  # ends the break too
    assert (out.break_minutes, out.worked_minutes, out.on_break) == (20, 60, False)
    ended = harness.read(lambda c: c.execute(attendance_breaks.select()).one())
    assert ended.minutes == 20


def test_only_a_manager_clocks_for_someone_else_and_says_why(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    with pytest.raises(Forbidden):
        clock(harness, domain.clock_in, "ann", staff, local(9), actor="bob", reason="helping")
    with pytest.raises(ValidationFailed) as err:
        clock(harness, domain.clock_in, "ann", staff, local(9), actor="manager")
    assert err.value.extra["errors"][0]["field"] == "reason"
    rec = clock(
        harness, domain.clock_in, "ann", staff, local(9), actor="manager", reason="平板故障"
    )
    assert (rec.clock_in_by, rec.clock_in_note) == ("manager", "平板故障")


def test_manager_records_a_forgotten_clock_out_afterwards(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    plan(harness, staff["ann"])
    clock(harness, domain.clock_in, "ann", staff, local(9))
    next_morning = local(8, day=NEXT + timedelta(1))
    with pytest.raises(IllegalTransition):  # still clocked in from yesterday
        clock(harness, domain.clock_in, "ann", staff, next_morning)
    with pytest.raises(Forbidden):  # staff may not backdate
        clock(harness, domain.clock_out, "ann", staff, next_morning, reason="x", at=local(17))
    bad: list[tuple[datetime, str]] = [
        (next_morning + timedelta(minutes=1), "future"),
        (local(8), "before the clock-in"),
        (next_morning - timedelta(days=8), "days back"),
        (local(17).replace(tzinfo=None), "offset"),
    ]
    for at, message in bad:
        with pytest.raises(ValidationFailed, match=message):
            clock(
                harness,
                domain.clock_out,
                "ann",
                staff,
                next_morning,
                actor="manager",
                reason="忘记签退",
                at=at,
            )
    out = clock(
        harness,
        domain.clock_out,
        "ann",
        staff,
        next_morning,
        actor="manager",
        reason="忘记签退",
        at=local(17),
    )
    assert (out.clock_out_at, out.early_minutes, out.worked_minutes) == (local(17), 0, 480)
    assert out.clock_out_note == "忘记签退"
    assert clock(harness, domain.clock_in, "ann", staff, next_morning).day == NEXT + timedelta(1)


def test_manager_closes_the_record_of_someone_who_left(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    clock(harness, domain.clock_in, "bob", staff, local(9))
    harness.run(lambda ctx: store_domain.update_staff(ctx, staff["bob"], StaffUpdate(active=False)))
    with pytest.raises(ValidationFailed, match="no longer active"):
        clock(harness, domain.start_break, "bob", staff, local(10), actor="manager", reason="x")
    out = clock(harness, domain.clock_out, "bob", staff, local(10), actor="manager", reason="离职")
    assert (out.clock_out_by, out.worked_minutes) == ("manager", 60)


def test_lateness_and_early_leave_reasons(harness: Harness, staff: dict[str, UUID]) -> None:
    plan(harness, staff["ann"])
    plan(harness, staff["bob"])
    late = clock(harness, domain.clock_in, "ann", staff, local(9, 20))
    on_time = clock(harness, domain.clock_in, "bob", staff, local(9))

    def explain(rec: AttendanceOut, kind: str, actor: str) -> AttendanceOut:
        return harness.run(
            lambda ctx: domain.record_reason(
                ctx,
                rec.attendance_id,
                ReasonIn(kind=kind, reason="地铁延误"),  # type: ignore[arg-type]
            ),
            actor=actor,
            now=local(18),
        )

    assert explain(late, "late", "ann").late_reason == "地铁延误"
    assert explain(late, "late", "manager").late_reason == "地铁延误"
    with pytest.raises(Forbidden):
        explain(late, "late", "bob")
    with pytest.raises(Conflict, match="not late"):
        explain(on_time, "late", "bob")
    with pytest.raises(Conflict, match="no early leave"):
        explain(late, "early_leave", "ann")
    clock(harness, domain.clock_out, "ann", staff, local(16))
    assert explain(late, "early_leave", "ann").early_reason == "地铁延误"


def test_absence_is_derived_and_can_be_explained(harness: Harness, staff: dict[str, UUID]) -> None:
    s = plan(harness, staff["ann"], time(8), time(12))
    reason = AbsenceReasonIn(reason="病假")
    with pytest.raises(IllegalTransition) as err:
        harness.run(lambda ctx: domain.explain_absence(ctx, s.shift_id, reason), now=local(11))
    assert err.value.extra["state"] == "planned"
    assert shift_now(harness, s.shift_id, local(12)).status == "absent"
    with pytest.raises(Forbidden):
        harness.run(
            lambda ctx: domain.explain_absence(ctx, s.shift_id, reason), actor="bob", now=local(13)
        )
    out = harness.run(
        lambda ctx: domain.explain_absence(ctx, s.shift_id, reason), actor="ann", now=local(13)
    )
    assert (out.status, out.absence_reason) == ("absent", "病假")
    # Clocking in after the shift ended does not rescue it: it is unplanned work.
    assert clock(harness, domain.clock_in, "ann", staff, local(13)).shift_id is None


# ---------------------------------------------------------------- reads


@pytest.fixture
def busy_day(harness: Harness, staff: dict[str, UUID]) -> dict[str, UUID]:
    """ann late and early, bob on time, gus absent, manager unplanned; by 13:00 on NEXT."""
    plan(harness, staff["ann"], time(8), time(12))
    plan(harness, staff["bob"], time(8), time(12))
    plan(harness, staff["gus"], time(8), time(12))
    plan(harness, staff["gus"], time(14), time(18))  # still to come at 13:00
    clock(harness, domain.clock_in, "ann", staff, local(8, 10))
    clock(harness, domain.clock_in, "bob", staff, local(8, 2))
    clock(harness, domain.clock_in, "manager", staff, local(8, 30))
    clock(harness, domain.start_break, "bob", staff, local(10))
    clock(harness, domain.end_break, "bob", staff, local(10, 15))
    clock(harness, domain.clock_out, "ann", staff, local(11, 30))
    clock(harness, domain.clock_out, "bob", staff, local(12))
    return staff


def test_attendance_per_day_shows_planned_vs_actual(
    harness: Harness, busy_day: dict[str, UUID]
) -> None:
    rows = day_rows(harness, local(13))
    by = {(r.username, r.planned_start): r for r in rows}
    assert len(rows) == 5
    ann = by["ann", local(8)]
    assert (ann.status, ann.late_minutes, ann.early_minutes, ann.worked_minutes) == (
        "late_and_early_leave",
        10,
        30,
        200,
    )
    bob = by["bob", local(8)]
    assert (bob.status, bob.break_minutes, bob.worked_minutes) == ("on_time", 15, 223)
    assert by["gus", local(8)].status == "absent"
    assert by["gus", local(14)].status == "scheduled"
    boss = by["manager", None]
    assert (boss.status, boss.clocked_in, boss.worked_minutes) == ("unplanned", True, 0)
    absent = day_rows(harness, local(13), status="absent")
    assert [r.username for r in absent] == ["gus"]
    assert len(day_rows(harness, local(13), user_id=busy_day["gus"])) == 2
    assert day_rows(harness, local(13), day=NEXT + timedelta(1)) == []


def test_monthly_summary_per_person(harness: Harness, busy_day: dict[str, UUID]) -> None:
    month = harness.read(
        lambda c: {
            r.username: domain.summary_out(NEXT, r)
            for r in c.execute(domain.attendance_summary(STORE_ID, month=NEXT, now=local(19))).all()
        }
    )
    assert set(month) == {"ann", "bob", "gus", "manager"}
    ann, gus = month["ann"], month["gus"]
    assert (ann.month, ann.late_count, ann.late_minutes, ann.late_unexplained) == (
        "2026-11",
        1,
        10,
        1,
    )
    assert (ann.early_count, ann.early_minutes, ann.worked_minutes) == (1, 30, 200)
    assert ann.worked_hours == pytest.approx(3.33)
    assert (gus.planned_shifts, gus.attended_shifts, gus.absences) == (2, 0, 2)
    assert (month["manager"].unplanned_count, month["manager"].planned_shifts) == (1, 0)
    december = harness.read(
        lambda c: c.execute(
            domain.attendance_summary(STORE_ID, month=date(2026, 12, 1), now=local(19))
        ).all()
    )
    assert december == []


def test_attendance_today_counts_for_the_kpis(harness: Harness, busy_day: dict[str, UUID]) -> None:
    counts = harness.read(lambda c: domain.attendance_today(c, STORE_ID, NEXT, now=local(13)))
    assert (counts.planned, counts.clocked_in, counts.on_time) == (4, 2, 1)
    assert (counts.late, counts.early_leave, counts.absent) == (1, 1, 1)
    assert (counts.unplanned, counts.working_now) == (1, 1)
    final = harness.read(lambda c: domain.attendance_today(c, STORE_ID, NEXT, now=local(23)))
    assert final.absent == 2


def test_clock_status_tells_where_someone_stands(harness: Harness, staff: dict[str, UUID]) -> None:
    plan(harness, staff["ann"])
    clock(harness, domain.clock_in, "ann", staff, local(9))
    clock(harness, domain.start_break, "ann", staff, local(10))
    status = harness.read(lambda c: domain.clock_status(c, STORE_ID, staff["ann"], NEXT, local(10)))
    assert status.clocked_in and status.on_break and status.open_record is not None
    assert [s.status for s in status.shifts_today] == ["started"]


def test_replaying_the_log_rebuilds_the_shift_tables(
    harness: Harness, busy_day: dict[str, UUID], data_dir: Path
) -> None:
    s = plan(harness, busy_day["ann"], time(14), time(18))
    harness.run(lambda ctx: domain.change_shift(ctx, s.shift_id, ShiftChangeIn(window=None)))
    harness.run(lambda ctx: domain.cancel_shift(ctx, s.shift_id, ShiftCancelIn(reason="x")))
    assert_replay_matches(data_dir, [shifts, attendance_records, attendance_breaks])


async def test_central_folds_and_reads_the_same_on_postgresql(
    pg_url: str, harness: Harness, busy_day: dict[str, UUID]
) -> None:
    """Central runs these projectors and reads over PostgreSQL: same rows, same counts."""
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    from schema.events import decode
    from schema.tables import metadata
    from schema.tables.core import events
    from server.domain.projection import apply_all

    tables = [shifts, attendance_records, attendance_breaks]
    now = local(13)

    def snapshot(c: sa.Connection) -> tuple[Any, ...]:
        rows = [c.execute(sa.select(t).order_by(*t.primary_key.columns)).all() for t in tables]
        today = domain.attendance_today(c, STORE_ID, NEXT, now=now)
        month = c.execute(domain.attendance_summary(STORE_ID, month=NEXT, now=now)).all()
        grid = c.execute(
            domain.list_attendance(STORE_ID, now=now, date_from=NEXT, date_to=NEXT)
        ).all()
        return rows, today, month, [domain.attendance_day_out(r) for r in grid]

    log = harness.read(
        lambda c: [
            decode(r.body) for r in c.execute(sa.select(events.c.body).order_by(events.c.seq))
        ]
    )
    want = harness.read(snapshot)
    engine = create_async_engine(pg_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.run_sync(apply_all, log)
            got = await conn.run_sync(snapshot)
    finally:
        await engine.dispose()
    assert got == want
