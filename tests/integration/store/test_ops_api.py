"""Daily operations and training over HTTP: flows, problem details, paging, roles, replay."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from schema.tables.ops import TABLES
from server.store.app import create_app
from server.store.node import init_store
from tests.conftest import (
    MANAGER,
    MANAGER_PASSWORD,
    STAFF_PASSWORD,
    STORE_ID,
    TZ,
    assert_replay_matches,
    login,
)

# 2026-11-26 10:00 in Shanghai.
T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
TODAY = "2026-11-26"
Headers = dict[str, dict[str, str]]


@dataclass
class Clock:
    """The node's wall clock, moved by the test instead of by sleeping."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(data_dir: Path, clock: Clock) -> Iterator[TestClient[Any]]:
    """The store node app stamped with the test's clock (overrides the shared fixture)."""
    with TestClient(app=create_app(data_dir, clock=clock)) as c:
        yield c


def user_id(client: TestClient[Any], headers: dict[str, str]) -> str:
    me: str = client.get("/api/v1/auth/me", headers=headers).json()["user_id"]
    return me


# ---------------------------------------------------------------- opening checklist


def test_opening_checklist_flow(client: TestClient[Any], as_role: Headers, clock: Clock) -> None:
    r = client.post("/api/v1/checklists", headers=as_role["tech"])
    assert r.status_code == 201, r.text
    cl = r.json()
    assert cl["day"] == TODAY and cl["status"] == "open" and cl["started_by"] == "tech1"
    again = client.post("/api/v1/checklists", headers=as_role["admin"])
    assert again.status_code == 200 and again.json()["checklist_id"] == cl["checklist_id"]
    # The status comes from the command, not from a read before it: a retry with the same
    # Idempotency-Key replays "it was there already".
    keyed = {**as_role["tech"], "Idempotency-Key": "tablet-7-start"}
    first, retry = (client.post("/api/v1/checklists", headers=keyed) for _ in range(2))
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert client.get("/api/v1/checklists/today", headers=as_role["greeter"]).json() == cl

    base = f"/api/v1/checklists/{cl['checklist_id']}"
    for item in cl["items"]:
        if item["code"] not in ("printers", "signage"):
            r = client.post(
                f"{base}/items/{item['code']}/check", json={"ok": True}, headers=as_role["clerk"]
            )
            assert r.status_code == 200, r.text
    r = client.post(
        f"{base}/items/printers/check", json={"ok": False, "note": "卡纸"}, headers=as_role["tech"]
    )
    printers = next(i for i in r.json()["items"] if i["code"] == "printers")
    assert printers["suggest_fault"] is True and printers["equipment"] == "printer"

    r = client.post(f"{base}/complete", headers=as_role["admin"])
    assert r.status_code == 409
    assert r.json()["code"] == "incomplete" and r.json()["extra"]["unchecked"] == ["signage"]

    fault = client.post(
        "/api/v1/faults",
        json={"kind": "printer", "asset_name": "1号窗口打印机", "description": "卡纸"},
        headers=as_role["tech"],
    ).json()
    r = client.post(
        f"{base}/items/printers/check",
        json={"ok": False, "note": "卡纸，已报修", "fault_id": fault["fault_id"]},
        headers=as_role["tech"],
    )
    printers = next(i for i in r.json()["items"] if i["code"] == "printers")
    assert printers["fault_id"] == fault["fault_id"] and printers["suggest_fault"] is False
    client.post(f"{base}/items/signage/check", json={"ok": True}, headers=as_role["greeter"])

    clock.advance(minutes=5)
    r = client.post(f"{base}/complete", headers=as_role["admin"])
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "completed" and done["minutes_after_open"] == 125
    assert done["completed_by"] == "admin1" and done["unchecked"] == []

    r = client.post(f"{base}/complete", headers=as_role["manager"])
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    r = client.post(f"{base}/items/pos/check", json={"ok": True}, headers=as_role["clerk"])
    assert r.json()["code"] == "illegal_transition"

    assert client.get(f"/api/v1/checklists/{TODAY}", headers=as_role["clerk"]).json() == done
    page = client.get(
        f"/api/v1/checklists?from={TODAY}&to={TODAY}&status=completed", headers=as_role["admin"]
    ).json()
    assert page["total"] == 1
    summary = page["items"][0]
    assert summary["completed_at"] == done["completed_at"]
    assert summary["not_ok_count"] == 1 and summary["checked_count"] == summary["item_count"]


def test_checklist_errors(client: TestClient[Any], as_role: Headers) -> None:
    r = client.get("/api/v1/checklists/today", headers=as_role["clerk"])
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    cl = client.post("/api/v1/checklists", headers=as_role["manager"]).json()
    base = f"/api/v1/checklists/{cl['checklist_id']}"
    r = client.post(f"{base}/items/pos/check", json={"ok": False}, headers=as_role["clerk"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"
    r = client.post(f"{base}/items/coffee/check", json={"ok": True}, headers=as_role["clerk"])
    assert r.status_code == 404
    r = client.post(f"{base}/items/pos/check", json={"ok": "yes"}, headers=as_role["clerk"])
    assert r.status_code == 400 and r.json()["code"] == "validation_failed"
    r = client.get("/api/v1/checklists?status=closed", headers=as_role["clerk"])
    assert r.status_code == 400


def test_checklist_list_pages_over_days(
    client: TestClient[Any], as_role: Headers, clock: Clock
) -> None:
    for _ in range(3):
        assert client.post("/api/v1/checklists", headers=as_role["tech"]).status_code == 201
        clock.advance(days=1)
    page = client.get("/api/v1/checklists?limit=2", headers=as_role["clerk"]).json()
    assert [i["day"] for i in page["items"]] == ["2026-11-28", "2026-11-27"]
    assert page["total"] == 3 and page["next_offset"] == 2
    rest = client.get("/api/v1/checklists?limit=2&offset=2", headers=as_role["clerk"]).json()
    assert [i["day"] for i in rest["items"]] == [TODAY] and rest["next_offset"] is None


# ---------------------------------------------------------------- equipment faults


def test_fault_lifecycle(client: TestClient[Any], as_role: Headers, clock: Clock) -> None:
    r = client.post(
        "/api/v1/faults",
        json={
            "kind": "queue_machine",
            "asset_name": "大厅排队机",
            "asset_tag": "QM-01",
            "description": "不出号",
            "severity": "high",
        },
        headers=as_role["greeter"],
    )
    assert r.status_code == 201, r.text
    fault = r.json()
    assert fault["status"] == "reported" and fault["day"] == TODAY
    url = f"/api/v1/faults/{fault['fault_id']}"

    clock.advance(minutes=10)
    r = client.post(f"{url}/start-repair", headers=as_role["tech"])  # no note: no body
    assert r.status_code == 200 and r.json()["status"] == "in_repair"
    clock.advance(minutes=50)
    r = client.post(f"{url}/repair", json={"resolution": "重装驱动"}, headers=as_role["tech"])
    assert r.json()["time_to_repair_s"] == 3600

    r = client.post(f"{url}/cancel", json={"reason": "x"}, headers=as_role["manager"])
    assert r.status_code == 409
    assert r.json()["code"] == "illegal_transition" and r.json()["extra"]["state"] == "repaired"

    clock.advance(hours=2)
    r = client.post(f"{url}/reopen", json={"reason": "又坏了"}, headers=as_role["clerk"])
    assert r.status_code == 403 and "tech" in r.json()["detail"]  # the repair is tech's call
    r = client.post(f"{url}/reopen", json={"reason": "又坏了"}, headers=as_role["tech"])
    assert r.json()["status"] == "reported" and r.json()["reopen_count"] == 1
    clock.advance(minutes=15)
    r = client.post(f"{url}/repair", json={"resolution": "更换主板"}, headers=as_role["manager"])
    assert r.json()["time_to_repair_s"] == 900

    detail = client.get(url, headers=as_role["clerk"]).json()
    assert [s["action"] for s in detail["timeline"]] == [
        "reported",
        "repair_started",
        "repaired",
        "reopened",
        "repaired",
    ]
    assert detail["timeline"][0]["actor"] == "greeter1"


def test_fault_list_filters_and_paging(
    client: TestClient[Any], as_role: Headers, clock: Clock
) -> None:
    ids = []
    for kind in ("printer", "network", "printer"):
        r = client.post(
            "/api/v1/faults",
            json={"kind": kind, "asset_name": kind, "description": "坏了"},
            headers=as_role["clerk"],
        )
        ids.append(r.json()["fault_id"])
        clock.advance(days=1)
    client.post(
        f"/api/v1/faults/{ids[0]}/cancel", json={"reason": "误报"}, headers=as_role["manager"]
    )

    def got(query: str) -> list[str]:
        r = client.get(f"/api/v1/faults{query}", headers=as_role["tech"])
        assert r.status_code == 200, r.text
        return [i["fault_id"] for i in r.json()["items"]]

    assert got("") == ids[::-1]
    assert got("?kind=printer") == [ids[2], ids[0]]
    assert got("?open=true") == [ids[2], ids[1]]
    assert got("?status=cancelled") == [ids[0]]
    assert got("?from=2026-11-27&to=2026-11-27") == [ids[1]]
    page = client.get("/api/v1/faults?limit=1&offset=1", headers=as_role["tech"]).json()
    assert page["items"][0]["fault_id"] == ids[1] and page["next_offset"] == 2
    r = client.get("/api/v1/faults?kind=toaster", headers=as_role["tech"])
    assert r.status_code == 400 and r.json()["code"] == "validation_failed"


def test_fault_input_errors(client: TestClient[Any], as_role: Headers) -> None:
    r = client.post(
        "/api/v1/faults",
        json={"kind": "toaster", "asset_name": "x", "description": "y"},
        headers=as_role["clerk"],
    )
    assert r.status_code == 400
    assert any("kind" in (e["field"] or "") + e["message"] for e in r.json()["errors"])
    r = client.post(
        "/api/v1/faults",
        json={"kind": "pc", "asset_name": "x", "description": "   "},
        headers=as_role["clerk"],
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "description"
    r = client.get(f"/api/v1/faults/{UUID(int=5)}", headers=as_role["clerk"])
    assert r.status_code == 404 and r.json()["code"] == "not_found"


# ---------------------------------------------------------------- fire safety


def test_fire_drills_and_inspections(client: TestClient[Any], as_role: Headers) -> None:
    people = [user_id(client, as_role[r]) for r in ("clerk", "greeter")]
    drill = {
        "day": "2026-11-20",
        "start_time": "09:00:00",
        "end_time": "09:20:00",
        "scenario": "后仓起火疏散",
        "participants": people,
        "conducted_by": "商场消防员",
        "findings": "疏散顺利",
    }
    r = client.post("/api/v1/fire-drills", json=drill, headers=as_role["admin"])
    assert r.status_code == 201, r.text
    assert r.json()["duration_min"] == 20 and sorted(r.json()["participants"]) == sorted(people)
    drill_id = r.json()["drill_id"]
    r = client.post(
        "/api/v1/fire-drills", json={**drill, "end_time": "08:00:00"}, headers=as_role["admin"]
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "end_time"
    r = client.post(
        "/api/v1/fire-drills", json={**drill, "day": "2026-11-27"}, headers=as_role["admin"]
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "day"

    page = client.get("/api/v1/fire-drills?from=2026-11-01&to=2026-11-30", headers=as_role["clerk"])
    assert [d["drill_id"] for d in page.json()["items"]] == [drill_id]
    assert (
        client.get("/api/v1/fire-drills?from=2026-12-01", headers=as_role["clerk"]).json()["total"]
        == 0
    )
    assert (
        client.get(f"/api/v1/fire-drills/{drill_id}", headers=as_role["clerk"]).status_code == 200
    )

    r = client.post(
        "/api/v1/fire-inspections",
        json={"day": TODAY, "inspector": "李主管", "passed": False},
        headers=as_role["admin"],
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "issues"
    r = client.post(
        "/api/v1/fire-inspections",
        json={"day": TODAY, "inspector": "李主管", "passed": False, "issues": ["灭火器过期"]},
        headers=as_role["admin"],
    )
    assert r.status_code == 201
    inspection_id = r.json()["inspection_id"]
    client.post(
        "/api/v1/fire-inspections",
        json={"day": "2026-11-01", "inspector": "李主管", "passed": True},
        headers=as_role["manager"],
    )
    failed = client.get("/api/v1/fire-inspections?passed=false", headers=as_role["clerk"]).json()
    assert [i["inspection_id"] for i in failed["items"]] == [inspection_id]
    assert client.get("/api/v1/fire-inspections", headers=as_role["clerk"]).json()["total"] == 2
    one = client.get(f"/api/v1/fire-inspections/{inspection_id}", headers=as_role["clerk"])
    assert one.json()["issues"] == ["灭火器过期"]


def test_store_local_times_with_a_utc_offset_are_refused(
    client: TestClient[Any], as_role: Headers
) -> None:
    people = [user_id(client, as_role["clerk"])]
    drill = {
        "day": TODAY,
        "start_time": "07:00:00+08:00",
        "end_time": "07:20:00",
        "scenario": "疏散",
        "participants": people,
        "conducted_by": "x",
    }
    for field, body in (
        ("body.start_time", drill),
        ("body.end_time", {**drill, "start_time": "07:00:00", "end_time": "07:20:00Z"}),
    ):
        r = client.post("/api/v1/fire-drills", json=body, headers=as_role["admin"])
        assert (r.status_code, r.json()["errors"][0]["field"]) == (400, field)
    training = {
        "topic": "x",
        "kind": "privacy",
        "day": TODAY,
        "start_time": "07:00:00+08:00",
        "duration_min": 30,
        "trainer": "t",
        "invited": people,
    }
    r = client.post("/api/v1/trainings", json=training, headers=as_role["admin"])
    assert (r.status_code, r.json()["errors"][0]["field"]) == (400, "body.start_time")
    assert client.get("/api/v1/trainings", headers=as_role["admin"]).json()["total"] == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/checklists",
        "/api/v1/faults",
        "/api/v1/fire-drills",
        "/api/v1/fire-inspections",
        "/api/v1/trainings",
    ],
)
def test_a_reversed_day_range_names_from(
    client: TestClient[Any], as_role: Headers, path: str
) -> None:
    r = client.get(f"{path}?from=2026-11-27&to=2026-11-26", headers=as_role["admin"])
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "query.from")


# ---------------------------------------------------------------- training


def _plan(client: TestClient[Any], as_role: Headers, invited: list[str], **kw: Any) -> Any:
    body = {
        "topic": "个人信息保护",
        "kind": "privacy",
        "day": TODAY,
        "start_time": "08:10:00",
        "duration_min": 40,
        "trainer": "区域培训师",
        "invited": invited,
        **kw,
    }
    r = client.post("/api/v1/trainings", json=body, headers=as_role["admin"])
    assert r.status_code == 201, r.text
    return r.json()


def test_training_flow_and_monthly_attendance(client: TestClient[Any], as_role: Headers) -> None:
    clerk, greeter = user_id(client, as_role["clerk"]), user_id(client, as_role["greeter"])
    session = _plan(client, as_role, [clerk, greeter])
    assert session["status"] == "planned" and session["invited_count"] == 2
    url = f"/api/v1/trainings/{session['session_id']}"

    r = client.post(
        f"{url}/attendance",
        json={"entries": [{"user_id": clerk, "status": "present"}]},
        headers=as_role["admin"],
    )
    assert r.status_code == 200
    r = client.post(f"{url}/complete", headers=as_role["admin"])
    assert r.status_code == 409 and r.json()["extra"]["missing"] == [greeter]
    client.post(
        f"{url}/attendance",
        json={"entries": [{"user_id": greeter, "status": "excused", "note": "病假"}]},
        headers=as_role["manager"],
    )
    r = client.post(f"{url}/complete", headers=as_role["admin"])
    assert r.status_code == 200 and (r.json()["present"], r.json()["excused"]) == (1, 1)
    r = client.post(f"{url}/cancel", json={"reason": "x"}, headers=as_role["admin"])
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"

    other = _plan(client, as_role, [clerk], kind="fire_safety", day="2026-11-28")
    listed = client.get("/api/v1/trainings?kind=privacy", headers=as_role["clerk"]).json()
    assert [s["session_id"] for s in listed["items"]] == [session["session_id"]]
    later = client.get("/api/v1/trainings?from=2026-11-27", headers=as_role["clerk"]).json()
    assert [s["session_id"] for s in later["items"]] == [other["session_id"]]

    r = client.get("/api/v1/trainings/monthly-attendance", headers=as_role["admin"])
    assert r.status_code == 200, r.text
    by_name = {row["username"]: row for row in r.json()["items"]}
    assert by_name["clerk1"]["month"] == "2026-11"
    assert (by_name["clerk1"]["sessions"], by_name["clerk1"]["present"]) == (2, 1)
    assert by_name["clerk1"]["unrecorded"] == 1 and by_name["clerk1"]["minutes_trained"] == 40
    assert by_name["greeter1"]["excused"] == 1 and by_name["tech1"]["sessions"] == 0
    r = client.get(
        f"/api/v1/trainings/monthly-attendance?month=2026-11&user_id={clerk}&kind=privacy",
        headers=as_role["manager"],
    )
    assert [row["sessions"] for row in r.json()["items"]] == [1]
    r = client.get("/api/v1/trainings/monthly-attendance?month=2026-13", headers=as_role["admin"])
    assert r.status_code == 400 and r.json()["code"] == "validation_failed"
    r = client.get("/api/v1/trainings/monthly-attendance?month=0000-01", headers=as_role["admin"])
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "query.month")
    r = client.get("/api/v1/trainings/monthly-attendance?month=9999-12", headers=as_role["admin"])
    assert r.status_code == 200 and r.json()["items"][0]["month"] == "9999-12"


def test_training_input_errors(client: TestClient[Any], as_role: Headers) -> None:
    r = client.post(
        "/api/v1/trainings",
        json={
            "topic": "x",
            "kind": "privacy",
            "day": TODAY,
            "start_time": "08:00:00",
            "duration_min": 30,
            "trainer": "t",
            "invited": [str(UUID(int=9))],
        },
        headers=as_role["admin"],
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "invited"
    r = client.post(f"/api/v1/trainings/{UUID(int=9)}/complete", headers=as_role["admin"])
    assert r.status_code == 404


# ---------------------------------------------------------------- roles


ALL = {"greeter", "clerk", "tech", "admin", "manager"}
X = str(UUID(int=42))  # an id that exists nowhere: allowed roles get 404/409, never 401/403
ENDPOINTS: list[tuple[str, str, Any, set[str]]] = [
    ("POST", "/api/v1/checklists", None, {"tech", "admin", "manager"}),
    ("GET", "/api/v1/checklists", None, ALL),
    ("GET", "/api/v1/checklists/today", None, ALL),
    ("GET", f"/api/v1/checklists/{TODAY}", None, ALL),
    ("POST", f"/api/v1/checklists/{X}/items/pos/check", {"ok": True}, ALL),
    ("POST", f"/api/v1/checklists/{X}/complete", None, {"admin", "manager"}),
    ("POST", "/api/v1/faults", {"kind": "pc", "asset_name": "PC", "description": "蓝屏"}, ALL),
    ("GET", "/api/v1/faults", None, ALL),
    ("GET", f"/api/v1/faults/{X}", None, ALL),
    ("POST", f"/api/v1/faults/{X}/start-repair", {}, {"tech", "manager"}),
    ("POST", f"/api/v1/faults/{X}/repair", {"resolution": "ok"}, {"tech", "manager"}),
    ("POST", f"/api/v1/faults/{X}/reopen", {"reason": "again"}, {"tech", "manager"}),
    ("POST", f"/api/v1/faults/{X}/cancel", {"reason": "oops"}, {"manager"}),
    ("POST", "/api/v1/fire-drills", {}, {"admin", "manager"}),
    ("GET", "/api/v1/fire-drills", None, ALL),
    ("GET", f"/api/v1/fire-drills/{X}", None, ALL),
    ("POST", "/api/v1/fire-inspections", {}, {"admin", "manager"}),
    ("GET", "/api/v1/fire-inspections", None, ALL),
    ("GET", f"/api/v1/fire-inspections/{X}", None, ALL),
    ("POST", "/api/v1/trainings", {}, {"admin", "manager"}),
    ("GET", "/api/v1/trainings", None, ALL),
    ("GET", f"/api/v1/trainings/{X}", None, ALL),
    ("GET", "/api/v1/trainings/monthly-attendance", None, {"admin", "manager"}),
    ("POST", f"/api/v1/trainings/{X}/attendance", {"entries": []}, {"admin", "manager"}),
    ("POST", f"/api/v1/trainings/{X}/complete", None, {"admin", "manager"}),
    ("POST", f"/api/v1/trainings/{X}/cancel", {"reason": "x"}, {"admin", "manager"}),
]


@pytest.fixture(scope="module")
def shared_node(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient[Any], Headers]]:
    """One node with a login per role, shared by the role matrix: guards do not depend on
    state, and logging five people in per case would dominate the suite's run time."""
    data = tmp_path_factory.mktemp("ops-roles") / "node"
    init_store(
        data,
        store_id=STORE_ID,
        name="权限测试厅",
        region="east",
        tz=TZ,
        manager=MANAGER,
        manager_password=MANAGER_PASSWORD,
    )
    with TestClient(app=create_app(data, clock=Clock())) as c:
        headers = {"manager": login(c, MANAGER, MANAGER_PASSWORD)}
        for role in sorted(ALL - {"manager"}):
            staff = {
                "username": f"{role}1",
                "display_name": role,
                "role": role,
                "password": STAFF_PASSWORD,
            }
            r = c.post("/api/v1/staff", json=staff, headers=headers["manager"])
            assert r.status_code == 201, r.text
            headers[role] = login(c, f"{role}1", STAFF_PASSWORD)
        yield c, headers


@pytest.mark.parametrize("role", [*sorted(ALL), "anonymous"])
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS]
)
def test_role_matrix(
    shared_node: tuple[TestClient[Any], Headers],
    method: str,
    path: str,
    body: Any,
    allowed: set[str],
    role: str,
) -> None:
    client, as_role = shared_node
    r = client.request(method, path, json=body, headers=as_role.get(role, {}))
    if role == "anonymous":
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    elif role in allowed:
        assert r.status_code not in (401, 403), (r.status_code, r.text)
    else:
        assert r.status_code == 403, (r.status_code, r.text)
        assert r.json()["code"] == "forbidden"


def test_ops_routes_are_documented(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in (
        "/api/v1/checklists/{checklist_id}/items/{code}/check",
        "/api/v1/faults/{fault_id}/start-repair",
        "/api/v1/fire-drills",
        "/api/v1/fire-inspections",
        "/api/v1/trainings/monthly-attendance",
    ):
        assert path in paths


# ---------------------------------------------------------------- replay


def test_replay_rebuilds_ops_tables(
    client: TestClient[Any], as_role: Headers, clock: Clock, data_dir: Path
) -> None:
    """A realistic day, then the projections must come out identical from the log alone."""
    clerk, tech = user_id(client, as_role["clerk"]), user_id(client, as_role["tech"])
    clock.now = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # 07:30 local
    cl = client.post("/api/v1/checklists", headers=as_role["tech"]).json()
    base = f"/api/v1/checklists/{cl['checklist_id']}"
    fault = client.post(
        "/api/v1/faults",
        json={
            "kind": "pos",
            "asset_name": "2号窗口POS",
            "description": "无法刷卡",
            "severity": "high",
        },
        headers=as_role["tech"],
    ).json()
    for item in cl["items"]:
        ok = item["code"] != "pos"
        body = {
            "ok": ok,
            "note": "" if ok else "无法刷卡",
            "fault_id": None if ok else fault["fault_id"],
        }
        clock.advance(minutes=1)
        client.post(f"{base}/items/{item['code']}/check", json=body, headers=as_role["clerk"])
    client.post(f"{base}/complete", headers=as_role["admin"]).raise_for_status()

    furl = f"/api/v1/faults/{fault['fault_id']}"
    clock.advance(minutes=20)
    client.post(f"{furl}/start-repair", json={}, headers=as_role["tech"]).raise_for_status()
    clock.advance(hours=1)
    client.post(f"{furl}/repair", json={"resolution": "换读卡器"}, headers=as_role["tech"])
    client.post(f"{furl}/reopen", json={"reason": "又坏"}, headers=as_role["tech"])
    other = client.post(
        "/api/v1/faults",
        json={"kind": "aircon", "asset_name": "空调", "description": "不制冷"},
        headers=as_role["greeter"],
    ).json()
    client.post(
        f"/api/v1/faults/{other['fault_id']}/cancel",
        json={"reason": "误报"},
        headers=as_role["manager"],
    ).raise_for_status()

    client.post(
        "/api/v1/fire-drills",
        json={
            "day": TODAY,
            "start_time": "08:00:00",
            "end_time": "08:15:00",
            "scenario": "疏散",
            "participants": [clerk, tech],
            "conducted_by": "厅长",
        },
        headers=as_role["admin"],
    ).raise_for_status()
    client.post(
        "/api/v1/fire-inspections",
        json={"day": TODAY, "inspector": "李", "passed": False, "issues": ["通道堵塞"]},
        headers=as_role["admin"],
    ).raise_for_status()

    session = _plan(client, as_role, [clerk, tech])
    surl = f"/api/v1/trainings/{session['session_id']}"
    client.post(
        f"{surl}/attendance",
        json={
            "entries": [
                {"user_id": clerk, "status": "absent"},
                {"user_id": tech, "status": "present"},
            ]
        },
        headers=as_role["admin"],
    ).raise_for_status()
    client.post(
        f"{surl}/attendance",
        json={"entries": [{"user_id": clerk, "status": "present", "note": "迟到5分钟"}]},
        headers=as_role["admin"],
    ).raise_for_status()
    client.post(f"{surl}/complete", headers=as_role["admin"]).raise_for_status()
    cancelled = _plan(client, as_role, [clerk], day="2026-11-30")
    client.post(
        f"/api/v1/trainings/{cancelled['session_id']}/cancel",
        json={"reason": "改期"},
        headers=as_role["admin"],
    ).raise_for_status()

    assert_replay_matches(data_dir, list(TABLES))
