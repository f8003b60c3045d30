"""Inventory (库存) over HTTP: happy paths, problem details, paging and filters, roles, replay."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from schema.tables import inventory as tables
from server.domain.inventory import luhn_ok
from server.privacy import redact_text
from server.store.app import create_app
from server.store.node import init_store
from tests.conftest import (
    MANAGER,
    MANAGER_PASSWORD,
    ROLES,
    STAFF_PASSWORD,
    STORE_ID,
    TZ,
    assert_replay_matches,
    login,
)

Headers = dict[str, dict[str, str]]


def luhn_complete(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def imei(n: int) -> str:
    return luhn_complete(f"86{n:012d}")


def iccid(n: int) -> str:
    return luhn_complete(f"898600{n:012d}")


def today() -> str:
    return datetime.now(UTC).astimezone(ZoneInfo(TZ)).date().isoformat()


ITEMS = [
    {"sku": "P1", "name": "iPhone 16", "category": "phone", "unit_price_cents": 599900,
     "serialised": True},
    {"sku": "SIM", "name": "5G SIM卡", "category": "sim", "unit_price_cents": 0,
     "serialised": True},
    {"sku": "CASE", "name": "手机壳", "category": "accessory", "unit_price_cents": 3900},
    {"sku": "ROLL", "name": "打印纸", "category": "supply", "unit_price_cents": 500},
]  # fmt: skip


def _stock(client: TestClient[Any], h: Headers) -> None:
    """Define the catalog and receive some stock, as the admin."""
    for item in ITEMS:
        r = client.post("/api/v1/items", json=item, headers=h["admin"])
        assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/stock/receive",
        json={
            "supplier": "区域仓",
            "reference": "DN-1",
            "lines": [
                {"sku": "CASE", "qty": 10},
                {"sku": "ROLL", "qty": 3},
                {"sku": "P1", "serials": [imei(1), imei(2), imei(3)]},
                {"sku": "SIM", "serials": [iccid(1)]},
            ],
        },
        headers=h["admin"],
    )
    assert r.status_code == 201, r.text


@pytest.fixture
def stocked(client: TestClient[Any], as_role: Headers) -> Headers:
    """The catalog defined and some stock received, by the admin."""
    _stock(client, as_role)
    return as_role


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient[Any], Headers]]:
    """One stocked node for the whole role matrix, with a login per role (logins are slow)."""
    data = tmp_path_factory.mktemp("inventory-roles") / "node"
    init_store(
        data,
        store_id=STORE_ID,
        name="角色矩阵",
        region="east",
        tz=TZ,
        manager=MANAGER,
        manager_password=MANAGER_PASSWORD,
    )
    with TestClient(app=create_app(data)) as client:
        h = {"manager": login(client, MANAGER, MANAGER_PASSWORD)}
        for role in ROLES:
            if role != "manager":
                r = client.post(
                    "/api/v1/staff",
                    json={"username": f"{role}1", "display_name": role, "role": role,
                          "password": STAFF_PASSWORD},
                    headers=h["manager"],
                )  # fmt: skip
                assert r.status_code == 201, r.text
                h[role] = login(client, f"{role}1", STAFF_PASSWORD)
        _stock(client, h)
        yield client, h


def level(client: TestClient[Any], h: Headers, sku: str) -> int:
    r = client.get(f"/api/v1/stock/{sku}", headers=h["greeter"])
    assert r.status_code == 200, r.text
    return int(r.json()["on_hand"])


# ---------------------------------------------------------------- happy paths


def test_sale_return_and_serial_lookup(client: TestClient[Any], stocked: Headers) -> None:
    issued = client.post(
        "/api/v1/queue/tickets", json={"category": "device_purchase"}, headers=stocked["greeter"]
    )
    assert issued.status_code == 201, issued.text
    ticket = issued.json()["ticket_id"]
    body = {
        "lines": [
            {"sku": "P1", "serial": imei(1), "unit_price_cents": 579900},
            {"sku": "CASE", "qty": 2},
        ],
        "ticket_id": ticket,
    }
    # Below the list price (599900) is a discount: the clerk may not give it, the manager may.
    r = client.post("/api/v1/stock/sell", json=body, headers=stocked["clerk"])
    assert r.status_code == 403 and "needs a manager" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "lines[0].unit_price_cents"
    r = client.post("/api/v1/stock/sell", json=body, headers=stocked["manager"])
    assert r.status_code == 201, r.text
    sale = r.json()
    assert sale["kind"] == "sell" and sale["amount_cents"] == 579900 + 7800
    assert sale["day"] == today() and sale["actor"] == "manager"
    assert sale["lines"][0]["ticket_id"] == ticket
    assert level(client, stocked, "P1") == 2 and level(client, stocked, "CASE") == 8

    got = client.get(f"/api/v1/movements/{sale['movement_id']}", headers=stocked["admin"])
    assert got.json() == sale

    r = client.post(
        "/api/v1/stock/return",
        json={"reason": "屏幕坏点", "lines": [{"sku": "P1", "serials": [imei(1)]}]},
        headers=stocked["clerk"],
    )
    assert r.status_code == 201, r.text
    assert r.json()["amount_cents"] == 579900  # refunded at the price sold

    unit = client.get(f"/api/v1/serials/{imei(1)}", headers=stocked["clerk"]).json()
    assert unit["status"] == "in_stock" and unit["kind"] == "imei" and unit["name"] == "iPhone 16"
    assert [s["kind"] for s in unit["history"]] == ["receive", "sell", "return"]
    assert [s["status_after"] for s in unit["history"]] == ["in_stock", "sold", "in_stock"]


def test_transfers_and_write_off(client: TestClient[Any], stocked: Headers) -> None:
    admin = stocked["admin"]
    r = client.post(
        "/api/v1/stock/transfer-out",
        json={"to_store": "S002", "lines": [{"sku": "P1", "serials": [imei(2)]}]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["reference"].startswith("TR-S001-")
    body = {"from_store": "S003", "reference": "TR-S003-9", "lines": [{"sku": "CASE", "qty": 4}]}
    assert client.post("/api/v1/stock/transfer-in", json=body, headers=admin).status_code == 201
    again = client.post("/api/v1/stock/transfer-in", json=body, headers=admin)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "reference"
    assert again.json()["code"] == "transfer_already_received"
    r = client.post(
        "/api/v1/stock/write-off",
        json={"reason": "摔坏", "lines": [{"sku": "CASE", "qty": 1}]},
        headers=admin,
    )
    assert r.status_code == 201
    assert level(client, stocked, "CASE") == 13 and level(client, stocked, "P1") == 2
    unit = client.get(f"/api/v1/serials/{imei(2)}", headers=admin).json()
    assert unit["status"] == "transferred_out"


def test_a_typed_reference_is_masked_and_still_matches_itself(
    client: TestClient[Any], stocked: Headers
) -> None:
    """A note number that is somebody's phone number is stored masked; the receiving store
    quoting it again, in any format, is still told it was taken in."""
    admin = stocked["admin"]
    typed = "139 8765 4321"
    body = {"from_store": "S003", "reference": typed, "lines": [{"sku": "CASE", "qty": 1}]}
    r = client.post("/api/v1/stock/transfer-in", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["reference"] == redact_text(typed) != typed
    again = client.post(
        "/api/v1/stock/transfer-in", json={**body, "reference": "139-8765-4321"}, headers=admin
    )
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "reference"
    assert "8765" not in again.text


def test_adjustment_approval_flow(client: TestClient[Any], stocked: Headers) -> None:
    r = client.post(
        "/api/v1/adjustments",
        json={"sku": "ROLL", "delta": -1, "reason": "受潮"},
        headers=stocked["admin"],
    )
    assert r.status_code == 201, r.text
    adj = r.json()
    assert adj["status"] == "pending" and level(client, stocked, "ROLL") == 3

    pending = client.get("/api/v1/adjustments?status=pending", headers=stocked["manager"]).json()
    assert [a["adjustment_id"] for a in pending["items"]] == [adj["adjustment_id"]]

    path = f"/api/v1/adjustments/{adj['adjustment_id']}"
    r = client.post(f"{path}/approve", json={"note": "同意"}, headers=stocked["manager"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and level(client, stocked, "ROLL") == 2
    again = client.post(f"{path}/reject", headers=stocked["manager"])  # the body is optional
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"

    # The manager's own adjustment applies at once.
    r = client.post(
        "/api/v1/adjustments",
        json={"sku": "ROLL", "delta": 5, "reason": "盘盈"},
        headers=stocked["manager"],
    )
    assert r.status_code == 201 and r.json()["status"] == "approved"
    assert level(client, stocked, "ROLL") == 7
    assert (
        client.get("/api/v1/adjustments?status=pending", headers=stocked["admin"]).json()["total"]
        == 0
    )


def test_count_session(client: TestClient[Any], stocked: Headers) -> None:
    admin = stocked["admin"]
    r = client.post("/api/v1/counts", json={"skus": ["CASE", "P1"], "note": "周盘"}, headers=admin)
    assert r.status_code == 201, r.text
    count_id = r.json()["count_id"]
    busy = client.post("/api/v1/counts", json={"skus": ["CASE"]}, headers=admin)
    assert busy.status_code == 409 and busy.json()["extra"]["skus"] == ["CASE"]

    lines = f"/api/v1/counts/{count_id}/lines"
    assert client.post(lines, json={"sku": "CASE", "counted": 8}, headers=admin).status_code == 200
    early = client.post(f"/api/v1/counts/{count_id}/post", headers=admin)
    assert early.status_code == 409 and early.json()["extra"]["uncounted"] == ["P1"]
    r = client.post(
        lines, json={"sku": "P1", "serials": [imei(1), imei(2), imei(9)]}, headers=admin
    )
    assert r.status_code == 200, r.text

    r = client.post(f"/api/v1/counts/{count_id}/post", headers=admin)
    assert r.status_code == 200, r.text
    posted = r.json()
    assert posted["status"] == "posted" and posted["posted_day"] == today()
    by_sku = {ln["sku"]: ln for ln in posted["lines"]}
    assert (by_sku["CASE"]["book"], by_sku["CASE"]["variance"]) == (10, -2)
    assert by_sku["CASE"]["variance_value_cents"] == -7800
    assert by_sku["P1"]["missing"] == [imei(3)] and by_sku["P1"]["unexpected"] == [imei(9)]
    assert by_sku["P1"]["variance"] == 0 and posted["total_variance"] == -2
    assert level(client, stocked, "CASE") == 8 and level(client, stocked, "P1") == 3

    again = client.post(f"/api/v1/counts/{count_id}/cancel", json={}, headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    listed = client.get("/api/v1/counts?status=posted&sku=P1", headers=admin).json()
    assert [c["count_id"] for c in listed["items"]] == [count_id]
    assert listed["items"][0]["lines"][0]["sku"] == "CASE"


def test_item_update(client: TestClient[Any], stocked: Headers) -> None:
    r = client.patch(
        "/api/v1/items/CASE",
        json={"unit_price_cents": 4900, "active": False},
        headers=stocked["admin"],
    )
    assert r.status_code == 200, r.text
    assert (r.json()["unit_price_cents"], r.json()["active"]) == (4900, False)
    refused = client.post(
        "/api/v1/stock/receive",
        json={"supplier": "x", "lines": [{"sku": "CASE", "qty": 1}]},
        headers=stocked["admin"],
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "item_discontinued")
    assert refused.json()["errors"][0]["field"] == "lines[0].sku"


# ---------------------------------------------------------------- problems


def test_bad_serials_are_422_naming_the_field(client: TestClient[Any], stocked: Headers) -> None:
    bad = imei(5)[:-1] + str((int(imei(5)[-1]) + 1) % 10)
    r = client.post(
        "/api/v1/stock/receive",
        json={
            "supplier": "x",
            "lines": [{"sku": "CASE", "qty": 1}, {"sku": "P1", "serials": [bad]}],
        },
        headers=stocked["admin"],
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_failed"
    assert body["errors"][0]["field"] == "lines[1].serials[0]"
    assert "check digit" in body["detail"]
    r = client.post(
        "/api/v1/stock/receive",
        json={"supplier": "x", "lines": [{"sku": "SIM", "serials": ["1234567890123456789"]}]},
        headers=stocked["admin"],
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].serials[0]"
    # The whole value is the serial: a scanner's trailing newline is refused, not stored.
    r = client.post(
        "/api/v1/stock/receive",
        json={"supplier": "x", "lines": [{"sku": "P1", "serials": [imei(7) + "\n"]}]},
        headers=stocked["admin"],
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].serials[0]"


def test_one_request_lists_at_most_1000_serials(client: TestClient[Any], stocked: Headers) -> None:
    lines = [
        {"sku": "P1", "serials": [imei(100 + i) for i in range(600)]},
        {"sku": "SIM", "serials": [iccid(100 + i) for i in range(401)]},
    ]
    r = client.post(
        "/api/v1/stock/receive", json={"supplier": "x", "lines": lines}, headers=stocked["admin"]
    )
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "lines[1].serials")
    assert "at most 1000 serials" in r.json()["detail"]
    assert level(client, stocked, "P1") == 3


def test_sales_and_returns_name_a_ticket_of_this_store(
    client: TestClient[Any], stocked: Headers
) -> None:
    unknown = "01900000-0000-7000-8000-0000000000aa"
    r = client.post(
        "/api/v1/stock/return",
        json={"reason": "x", "lines": [{"sku": "CASE", "qty": 1}], "ticket_id": unknown},
        headers=stocked["clerk"],
    )
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "ticket_id")
    r = client.post(
        "/api/v1/stock/sell",
        json={"lines": [{"sku": "CASE", "qty": 1}], "ticket_id": unknown},
        headers=stocked["clerk"],
    )
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "ticket_id")
    assert level(client, stocked, "CASE") == 10


def test_bodies_with_only_defaults_may_be_left_out(
    client: TestClient[Any], stocked: Headers
) -> None:
    admin = stocked["admin"]
    r = client.post("/api/v1/counts", headers=admin)  # every active item
    assert (r.status_code, r.json()["all_items"]) == (201, True)
    r = client.post(f"/api/v1/counts/{r.json()['count_id']}/cancel", headers=admin)
    assert (r.status_code, r.json()["status"]) == (200, "cancelled")
    r = client.patch("/api/v1/items/CASE", headers=admin)
    assert (r.status_code, r.json()["unit_price_cents"]) == (200, 3900)


def test_serial_conflicts(client: TestClient[Any], stocked: Headers) -> None:
    sale = {"lines": [{"sku": "P1", "serial": imei(1)}]}
    assert client.post("/api/v1/stock/sell", json=sale, headers=stocked["clerk"]).status_code == 201
    twice = client.post("/api/v1/stock/sell", json=sale, headers=stocked["clerk"])
    assert twice.status_code == 409
    assert twice.json()["code"] == "serial_unavailable"
    assert twice.json()["extra"]["status"] == "sold"
    other_sku = client.post(
        "/api/v1/stock/sell", json={"lines": [{"sku": "SIM", "serial": imei(2)}]},
        headers=stocked["clerk"],
    )  # fmt: skip
    assert other_sku.status_code == 422  # an IMEI is no ICCID
    dup = client.post(
        "/api/v1/stock/receive",
        json={"supplier": "x", "lines": [{"sku": "P1", "serials": [imei(2)]}]},
        headers=stocked["admin"],
    )
    assert dup.status_code == 409 and dup.json()["code"] == "serial_in_stock"  # a duplicate IMEI
    assert dup.json()["errors"][0]["field"] == "lines[0].serials[0]"
    assert client.get("/api/v1/serials/000", headers=stocked["clerk"]).status_code == 404


def test_taking_out_more_than_on_hand(client: TestClient[Any], stocked: Headers) -> None:
    r = client.post(
        "/api/v1/stock/sell", json={"lines": [{"sku": "ROLL", "qty": 4}]}, headers=stocked["clerk"]
    )
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "insufficient_stock"
    assert body["extra"] == {"sku": "ROLL", "on_hand": 3, "requested": 4}
    assert level(client, stocked, "ROLL") == 3


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/stock/sell", {"lines": [{"sku": "CASE", "qty": 0}]}, 400),
        ("/api/v1/stock/sell", {"lines": []}, 400),
        ("/api/v1/stock/sell", {"lines": [{"sku": "NOPE", "qty": 1}]}, 422),
        ("/api/v1/items", {"sku": "bad sku", "name": "x", "category": "phone",
                           "unit_price_cents": 1}, 400),
        ("/api/v1/items", {"sku": "X", "name": "x", "category": "food",
                           "unit_price_cents": 1}, 400),
        ("/api/v1/items", {"sku": "X", "name": "x", "category": "supply",
                           "unit_price_cents": -1}, 400),
        ("/api/v1/adjustments", {"sku": "CASE", "delta": 0, "reason": "x"}, 422),
        ("/api/v1/counts", {"skus": ["NOPE"]}, 422),
    ],
)  # fmt: skip
def test_validation_problems(
    shared: tuple[TestClient[Any], Headers], path: str, body: dict[str, Any], status: int
) -> None:
    client, h = shared
    r = client.post(path, json=body, headers=h["manager"])
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "validation_failed"
    assert r.json()["errors"], "the problem names the offending field"


def test_not_found(shared: tuple[TestClient[Any], Headers]) -> None:
    client, headers = shared
    h = headers["manager"]
    missing = str(UUID(int=1))
    for path in [
        "/api/v1/items/NOPE",
        "/api/v1/stock/NOPE",
        f"/api/v1/movements/{missing}",
        f"/api/v1/adjustments/{missing}",
        f"/api/v1/counts/{missing}",
    ]:
        r = client.get(path, headers=h)
        assert r.status_code == 404 and r.json()["code"] == "not_found", path
    r = client.post(f"/api/v1/counts/{missing}/post", headers=h)
    assert r.status_code == 404


# ---------------------------------------------------------------- paging and filters


def test_lists_page_and_filter(client: TestClient[Any], stocked: Headers) -> None:
    h = stocked["admin"]
    page = client.get("/api/v1/items?limit=3", headers=h).json()
    assert page["total"] == 4 and len(page["items"]) == 3 and page["next_offset"] == 3
    rest = client.get("/api/v1/items?limit=3&offset=3", headers=h).json()
    assert [i["sku"] for i in rest["items"]] == ["SIM"] and rest["next_offset"] is None
    assert [
        i["sku"] for i in client.get("/api/v1/items?category=sim", headers=h).json()["items"]
    ] == ["SIM"]
    assert client.get("/api/v1/items?q=iphone", headers=h).json()["items"][0]["sku"] == "P1"

    client.post("/api/v1/stock/sell", json={"lines": [{"sku": "SIM", "serial": iccid(1)}]},
                headers=stocked["clerk"])  # fmt: skip
    empty = client.get("/api/v1/stock?out_of_stock=true", headers=h).json()
    assert [s["sku"] for s in empty["items"]] == ["SIM"] and empty["items"][0]["out_of_stock"]
    low = client.get("/api/v1/stock?low=true&threshold=3", headers=h).json()
    assert [s["sku"] for s in low["items"]] == ["P1", "ROLL", "SIM"]
    assert client.get("/api/v1/stock?threshold=-1", headers=h).status_code == 400

    ledger = client.get("/api/v1/movements?limit=2", headers=h).json()
    assert ledger["total"] == 5 and ledger["items"][0]["kind"] == "sell"
    sold = client.get("/api/v1/movements?kind=sell", headers=h).json()
    assert [(m["sku"], m["delta"]) for m in sold["items"]] == [("SIM", -1)]
    by_sku = client.get("/api/v1/movements?sku=CASE", headers=h).json()
    assert [m["kind"] for m in by_sku["items"]] == ["receive"]
    d = today()
    assert client.get(f"/api/v1/movements?from={d}&to={d}", headers=h).json()["total"] == 5
    tomorrow = (datetime.fromisoformat(d) + timedelta(days=1)).date().isoformat()
    assert client.get(f"/api/v1/movements?from={tomorrow}", headers=h).json()["total"] == 0
    r = client.get(f"/api/v1/movements?from={tomorrow}&to={d}", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.from"
    assert client.get("/api/v1/movements?kind=steal", headers=h).status_code == 400


# ---------------------------------------------------------------- roles


_fresh = itertools.count()


def _ids(client: TestClient[Any], h: Headers) -> dict[str, str]:
    """A fresh item with an open count and a pending adjustment, for id-bearing endpoints."""
    sku = f"R{next(_fresh)}"
    item = {"sku": sku, "name": sku, "category": "supply", "unit_price_cents": 1}
    assert client.post("/api/v1/items", json=item, headers=h["admin"]).status_code == 201
    count = client.post("/api/v1/counts", json={"skus": [sku]}, headers=h["admin"]).json()
    adj = client.post(
        "/api/v1/adjustments", json={"sku": sku, "delta": 1, "reason": "x"}, headers=h["admin"]
    ).json()
    return {"sku": sku, "count": count["count_id"], "adj": adj["adjustment_id"]}


Body = Callable[[dict[str, str]], dict[str, Any] | None]
ALL = set(ROLES)
ADMIN = {"admin", "manager"}
CLERK = {"clerk", "manager"}
CLERK_ADMIN = {"clerk", "admin", "manager"}
MANAGER_ONLY = {"manager"}

MATRIX: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/api/v1/items", lambda i: None, ALL),
    ("GET", "/api/v1/items/CASE", lambda i: None, ALL),
    ("POST", "/api/v1/items", lambda i: {"sku": "NEW", "name": "n", "category": "supply",
                                         "unit_price_cents": 1}, ADMIN),
    ("PATCH", "/api/v1/items/CASE", lambda i: {"name": "壳"}, ADMIN),
    ("GET", "/api/v1/stock", lambda i: None, ALL),
    ("GET", "/api/v1/stock/CASE", lambda i: None, ALL),
    ("POST", "/api/v1/stock/receive", lambda i: {"supplier": "x",
                                                 "lines": [{"sku": "CASE", "qty": 1}]}, ADMIN),
    ("POST", "/api/v1/stock/sell", lambda i: {"lines": [{"sku": "CASE", "qty": 1}]}, CLERK),
    ("POST", "/api/v1/stock/transfer-out", lambda i: {"to_store": "S002",
                                                      "lines": [{"sku": "CASE", "qty": 1}]}, ADMIN),
    ("POST", "/api/v1/stock/transfer-in", lambda i: {"from_store": "S002", "reference": "R",
                                                     "lines": [{"sku": "CASE", "qty": 1}]}, ADMIN),
    ("POST", "/api/v1/stock/return", lambda i: {"reason": "x",
                                                "lines": [{"sku": "CASE", "qty": 1}]}, CLERK),
    ("POST", "/api/v1/stock/write-off", lambda i: {"reason": "x",
                                                   "lines": [{"sku": "CASE", "qty": 1}]}, ADMIN),
    ("GET", "/api/v1/movements", lambda i: None, CLERK_ADMIN),
    ("GET", f"/api/v1/serials/{imei(1)}", lambda i: None, CLERK_ADMIN),
    ("GET", "/api/v1/adjustments", lambda i: None, ADMIN),
    ("POST", "/api/v1/adjustments", lambda i: {"sku": "CASE", "delta": 1, "reason": "x"}, ADMIN),
    ("GET", "/api/v1/adjustments/{adj}", lambda i: None, ADMIN),
    ("POST", "/api/v1/adjustments/{adj}/approve", lambda i: {}, MANAGER_ONLY),
    ("POST", "/api/v1/adjustments/{adj}/reject", lambda i: {}, MANAGER_ONLY),
    ("GET", "/api/v1/counts", lambda i: None, ADMIN),
    ("POST", "/api/v1/counts", lambda i: {"skus": ["CASE"]}, ADMIN),
    ("GET", "/api/v1/counts/{count}", lambda i: None, ADMIN),
    ("POST", "/api/v1/counts/{count}/lines", lambda i: {"sku": i["sku"], "counted": 1}, ADMIN),
    ("POST", "/api/v1/counts/{count}/post", lambda i: None, ADMIN),
    ("POST", "/api/v1/counts/{count}/cancel", lambda i: {}, ADMIN),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
def test_role_matrix(
    shared: tuple[TestClient[Any], Headers],
    method: str,
    path: str,
    body: Body,
    allowed: set[str],
) -> None:
    client, h = shared
    ids = _ids(client, h)
    url = path.format(**ids)
    # Forbidden roles first, so the allowed ones act on untouched state.
    for role in sorted(ROLES, key=lambda r: r in allowed):
        payload = body(ids)
        kwargs: dict[str, Any] = {"headers": h[role]}
        if payload is not None:
            kwargs["json"] = payload
        r = client.request(method, url, **kwargs)
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.text)
            assert r.status_code < 500, (role, r.text)
        else:
            assert r.status_code == 403, (role, r.status_code)
            assert r.json()["code"] == "forbidden"
    assert client.request(method, url).status_code == 401


def test_openapi_lists_inventory(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in [
        "/api/v1/items",
        "/api/v1/stock/sell",
        "/api/v1/serials/{serial}",
        "/api/v1/counts/{count_id}/post",
        "/api/v1/adjustments/{adjustment_id}/approve",
    ]:
        assert path in paths, path
    assert paths["/api/v1/stock/sell"]["post"]["tags"] == ["inventory"]


# ---------------------------------------------------------------- replay


def test_replay_rebuilds_inventory(
    client: TestClient[Any], stocked: Headers, data_dir: Path
) -> None:
    clerk, admin, manager = stocked["clerk"], stocked["admin"], stocked["manager"]
    calls: list[tuple[str, dict[str, str], dict[str, Any]]] = [
        ("/api/v1/stock/sell", clerk, {"lines": [{"sku": "P1", "serial": imei(1)},
                                                  {"sku": "CASE", "qty": 3}]}),
        ("/api/v1/stock/return", clerk, {"reason": "x", "lines": [{"sku": "CASE", "qty": 1}]}),
        ("/api/v1/stock/transfer-out", admin, {"to_store": "S002",
                                               "lines": [{"sku": "SIM", "serials": [iccid(1)]}]}),
        ("/api/v1/stock/write-off", admin, {"reason": "x", "lines": [{"sku": "ROLL", "qty": 1}]}),
        ("/api/v1/adjustments", manager, {"sku": "CASE", "delta": -1, "reason": "x"}),
    ]  # fmt: skip
    for path, h, body in calls:
        r = client.post(path, json=body, headers=h)
        assert r.status_code == 201, r.text
    adj = client.post(
        "/api/v1/adjustments", json={"sku": "ROLL", "delta": 2, "reason": "x"}, headers=admin
    ).json()
    client.post(f"/api/v1/adjustments/{adj['adjustment_id']}/reject", json={}, headers=manager)
    count = client.post("/api/v1/counts", json={}, headers=admin).json()
    for line in [
        {"sku": "CASE", "counted": 6},
        {"sku": "ROLL", "counted": 2},
        {"sku": "P1", "serials": [imei(2), imei(4)]},
        {"sku": "SIM", "serials": []},
    ]:
        r = client.post(f"/api/v1/counts/{count['count_id']}/lines", json=line, headers=admin)
        assert r.status_code == 200, r.text
    assert client.post(f"/api/v1/counts/{count['count_id']}/post", headers=admin).status_code == 200
    assert_replay_matches(
        data_dir,
        [
            tables.inventory_items,
            tables.inventory_stock,
            tables.inventory_movements,
            tables.inventory_serials,
            tables.inventory_serial_history,
            tables.inventory_adjustments,
            tables.inventory_counts,
            tables.inventory_count_lines,
        ],
    )
