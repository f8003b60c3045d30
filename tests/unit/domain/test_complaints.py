"""Complaints (投诉) state machine, SLAs and reads, through domain commands at controlled times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from uuid_utils.compat import uuid7

from schema.api.complaints import (
    ComplaintDetailOut,
    ComplaintIn,
    EscalateIn,
    EscalationTarget,
    FeedbackIn,
    ResolveIn,
)
from schema.api.store import StaffOut, StaffUpdate, StoreSettingsIn
from schema.events.store import Role
from schema.tables.complaints import complaint_steps, complaints
from schema.tables.core import events
from server.domain import complaints as domain
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.domain.paging import paginate
from server.errors import (
    Conflict,
    Forbidden,
    HallsyncError,
    IllegalTransition,
    NotFound,
    ValidationFailed,
)
from tests.conftest import STORE_ID, Harness, assert_replay_matches

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
"""10:00 in Shanghai on 2026-11-26."""
PHONE = "13812345678"


@pytest.fixture
def staff(harness: Harness) -> dict[str, UUID]:
    """User ids of clerk1, clerk2, greeter1, tech1 and the manager."""
    ids: dict[str, UUID] = {}
    roles: list[tuple[str, Role]] = [
        ("clerk1", "clerk"),
        ("clerk2", "clerk"),
        ("greeter1", "greeter"),
        ("tech1", "tech"),
    ]
    for username, role in roles:

        def add(ctx: Ctx, u: str = username, r: Role = role) -> StaffOut:
            return store_domain.add_staff(
                ctx, username=u, display_name=u, role=r, password_hash="x"
            )

        ids[username] = harness.run(add, now=T0 - timedelta(days=1)).user_id
    ids["manager"] = harness.read(lambda c: store_domain.find_login(c, STORE_ID, "manager"))[
        0
    ].user_id  # type: ignore[index]
    return ids


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def open_(
    h: Harness, *, hours: float = 0, actor: str = "greeter1", **fields: Any
) -> ComplaintDetailOut:
    body: dict[str, Any] = {
        "channel": "in_store",
        "category": "service_attitude",
        "description": "窗口业务员态度差",
        "customer_phone": PHONE,
        **fields,
    }
    return h.run(
        lambda ctx: domain.open_complaint(ctx, ComplaintIn(**body)), actor=actor, now=at(hours)
    )


def step(h: Harness, fn: Any, *, hours: float, actor: str = "manager") -> ComplaintDetailOut:
    result: ComplaintDetailOut = h.run(fn, actor=actor, now=at(hours))
    return result


def to_responded(h: Harness, staff: dict[str, UUID], **fields: Any) -> ComplaintDetailOut:
    """A complaint opened at T0, assigned to clerk1 at +1h, responded by clerk1 at +2h."""
    c = open_(h, **fields)
    step(h, lambda ctx: domain.assign(ctx, c.complaint_id, staff["clerk1"]), hours=1)
    return step(
        h, lambda ctx: domain.respond(ctx, c.complaint_id, "已致电客户"), hours=2, actor="clerk1"
    )


def to_resolved(h: Harness, staff: dict[str, UUID], **fields: Any) -> ComplaintDetailOut:
    c = to_responded(h, staff, **fields)
    cmd = ResolveIn(remedy="赠送话费10元并道歉", verified=True)
    return step(h, lambda ctx: domain.resolve(ctx, c.complaint_id, cmd), hours=3, actor="clerk1")


def illegal(h: Harness, fn: Any, *, hours: float = 5, actor: str = "manager") -> HallsyncError:
    with pytest.raises(IllegalTransition) as info:
        h.run(fn, actor=actor, now=at(hours))
    return info.value


def listed(h: Harness, hours: float, **filters: Any) -> list[str]:
    """Numbers of the complaints the list returns with ``filters`` at T0 + ``hours``."""
    now = at(hours)
    page = h.read(
        lambda c: paginate(
            c,
            domain.list_complaints(STORE_ID, now, **filters),
            domain.complaint_out(now),
            limit=100,
            offset=0,
        )
    )
    return [item.number for item in page.items]


# ---------------------------------------------------------------- opening


def test_open_masks_phone_sets_due_times_and_number(harness: Harness) -> None:
    c = open_(harness)
    assert c.status == "open" and c.escalation_level == "none" and c.owner_id is None
    assert c.number == "T20261126-001"
    assert c.customer_phone == "***********"
    assert c.opened_at == T0 and c.opened_day == date(2026, 11, 26) and c.opened_by == "greeter1"
    assert c.first_response_due_at == at(24)
    assert c.resolution_due_at == at(48)
    assert not c.overdue
    assert [s.kind for s in c.steps] == ["opened"]
    assert c.steps[0].actor == "greeter1" and c.steps[0].note == "窗口业务员态度差"
    row = harness.read(lambda conn: conn.execute(sa.select(complaints)).one())
    assert row.customer_phone_hash == harness.contact_key.token(PHONE)
    assert open_(harness, hours=1).number == "T20261126-002"


def test_number_and_day_follow_the_store_local_date(harness: Harness) -> None:
    # 16:30 UTC is 00:30 the next day in Shanghai.
    c = open_(harness, hours=14.5)
    assert c.opened_day == date(2026, 11, 27)
    assert c.number == "T20261127-001"


def test_due_times_follow_the_store_sla_hours(harness: Harness) -> None:
    settings = StoreSettingsIn(first_response_sla_hours=2, resolution_sla_hours=8)
    harness.run(lambda ctx: store_domain.update_settings(ctx, settings), now=at(-1))
    c = open_(harness)
    assert c.first_response_due_at == at(2) and c.resolution_due_at == at(8)


@pytest.mark.parametrize("phone", ["12345678901", "1381234567", "02161234567", "138-1234-567x"])
def test_open_refuses_a_non_mobile_number_naming_the_field(harness: Harness, phone: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        open_(harness, customer_phone=phone)
    assert info.value.extra["errors"][0]["field"] == "customer_phone"
    assert phone not in info.value.detail


def test_open_accepts_formatted_numbers(harness: Harness) -> None:
    c = open_(harness, customer_phone="+86 138-1234-5678")
    assert c.customer_phone == "***********"


def test_open_checks_the_staff_member_involved(harness: Harness, staff: dict[str, UUID]) -> None:
    with pytest.raises(ValidationFailed) as info:
        open_(harness, staff_id=uuid7())
    assert info.value.extra["errors"][0]["field"] == "staff_id"
    ticket = uuid7()
    c = open_(harness, staff_id=staff["clerk2"], ticket_id=ticket)
    assert c.staff_id == staff["clerk2"] and c.ticket_id == ticket


def test_raw_numbers_never_reach_the_log_or_the_tables(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    c = open_(harness, description="客户13912345678说身份证110101199003071234被泄露")
    assert c.description == "客户***********说身份证110101********1234被泄露"
    step(harness, lambda ctx: domain.assign(ctx, c.complaint_id, staff["clerk1"]), hours=1)
    step(
        harness,
        lambda ctx: domain.respond(ctx, c.complaint_id, "已回电 139 1234 5678"),
        hours=2,
        actor="clerk1",
    )
    bodies = harness.read(lambda conn: conn.execute(sa.select(events.c.body)).scalars().all())
    for raw in (PHONE, "13912345678", "110101199003071234"):
        assert not any(raw.encode() in b for b in bodies)
    for table in (complaints, complaint_steps):
        rows = harness.read(lambda conn: conn.execute(sa.select(table)).all())  # noqa: B023
        assert not any(raw in str(r) for r in rows for raw in (PHONE, "13912345678"))


# ---------------------------------------------------------------- assignment


def test_assign_moves_open_to_assigned(harness: Harness, staff: dict[str, UUID]) -> None:
    c = open_(harness)
    c = step(harness, lambda ctx: domain.assign(ctx, c.complaint_id, staff["clerk1"]), hours=1)
    assert c.status == "assigned" and c.owner_id == staff["clerk1"]
    assert c.steps[-1].kind == "assigned" and c.steps[-1].owner_id == staff["clerk1"]


def test_only_a_manager_assigns(harness: Harness, staff: dict[str, UUID]) -> None:
    c = open_(harness)
    with pytest.raises(Forbidden):
        harness.run(lambda ctx: domain.assign(ctx, c.complaint_id, staff["clerk1"]), actor="clerk1")


@pytest.mark.parametrize("who", ["greeter1", "tech1", "nobody", "deactivated"])
def test_owner_must_be_an_active_clerk_or_manager(
    harness: Harness, staff: dict[str, UUID], who: str
) -> None:
    if who == "deactivated":
        harness.run(
            lambda ctx: store_domain.update_staff(ctx, staff["clerk2"], StaffUpdate(active=False))
        )
        owner = staff["clerk2"]
    else:
        owner = staff.get(who) or uuid7()
    c = open_(harness)
    with pytest.raises(ValidationFailed) as info:
        harness.run(lambda ctx: domain.assign(ctx, c.complaint_id, owner))
    assert info.value.extra["errors"][0]["field"] == "owner_id"


def test_reassign_keeps_the_stage_and_same_owner_conflicts(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    c = to_responded(harness, staff)
    with pytest.raises(Conflict):
        harness.run(lambda ctx: domain.assign(ctx, c.complaint_id, staff["clerk1"]))
    c = step(harness, lambda ctx: domain.assign(ctx, c.complaint_id, staff["clerk2"]), hours=3)
    assert c.status == "responded" and c.owner_id == staff["clerk2"]
    c = step(harness, lambda ctx: domain.assign(ctx, c.complaint_id, staff["manager"]), hours=4)
    assert c.owner_id == staff["manager"]


def test_assign_after_resolution_is_illegal(harness: Harness, staff: dict[str, UUID]) -> None:
    c = to_resolved(harness, staff)
    err = illegal(harness, lambda ctx: domain.assign(ctx, c.complaint_id, staff["clerk2"]))
    assert err.extra["state"] == "resolved" and "resolved" in err.detail


def test_unknown_complaint_is_not_found(harness: Harness, staff: dict[str, UUID]) -> None:
    with pytest.raises(NotFound):
        harness.run(lambda ctx: domain.assign(ctx, uuid7(), staff["clerk1"]))
    with pytest.raises(NotFound):
        harness.read(lambda c: domain.get_complaint(c, STORE_ID, uuid7(), T0))


# ---------------------------------------------------------------- first response


def test_respond_stamps_the_first_response(harness: Harness, staff: dict[str, UUID]) -> None:
    c = to_responded(harness, staff)
    assert c.status == "responded"
    assert c.first_responded_at == at(2) and c.first_responded_by == "clerk1"
    assert c.first_response_within_sla is True
    assert c.steps[-1].kind == "responded" and c.steps[-1].within_sla is True


def test_respond_before_assignment_is_illegal(harness: Harness) -> None:
    c = open_(harness)
    err = illegal(harness, lambda ctx: domain.respond(ctx, c.complaint_id, "hi"))
    assert err.extra["state"] == "open" and "assign" in err.detail


def test_respond_twice_is_illegal(harness: Harness, staff: dict[str, UUID]) -> None:
    c = to_responded(harness, staff)
    err = illegal(harness, lambda ctx: domain.respond(ctx, c.complaint_id, "again"))
    assert err.extra["state"] == "responded"


def test_only_owner_or_manager_responds(harness: Harness, staff: dict[str, UUID]) -> None:
    c = open_(harness)
    step(harness, lambda ctx: domain.assign(ctx, c.complaint_id, staff["clerk1"]), hours=1)
    with pytest.raises(Forbidden):
        harness.run(lambda ctx: domain.respond(ctx, c.complaint_id, "x"), actor="clerk2")
    c = step(harness, lambda ctx: domain.respond(ctx, c.complaint_id, "经理回电"), hours=2)
    assert c.first_responded_by == "manager"


def test_late_first_response_is_marked_outside_sla(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    c = open_(harness)
    step(harness, lambda ctx: domain.assign(ctx, c.complaint_id, staff["clerk1"]), hours=1)
    c = step(harness, lambda ctx: domain.respond(ctx, c.complaint_id, "迟到的回复"), hours=25)
    assert c.first_response_within_sla is False


# ---------------------------------------------------------------- escalation


def test_escalation_only_goes_up(harness: Harness, staff: dict[str, UUID]) -> None:
    c = to_responded(harness, staff)
    up = EscalateIn(level="region", reason="客户要求区域处理")
    c = step(harness, lambda ctx: domain.escalate(ctx, c.complaint_id, up), hours=3, actor="clerk1")
    assert c.escalation_level == "region" and c.status == "responded"
    assert c.steps[-1].kind == "escalated" and c.steps[-1].level == "region"
    levels: list[EscalationTarget] = ["manager", "region"]
    for level in levels:
        down = EscalateIn(level=level, reason="x")
        err = illegal(harness, lambda ctx: domain.escalate(ctx, c.complaint_id, down))  # noqa: B023
        assert err.extra["escalation_level"] == "region"
    hq = EscalateIn(level="hq", reason="涉及隐私")
    c = step(harness, lambda ctx: domain.escalate(ctx, c.complaint_id, hq), hours=4)
    assert c.escalation_level == "hq"


def test_escalating_an_unowned_complaint_is_open_to_clerks(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    c = open_(harness)
    cmd = EscalateIn(level="manager", reason="需要厅长处理")
    c = step(
        harness, lambda ctx: domain.escalate(ctx, c.complaint_id, cmd), hours=1, actor="clerk2"
    )
    assert c.escalation_level == "manager" and c.status == "open"


def test_escalating_someone_elses_complaint_is_forbidden(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    c = to_responded(harness, staff)
    cmd = EscalateIn(level="manager", reason="x")
    with pytest.raises(Forbidden):
        harness.run(lambda ctx: domain.escalate(ctx, c.complaint_id, cmd), actor="clerk2")


def test_escalating_a_resolved_complaint_is_illegal(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    c = to_resolved(harness, staff)
    cmd = EscalateIn(level="hq", reason="x")
    err = illegal(harness, lambda ctx: domain.escalate(ctx, c.complaint_id, cmd))
    assert err.extra["state"] == "resolved"


# ---------------------------------------------------------------- resolution


def test_resolve_records_remedy_and_verdict(harness: Harness, staff: dict[str, UUID]) -> None:
    c = to_resolved(harness, staff, staff_id=staff["clerk2"])
    assert c.status == "resolved" and c.resolved_at == at(3) and c.resolved_by == "clerk1"
    assert c.remedy == "赠送话费10元并道歉" and c.verified is True
    assert c.counts_against_staff is True and c.resolution_within_sla is True
    assert c.steps[-1].kind == "resolved" and c.steps[-1].verified is True
    strikes = harness.read(
        lambda conn: domain.staff_attitude_strikes(
            conn, STORE_ID, date(2026, 11, 1), date(2026, 11, 30)
        )
    )
    assert strikes == {staff["clerk2"]: 1}
    december = harness.read(
        lambda conn: domain.staff_attitude_strikes(
            conn, STORE_ID, date(2026, 12, 1), date(2026, 12, 31)
        )
    )
    assert december == {}


@pytest.mark.parametrize(
    ("category", "verified", "with_staff", "counts"),
    [
        ("service_attitude", True, True, True),
        ("service_attitude", False, True, False),
        ("service_attitude", True, False, False),
        ("billing", True, True, False),
    ],
)
def test_only_verified_attitude_complaints_about_staff_count(
    harness: Harness,
    staff: dict[str, UUID],
    category: str,
    verified: bool,
    with_staff: bool,
    counts: bool,
) -> None:
    c = to_responded(harness, staff, category=category)
    cmd = ResolveIn(
        remedy="处理完毕", verified=verified, staff_id=staff["clerk2"] if with_staff else None
    )
    c = step(harness, lambda ctx: domain.resolve(ctx, c.complaint_id, cmd), hours=3)
    assert c.counts_against_staff is counts
    assert c.staff_id == (staff["clerk2"] if with_staff else None)


def test_resolve_refuses_an_unknown_staff_member(harness: Harness, staff: dict[str, UUID]) -> None:
    c = to_responded(harness, staff)
    cmd = ResolveIn(remedy="x", verified=True, staff_id=uuid7())
    with pytest.raises(ValidationFailed):
        harness.run(lambda ctx: domain.resolve(ctx, c.complaint_id, cmd))


@pytest.mark.parametrize("stage", ["open", "assigned"])
def test_resolve_before_first_response_is_illegal(
    harness: Harness, staff: dict[str, UUID], stage: str
) -> None:
    c = open_(harness)
    if stage == "assigned":
        step(harness, lambda ctx: domain.assign(ctx, c.complaint_id, staff["clerk1"]), hours=1)
    cmd = ResolveIn(remedy="x", verified=False)
    err = illegal(harness, lambda ctx: domain.resolve(ctx, c.complaint_id, cmd))
    assert err.extra["state"] == stage and "first response" in err.detail


def test_resolve_twice_is_illegal_and_non_owner_is_forbidden(
    harness: Harness, staff: dict[str, UUID]
) -> None:
    c = to_responded(harness, staff)
    cmd = ResolveIn(remedy="x", verified=False)
    with pytest.raises(Forbidden):
        harness.run(lambda ctx: domain.resolve(ctx, c.complaint_id, cmd), actor="clerk2")
    step(harness, lambda ctx: domain.resolve(ctx, c.complaint_id, cmd), hours=3, actor="clerk1")
    err = illegal(harness, lambda ctx: domain.resolve(ctx, c.complaint_id, cmd))
    assert err.extra["state"] == "resolved"


def test_late_resolution_is_marked_outside_sla(harness: Harness, staff: dict[str, UUID]) -> None:
    c = to_responded(harness, staff)
    cmd = ResolveIn(remedy="x", verified=False)
    c = step(harness, lambda ctx: domain.resolve(ctx, c.complaint_id, cmd), hours=49)
    assert c.resolution_within_sla is False


# ---------------------------------------------------------------- feedback, close, reopen


def test_feedback_once_after_resolution(harness: Harness, staff: dict[str, UUID]) -> None:
    c = to_responded(harness, staff)
    fb = FeedbackIn(satisfied=True, rating=5, comment="满意")
    err = illegal(harness, lambda ctx: domain.record_feedback(ctx, c.complaint_id, fb))
    assert err.extra["state"] == "responded"
    c = to_resolved(harness, staff)
    c = step(
        harness,
        lambda ctx: domain.record_feedback(ctx, c.complaint_id, fb),
        hours=4,
        actor="greeter1",
    )
    assert c.feedback is not None
    assert (c.feedback.satisfied, c.feedback.rating, c.feedback.comment) == (True, 5, "满意")
    assert c.feedback.at == at(4) and c.status == "resolved"
    assert c.steps[-1].kind == "feedback" and c.steps[-1].rating == 5
    err = illegal(harness, lambda ctx: domain.record_feedback(ctx, c.complaint_id, fb))
    assert "already" in err.detail


def test_close_only_a_resolved_complaint(harness: Harness, staff: dict[str, UUID]) -> None:
    c = to_responded(harness, staff)
    err = illegal(harness, lambda ctx: domain.close(ctx, c.complaint_id))
    assert err.extra["state"] == "responded"
    cmd = ResolveIn(remedy="x", verified=False)
    step(harness, lambda ctx: domain.resolve(ctx, c.complaint_id, cmd), hours=3)
    with pytest.raises(Forbidden):
        harness.run(lambda ctx: domain.close(ctx, c.complaint_id), actor="clerk1")
    c = step(harness, lambda ctx: domain.close(ctx, c.complaint_id, "客户未接听"), hours=4)
    assert c.status == "closed" and c.closed_at == at(4) and c.feedback is None
    err = illegal(harness, lambda ctx: domain.close(ctx, c.complaint_id))
    assert err.extra["state"] == "closed"
    fb = FeedbackIn(satisfied=True, rating=4)
    err = illegal(harness, lambda ctx: domain.record_feedback(ctx, c.complaint_id, fb))
    assert err.extra["state"] == "closed"


@pytest.mark.parametrize("stage", ["open", "responded"])
def test_reopen_an_unfinished_complaint_is_illegal(
    harness: Harness, staff: dict[str, UUID], stage: str
) -> None:
    c = open_(harness) if stage == "open" else to_responded(harness, staff)
    err = illegal(harness, lambda ctx: domain.reopen(ctx, c.complaint_id, "x"))
    assert err.extra["state"] == stage


def test_reopen_restarts_the_resolution_clock(harness: Harness, staff: dict[str, UUID]) -> None:
    c = to_resolved(harness, staff, staff_id=staff["clerk2"])
    fb = FeedbackIn(satisfied=False, rating=2, comment="没解决")
    step(harness, lambda ctx: domain.record_feedback(ctx, c.complaint_id, fb), hours=4)
    step(harness, lambda ctx: domain.close(ctx, c.complaint_id), hours=5)
    with pytest.raises(Forbidden):
        harness.run(lambda ctx: domain.reopen(ctx, c.complaint_id, "x"), actor="clerk2")
    c = step(
        harness,
        lambda ctx: domain.reopen(ctx, c.complaint_id, "客户再次来电"),
        hours=60,
        actor="clerk1",
    )
    assert c.status == "reopened" and c.reopen_count == 1
    assert c.resolution_due_at == at(60 + 48) and c.first_response_due_at == at(24)
    assert c.resolved_at is None and c.remedy is None and c.verified is None
    assert c.feedback is None and c.closed_at is None and c.counts_against_staff is False
    assert c.first_responded_at == at(2)  # the first response is not asked again
    assert not c.overdue
    assert c.steps[-1].kind == "reopened" and c.steps[-1].due_at == at(108)
    # A reopened complaint is resolved again directly, and gets feedback again.
    cmd = ResolveIn(remedy="更换SIM卡", verified=True)
    c = step(harness, lambda ctx: domain.resolve(ctx, c.complaint_id, cmd), hours=70)
    assert c.status == "resolved" and c.resolution_within_sla is True
    assert c.counts_against_staff is True
    fb = FeedbackIn(satisfied=True, rating=5)
    c = step(harness, lambda ctx: domain.record_feedback(ctx, c.complaint_id, fb), hours=71)
    c = step(harness, lambda ctx: domain.reopen(ctx, c.complaint_id, "again"), hours=72)
    assert c.reopen_count == 2
    kinds = [s.kind for s in c.steps]
    assert kinds == [
        "opened", "assigned", "responded", "resolved", "feedback", "closed", "reopened",
        "resolved", "feedback", "reopened",
    ]  # fmt: skip


# ---------------------------------------------------------------- overdue and reads


def test_overdue_is_computed_at_read_time(harness: Harness, staff: dict[str, UUID]) -> None:
    c = open_(harness)
    cid = c.complaint_id

    def detail(hours: float) -> ComplaintDetailOut:
        return harness.read(lambda conn: domain.get_complaint(conn, STORE_ID, cid, at(hours)))

    def summary(hours: float) -> tuple[int, int]:
        return harness.read(lambda conn: domain.open_and_overdue(conn, STORE_ID, at(hours)))

    assert not detail(23.9).overdue and summary(23.9) == (1, 0)
    d = detail(24.1)
    assert d.first_response_overdue and not d.resolution_overdue and d.overdue
    assert summary(24.1) == (1, 1)
    assert listed(harness, 24.1, overdue=True) == [c.number]
    assert listed(harness, 24.1, overdue=False) == []
    step(harness, lambda ctx: domain.assign(ctx, cid, staff["clerk1"]), hours=25)
    step(harness, lambda ctx: domain.respond(ctx, cid, "回复"), hours=26)
    assert not detail(30).overdue and summary(30) == (1, 0)
    d = detail(48.1)
    assert d.resolution_overdue and not d.first_response_overdue
    assert summary(48.1) == (1, 1)
    cmd = ResolveIn(remedy="x", verified=False)
    step(harness, lambda ctx: domain.resolve(ctx, cid, cmd), hours=50)
    assert not detail(100).overdue
    assert summary(100) == (0, 0)  # resolved, awaiting closure: no longer open
    assert listed(harness, 100, overdue=True) == []


def test_list_filters(harness: Harness, staff: dict[str, UUID]) -> None:
    a = open_(harness, channel="hotline", category="billing")
    b = open_(harness, hours=1, channel="online", category="network_quality")
    c = open_(harness, hours=25, customer_phone="13900001111")  # next store-local day
    step(harness, lambda ctx: domain.assign(ctx, b.complaint_id, staff["clerk1"]), hours=26)
    cmd = EscalateIn(level="manager", reason="x")
    step(harness, lambda ctx: domain.escalate(ctx, a.complaint_id, cmd), hours=26)
    assert listed(harness, 27) == [c.number, b.number, a.number]  # newest first
    assert listed(harness, 27, status="assigned") == [b.number]
    assert listed(harness, 27, status="open") == [c.number, a.number]
    assert listed(harness, 27, category="billing") == [a.number]
    assert listed(harness, 27, channel="online") == [b.number]
    assert listed(harness, 27, owner_id=staff["clerk1"]) == [b.number]
    assert listed(harness, 27, escalation_level="manager") == [a.number]
    day1, day2 = date(2026, 11, 26), date(2026, 11, 27)
    assert listed(harness, 27, date_from=day2) == [c.number]
    assert listed(harness, 27, date_to=day1) == [b.number, a.number]
    assert listed(harness, 27, date_from=day1, date_to=day1, channel="hotline") == [a.number]
    # a and b passed their first-response due time (24 h); b has an owner but no response.
    assert listed(harness, 27, overdue=True) == [b.number, a.number]
    assert listed(harness, 27, date_from=day2, date_to=day1) == []  # the API refuses it (422)


def test_search_by_phone_matches_any_formatting(harness: Harness) -> None:
    a = open_(harness)
    open_(harness, hours=1, customer_phone="13900001111")
    b = open_(harness, hours=2, customer_phone="+86 138 1234 5678")

    def search(raw: str) -> list[str]:
        domain.check_customer_phone(raw)
        page = harness.read(
            lambda c: paginate(
                c,
                domain.search_by_phone(STORE_ID, harness.contact_key.token(raw)),
                domain.complaint_out(T0),
                limit=10,
                offset=0,
            )
        )
        return [i.number for i in page.items]

    assert search("138-1234-5678") == [b.number, a.number]
    assert search("13700000000") == []
    with pytest.raises(ValidationFailed):
        search("12345")


def test_replay_rebuilds_complaints(
    harness: Harness, staff: dict[str, UUID], data_dir: Any
) -> None:
    c = to_resolved(harness, staff, staff_id=staff["clerk2"])
    step(harness, lambda ctx: domain.close(ctx, c.complaint_id), hours=4)
    step(harness, lambda ctx: domain.reopen(ctx, c.complaint_id, "x"), hours=5)
    d = open_(harness, hours=6)
    cmd = EscalateIn(level="hq", reason="y")
    step(harness, lambda ctx: domain.escalate(ctx, d.complaint_id, cmd), hours=7)
    assert_replay_matches(data_dir, [complaints, complaint_steps])
