"""HQ events about the store and its roster, as a store node applies them (``apply_hq_batch``):
operating rules that leave the store's identity alone and compose with the manager's own
settings by apply order, HQ staff added once or refreshed, and what a store refuses. A replay
of the store's log interleaved with its ``hq_log`` rebuilds the same state."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time
from functools import partial
from typing import Any
from uuid import UUID

import msgspec
import pytest
import sqlalchemy as sa
from uuid_utils.compat import uuid7

from schema.api.store import StaffUpdate, StoreSettingsIn
from schema.events import Event, decode, encode
from schema.events.store import StaffAdded, StaffDeactivated, StaffRoleChanged, StoreRulesSet
from schema.tables.core import events, staff, store_info
from schema.tables.sync import hq_log
from server.domain import store as domain
from server.domain.context import Ctx, load_settings
from server.domain.projection import apply_all
from server.passwords import hash_password
from server.store.db import create_schema, make_engine
from server.store.sync_service import apply_hq_batch
from sync.frames import HqItem
from tests.conftest import MANAGER, STORE_ID, Harness

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
HQ_USER = UUID("5b0f3f43-8f3c-5a4e-9b1a-3f2d2c1e0a11")
_cursors = itertools.count(1)


def hq(event_type: type[Event], **payload: Any) -> Event:
    return event_type(
        id=uuid7(), store_id="*", seq=0, hlc=0, at=T0, actor="hq.ops", device="hq", **payload
    )


def deliver(h: Harness, *hq_events: Event) -> list[Event]:
    """Apply HQ events at the next cursors, as one batch from central."""
    items = [HqItem(cursor=next(_cursors), event=msgspec.Raw(encode(e))) for e in hq_events]
    return h.run(lambda ctx: apply_hq_batch(ctx, items, items[-1].cursor))


def rows(conn: sa.Connection, table: sa.Table) -> list[Any]:
    return list(conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all())


def settings(h: Harness) -> Any:
    return h.read(lambda c: load_settings(c, STORE_ID))


def roster(h: Harness) -> dict[str, tuple[str, str, bool]]:
    rows = h.read(lambda c: c.execute(sa.select(staff)).all())
    return {r.username: (r.display_name, r.role, r.active) for r in rows}


@pytest.fixture(autouse=True)
def _fresh_cursors() -> None:
    global _cursors
    _cursors = itertools.count(1)


def test_rules_change_only_what_they_give(harness: Harness) -> None:
    before = settings(harness)
    folded = deliver(harness, hq(StoreRulesSet, first_response_sla_hours=12))
    assert [type(e) for e in folded] == [StoreRulesSet]
    after = settings(harness)
    assert after.first_response_sla_hours == 12
    assert (after.name, after.region, after.tz, after.open_time, after.resolution_sla_hours) == (
        before.name,
        before.region,
        before.tz,
        before.open_time,
        before.resolution_sla_hours,
    )
    deliver(harness, hq(StoreRulesSet, open_time=time(9, 0), close_time=time(21, 0)))
    after = settings(harness)
    assert (after.open_time, after.close_time, after.first_response_sla_hours) == (
        time(9, 0),
        time(21, 0),
        12,
    )


def test_rules_and_the_managers_settings_compose_by_apply_order(harness: Harness) -> None:
    deliver(harness, hq(StoreRulesSet, resolution_sla_hours=36, first_response_sla_hours=6))
    # The manager changes one setting later: HQ's other rule stays, theirs wins where given.
    harness.run(lambda ctx: domain.update_settings(ctx, StoreSettingsIn(resolution_sla_hours=40)))
    s = settings(harness)
    assert (s.first_response_sla_hours, s.resolution_sla_hours) == (6, 40)
    # A later HQ rule wins in turn, although the manager's change has a higher HLC: HQ stamped
    # its rule with a clock behind the store's (apply order decides, not the HLC).
    deliver(harness, hq(StoreRulesSet, resolution_sla_hours=48))
    assert settings(harness).resolution_sla_hours == 48


def test_hq_staff_are_added_once_and_refreshed(harness: Harness) -> None:
    added = hq(StaffAdded, user_id=HQ_USER, username="wang.li", display_name="王丽", role="clerk")
    deliver(harness, added)
    assert roster(harness)["wang.li"] == ("王丽", "clerk", True)
    again = hq(StaffAdded, user_id=HQ_USER, username="wang.li", display_name="王 丽", role="tech")
    assert deliver(harness, again) == [msgspec.structs.replace(again, store_id=STORE_ID)]
    assert roster(harness)["wang.li"] == ("王 丽", "tech", True)
    deliver(harness, hq(StaffRoleChanged, user_id=HQ_USER, role="admin"))
    assert roster(harness)["wang.li"][1] == "admin"


def test_hq_cannot_take_a_local_name_nor_bring_back_who_left(harness: Harness) -> None:
    pw = hash_password("clerk-pass-123")
    harness.run(
        lambda ctx: domain.add_staff(
            ctx, username="li.na", display_name="李娜", role="clerk", password_hash=pw
        )
    )
    taken = hq(StaffAdded, user_id=uuid7(), username="li.na", display_name="x", role="manager")
    assert deliver(harness, taken) == []  # kept in hq_log, not applied, the node goes on
    assert roster(harness)["li.na"] == ("李娜", "clerk", True)

    added = hq(StaffAdded, user_id=HQ_USER, username="wang.li", display_name="王丽", role="clerk")
    deliver(harness, added, hq(StaffDeactivated, user_id=HQ_USER))
    assert roster(harness)["wang.li"][2] is False
    assert deliver(harness, added) == []
    assert roster(harness)["wang.li"][2] is False
    logged = harness.read(
        lambda c: c.execute(sa.select(hq_log.c.type).order_by(hq_log.c.cursor)).scalars().all()
    )
    assert logged == ["staff.added", "staff.added", "staff.deactivated", "staff.added"]


def test_hq_staff_have_no_login_until_the_manager_sets_a_password(harness: Harness) -> None:
    added = hq(StaffAdded, user_id=HQ_USER, username="wang.li", display_name="王丽", role="clerk")
    deliver(harness, added)
    assert harness.read(lambda c: domain.find_login(c, STORE_ID, "wang.li")) is None
    pw = hash_password("wang-li-pass-1")
    harness.run(
        lambda ctx: domain.update_staff(
            ctx, HQ_USER, StaffUpdate(password="wang-li-pass-1"), password_hash=pw
        ),
        actor=MANAGER,
    )
    found = harness.read(lambda c: domain.find_login(c, STORE_ID, "wang.li"))
    assert found is not None and found[0].user_id == HQ_USER and found[1] == pw


def test_a_replay_interleaving_hq_log_rebuilds_the_same_state(
    harness: Harness, tmp_path: Any
) -> None:
    """Where each HQ event was applied among the store's own events (``applied_after_seq``) is
    all a replay needs to reproduce the apply-order composition."""
    deliver(harness, hq(StoreRulesSet, resolution_sla_hours=36, first_response_sla_hours=6))
    harness.run(lambda ctx: domain.update_settings(ctx, StoreSettingsIn(resolution_sla_hours=40)))
    added = hq(StaffAdded, user_id=HQ_USER, username="wang.li", display_name="王丽", role="clerk")
    deliver(harness, added, hq(StoreRulesSet, open_time=time(9, 0), close_time=time(18, 0)))

    def promote(ctx: Ctx) -> Any:
        return domain.update_staff(ctx, HQ_USER, StaffUpdate(role="tech"))

    harness.run(promote)
    deliver(harness, hq(StaffRoleChanged, user_id=HQ_USER, role="admin"))

    def history(c: sa.Connection) -> list[Event]:
        own = [(r.seq, 1, decode(r.body)) for r in c.execute(sa.select(events))]
        from_hq = [
            (r.applied_after_seq, 2, msgspec.structs.replace(decode(r.body), store_id=STORE_ID))
            for r in c.execute(sa.select(hq_log).order_by(hq_log.c.cursor))
        ]
        return [e for *_, e in sorted(own + from_hq, key=lambda t: (t[0], t[1]))]

    replayed = make_engine(tmp_path / "replay.sqlite3")
    try:
        create_schema(replayed)
        with replayed.begin() as dst:
            apply_all(dst, harness.read(history))
        for table in (store_info, staff):
            want = harness.read(partial(rows, table=table))
            with replayed.connect() as dst:
                assert rows(dst, table) == want, f"replay does not rebuild {table.name}"
    finally:
        replayed.dispose()
    s = settings(harness)
    assert (s.resolution_sla_hours, s.open_time) == (40, time(9, 0))
    assert roster(harness)["wang.li"][1] == "admin"
