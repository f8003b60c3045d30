"""The hall manager's list of sync conflicts (``GET /api/v1/sync/conflicts``) and their
resolution (``POST /api/v1/sync/conflicts/{id}/resolve``): manager only, paged, filtered,
resolved once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest
from litestar.testing import TestClient
from uuid_utils.compat import uuid7

from schema.api.store import StaffUpdate
from schema.events import Event, encode
from schema.events.store import StaffAdded, StaffDeactivated, StaffRoleChanged
from server.domain import store as store_domain
from server.passwords import hash_password
from server.store.app import create_app
from server.store.sync_service import apply_hq_batch
from sync.frames import HqItem
from tests.conftest import MANAGER, MANAGER_PASSWORD, STAFF_PASSWORD, Harness, login

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
PATH = "/api/v1/sync/conflicts"


def hq(event_type: type[Event], **payload: Any) -> Event:
    return event_type(
        id=uuid7(), store_id="*", seq=0, hlc=0, at=T0, actor="hq.ops", device="hq", **payload
    )


def make_conflicts(data_dir: Path) -> None:
    """Three HQ events refused: a role change and a re-add for a member the manager took off,
    and a member added under a user name the store's own clerk has. Plus a clerk's login."""
    h = Harness(data_dir)
    try:
        for role in ("clerk", "greeter", "tech", "admin"):
            pw = hash_password(STAFF_PASSWORD)
            h.run(
                lambda ctx, role=role, pw=pw: store_domain.add_staff(
                    ctx, username=f"{role}1", display_name=role, role=role, password_hash=pw
                )
            )
        member = uuid7()
        added = hq(
            StaffAdded, user_id=member, username="wang.li", display_name="王丽", role="clerk"
        )
        batches = [
            [added],
            [
                hq(StaffRoleChanged, user_id=member, role="admin"),
                hq(StaffAdded, user_id=uuid7(), username="clerk1", display_name="x", role="tech"),
            ],
            [
                hq(StaffAdded, user_id=member, username="wang.li", display_name="王", role="tech"),
                hq(StaffDeactivated, user_id=uuid7()),
            ],
        ]
        cursor = 0
        for n, batch in enumerate(batches):
            if n == 1:
                h.run(lambda ctx: store_domain.update_staff(ctx, member, StaffUpdate(active=False)))
            items = []
            for e in batch:
                cursor += 1
                items.append(HqItem(cursor=cursor, event=msgspec.Raw(encode(e))))
            h.run(lambda ctx, items=items, upto=cursor: apply_hq_batch(ctx, items, upto))
    finally:
        h.engine.dispose()


@pytest.fixture
def node(data_dir: Path) -> Iterator[TestClient[Any]]:
    make_conflicts(data_dir)  # before the app starts: its writer owns the log from then on
    with TestClient(app=create_app(data_dir)) as c:
        yield c


@pytest.fixture
def manager(node: TestClient[Any]) -> dict[str, str]:
    return login(node, MANAGER, MANAGER_PASSWORD)


def test_the_manager_lists_conflicts_newest_first_a_page_at_a_time(
    node: TestClient[Any], manager: dict[str, str]
) -> None:
    first = node.get(PATH, params={"limit": 2}, headers=manager)
    assert first.status_code == 200, first.text
    page = first.json()
    assert (page["total"], page["limit"], page["next_offset"]) == (3, 2, 2)
    rest = node.get(PATH, params={"limit": 2, "offset": 2}, headers=manager).json()
    assert rest["next_offset"] is None and len(rest["items"]) == 1
    items = page["items"] + rest["items"]
    assert [i["reason"] for i in items] == ["staff_inactive", "username_taken", "staff_inactive"]
    assert [i["hq_event"]["type"] for i in items] == [
        "staff.added",
        "staff.added",
        "staff.role_changed",
    ]
    assert [i["hq_event"]["cursor"] for i in items] == [4, 3, 2]
    newest = items[0]
    assert newest["status"] == "open" and newest["resolution"] is None
    assert newest["store_event"]["type"] == "staff.deactivated"
    assert newest["hq_event"]["actor"] == "hq.ops"
    taken = node.get(PATH, params={"reason": "username_taken"}, headers=manager).json()
    assert [i["detail"] for i in taken["items"]] == [
        "the user name 'clerk1' belongs to another staff member of this store"
    ]
    assert taken["items"][0]["store_event"]["type"] == "staff.added"


@pytest.mark.parametrize("role", ["greeter", "clerk", "tech", "admin"])
def test_only_the_manager_sees_and_resolves_conflicts(node: TestClient[Any], role: str) -> None:
    staff = login(node, f"{role}1", STAFF_PASSWORD)
    assert node.get(PATH, headers=staff).status_code == 403
    r = node.post(f"{PATH}/{uuid7()}/resolve", json={"note": "x"}, headers=staff)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert node.get(PATH).status_code == 401


def test_resolving_is_once_and_a_retry_answers_the_same(
    node: TestClient[Any], manager: dict[str, str]
) -> None:
    [conflict, *_] = node.get(PATH, headers=manager).json()["items"]
    url = f"{PATH}/{conflict['conflict_id']}/resolve"
    keyed = {**manager, "Idempotency-Key": "resolve-1"}
    r = node.post(url, json={"note": "已与总部确认，不再返聘"}, headers=keyed)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "resolved"
    assert {k: out["resolution"][k] for k in ("by", "side", "note")} == {
        "by": MANAGER,
        "side": "store",
        "note": "已与总部确认，不再返聘",
    }
    replay = node.post(url, json={"note": "已与总部确认，不再返聘"}, headers=keyed)
    assert replay.json() == out and replay.headers.get("Idempotent-Replayed") == "true"
    again = node.post(url, json={"note": "another note"}, headers=manager)
    assert again.status_code == 200 and again.json() == out  # resolved once
    listed = node.get(PATH, params={"status": "open"}, headers=manager).json()
    assert listed["total"] == 2
    assert UUID(conflict["conflict_id"]) not in {UUID(i["conflict_id"]) for i in listed["items"]}
    resolved = node.get(PATH, params={"status": "resolved"}, headers=manager).json()
    assert [i["conflict_id"] for i in resolved["items"]] == [conflict["conflict_id"]]


def test_resolving_needs_a_note_and_a_known_conflict(
    node: TestClient[Any], manager: dict[str, str]
) -> None:
    [conflict, *_] = node.get(PATH, headers=manager).json()["items"]
    url = f"{PATH}/{conflict['conflict_id']}/resolve"
    assert node.post(url, json={"note": ""}, headers=manager).status_code == 400
    assert node.post(url, json={}, headers=manager).status_code == 400
    r = node.post(f"{PATH}/{uuid7()}/resolve", json={"note": "x"}, headers=manager)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = node.get(PATH, params={"status": "closed"}, headers=manager)
    assert r.status_code == 400
