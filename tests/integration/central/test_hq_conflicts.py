"""Sync conflicts on central, on SQLite and PostgreSQL: the conflicts stores uploaded, listed by
HQ (``GET /api/v1/hq/conflicts``, filtered, paged, scoped to the user's regions) and resolved
(``POST /api/v1/hq/conflicts/{id}/resolve``: one HQ event to the store, never two)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from server.central.db import SQLITE_FILE, sqlite_url
from server.central.node import init_central
from sync.frames import Ack
from tests.contact import key_dir
from tests.integration.central import store_events as ev
from tests.integration.central.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    CONTACT_KEY,
    CentralApp,
    Clock,
    open_app,
)
from tests.integration.central.test_hq_api import add_user
from tests.integration.central.test_ws import acks_until, hello, push, sync

PATH = "/api/v1/hq/conflicts"
STORES = {"S001": "east", "S002": "east", "S003": "west"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def hq_url(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path, clock: Clock
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        shutil.copyfile(sqlite_template, tmp_path / SQLITE_FILE)
        yield sqlite_url(tmp_path)
        return
    from tests.pg import pg_database

    async for url in pg_database():
        await init_central(
            url,
            data_dir=key_dir(),
            admin_username=ADMIN,
            admin_password=ADMIN_PASSWORD,
            contact_key=CONTACT_KEY,
            now=clock(),
        )
        yield url


@dataclass
class Hq(CentralApp):
    """Central with three enrolled stores and the conflicts each uploaded (by store)."""

    credentials: dict[str, str] = field(default_factory=dict)
    conflicts: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)

    def upload(self, store_id: str, *raws: bytes) -> None:
        first = self.seqs.get(store_id, 0) + 1
        with sync(self, self.credentials[store_id]) as ws:
            hello(ws, store_id, local_seq=first + len(raws) - 1)
            push(ws, first, raws)
            assert acks_until(ws, first + len(raws) - 1)[-1] == Ack(
                seq=first + len(raws) - 1, quarantined=0
            )
        self.seqs[store_id] = first + len(raws) - 1

    def record(self, store_id: str, count: int) -> None:
        """The store uploads ``count`` more conflicts, a second apart."""
        first = self.seqs.get(store_id, 0) + 1
        ids = [uuid.uuid4() for _ in range(count)]
        self.upload(
            store_id,
            *(ev.conflict(store_id, first + n, conflict_id=i) for n, i in enumerate(ids)),
        )
        self.conflicts.setdefault(store_id, []).extend(ids)

    def list(self, headers: dict[str, str] | None = None, **query: Any) -> Any:
        r = self.client.get(PATH, params=query, headers=headers or self.admin)
        assert r.status_code == 200, r.text
        return r.json()

    def resolve(self, conflict_id: uuid.UUID, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            f"{PATH}/{conflict_id}/resolve",
            json={"note": "总部已撤回该变更"},
            headers=headers or self.admin,
        )


@pytest.fixture
def hq(hq_url: str, clock: Clock) -> Iterator[Hq]:
    """S001 (east) uploaded three conflicts, S003 (west) one, S002 (east) none."""
    with open_app(hq_url, clock) as client:
        app = Hq(client, {}, clock)
        app.admin = app.login(ADMIN, ADMIN_PASSWORD)
        for store_id, region in STORES.items():
            app.credentials[store_id] = app.enrolled(store_id, region)
        app.record("S001", 3)
        app.record("S003", 1)
        yield app


def test_hq_lists_every_stores_conflicts_filtered_and_paged(hq: Hq) -> None:
    every = hq.list()
    assert every["total"] == 4
    assert {(i["store_id"], i["region"]) for i in every["items"]} == {
        ("S001", "east"),
        ("S003", "west"),
    }
    # Newest first: the stores' events carry their recording time.
    s1 = hq.list(store_id="S001")
    assert [uuid.UUID(i["conflict_id"]) for i in s1["items"]] == hq.conflicts["S001"][::-1]
    item = s1["items"][0]
    assert (item["status"], item["reason"], item["entity"]) == ("open", "staff_inactive", "staff")
    assert item["hq_event"]["type"] == "staff.role_changed" and item["hq_resolution"] is None
    page = hq.list(region="east", limit=2)
    assert (page["total"], len(page["items"]), page["next_offset"]) == (3, 2, 2)
    assert hq.list(region="east", limit=2, offset=2)["next_offset"] is None
    assert hq.list(region="west")["total"] == 1
    assert hq.list(status="resolved")["total"] == 0
    assert hq.list(reason="username_taken")["total"] == 0
    r = hq.client.get(PATH, params={"status": "closed"}, headers=hq.admin)
    assert r.status_code == 400


def test_region_scoped_users_see_only_their_regions(hq: Hq) -> None:
    east = add_user(hq, "east.analyst", "analyst", ["east"])
    seen = hq.list(east)
    assert seen["total"] == 3 and {i["store_id"] for i in seen["items"]} == {"S001"}
    r = hq.client.get(PATH, params={"region": "west"}, headers=east)
    assert r.status_code == 403
    assert hq.list(east, store_id="S003")["total"] == 0


def test_hq_resolving_sends_one_hq_event_to_the_store(hq: Hq) -> None:
    conflict_id = hq.conflicts["S001"][0]
    r = hq.resolve(conflict_id)
    assert r.status_code == 200, r.text
    out = r.json()
    # Open until the store records the resolution and syncs it back; HQ sees it on the way.
    assert out["status"] == "open" and out["resolution"] is None
    sent = out["hq_resolution"]
    assert (sent["by"], sent["note"], sent["delivered"]) == (ADMIN, "总部已撤回该变更", False)
    again = hq.resolve(conflict_id)
    assert again.status_code == 200 and again.json() == out
    published = hq.client.get(
        "/api/v1/hq/published", params={"type": "sync.conflict_resolved"}, headers=hq.admin
    ).json()
    [event] = published["items"]
    assert (event["audience"], event["target"], event["subject"]) == (
        "store",
        "S001",
        str(conflict_id),
    )
    assert event["event"]["conflict_id"] == str(conflict_id) and event["event"]["side"] == "hq"
    assert event["cursor"] == sent["cursor"]


def test_a_conflict_the_store_resolved_is_answered_as_it_is(hq: Hq) -> None:
    conflict_id = hq.conflicts["S003"][0]
    hq.upload("S003", ev.conflict_resolved("S003", hq.seqs["S003"] + 1, conflict_id=conflict_id))
    out = hq.resolve(conflict_id).json()
    assert out["status"] == "resolved" and out["hq_resolution"] is None
    assert {k: out["resolution"][k] for k in ("by", "side", "note")} == {
        "by": "manager",
        "side": "store",
        "note": "已处理",
    }
    assert hq.list(status="resolved")["total"] == 1
    published = hq.client.get(
        "/api/v1/hq/published", params={"type": "sync.conflict_resolved"}, headers=hq.admin
    ).json()
    assert published["total"] == 0


def test_who_may_resolve(hq: Hq) -> None:
    analyst = add_user(hq, "analyst", "analyst", [])
    r = hq.resolve(hq.conflicts["S001"][0], analyst)
    assert r.status_code == 403
    west_ops = add_user(hq, "west.ops", "ops", ["west"])
    r = hq.resolve(hq.conflicts["S001"][0], west_ops)
    assert r.status_code == 404  # a store outside their regions is not shown
    assert hq.resolve(hq.conflicts["S003"][0], west_ops).status_code == 200
    assert hq.resolve(uuid.uuid4()).status_code == 404
    r = hq.client.post(
        f"{PATH}/{hq.conflicts['S001'][0]}/resolve", json={"note": ""}, headers=hq.admin
    )
    assert r.status_code == 400
