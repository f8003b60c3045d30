"""The complaints' part of the day: complaints taken in at the desk and on the hotline,
assigned, answered, escalated now and then, resolved, reopened when the customer is not
satisfied, and closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from schema.api.complaints import ComplaintIn, EscalateIn, FeedbackIn, ResolveIn
from server.domain import complaints
from server.domain.context import Ctx
from server.store.simulation.fixtures import CHANNELS, COMPLAINTS
from server.store.simulation.hall import Hall, step


def complaint(hall: Hall, n: int, now: datetime) -> None:
    """The ``n``-th complaint of the day: every third is escalated to the manager (the second
    of the day on to the region too), and every third from the third on is resolved, found
    unsatisfactory by the customer, reopened and resolved again."""
    rng = hall.rng
    category = rng.choice(COMPLAINTS)
    opened = hall.run(
        hall.greeter_at(now),
        now,
        lambda c: complaints.open_complaint(
            c,
            ComplaintIn(
                channel=rng.choice(CHANNELS),
                category=category,
                description="客户反映高峰期等候时间过长，电话 13800138000",
                customer_phone=f"139{rng.randrange(10**8):08d}",
            ),
        ),
    )
    cid = opened.complaint_id
    owner = rng.choice(["clerk01", "clerk02", "clerk03", "clerk04", "clerk05"])
    steps: list[tuple[int, str, Callable[[Ctx], Any]]] = [
        (rng.randint(5, 20), "manager", lambda c: complaints.assign(c, cid, hall.users[owner])),
        (rng.randint(5, 30), owner, lambda c: complaints.respond(c, cid, "已当面致歉并说明情况")),
    ]
    if n % 3 == 1:
        steps += [
            (
                rng.randint(5, 20),
                owner,
                lambda c: complaints.escalate(
                    c, cid, EscalateIn(level="manager", reason="客户要求厅长出面处理")
                ),
            )
        ]
    if n == 1:
        steps += [
            (
                rng.randint(20, 40),
                "manager",
                lambda c: complaints.escalate(
                    c, cid, EscalateIn(level="region", reason="涉及计费系统，需区域协调核查")
                ),
            )
        ]
    if n % 3 == 2:
        rating = rng.choice([4, 5])
        steps += [
            (
                rng.randint(20, 90),
                owner,
                lambda c: complaints.resolve(
                    c, cid, ResolveIn(remedy="当面致歉并赠送流量包", verified=True)
                ),
            ),
            (
                rng.randint(10, 40),
                "manager",
                lambda c: complaints.record_feedback(
                    c,
                    cid,
                    FeedbackIn(satisfied=False, rating=2, comment="补救不到位，仍不满意"),
                ),
            ),
            (
                5,
                owner,
                lambda c: complaints.reopen(c, cid, "回访不满意，客户要求退还多收费用"),
            ),
            (
                rng.randint(30, 120),
                owner,
                lambda c: complaints.resolve(
                    c, cid, ResolveIn(remedy="退还多收费用并赠送话费券", verified=True)
                ),
            ),
            (
                rng.randint(10, 60),
                "manager",
                lambda c: complaints.record_feedback(
                    c, cid, FeedbackIn(satisfied=True, rating=rating)
                ),
            ),
            (5, "manager", lambda c: complaints.close(c, cid, "二次处理后结案")),
        ]
    elif rng.random() < 0.7:
        rating = rng.choice([4, 5])
        steps += [
            (
                rng.randint(20, 120),
                owner,
                lambda c: complaints.resolve(
                    c, cid, ResolveIn(remedy="赠送流量包", verified=False)
                ),
            ),
            (
                rng.randint(10, 60),
                "manager",
                lambda c: complaints.record_feedback(
                    c, cid, FeedbackIn(satisfied=True, rating=rating)
                ),
            ),
            (5, "manager", lambda c: complaints.close(c, cid, "结案")),
        ]
    t = now
    for minutes, actor, command in steps:
        t += timedelta(minutes=minutes)
        hall.later(t, partial(step, hall, actor, command))
