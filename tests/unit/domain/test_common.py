"""The helpers every domain shares (``sql``, ``guards``, ``calendar``): lookups, state guards,
staff checks, time, ranges, upserts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial
from uuid import UUID

import pytest
import sqlalchemy as sa

from schema.api.store import StaffUpdate
from schema.tables.inventory import inventory_stock
from schema.tables.ops import ops_training_attendance
from server.domain import store as store_domain
from server.domain.calendar import (
    check_date_range,
    elapsed_seconds,
    month_bounds,
    month_name,
    parse_month,
    seconds_between,
    store_today,
    whole_minutes,
)
from server.domain.guards import (
    actor_role,
    actor_staff,
    blank_checked,
    known_staff,
    require_manager,
    require_state,
    staff_member,
)
from server.domain.sql import row_or_404, upsert
from server.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed
from tests.conftest import MANAGER, STORE_ID, Harness

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def field_of(exc: ValidationFailed) -> str | None:
    field: str | None = exc.extra["errors"][0]["field"]
    return field


# ---------------------------------------------------------------- state and text


def test_require_state_names_the_current_state_in_detail_and_extra() -> None:
    require_state("open", ["open", "paused"], "close", "window W1")
    with pytest.raises(IllegalTransition) as err:
        require_state("closed", ["open", "paused"], "pause", "window W1")
    assert err.value.extra == {"state": "closed"}
    assert err.value.detail == "cannot pause window W1: it is closed (needs open or paused)"
    with pytest.raises(IllegalTransition, match="it is open; assign an owner first"):
        require_state(
            "open", ["assigned"], "respond to", "complaint T1", hint="assign an owner first"
        )


def test_blank_checked_strips_and_refuses_blank_text() -> None:
    assert blank_checked("  灭火器过期 ", "issue") == "灭火器过期"
    for blank in ("", "   ", "\n\t"):
        with pytest.raises(ValidationFailed) as err:
            blank_checked(blank, "reason")
        assert field_of(err.value) == "reason"


# ---------------------------------------------------------------- time


def test_seconds_and_minutes() -> None:
    later = T0 + timedelta(minutes=7, seconds=59)
    assert seconds_between(T0, later) == 479 and seconds_between(later, T0) == -479
    assert elapsed_seconds(T0, later) == 479
    assert elapsed_seconds(later, T0) == 0  # a clock stepping back counts nothing
    assert whole_minutes(T0, later) == 7
    assert whole_minutes(later, T0) == -8  # rounded down, like lateness before a shift


def test_store_today_is_the_store_local_day(harness: Harness) -> None:
    # 17:30 UTC on the 25th is 01:30 on the 26th in Shanghai.
    evening = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)
    assert harness.read(lambda c: store_today(c, STORE_ID, evening)) == date(2026, 11, 26)
    assert harness.read(lambda c: store_today(c, STORE_ID, T0)) == date(2026, 11, 26)


# ---------------------------------------------------------------- ranges and months


def test_a_reversed_date_range_names_query_from() -> None:
    check_date_range(None, None)
    check_date_range(date(2026, 11, 1), None)
    check_date_range(date(2026, 11, 1), date(2026, 11, 1))
    with pytest.raises(ValidationFailed) as err:
        check_date_range(date(2026, 11, 2), date(2026, 11, 1))
    assert field_of(err.value) == "query.from"


@pytest.mark.parametrize("bad", ["0000-01", "2026-00", "2026-13", "2026-1", "202612", "x", ""])
def test_parse_month_refuses_what_is_not_a_month(bad: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_month(bad)
    assert field_of(err.value) == "query.month"


def test_months() -> None:
    assert parse_month("2026-02") == date(2026, 2, 1)
    assert parse_month("0001-01", field="month") == date(1, 1, 1)
    assert month_bounds(date(2026, 12, 15)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert month_bounds(date(2028, 2, 3)) == (date(2028, 2, 1), date(2028, 2, 29))
    assert month_bounds(parse_month("9999-12")) == (date(9999, 12, 1), date(9999, 12, 31))
    assert month_name(date(1, 3, 9)) == "0001-03"


# ---------------------------------------------------------------- rows and staff


def test_row_or_404_names_what_is_missing(harness: Harness) -> None:
    t = ops_training_attendance
    with pytest.raises(NotFound, match=f"no training session {UUID(int=1)}"):
        harness.read(
            lambda c: row_or_404(c, t, STORE_ID, t.c.session_id, UUID(int=1), "training session")
        )


def test_staff_lookups(harness: Harness) -> None:
    clerk = harness.run(
        partial(
            store_domain.add_staff,
            username="clerk1",
            display_name="Clerk",
            role="clerk",
            password_hash="x",
        )
    )

    def read_role(name: str) -> str | None:
        return harness.read(lambda c: actor_role(c, STORE_ID, name))

    assert (read_role(MANAGER), read_role("clerk1"), read_role("system")) == (
        "manager",
        "clerk",
        None,
    )
    assert harness.read(lambda c: actor_staff(c, STORE_ID, "clerk1")).user_id == clerk.user_id
    harness.read(lambda c: require_manager(c, STORE_ID, MANAGER, "close a complaint"))
    with pytest.raises(Forbidden, match="only a manager may close a complaint"):
        harness.read(lambda c: require_manager(c, STORE_ID, "clerk1", "close a complaint"))
    with pytest.raises(ValidationFailed) as err:
        harness.read(lambda c: staff_member(c, STORE_ID, UUID(int=9), field="owner_id"))
    assert field_of(err.value) == "owner_id"
    ids = harness.read(
        lambda c: known_staff(
            c, STORE_ID, [clerk.user_id, clerk.user_id], field="invited", active=True
        )
    )
    assert ids == (clerk.user_id,)

    # A deactivated member is no longer an actor, and is refused where active staff is needed.
    harness.run(
        lambda ctx: store_domain.update_staff(ctx, clerk.user_id, StaffUpdate(active=False))
    )
    assert read_role("clerk1") is None
    with pytest.raises(ValidationFailed, match="no longer active"):
        harness.read(lambda c: staff_member(c, STORE_ID, clerk.user_id, field="user_id"))
    harness.read(lambda c: staff_member(c, STORE_ID, clerk.user_id, field="user_id", active=False))
    with pytest.raises(ValidationFailed, match="not active staff"):
        harness.read(
            lambda c: known_staff(c, STORE_ID, [clerk.user_id], field="invited", active=True)
        )


# ---------------------------------------------------------------- upsert


def test_upsert_many_rows_with_insert_only_and_increment(harness: Harness) -> None:
    s = inventory_stock

    def put(*rows: tuple[str, int], at: datetime) -> None:
        harness.read(
            lambda c: upsert(
                c,
                s,
                [
                    {"store_id": STORE_ID, "sku": sku, "on_hand": n, "updated_at": at}
                    for sku, n in rows
                ],
                ["store_id", "sku"],
                increment=["on_hand"],
            )
        )

    put(("A", 3), ("B", 1), at=T0)
    put(("A", -1), ("C", 5), at=T0 + timedelta(hours=1))
    got = harness.read(
        lambda c: [tuple(r) for r in c.execute(sa.select(s.c.sku, s.c.on_hand).order_by(s.c.sku))]
    )
    assert got == [("A", 2), ("B", 1), ("C", 5)]

    a = ops_training_attendance
    key = {"store_id": STORE_ID, "session_id": UUID(int=1), "user_id": UUID(int=2)}

    def record(invited: bool, status: str) -> None:
        row = {**key, "invited": invited, "status": status, "note": ""}
        harness.read(
            lambda c: upsert(
                c, a, row, ["store_id", "session_id", "user_id"], insert_only=["invited"]
            )
        )

    record(True, "absent")
    record(False, "present")  # the second fact updates the status, not how the row began
    row = harness.read(lambda c: c.execute(sa.select(a.c.invited, a.c.status)).one())
    assert tuple(row) == (True, "present")
