"""HQ events the store's own history makes illegal, as a store node applies them
(``apply_hq_batch``): each is kept in ``hq_log`` unapplied, recorded as a conflict (a
``sync.conflict_recorded`` event in the store's log, projected into ``sync_conflicts``) in the
same transaction, and the HQ cursor moves past it; the manager or HQ resolves it once."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
import pytest
import sqlalchemy as sa
from uuid_utils.compat import uuid7

from schema.api.inventory import ItemIn
from schema.api.store import StaffUpdate
from schema.events import Event, encode
from schema.events.conflicts import ConflictResolved
from schema.events.inventory import ItemDefined
from schema.events.store import StaffAdded, StaffDeactivated, StaffRoleChanged
from schema.tables.conflicts import sync_conflicts
from schema.tables.core import events, staff
from schema.tables.inventory import inventory_items
from schema.tables.sync import hq_log
from server.domain import conflicts
from server.domain import inventory as inventory_domain
from server.domain import store as store_domain
from server.domain.conflicts import rules
from server.errors import NotFound
from server.store.sync_service import apply_hq_batch, read_sync_state
from sync.frames import HqItem
from tests.conftest import MANAGER, STORE_ID, Harness, assert_replay_matches

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
HQ_ID = UUID("5b0f3f43-8f3c-5a4e-9b1a-3f2d2c1e0a11")
BOSS_ID = UUID("7a1e2c55-0d3b-5f6e-8c9d-1e2f3a4b5c6d")


class Hq:
    """HQ events at the next cursors, delivered as central would."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.cursors = itertools.count(1)

    @staticmethod
    def event(event_type: type[Event], **payload: Any) -> Event:
        return event_type(
            id=uuid7(), store_id="*", seq=0, hlc=0, at=T0, actor="hq.ops", device="hq", **payload
        )

    def deliver(self, *hq_events: Event) -> list[Event]:
        items = [HqItem(cursor=next(self.cursors), event=msgspec.Raw(encode(e))) for e in hq_events]
        return self.harness.run(lambda ctx: apply_hq_batch(ctx, items, items[-1].cursor))


@pytest.fixture
def hq(harness: Harness) -> Hq:
    return Hq(harness)


def recorded(h: Harness) -> list[Any]:
    return h.read(
        lambda c: c.execute(sa.select(sync_conflicts).order_by(sync_conflicts.c.recorded_seq)).all()
    )


def cursor(h: Harness) -> int:
    return int(h.read(lambda c: read_sync_state(c, STORE_ID)).hq_cursor)


def hq_logged(h: Harness) -> list[tuple[int, str]]:
    rows = h.read(lambda c: c.execute(sa.select(hq_log.c.cursor, hq_log.c.type)).all())
    return sorted((r.cursor, r.type) for r in rows)


def logged_types(h: Harness) -> list[str]:
    return h.read(
        lambda c: c.execute(sa.select(events.c.type).order_by(events.c.seq)).scalars().all()
    )


def roster(h: Harness) -> dict[str, tuple[str, bool]]:
    rows = h.read(lambda c: c.execute(sa.select(staff)).all())
    return {r.username: (r.role, r.active) for r in rows}


def own_event(h: Harness, event_type: str) -> tuple[UUID, int]:
    """The id and seq of the store's newest event of this type."""
    row = h.read(
        lambda c: c.execute(
            sa.select(events.c.id, events.c.seq)
            .where(events.c.type == event_type)
            .order_by(events.c.seq.desc())
        ).first()
    )
    assert row is not None
    return row.id, row.seq


def hq_member(hq: Hq, role: str = "clerk", user_id: UUID = HQ_ID, name: str = "wang.li") -> Event:
    return hq.event(StaffAdded, user_id=user_id, username=name, display_name="王丽", role=role)


def deactivate(h: Harness, user_id: UUID, actor: str = MANAGER) -> None:
    h.run(
        lambda ctx: store_domain.update_staff(ctx, user_id, StaffUpdate(active=False)), actor=actor
    )


def assert_conflict(row: Any, hq_event: Event, cursor_: int, **expected: Any) -> None:
    assert (row.hq_event_id, row.hq_cursor, row.hq_actor) == (hq_event.id, cursor_, "hq.ops")
    assert row.status == "open" and row.resolved_at is None
    for name, value in expected.items():
        assert getattr(row, name) == value, name


# ------------------------------------------------------------------ the collisions


def test_hq_adding_a_member_under_a_local_user_name_is_a_conflict(harness: Harness, hq: Hq) -> None:
    pw = "x"
    harness.run(
        lambda ctx: store_domain.add_staff(
            ctx, username="li.na", display_name="李娜", role="clerk", password_hash=pw
        )
    )
    own_id, own_seq = own_event(harness, "staff.added")
    taken = hq.event(StaffAdded, user_id=HQ_ID, username="li.na", display_name="x", role="manager")
    later = hq.event(
        ItemDefined,
        sku="C1",
        name="壳",
        category="accessory",
        unit_price_cents=100,
        serialised=False,
        active=True,
    )

    folded = hq.deliver(taken, later)

    assert [type(e) for e in folded] == [ItemDefined]  # sync goes on past the refused event
    assert cursor(harness) == 2 and hq_logged(harness) == [(1, "staff.added"), (2, "item.defined")]
    assert roster(harness)["li.na"] == ("clerk", True)
    [row] = recorded(harness)
    assert_conflict(
        row,
        taken,
        1,
        entity="staff",
        entity_id=str(HQ_ID),
        reason="username_taken",
        hq_event_type="staff.added",
        store_event_id=own_id,
        store_event_seq=own_seq,
        store_event_type="staff.added",
    )
    assert "li.na" in row.detail
    assert logged_types(harness)[-1] == "sync.conflict_recorded"


def test_hq_adding_again_a_member_the_manager_deactivated_is_a_conflict(
    harness: Harness, hq: Hq
) -> None:
    hq.deliver(hq_member(hq))
    deactivate(harness, HQ_ID)
    own_id, own_seq = own_event(harness, "staff.deactivated")
    again = hq_member(hq, role="tech")
    assert hq.deliver(again) == []
    assert roster(harness)["wang.li"] == ("clerk", False)
    [row] = recorded(harness)
    assert_conflict(
        row,
        again,
        2,
        entity="staff",
        entity_id=str(HQ_ID),
        reason="staff_inactive",
        store_event_id=own_id,
        store_event_seq=own_seq,
        store_event_type="staff.deactivated",
    )
    assert cursor(harness) == 2


def test_hq_changing_the_role_of_a_member_the_manager_deactivated_is_a_conflict(
    harness: Harness, hq: Hq
) -> None:
    hq.deliver(hq_member(hq))
    deactivate(harness, HQ_ID)
    change = hq.event(StaffRoleChanged, user_id=HQ_ID, role="admin")
    assert hq.deliver(change) == []
    assert roster(harness)["wang.li"] == ("clerk", False)  # the role HQ sent waits
    [row] = recorded(harness)
    assert_conflict(
        row,
        change,
        2,
        reason="staff_inactive",
        hq_event_type="staff.role_changed",
        store_event_type="staff.deactivated",
    )
    assert cursor(harness) == 2


def test_a_member_hq_itself_took_off_names_no_store_event(harness: Harness, hq: Hq) -> None:
    hq.deliver(hq_member(hq), hq.event(StaffDeactivated, user_id=HQ_ID))
    change = hq.event(StaffRoleChanged, user_id=HQ_ID, role="admin")
    hq.deliver(change)
    [row] = recorded(harness)
    assert_conflict(row, change, 3, reason="staff_inactive", store_event_id=None)


@pytest.fixture
def hq_manager_alone(harness: Harness, hq: Hq) -> None:
    """HQ's manager ``zhang.wei`` is the store's only active manager: they took the local
    manager off the roster."""
    hq.deliver(hq_member(hq, role="manager", user_id=BOSS_ID, name="zhang.wei"))
    [local] = [
        r
        for r in harness.read(lambda c: c.execute(sa.select(staff)).all())
        if r.username == MANAGER
    ]
    deactivate(harness, local.user_id, actor="zhang.wei")


@pytest.mark.usefixtures("hq_manager_alone")
def test_hq_demoting_the_last_active_manager_is_a_conflict(harness: Harness, hq: Hq) -> None:
    demote = hq.event(StaffRoleChanged, user_id=BOSS_ID, role="clerk")
    assert hq.deliver(demote) == []
    assert roster(harness)["zhang.wei"] == ("manager", True)
    [row] = recorded(harness)
    assert_conflict(
        row, demote, 2, entity_id=str(BOSS_ID), reason="last_manager", store_event_id=None
    )
    assert cursor(harness) == 2


@pytest.mark.usefixtures("hq_manager_alone")
def test_hq_deactivating_the_last_active_manager_is_a_conflict(harness: Harness, hq: Hq) -> None:
    leave = hq.event(StaffDeactivated, user_id=BOSS_ID)
    assert hq.deliver(leave) == []
    assert roster(harness)["zhang.wei"] == ("manager", True)
    [row] = recorded(harness)
    assert_conflict(row, leave, 2, reason="last_manager", hq_event_type="staff.deactivated")


def test_hq_redefining_a_serialised_item_as_unserialised_is_a_conflict(
    harness: Harness, hq: Hq
) -> None:
    harness.run(
        lambda ctx: inventory_domain.define_item(
            ctx,
            ItemIn(
                sku="P60",
                name="Mate 60",
                category="phone",
                unit_price_cents=599900,
                serialised=True,
            ),
        )
    )
    own_id, own_seq = own_event(harness, "item.defined")
    plain = hq.event(
        ItemDefined,
        sku="P60",
        name="Mate 60",
        category="phone",
        unit_price_cents=499900,
        serialised=False,
        active=True,
    )
    assert hq.deliver(plain) == []
    item = harness.read(lambda c: c.execute(sa.select(inventory_items)).one())
    assert (item.serialised, item.unit_price_cents) == (True, 599900)
    [row] = recorded(harness)
    assert_conflict(
        row,
        plain,
        1,
        entity="item",
        entity_id="P60",
        reason="item_shape",
        store_event_id=own_id,
        store_event_seq=own_seq,
        store_event_type="item.defined",
    )
    assert cursor(harness) == 1


def test_what_is_not_a_conflict(harness: Harness, hq: Hq) -> None:
    """HQ changes about members a store does not have, and a deactivation of someone who
    already left, change nothing and are not conflicts."""
    stranger = uuid7()
    hq.deliver(
        hq.event(StaffRoleChanged, user_id=stranger, role="admin"),
        hq.event(StaffDeactivated, user_id=stranger),
        hq_member(hq),
    )
    deactivate(harness, HQ_ID)
    hq.deliver(hq.event(StaffDeactivated, user_id=HQ_ID))
    assert recorded(harness) == [] and cursor(harness) == 4


def test_a_refusal_no_rule_foresaw_is_still_a_conflict(
    harness: Harness, hq: Hq, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the rules miss a case, the projector's own refusal is recorded all the same."""
    from server.domain.conflicts import commands

    harness.run(
        lambda ctx: store_domain.add_staff(
            ctx, username="li.na", display_name="李娜", role="clerk", password_hash="x"
        )
    )
    monkeypatch.setattr(commands, "collision", lambda _ctx, _e: None)
    taken = hq.event(StaffAdded, user_id=HQ_ID, username="li.na", display_name="x", role="clerk")
    assert hq.deliver(taken) == []
    [row] = recorded(harness)
    assert_conflict(row, taken, 1, entity="staff", reason="not_applied", store_event_id=None)
    assert "another staff member" in row.detail


def test_an_hq_event_delivered_again_records_no_second_conflict(harness: Harness, hq: Hq) -> None:
    """A restored node downloads HQ's log from the start."""
    hq.deliver(hq_member(hq))
    deactivate(harness, HQ_ID)
    change = hq.event(StaffRoleChanged, user_id=HQ_ID, role="admin")
    hq.deliver(change)
    harness.run(lambda ctx: conflicts.apply_hq_event(ctx, _here(change), 2))
    assert len(recorded(harness)) == 1


def _here(e: Event) -> Event:
    return msgspec.structs.replace(e, store_id=STORE_ID)


def test_rules_name_each_hq_event_by_what_it_is_about() -> None:
    assert rules.subject_of(Hq.event(StaffDeactivated, user_id=HQ_ID)) == ("staff", str(HQ_ID))
    item = Hq.event(
        ItemDefined,
        sku="C",
        name="c",
        category="supply",
        unit_price_cents=1,
        serialised=False,
        active=True,
    )
    assert rules.subject_of(_here(item)) == ("item", "C")


# ------------------------------------------------------------------ resolving


@pytest.fixture
def conflict_id(harness: Harness, hq: Hq) -> UUID:
    hq.deliver(hq_member(hq))
    deactivate(harness, HQ_ID)
    hq.deliver(hq.event(StaffRoleChanged, user_id=HQ_ID, role="admin"))
    [row] = recorded(harness)
    return UUID(str(row.conflict_id))


def test_the_manager_resolves_a_conflict_once(harness: Harness, conflict_id: UUID) -> None:
    later = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    out = harness.run(lambda ctx: conflicts.resolve(ctx, conflict_id, "不再返聘"), now=later)
    assert out.status == "resolved" and out.resolution is not None
    assert (out.resolution.by, out.resolution.side, out.resolution.note, out.resolution.at) == (
        MANAGER,
        "store",
        "不再返聘",
        later,
    )
    again = harness.run(lambda ctx: conflicts.resolve(ctx, conflict_id, "other"))
    assert again == out
    assert logged_types(harness).count("sync.conflict_resolved") == 1
    with pytest.raises(NotFound):
        harness.run(lambda ctx: conflicts.resolve(ctx, uuid7(), "n"))


def test_hqs_resolution_is_recorded_as_the_stores_own_event(
    harness: Harness, hq: Hq, conflict_id: UUID
) -> None:
    sent = hq.event(
        ConflictResolved, conflict_id=conflict_id, note="HQ 已撤回", resolved_by="hq.ops", side="hq"
    )
    assert hq.deliver(sent) == []
    [row] = recorded(harness)
    assert (row.status, row.resolved_by, row.resolved_side, row.resolution_note) == (
        "resolved",
        "hq.ops",
        "hq",
        "HQ 已撤回",
    )
    assert logged_types(harness)[-1] == "sync.conflict_resolved"  # so central learns of it
    # The manager's later resolution changes nothing; nor does HQ's arriving after it.
    harness.run(lambda ctx: conflicts.resolve(ctx, conflict_id, "late"))
    hq.deliver(
        hq.event(
            ConflictResolved,
            conflict_id=conflict_id,
            note="again",
            resolved_by="hq.other",
            side="hq",
        )
    )
    assert recorded(harness) == [row]
    assert logged_types(harness).count("sync.conflict_resolved") == 1


def test_replaying_the_log_rebuilds_the_conflicts(
    harness: Harness, conflict_id: UUID, data_dir: Any
) -> None:
    harness.run(lambda ctx: conflicts.resolve(ctx, conflict_id, "ok"))
    events_of = harness.read(
        lambda c: c.execute(sa.select(events.c.type).where(events.c.type.like("sync.%"))).all()
    )
    assert [r.type for r in events_of] == ["sync.conflict_recorded", "sync.conflict_resolved"]
    assert_replay_matches(data_dir, [sync_conflicts])


def test_conflict_events_carry_no_typed_numbers(harness: Harness, conflict_id: UUID) -> None:
    out = harness.run(lambda ctx: conflicts.resolve(ctx, conflict_id, "客户 13987654321 已联系"))
    assert out.resolution is not None and "13987654321" not in out.resolution.note
