"""Complaints (投诉) over HTTP: the whole lifecycle, problem details, lists, search, SLA overdue
flags against the node's clock, roles, and replay of the log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient
from uuid_utils.compat import uuid7

from schema.tables.complaints import complaint_steps, complaints
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

PHONE = "13812345678"
BASE = "/api/v1/complaints"
Headers = dict[str, dict[str, str]]


def new_complaint(client: TestClient[Any], headers: dict[str, str], **fields: Any) -> Any:
    body = {
        "channel": "in_store",
        "category": "service_attitude",
        "description": "业务员态度差",
        "customer_phone": PHONE,
        **fields,
    }
    r = client.post(BASE, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def user_id(client: TestClient[Any], headers: dict[str, str]) -> str:
    uid: str = client.get("/api/v1/auth/me", headers=headers).json()["user_id"]
    return uid


def act(
    client: TestClient[Any], cid: str, action: str, body: dict[str, Any], headers: dict[str, str]
) -> Any:
    return client.post(f"{BASE}/{cid}/{action}", json=body, headers=headers)


# ---------------------------------------------------------------- lifecycle


def test_full_lifecycle(client: TestClient[Any], as_role: Headers) -> None:
    clerk, manager = as_role["clerk"], as_role["manager"]
    clerk_id = user_id(client, clerk)
    c = new_complaint(client, as_role["greeter"], staff_id=user_id(client, as_role["clerk"]))
    assert c["status"] == "open" and c["customer_phone"] == "***********"
    assert c["number"].startswith("T") and c["opened_by"] == "greeter1"
    cid = c["complaint_id"]

    r = act(client, cid, "assign", {"owner_id": clerk_id}, manager)
    assert r.status_code == 200 and r.json()["status"] == "assigned"
    r = act(client, cid, "respond", {"note": "已联系客户致歉"}, clerk)
    assert r.status_code == 200 and r.json()["first_response_within_sla"] is True
    r = act(client, cid, "escalate", {"level": "manager", "reason": "客户要求厅长处理"}, clerk)
    assert r.status_code == 200 and r.json()["escalation_level"] == "manager"
    r = act(client, cid, "resolve", {"remedy": "赠送流量包", "verified": True}, clerk)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "resolved"
    assert body["counts_against_staff"] is True
    r = act(client, cid, "feedback", {"satisfied": True, "rating": 4}, as_role["greeter"])
    assert r.status_code == 200 and r.json()["feedback"]["rating"] == 4
    r = client.post(f"{BASE}/{cid}/close", headers=manager)  # no body: no closing remark
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = act(client, cid, "reopen", {"reason": "问题复发"}, clerk)
    assert r.status_code == 200 and r.json()["status"] == "reopened"

    detail = client.get(f"{BASE}/{cid}", headers=as_role["greeter"]).json()
    assert [s["kind"] for s in detail["steps"]] == [
        "opened", "assigned", "responded", "escalated", "resolved", "feedback", "closed",
        "reopened",
    ]  # fmt: skip
    assert [s["actor"] for s in detail["steps"]][:3] == ["greeter1", "manager", "clerk1"]
    assert detail["reopen_count"] == 1


def test_raw_phone_is_never_returned(client: TestClient[Any], as_role: Headers) -> None:
    c = new_complaint(client, as_role["clerk"], description="客户电话 138 1234 5678")
    for r in (
        client.get(f"{BASE}/{c['complaint_id']}", headers=as_role["clerk"]),
        client.get(BASE, headers=as_role["clerk"]),
        client.post(f"{BASE}/search", json={"customer_phone": PHONE}, headers=as_role["clerk"]),
    ):
        assert r.status_code == 200
        assert PHONE not in r.text and "1234 5678" not in r.text
        assert "***********" in r.text


# ---------------------------------------------------------------- problem details


def test_bad_phone_is_422_naming_the_field(client: TestClient[Any], as_role: Headers) -> None:
    r = client.post(
        BASE,
        json={
            "channel": "hotline",
            "category": "billing",
            "description": "多扣费",
            "customer_phone": "12345678901",
        },
        headers=as_role["clerk"],
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_failed"
    assert body["errors"][0]["field"] == "customer_phone"
    assert "12345678901" not in r.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("category", "rudeness"), ("channel", "fax"), ("description", ""), ("customer_phone", "")],
)
def test_malformed_intake_names_the_field(
    client: TestClient[Any], as_role: Headers, field: str, value: str
) -> None:
    body = {
        "channel": "hotline",
        "category": "billing",
        "description": "多扣费",
        "customer_phone": PHONE,
        field: value,
    }
    r = client.post(BASE, json=body, headers=as_role["clerk"])
    assert r.status_code == 400
    problem = r.json()
    assert problem["code"] == "validation_failed"
    assert any(field in (e["field"] or "") + e["message"] for e in problem["errors"])


def test_illegal_transitions_are_409_naming_the_state(
    client: TestClient[Any], as_role: Headers
) -> None:
    manager = as_role["manager"]
    cid = new_complaint(client, manager)["complaint_id"]
    premature: list[tuple[str, dict[str, Any]]] = [
        ("close", {}),
        ("respond", {"note": "x"}),
        ("feedback", {"satisfied": True, "rating": 5}),
        ("reopen", {"reason": "x"}),
        ("resolve", {"remedy": "x", "verified": False}),
    ]
    for action, body in premature:
        r = act(client, cid, action, body, manager)
        assert r.status_code == 409, (action, r.text)
        problem = r.json()
        assert problem["code"] == "illegal_transition"
        assert "open" in problem["detail"] and problem["extra"]["state"] == "open"
    act(client, cid, "assign", {"owner_id": user_id(client, manager)}, manager)
    assert act(client, cid, "respond", {"note": "x"}, manager).status_code == 200
    r = act(client, cid, "respond", {"note": "again"}, manager)
    assert r.status_code == 409 and r.json()["extra"]["state"] == "responded"
    act(client, cid, "escalate", {"level": "region", "reason": "x"}, manager)
    r = act(client, cid, "escalate", {"level": "manager", "reason": "x"}, manager)
    assert r.status_code == 409 and r.json()["extra"]["escalation_level"] == "region"


def test_not_found_forbidden_and_bad_rating(client: TestClient[Any], as_role: Headers) -> None:
    r = client.get(f"{BASE}/{uuid7()}", headers=as_role["clerk"])
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    cid = new_complaint(client, as_role["clerk"])["complaint_id"]
    r = act(
        client, cid, "assign", {"owner_id": user_id(client, as_role["clerk"])}, as_role["manager"]
    )
    assert r.status_code == 200
    # Another clerk is not the owner: the domain refuses even though the role may respond.
    r = client.post(
        "/api/v1/staff",
        json={
            "username": "clerk2",
            "display_name": "C2",
            "role": "clerk",
            "password": STAFF_PASSWORD,
        },
        headers=as_role["manager"],
    )
    other = login(client, "clerk2", STAFF_PASSWORD)
    r = act(client, cid, "respond", {"note": "x"}, other)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = act(
        client, cid, "assign", {"owner_id": user_id(client, as_role["greeter"])}, as_role["manager"]
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "owner_id"
    r = act(client, cid, "feedback", {"satisfied": True, "rating": 6}, as_role["clerk"])
    assert r.status_code == 400 and r.json()["code"] == "validation_failed"


# ---------------------------------------------------------------- lists, search, summary


def test_list_pages_and_filters(client: TestClient[Any], as_role: Headers) -> None:
    h = as_role["clerk"]
    a = new_complaint(client, h, channel="hotline", category="billing")
    b = new_complaint(client, h, channel="online", category="network_quality")
    c = new_complaint(client, h, customer_phone="13900001111")
    act(client, b["complaint_id"], "assign", {"owner_id": user_id(client, h)}, as_role["manager"])

    r = client.get(f"{BASE}?limit=2", headers=h)
    page = r.json()
    assert page["total"] == 3 and page["next_offset"] == 2
    assert [i["number"] for i in page["items"]] == [c["number"], b["number"]]
    page2 = client.get(f"{BASE}?limit=2&offset=2", headers=h).json()
    assert [i["number"] for i in page2["items"]] == [a["number"]] and page2["next_offset"] is None

    def numbers(query: str) -> list[str]:
        r = client.get(f"{BASE}?{query}", headers=h)
        assert r.status_code == 200, r.text
        return [i["number"] for i in r.json()["items"]]

    assert numbers("status=assigned") == [b["number"]]
    assert numbers("category=billing") == [a["number"]]
    assert numbers("channel=online") == [b["number"]]
    assert numbers(f"owner_id={user_id(client, h)}") == [b["number"]]
    assert numbers("overdue=true") == []
    assert len(numbers("overdue=false")) == 3
    today = a["opened_day"]
    assert len(numbers(f"from={today}&to={today}")) == 3
    assert numbers("from=2099-01-01") == []
    r = client.get(f"{BASE}?from=2026-12-02&to=2026-12-01", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.from"
    r = client.get(f"{BASE}?status=lost", headers=h)
    assert r.status_code == 400 and r.json()["code"] == "validation_failed"
    assert client.get(f"{BASE}?limit=0", headers=h).status_code == 400


def test_search_by_phone_in_the_body(client: TestClient[Any], as_role: Headers) -> None:
    h = as_role["greeter"]
    a = new_complaint(client, h)
    new_complaint(client, h, customer_phone="13900001111")
    b = new_complaint(client, h, customer_phone="+86 138-1234-5678")
    r = client.post(f"{BASE}/search?limit=1", json={"customer_phone": "138 1234 5678"}, headers=h)
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 2 and [i["number"] for i in page["items"]] == [b["number"]]
    r = client.post(f"{BASE}/search?offset=1", json={"customer_phone": PHONE}, headers=h)
    assert [i["number"] for i in r.json()["items"]] == [a["number"]]
    r = client.post(f"{BASE}/search", json={"customer_phone": "555"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer_phone"


def test_summary_counts_unresolved(client: TestClient[Any], as_role: Headers) -> None:
    h = as_role["manager"]
    assert client.get(f"{BASE}/summary", headers=h).json() == {"open": 0, "overdue": 0}
    new_complaint(client, h)
    new_complaint(client, h)
    assert client.get(f"{BASE}/summary", headers=h).json() == {"open": 2, "overdue": 0}


# ---------------------------------------------------------------- SLA against the node's clock


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clocked(data_dir: Path) -> Iterator[tuple[TestClient[Any], Clock, dict[str, str]]]:
    """A client on a node whose clock the test moves, logged in as the manager."""
    clock = Clock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    with TestClient(app=create_app(data_dir, clock=clock)) as c:
        yield c, clock, login(c, MANAGER, MANAGER_PASSWORD)


def test_overdue_follows_the_node_clock(
    clocked: tuple[TestClient[Any], Clock, dict[str, str]],
) -> None:
    client, clock, h = clocked
    t0 = clock.now
    c = new_complaint(client, h)
    cid = c["complaint_id"]
    assert c["first_response_due_at"].startswith("2026-11-27T02:00:00")
    assert c["resolution_due_at"].startswith("2026-11-28T02:00:00")

    clock.now = t0 + timedelta(hours=25)
    d = client.get(f"{BASE}/{cid}", headers=h).json()
    assert d["first_response_overdue"] and d["overdue"] and not d["resolution_overdue"]
    assert [
        i["complaint_id"] for i in client.get(f"{BASE}?overdue=true", headers=h).json()["items"]
    ] == [cid]
    assert client.get(f"{BASE}/summary", headers=h).json() == {"open": 1, "overdue": 1}

    act(client, cid, "assign", {"owner_id": user_id(client, h)}, h)
    r = act(client, cid, "respond", {"note": "迟到的首次响应"}, h)
    assert r.json()["first_response_within_sla"] is False and not r.json()["overdue"]

    clock.now = t0 + timedelta(hours=49)
    assert client.get(f"{BASE}/{cid}", headers=h).json()["resolution_overdue"] is True
    r = act(client, cid, "resolve", {"remedy": "退费", "verified": False}, h)
    assert r.json()["resolution_within_sla"] is False
    act(client, cid, "close", {}, h)

    clock.now = t0 + timedelta(hours=60)
    r = act(client, cid, "reopen", {"reason": "客户不认可"}, h)
    assert r.json()["resolution_due_at"].startswith("2026-11-30T14:00:00")  # 60 h + 48 h
    assert client.get(f"{BASE}/summary", headers=h).json() == {"open": 1, "overdue": 0}


# ---------------------------------------------------------------- roles


@dataclass
class Matrix:
    client: TestClient[Any]
    headers: Headers


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    """One node with a login per role, shared by the role × endpoint cases (logins are slow)."""
    d = tmp_path_factory.mktemp("matrix") / "node"
    init_store(
        d,
        store_id=STORE_ID,
        name="矩阵营业厅",
        region="east",
        tz=TZ,
        manager=MANAGER,
        manager_password=MANAGER_PASSWORD,
    )
    with TestClient(app=create_app(d)) as c:
        headers = {"manager": login(c, MANAGER, MANAGER_PASSWORD)}
        for role in ROLES:
            if role != "manager":
                r = c.post(
                    "/api/v1/staff",
                    json={
                        "username": f"{role}1",
                        "display_name": role,
                        "role": role,
                        "password": STAFF_PASSWORD,
                    },
                    headers=headers["manager"],
                )
                assert r.status_code == 201
                headers[role] = login(c, f"{role}1", STAFF_PASSWORD)
        yield Matrix(c, headers)


MISSING = UUID("01900000-0000-7000-8000-000000000000")
"""No such complaint: a handler that is reached answers 404, a guard that refuses 403."""
INTAKE = {"channel": "online", "category": "other", "description": "x", "customer_phone": PHONE}
ENDPOINTS: dict[str, tuple[str, str, dict[str, Any] | None, set[str]]] = {
    "open": ("POST", BASE, INTAKE, {"greeter", "clerk", "manager"}),
    "list": ("GET", BASE, None, {"greeter", "clerk", "manager"}),
    "search": (
        "POST",
        f"{BASE}/search",
        {"customer_phone": PHONE},
        {"greeter", "clerk", "manager"},
    ),
    "summary": ("GET", f"{BASE}/summary", None, {"greeter", "clerk", "manager"}),
    "detail": ("GET", f"{BASE}/{MISSING}", None, {"greeter", "clerk", "manager"}),
    "assign": ("POST", f"{BASE}/{MISSING}/assign", {"owner_id": str(MISSING)}, {"manager"}),
    "respond": ("POST", f"{BASE}/{MISSING}/respond", {"note": "x"}, {"clerk", "manager"}),
    "escalate": (
        "POST",
        f"{BASE}/{MISSING}/escalate",
        {"level": "hq", "reason": "x"},
        {"clerk", "manager"},
    ),
    "resolve": (
        "POST",
        f"{BASE}/{MISSING}/resolve",
        {"remedy": "x", "verified": False},
        {"clerk", "manager"},
    ),
    "feedback": (
        "POST",
        f"{BASE}/{MISSING}/feedback",
        {"satisfied": True, "rating": 5},
        {"greeter", "clerk", "manager"},
    ),
    "close": ("POST", f"{BASE}/{MISSING}/close", {}, {"manager"}),
    "reopen": ("POST", f"{BASE}/{MISSING}/reopen", {"reason": "x"}, {"clerk", "manager"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_role_matrix(matrix: Matrix, endpoint: str, role: str) -> None:
    method, path, body, allowed = ENDPOINTS[endpoint]
    r = matrix.client.request(method, path, json=body, headers=matrix.headers[role])
    if role in allowed:
        assert r.status_code not in (401, 403), r.text
        assert r.status_code in (200, 201, 404), r.text
    else:
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "forbidden"


def test_no_token_is_401(client: TestClient[Any]) -> None:
    assert client.get(BASE).status_code == 401
    assert client.post(BASE, json=INTAKE).status_code == 401


def test_openapi_lists_the_routes(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert "/api/v1/complaints" in paths and "/api/v1/complaints/search" in paths
    assert "/api/v1/complaints/{complaint_id}/reopen" in paths


# ---------------------------------------------------------------- replay


def test_replay_rebuilds_complaint_tables(
    client: TestClient[Any], as_role: Headers, data_dir: Path
) -> None:
    clerk, manager = as_role["clerk"], as_role["manager"]
    clerk_id = user_id(client, clerk)
    for i in range(3):
        c = new_complaint(
            client,
            as_role["greeter"],
            category=["billing", "service_attitude", "privacy"][i],
            staff_id=clerk_id,
            customer_phone=f"1390000000{i}",
        )
        cid = c["complaint_id"]
        act(client, cid, "assign", {"owner_id": clerk_id}, manager)
        if i == 0:
            continue
        act(client, cid, "respond", {"note": "已回复"}, clerk)
        act(client, cid, "escalate", {"level": "region", "reason": "升级"}, clerk)
        act(client, cid, "resolve", {"remedy": "道歉", "verified": i == 1}, clerk)
        act(client, cid, "feedback", {"satisfied": i == 1, "rating": 5 - i}, as_role["greeter"])
        if i == 2:
            act(client, cid, "close", {"note": "结案"}, manager)
            act(client, cid, "reopen", {"reason": "客户不满意"}, manager)
    assert client.get(BASE, headers=manager).json()["total"] == 3
    assert_replay_matches(data_dir, [complaints, complaint_steps])
