"""Publishing HQ data through central's HTTP API, on SQLite and PostgreSQL: the events it
appends, validation of audiences and payloads, roles and region scopes, idempotent retries,
the published list with its paging and filters, and delivery progress as stores acknowledge."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from schema.events import decode, encode
from schema.events.inventory import ItemDefined
from schema.events.store import StaffAdded, StoreRulesSet
from schema.tables.sync import hq_events
from server.central import db
from server.central.db import SQLITE_FILE, sqlite_url
from server.central.hq.checks import hq_staff_id
from server.central.node import init_central
from sync.clock import unpack
from sync.frames import Ack, HqAck, HqBatch
from sync.frames import encode as encode_frame
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
from tests.integration.central.test_ws import hello, push, recv, sync

ITEM = {
    "sku": "CASE-01",
    "name": "总部统一手机壳",
    "category": "accessory",
    "unit_price_cents": 2900,
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def hq_url(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path, clock: Clock
) -> AsyncIterator[str]:
    """An initialised central: a copy of the SQLite template, or a fresh PostgreSQL one."""
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
    """Central with its enrolled stores' sync credentials."""

    credentials: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def hq(hq_url: str, clock: Clock) -> Iterator[Hq]:
    """Central over HTTP with the HQ admin logged in, and stores S001, S002 (east, enrolled),
    S003 (west, enrolled), S004 (west, not enrolled yet)."""
    with open_app(hq_url, clock) as client:
        app = Hq(client, {}, clock)
        app.admin = app.login(ADMIN, ADMIN_PASSWORD)
        for store_id, region in [("S001", "east"), ("S002", "east"), ("S003", "west")]:
            app.credentials[store_id] = app.enrolled(store_id, region)
        app.add_store("S004", "west")
        yield app


def post(
    app: CentralApp,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
    key: str | None = None,
) -> Any:
    h = dict(headers if headers is not None else app.admin)
    if key is not None:
        h["Idempotency-Key"] = key
    return app.client.post(f"/api/v1/hq{path}", json=body, headers=h)


def published(app: CentralApp, query: str = "", headers: dict[str, str] | None = None) -> Any:
    r = app.client.get(f"/api/v1/hq/published{query}", headers=headers or app.admin)
    assert r.status_code == 200, r.text
    return r.json()


def hq_rows(app: CentralApp) -> list[Any]:
    url = app.client.app.state.central.url

    async def read() -> list[Any]:
        engine = db.make_engine(url)
        try:
            async with db.read(engine) as conn:
                return list(
                    (await conn.execute(sa.select(hq_events).order_by(hq_events.c.cursor))).all()
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


def field_of(r: Any) -> str | None:
    errors = r.json()["errors"]
    return errors[0]["field"] if errors else None


def acknowledge(app: Hq, store_id: str) -> None:
    """The store connects, takes its HQ batch and acknowledges it, as a store node does."""
    credential = app.credentials[store_id]
    with sync(app, credential) as ws:
        hello(ws, store_id)
        batch = recv(ws)
        assert isinstance(batch, HqBatch)
        ws.send_bytes(encode_frame(HqAck(cursor=batch.upto)))
        push(ws, 1, ev.log(store_id, 1, 1))  # a round trip: the ack is surely recorded
        assert recv(ws) == Ack(seq=1)


# ------------------------------------------------------------------ what a publish appends


def test_an_item_is_published_as_a_typed_hq_event(hq: Hq) -> None:
    r = post(hq, "/catalog/items", {"audience": "all", **ITEM})
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["type"], out["audience"], out["target"], out["subject"], out["created_by"]) == (
        "item.defined",
        "all",
        "",
        "CASE-01",
        ADMIN,
    )
    assert out["delivery"] == {"addressed": 3, "applied": 0}  # S004 is not enrolled yet
    assert out["event"]["sku"] == "CASE-01" and out["event"]["store_id"] == "*"
    [row] = hq_rows(hq)
    event = decode(row.body)
    assert isinstance(event, ItemDefined)
    assert (event.store_id, event.seq, event.actor, event.device) == ("*", 0, ADMIN, "hq")
    assert event.id == row.id == UUID(out["id"]) and event.id.version == 7
    assert event.at == hq.clock() and event.serialised is False and event.active is True
    assert unpack(event.hlc)[0] == int(hq.clock().timestamp() * 1000)


def test_hlc_rises_from_one_publish_to_the_next_under_a_still_clock(hq: Hq) -> None:
    for price in (1000, 1100, 1200):
        post(hq, "/catalog/items", {"audience": "all", **ITEM, "unit_price_cents": price})
    hlcs = [decode(r.body).hlc for r in hq_rows(hq)]
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == 3


def test_price_roster_and_rules_events(hq: Hq) -> None:
    assert post(hq, "/catalog/items", {"audience": "region", "target": "east", **ITEM}).is_success
    r = post(
        hq,
        "/catalog/items/CASE-01/price",
        {"audience": "store", "target": "S001", "unit_price_cents": 2500},
    )
    assert r.status_code == 201 and r.json()["type"] == "item.price_changed", r.text
    assert r.json()["delivery"]["addressed"] == 1
    staff = {"username": "wang.li", "display_name": "王丽", "role": "clerk"}
    r = post(hq, "/roster", {"audience": "region", "target": "west", **staff})
    assert r.status_code == 201 and r.json()["subject"] == "wang.li", r.text
    r = post(hq, "/roster/wang.li/role", {"audience": "region", "target": "west", "role": "admin"})
    assert r.status_code == 201 and r.json()["event"]["role"] == "admin"
    r = post(hq, "/roster/wang.li/deactivate", {"audience": "store", "target": "S003"})
    assert r.status_code == 201 and r.json()["type"] == "staff.deactivated"
    r = post(hq, "/rules", {"audience": "all", "first_response_sla_hours": 12})
    assert r.status_code == 201, r.text
    events = [decode(row.body) for row in hq_rows(hq)]
    added = events[2]
    assert isinstance(added, StaffAdded) and added.user_id == hq_staff_id("wang.li")
    assert {getattr(e, "user_id", None) for e in events[2:5]} == {hq_staff_id("wang.li")}
    rules = events[5]
    assert isinstance(rules, StoreRulesSet)
    assert (rules.first_response_sla_hours, rules.resolution_sla_hours, rules.open_time) == (
        12,
        None,
        None,
    )
    assert [e.hlc for e in events] == sorted(e.hlc for e in events)


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("audience", "code", "field"),
    [
        ({"audience": "region", "target": "south"}, 422, "target"),
        ({"audience": "store", "target": "S999"}, 422, "target"),
        ({"audience": "region"}, 422, "target"),
        ({"audience": "all", "target": "east"}, 422, "target"),
        ({"audience": "everyone"}, 400, "body.audience"),
    ],
)
def test_unknown_audiences_are_refused_with_the_field(
    hq: CentralApp, audience: dict[str, str], code: int, field: str
) -> None:
    r = post(hq, "/catalog/items", {**audience, **ITEM})
    assert (r.status_code, field_of(r)) == (code, field), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert hq_rows(hq) == []


def test_a_revoked_store_cannot_be_addressed(hq: Hq) -> None:
    assert hq.client.post("/api/v1/hq/stores/S002/revoke", headers=hq.admin).status_code == 200
    r = post(hq, "/rules", {"audience": "store", "target": "S002", "resolution_sla_hours": 24})
    assert (r.status_code, field_of(r)) == (422, "target")
    r = post(hq, "/rules", {"audience": "region", "target": "east", "resolution_sla_hours": 24})
    assert r.status_code == 201 and r.json()["delivery"]["addressed"] == 1  # S001 only


@pytest.mark.parametrize(
    ("path", "body", "code", "field"),
    [
        ("/catalog/items", {**ITEM, "category": "food"}, 400, "body.category"),
        ("/catalog/items", {**ITEM, "unit_price_cents": -1}, 400, "body.unit_price_cents"),
        ("/catalog/items", {**ITEM, "serialised": True}, 422, "serialised"),
        (
            "/roster",
            {"username": "Wang Li", "display_name": "王丽", "role": "clerk"},
            400,
            "body.username",
        ),
        (
            "/roster",
            {"username": "wang.li", "display_name": "王丽", "role": "boss"},
            400,
            "body.role",
        ),
        ("/rules", {"open_time": "09:00:00"}, 422, "close_time"),
        ("/rules", {"close_time": "20:00:00"}, 422, "open_time"),
        ("/rules", {"open_time": "20:00:00", "close_time": "09:00:00"}, 422, "close_time"),
        ("/rules", {"first_response_sla_hours": 0}, 400, "body.first_response_sla_hours"),
        ("/rules", {}, 422, "body"),
    ],
)
def test_bad_payloads_are_refused_with_the_field(
    hq: CentralApp, path: str, body: dict[str, Any], code: int, field: str
) -> None:
    r = post(hq, path, {"audience": "all", **body})
    assert (r.status_code, field_of(r)) == (code, field), r.text
    assert hq_rows(hq) == []


def test_repricing_or_changing_unknown_things_is_not_found(hq: Hq) -> None:
    r = post(hq, "/catalog/items/NOPE/price", {"audience": "all", "unit_price_cents": 100})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = post(hq, "/roster/nobody/role", {"audience": "all", "role": "clerk"})
    assert r.status_code == 404
    r = post(hq, "/roster/nobody/deactivate", {"audience": "all"})
    assert r.status_code == 404
    assert hq_rows(hq) == []


def test_an_item_keeps_being_serialised_or_not(hq: Hq) -> None:
    phone = {"sku": "P60", "name": "华为 P60", "category": "phone", "unit_price_cents": 499900}
    assert post(hq, "/catalog/items", {"audience": "all", **phone, "serialised": True}).is_success
    r = post(hq, "/catalog/items", {"audience": "all", **phone, "serialised": False})
    assert (r.status_code, field_of(r)) == (409, "serialised")
    r = post(
        hq, "/catalog/items", {"audience": "all", **phone, "serialised": True, "category": "sim"}
    )
    assert (r.status_code, field_of(r)) == (409, "category")
    renamed = {**phone, "serialised": True, "name": "华为 P60 黑"}
    assert post(hq, "/catalog/items", {"audience": "all", **renamed}).status_code == 201


def upload(app: Hq, store_id: str, raws: list[bytes]) -> None:
    with sync(app, app.credentials[store_id]) as ws:
        hello(ws, store_id, local_seq=len(raws))
        push(ws, 1, raws)
        frame = recv(ws)
        while not isinstance(frame, Ack):
            frame = recv(ws)
        assert frame == Ack(seq=len(raws))


def test_store_data_as_central_holds_it_is_respected(hq: Hq) -> None:
    """A store's own item or staff member (uploaded to central) is not overwritten by HQ."""
    phone = ItemDefined(
        **ev.envelope("S002", 2),
        sku="P60",
        name="华为 P60",
        category="phone",
        unit_price_cents=499900,
        serialised=True,
        active=True,
    )
    upload(hq, "S002", [ev.configured("S002"), encode(phone), ev.staff("S002", 3)])
    item = {"sku": "P60", "name": "P60", "category": "phone", "unit_price_cents": 1}
    r = post(hq, "/catalog/items", {"audience": "all", **item})
    assert r.status_code == 409 and r.json()["extra"]["stores"] == ["S002"], r.text
    # HQ never defined P60, but S002 holds it: HQ may reprice it there, not in the west.
    r = post(
        hq,
        "/catalog/items/P60/price",
        {"audience": "store", "target": "S002", "unit_price_cents": 459900},
    )
    assert r.status_code == 201
    r = post(
        hq,
        "/catalog/items/P60/price",
        {"audience": "region", "target": "west", "unit_price_cents": 1},
    )
    assert r.status_code == 404
    assert post(hq, "/catalog/items", {"audience": "store", "target": "S001", **item}).is_success
    clerk = {"username": "clerk3", "display_name": "x", "role": "clerk"}
    r = post(hq, "/roster", {"audience": "region", "target": "east", **clerk})
    assert (r.status_code, field_of(r), r.json()["code"]) == (409, "username", "username_taken")
    assert r.json()["extra"]["stores"] == ["S002"]
    assert post(hq, "/roster", {"audience": "region", "target": "west", **clerk}).is_success


# ------------------------------------------------------------------ roles and regions


def test_analysts_and_auditors_read_ops_publish(hq: Hq) -> None:
    for role in ("analyst", "auditor"):
        headers = add_user(hq, f"{role}1", role, [])
        r = post(hq, "/rules", {"audience": "all", "resolution_sla_hours": 24}, headers)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        assert published(hq, headers=headers)["total"] == 0
    ops = add_user(hq, "ops1", "ops", [])
    r = post(hq, "/rules", {"audience": "all", "resolution_sla_hours": 24}, ops)
    assert r.status_code == 201 and r.json()["created_by"] == "ops1"
    assert hq.client.post("/api/v1/hq/rules", json={"audience": "all"}).status_code == 401


def test_region_scoped_users_address_only_their_regions(hq: Hq) -> None:
    east = add_user(hq, "east.ops", "ops", ["east"])
    body = {"resolution_sla_hours": 36}
    r = post(hq, "/rules", {"audience": "all", **body}, east)
    assert r.status_code == 403
    r = post(hq, "/rules", {"audience": "region", "target": "west", **body}, east)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = post(hq, "/rules", {"audience": "store", "target": "S003", **body}, east)
    assert (r.status_code, field_of(r)) == (422, "target")  # a store they cannot see
    assert post(hq, "/rules", {"audience": "region", "target": "east", **body}, east).is_success
    assert post(hq, "/rules", {"audience": "store", "target": "S002", **body}, east).is_success
    # What the admin published to the west, and to everyone, as each user sees it.
    post(hq, "/rules", {"audience": "store", "target": "S003", **body})
    post(hq, "/rules", {"audience": "all", **body})
    mine = published(hq, headers=east)
    assert [(i["audience"], i["target"]) for i in mine["items"]] == [
        ("all", ""),
        ("store", "S002"),
        ("region", "east"),
    ]
    assert mine["items"][0]["delivery"] == {"addressed": 2, "applied": 0}  # their stores only
    assert published(hq)["items"][0]["delivery"] == {"addressed": 3, "applied": 0}
    assert published(hq)["total"] == 4


# ------------------------------------------------------------------ idempotency


def test_a_retried_publish_appends_nothing_new(hq: Hq) -> None:
    body = {"audience": "region", "target": "east", **ITEM}
    first = post(hq, "/catalog/items", body, key="k-1")
    again = post(hq, "/catalog/items", body, key="k-1")
    assert first.status_code == again.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["cursor"] == first.json()["cursor"]
    assert again.json()["id"] == first.json()["id"]
    assert len(hq_rows(hq)) == 1
    r = post(hq, "/catalog/items", {**body, "unit_price_cents": 1}, key="k-1")
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    r = post(hq, "/rules", {"audience": "all", "resolution_sla_hours": 24}, key="k-1")
    assert r.status_code == 422  # same key, another endpoint
    ops = add_user(hq, "ops1", "ops", [])
    assert (
        post(hq, "/catalog/items", body, ops, key="k-1").headers.get("idempotent-replayed") is None
    )
    assert len(hq_rows(hq)) == 2  # keys are per user
    assert post(hq, "/catalog/items", body, key="x" * 256).status_code == 400
    assert len(hq_rows(hq)) == 2
    # A key whose making failed in the script (`$(uuidgen)` without uuidgen) is no "no key".
    for blank in ("", " "):
        r = post(hq, "/catalog/items", body, key=blank)
        assert (r.status_code, r.json()["code"]) == (400, "bad_request"), r.text
        assert "Idempotency-Key" in r.json()["detail"]
    assert len(hq_rows(hq)) == 2


def test_a_retry_is_answered_even_after_the_audience_changed(hq: Hq) -> None:
    body = {"audience": "store", "target": "S002", "resolution_sla_hours": 30}
    first = post(hq, "/rules", body, key="rules-1")
    assert hq.client.post("/api/v1/hq/stores/S002/revoke", headers=hq.admin).status_code == 200
    again = post(hq, "/rules", body, key="rules-1")
    assert again.status_code == 201 and again.json()["cursor"] == first.json()["cursor"]


# ------------------------------------------------------------------ the list and delivery


def test_published_is_paged_newest_first_and_filtered(hq: Hq) -> None:
    for n in range(3):
        post(hq, "/catalog/items", {"audience": "all", **ITEM, "unit_price_cents": 100 + n})
    post(
        hq,
        "/roster",
        {
            "audience": "store",
            "target": "S001",
            "username": "li.na",
            "display_name": "李娜",
            "role": "greeter",
        },
    )
    post(hq, "/rules", {"audience": "region", "target": "west", "resolution_sla_hours": 24})
    page = published(hq, "?limit=2")
    assert (page["total"], len(page["items"]), page["next_offset"]) == (5, 2, 2)
    assert [i["type"] for i in page["items"]] == ["store.rules_set", "staff.added"]
    last = published(hq, "?limit=2&offset=4")
    assert (len(last["items"]), last["next_offset"]) == (1, None)
    cursors = [i["cursor"] for i in published(hq)["items"]]
    assert cursors == sorted(cursors, reverse=True)
    items = published(hq, "?type=item.defined")
    assert items["total"] == 3
    assert [i["event"]["unit_price_cents"] for i in items["items"]] == [102, 101, 100]
    assert published(hq, "?audience=region&target=west")["items"][0]["type"] == "store.rules_set"
    assert published(hq, "?subject=li.na")["total"] == 1
    r = hq.client.get("/api/v1/hq/published?audience=planet", headers=hq.admin)
    assert r.status_code == 400
    r = hq.client.get("/api/v1/hq/published?limit=501", headers=hq.admin)
    assert r.status_code == 400


def test_delivery_counts_the_addressed_stores_that_applied_it(hq: Hq) -> None:
    east = post(hq, "/rules", {"audience": "region", "target": "east", "resolution_sla_hours": 24})
    to_all = post(hq, "/rules", {"audience": "all", "resolution_sla_hours": 30})
    assert east.json()["delivery"] == {"addressed": 2, "applied": 0}
    acknowledge(hq, "S001")
    by_cursor = {i["cursor"]: i["delivery"] for i in published(hq)["items"]}
    assert by_cursor[east.json()["cursor"]] == {"addressed": 2, "applied": 1}
    assert by_cursor[to_all.json()["cursor"]] == {"addressed": 3, "applied": 1}
    acknowledge(hq, "S003")  # west: gets only the one to all
    by_cursor = {i["cursor"]: i["delivery"] for i in published(hq)["items"]}
    assert by_cursor[east.json()["cursor"]] == {"addressed": 2, "applied": 1}
    assert by_cursor[to_all.json()["cursor"]] == {"addressed": 3, "applied": 2}


def test_a_publish_reaches_a_connected_store_at_once(hq_url: str, clock: Clock) -> None:
    """The publishing replica wakes its own connections: no wait for the next poll."""
    with open_app(hq_url, clock, hq_poll=60) as client:
        app = CentralApp(client, {}, clock)
        app.admin = app.login(ADMIN, ADMIN_PASSWORD)
        credential = app.enrolled("S001", "east")
        with sync(app, credential) as ws:
            hello(ws, "S001")
            out = post(
                app, "/rules", {"audience": "store", "target": "S001", "resolution_sla_hours": 30}
            ).json()
            batch = recv(ws)  # within the helper's 5 s, far below the 60 s poll
            assert isinstance(batch, HqBatch)
            assert [i.cursor for i in batch.items] == [out["cursor"]]
            assert isinstance(decode(bytes(batch.items[0].event)), StoreRulesSet)
