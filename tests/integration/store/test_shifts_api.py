"""Shift planning and attendance over HTTP, on a store node whose clock the tests move."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from schema.tables.shifts import attendance_breaks, attendance_records, shifts
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

ZONE = ZoneInfo(TZ)
DAY = date(2026, 11, 26)
Headers = dict[str, dict[str, str]]


def local(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


@dataclass
class Clock:
    """The node's wall clock, set by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(local(7, 0))


@pytest.fixture
def client(data_dir: Path, clock: Clock) -> Iterator[TestClient[Any]]:
    """The store node app with the test's clock (overrides the shared fixture)."""
    with TestClient(app=create_app(data_dir, clock=clock)) as c:
        yield c


@pytest.fixture
def ids(client: TestClient[Any], as_role: Headers) -> dict[str, str]:
    """User id of the logged-in staff member of each role."""
    return {
        role: client.get("/api/v1/auth/me", headers=h).json()["user_id"]
        for role, h in as_role.items()
    }


def shift(user_id: str, start: str = "09:00:00", end: str = "17:00:00", **extra: Any) -> Any:
    return {
        "user_id": user_id,
        "day": extra.pop("day", DAY.isoformat()),
        "start_time": start,
        "end_time": end,
        **extra,
    }


def plan(client: TestClient[Any], as_role: Headers, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/v1/shifts", json=body, headers=as_role["manager"])
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


# ---------------------------------------------------------------- planning


def test_plan_change_cancel_a_shift(
    client: TestClient[Any], as_role: Headers, ids: dict[str, str]
) -> None:
    s = plan(client, as_role, shift(ids["clerk"], window="A1", note="新人带教"))
    assert (s["status"], s["window"], s["starts_at"]) == ("planned", "A1", "2026-11-26T01:00:00Z")
    sid = s["shift_id"]
    r = client.patch(
        f"/api/v1/shifts/{sid}",
        json={"end_time": "18:00:00", "window": None},
        headers=as_role["manager"],
    )
    assert r.status_code == 200, r.text
    assert (r.json()["end_time"], r.json()["window"], r.json()["note"]) == (
        "18:00:00",
        None,
        "新人带教",
    )
    r = client.post(
        f"/api/v1/shifts/{sid}/cancel", json={"reason": "调休"}, headers=as_role["manager"]
    )
    assert (r.status_code, r.json()["status"]) == (200, "cancelled")
    r = client.post(f"/api/v1/shifts/{sid}/cancel", json={}, headers=as_role["manager"])
    assert r.status_code == 409
    assert r.json()["code"] == "illegal_transition"
    assert r.json()["extra"]["state"] == "cancelled"
    assert client.get(f"/api/v1/shifts/{sid}", headers=as_role["clerk"]).json()["status"] == (
        "cancelled"
    )


def test_a_shift_for_hours_already_gone_needs_a_backdated_plan(
    client: TestClient[Any], as_role: Headers, ids: dict[str, str], clock: Clock
) -> None:
    """Planned at 13:00 for 08:00–12:00 today: refused, unless the manager back-dates it on
    purpose; and a back-dated (or any) plan made by mistake can be cancelled."""
    clock.now = local(13)
    m = as_role["manager"]
    body = shift(ids["tech"], "08:00:00", "12:00:00")
    r = client.post("/api/v1/shifts", json=body, headers=m)
    assert (r.status_code, r.json()["code"]) == (422, "shift_in_past")
    assert r.json()["errors"][0]["field"] == "start_time"
    assert "backdated" in r.json()["detail"]
    r = client.post("/api/v1/shifts/bulk", json={"shifts": [body]}, headers=m)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "shifts[0].start_time")
    yesterday = {**body, "day": (DAY - timedelta(days=1)).isoformat()}
    r = client.post("/api/v1/shifts", json=yesterday, headers=m)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "day")
    assert client.get("/api/v1/shifts", headers=m).json()["total"] == 0  # nothing recorded

    backdated = plan(client, as_role, {**body, "backdated": True})
    assert backdated["status"] == "absent"
    assert client.get("/api/v1/attendance/today", headers=m).json()["absent"] == 1
    r = client.post(f"/api/v1/shifts/{backdated['shift_id']}/cancel", json={}, headers=m)
    assert (r.status_code, r.json()["status"]) == (200, "cancelled")
    assert client.get("/api/v1/attendance/today", headers=m).json()["absent"] == 0


def test_cancelling_a_worked_shift_keeps_the_hours_as_unplanned_work(
    client: TestClient[Any], as_role: Headers, ids: dict[str, str], clock: Clock
) -> None:
    m, clerk = as_role["manager"], as_role["clerk"]
    wrong = plan(client, as_role, shift(ids["clerk"], "08:00:00", "12:00:00"))  # meant 13:00
    clock.now = local(10)
    r = client.post("/api/v1/attendance/clock-in", json={}, headers=clerk)
    assert r.json()["late_minutes"] == 120
    r = client.post(f"/api/v1/shifts/{wrong['shift_id']}/cancel", json={}, headers=m)
    assert (r.status_code, r.json()["status"]) == (200, "cancelled")
    rows = client.get("/api/v1/attendance", headers=m).json()["items"]
    assert [(x["username"], x["status"], x["late_minutes"]) for x in rows] == [
        ("clerk1", "unplanned", 0)
    ]
    clock.now = local(11)
    out = client.post("/api/v1/attendance/clock-out", json={}, headers=clerk).json()
    assert (out["early_minutes"], out["worked_minutes"]) == (0, 60)


def test_plan_errors_are_problem_details(
    client: TestClient[Any], as_role: Headers, ids: dict[str, str]
) -> None:
    m = as_role["manager"]
    r = client.post("/api/v1/shifts", json=shift(ids["clerk"], "07:00:00"), headers=m)
    assert r.status_code == 422
    assert r.json()["code"] == "validation_failed"
    assert r.json()["errors"][0]["field"] == "start_time"
    r = client.post("/api/v1/shifts", json=shift(ids["clerk"], end="21:00:00"), headers=m)
    assert r.json()["errors"][0]["field"] == "end_time"
    r = client.post("/api/v1/shifts", json=shift(ids["clerk"], "9am"), headers=m)
    assert (r.status_code, r.json()["code"]) == (400, "validation_failed")
    assert "start_time" in r.json()["detail"]
    r = client.post("/api/v1/shifts", json=shift(ids["clerk"], window="A 1"), headers=m)
    assert r.status_code == 400 and "window" in r.json()["detail"]
    plan(client, as_role, shift(ids["clerk"]))
    r = client.post("/api/v1/shifts", json=shift(ids["clerk"], "16:00:00", "20:00:00"), headers=m)
    assert (r.status_code, r.json()["code"]) == (409, "shift_overlap")
    r = client.get(f"/api/v1/shifts/{UUID(int=1)}", headers=m)
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


def test_bulk_week_then_list_with_filters_and_paging(
    client: TestClient[Any], as_role: Headers, ids: dict[str, str]
) -> None:
    week = [DAY + timedelta(days=i) for i in range(7)]
    body = {
        "shifts": [
            shift(ids[p], "08:00:00", "14:00:00", day=d.isoformat(), window=w)
            for d in week
            for p, w in (("clerk", "A1"), ("greeter", "G"))
        ]
    }
    r = client.post("/api/v1/shifts/bulk", json=body, headers=as_role["manager"])
    assert r.status_code == 201, r.text
    assert len(r.json()["items"]) == 14
    h = as_role["greeter"]
    page = client.get("/api/v1/shifts?limit=5", headers=h).json()
    assert (page["total"], len(page["items"]), page["next_offset"]) == (14, 5, 5)
    assert page["items"][0]["day"] == DAY.isoformat()
    r = client.get("/api/v1/shifts?from=2026-11-28&to=2026-11-29&window=A1", headers=h)
    assert [s["day"] for s in r.json()["items"]] == ["2026-11-28", "2026-11-29"]
    r = client.get(f"/api/v1/shifts?day=2026-11-27&user_id={ids['greeter']}", headers=h)
    assert r.json()["total"] == 1
    assert client.get("/api/v1/shifts?status=planned", headers=h).json()["total"] == 14
    r = client.get("/api/v1/shifts?day=2026-11-27&from=2026-11-27", headers=h)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "query.day")
    for path in ("/api/v1/shifts", "/api/v1/attendance"):
        r = client.get(f"{path}?from=2026-11-29&to=2026-11-27", headers=h)
        assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "query.from"), path
    bad = {"shifts": [shift(ids["tech"]), shift(ids["tech"], "10:00:00", "12:00:00")]}
    r = client.post("/api/v1/shifts/bulk", json=bad, headers=as_role["manager"])
    assert (r.status_code, r.json()["errors"][0]["field"]) == (409, "shifts[1].start_time")
    r = client.get(f"/api/v1/shifts?user_id={ids['tech']}", headers=h)
    assert r.json()["total"] == 0  # nothing of the refused batch was kept


def test_swap_over_http(client: TestClient[Any], as_role: Headers, ids: dict[str, str]) -> None:
    a = plan(client, as_role, shift(ids["clerk"], "08:00:00", "14:00:00"))
    b = plan(client, as_role, shift(ids["admin"], "14:00:00", "20:30:00"))
    r = client.post(
        "/api/v1/shifts/swap",
        json={"first_shift_id": a["shift_id"], "second_shift_id": b["shift_id"]},
        headers=as_role["manager"],
    )
    assert r.status_code == 200, r.text
    assert (r.json()["first"]["username"], r.json()["second"]["username"]) == ("admin1", "clerk1")


def test_times_of_day_with_a_utc_offset_are_refused_naming_the_field(
    client: TestClient[Any], as_role: Headers, ids: dict[str, str]
) -> None:
    """A shift's times are store-local wall-clock times: an offset would be silently wrong."""
    m = as_role["manager"]
    r = client.post("/api/v1/shifts", json=shift(ids["clerk"], "07:00:00+08:00"), headers=m)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (400, "body.start_time")
    bulk = {"shifts": [shift(ids["clerk"], "09:00:00", "12:00:00Z")]}
    r = client.post("/api/v1/shifts/bulk", json=bulk, headers=m)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (400, "body.shifts[0].end_time")
    sid = plan(client, as_role, shift(ids["clerk"]))["shift_id"]
    r = client.patch(f"/api/v1/shifts/{sid}", json={"end_time": "18:00:00+00:00"}, headers=m)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (400, "body.end_time")
    assert client.get(f"/api/v1/shifts/{sid}", headers=m).json()["end_time"] == "17:00:00"


def test_bodies_with_only_defaults_may_be_left_out(
    client: TestClient[Any], as_role: Headers, ids: dict[str, str], clock: Clock
) -> None:
    h, m = as_role["clerk"], as_role["manager"]
    sid = plan(client, as_role, shift(ids["clerk"], "09:00:00", "17:00:00"))["shift_id"]
    r = client.patch(f"/api/v1/shifts/{sid}", headers=m)  # nothing to change
    assert (r.status_code, r.json()["end_time"]) == (200, "17:00:00")
    other = plan(client, as_role, shift(ids["tech"]))["shift_id"]
    r = client.post(f"/api/v1/shifts/{other}/cancel", headers=m)
    assert (r.status_code, r.json()["status"], r.json()["cancel_reason"]) == (
        200,
        "cancelled",
        None,
    )
    clock.now = local(9)
    r = client.post("/api/v1/attendance/clock-in", headers=h)
    assert (r.status_code, r.json()["clock_in_by"]) == (201, "clerk1")  # a record is created
    clock.now = local(12)
    r = client.post("/api/v1/attendance/breaks/start", headers=h)
    assert (r.status_code, r.json()["on_break"]) == (200, True)
    clock.now = local(12, 30)
    r = client.post("/api/v1/attendance/breaks/end", headers=h)
    assert (r.status_code, r.json()["break_minutes"]) == (200, 30)
    clock.now = local(17)
    r = client.post("/api/v1/attendance/clock-out", headers=h)
    assert (r.status_code, r.json()["worked_minutes"]) == (200, 450)


# ---------------------------------------------------------------- attendance


def test_a_working_day_of_a_clerk(
    client: TestClient[Any], as_role: Headers, ids: dict[str, str], clock: Clock
) -> None:
    h = as_role["clerk"]
    plan(client, as_role, shift(ids["clerk"], "09:00:00", "17:00:00"))
    clock.now = local(9, 12)
    r = client.post("/api/v1/attendance/clock-in", json={}, headers=h)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert (rec["late_minutes"], rec["clock_in_by"]) == (12, "clerk1")
    r = client.post("/api/v1/attendance/clock-in", json={}, headers=h)
    assert (r.status_code, r.json()["code"]) == (409, "illegal_transition")
    clock.now = local(12)
    assert client.post("/api/v1/attendance/breaks/start", json={}, headers=h).json()["on_break"]
    r = client.post("/api/v1/attendance/breaks/start", json={}, headers=h)
    assert (r.status_code, r.json()["extra"]["state"]) == (409, "on_break")
    current = client.get("/api/v1/attendance/current", headers=h).json()
    assert current["clocked_in"] and current["on_break"]
    assert current["shifts_today"][0]["status"] == "started"
    clock.now = local(12, 40)
    r = client.post("/api/v1/attendance/breaks/end", json={}, headers=h)
    assert r.json()["break_minutes"] == 40
    clock.now = local(16, 50)
    out = client.post("/api/v1/attendance/clock-out", json={}, headers=h).json()
    assert (out["early_minutes"], out["worked_minutes"]) == (10, 418)
    r = client.post("/api/v1/attendance/clock-out", json={}, headers=h)
    assert (r.status_code, r.json()["extra"]["state"]) == (409, "clocked_out")
    r = client.post(
        f"/api/v1/attendance/{rec['attendance_id']}/reason",
        json={"kind": "late", "reason": "地铁故障"},
        headers=h,
    )
    assert (r.status_code, r.json()["late_reason"]) == (200, "地铁故障")
    r = client.post(
        f"/api/v1/attendance/{rec['attendance_id']}/reason",
        json={"kind": "late", "reason": "not mine"},
        headers=as_role["greeter"],
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = client.post(
        f"/api/v1/attendance/{rec['attendance_id']}/reason",
        json={"kind": "sick", "reason": "x"},
        headers=h,
    )
    assert r.status_code == 400 and "kind" in r.json()["detail"]
    day = client.get("/api/v1/attendance", headers=h).json()
    assert day["total"] == 1
    row = day["items"][0]
    assert (row["status"], row["late_minutes"], row["early_minutes"]) == (
        "late_and_early_leave",
        12,
        10,
    )
    assert (row["worked_minutes"], row["break_minutes"], row["late_reason"]) == (
        418,
        40,
        "地铁故障",
    )


def test_manager_acts_for_staff_with_a_reason(
    client: TestClient[Any], as_role: Headers, ids: dict[str, str], clock: Clock
) -> None:
    body: dict[str, Any] = {"user_id": ids["greeter"]}
    r = client.post("/api/v1/attendance/clock-in", json=body, headers=as_role["clerk"])
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = client.post("/api/v1/attendance/clock-in", json=body, headers=as_role["manager"])
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "reason")
    body["reason"] = "平板没电"
    r = client.post("/api/v1/attendance/clock-in", json=body, headers=as_role["manager"])
    assert (r.status_code, r.json()["clock_in_note"], r.json()["shift_id"]) == (
        201,
        "平板没电",
        None,
    )
    clock.now = local(8, day=DAY + timedelta(days=1))
    body |= {"reason": "忘记签退", "at": local(18).isoformat()}
    r = client.post("/api/v1/attendance/clock-out", json=body, headers=as_role["manager"])
    assert (r.status_code, r.json()["worked_minutes"]) == (200, 660)
    assert r.json()["clock_out_by"] == "manager"


def test_attendance_reads_by_day_status_and_month(
    client: TestClient[Any], as_role: Headers, ids: dict[str, str], clock: Clock
) -> None:
    for role in ("clerk", "greeter", "tech"):
        plan(client, as_role, shift(ids[role], "08:00:00", "12:00:00"))
    clock.now = local(8, 3)
    client.post("/api/v1/attendance/clock-in", json={}, headers=as_role["clerk"])
    clock.now = local(8, 30)
    client.post("/api/v1/attendance/clock-in", json={}, headers=as_role["greeter"])
    clock.now = local(13)
    m = as_role["manager"]
    rows = client.get("/api/v1/attendance", headers=m).json()["items"]
    assert sorted((r["username"], r["status"]) for r in rows) == [
        ("clerk1", "on_time"),
        ("greeter1", "late"),
        ("tech1", "absent"),
    ]
    r = client.get("/api/v1/attendance?status=absent", headers=m).json()
    assert [x["username"] for x in r["items"]] == ["tech1"]
    assert client.get("/api/v1/attendance?day=2026-11-27", headers=m).json()["total"] == 0
    assert client.get("/api/v1/attendance?limit=2", headers=m).json()["next_offset"] == 2
    today = client.get("/api/v1/attendance/today", headers=m).json()
    assert {k: today[k] for k in ("planned", "clocked_in", "late", "absent", "working_now")} == {
        "planned": 3,
        "clocked_in": 2,
        "late": 1,
        "absent": 1,
        "working_now": 2,
    }
    summary = client.get("/api/v1/attendance/summary?month=2026-11", headers=m).json()
    by = {s["username"]: s for s in summary["items"]}
    assert (by["greeter1"]["late_count"], by["tech1"]["absences"]) == (1, 1)
    own = client.get("/api/v1/attendance/summary", headers=as_role["tech"]).json()
    assert [s["username"] for s in own["items"]] == ["tech1"]
    r = client.get(f"/api/v1/attendance?user_id={ids['clerk']}", headers=as_role["tech"])
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = client.get("/api/v1/attendance/summary?month=2026-13", headers=m)
    assert r.status_code == 400
    # A month of the right shape that is no month is refused naming it, never a 500.
    r = client.get("/api/v1/attendance/summary?month=0000-01", headers=m)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "query.month")
    r = client.get("/api/v1/attendance/summary?month=2026-11%0A", headers=m)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (400, "query.month")
    r = client.get("/api/v1/attendance/summary?month=9999-12", headers=m)
    assert (r.status_code, r.json()["total"]) == (200, 0)
    # The absent person explains afterwards.
    tech_shift = client.get(f"/api/v1/shifts?user_id={ids['tech']}", headers=m).json()["items"][0]
    assert tech_shift["status"] == "absent"
    r = client.post(
        f"/api/v1/shifts/{tech_shift['shift_id']}/absence-reason",
        json={"reason": "急诊"},
        headers=as_role["tech"],
    )
    assert (r.status_code, r.json()["absence_reason"]) == (200, "急诊")


def test_a_retried_clock_in_is_answered_once(
    client: TestClient[Any], as_role: Headers, clock: Clock
) -> None:
    """An offline tablet retrying with the same Idempotency-Key must not hit "already in"."""
    h = {**as_role["clerk"], "Idempotency-Key": "clock-in-1"}
    first = client.post("/api/v1/attendance/clock-in", json={}, headers=h)
    again = client.post("/api/v1/attendance/clock-in", json={}, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()


# ---------------------------------------------------------------- roles

NOBODY = str(UUID(int=1))
MANAGER_ONLY = ("manager",)
EVERYONE = ("greeter", "clerk", "tech", "admin", "manager")

ENDPOINTS: list[tuple[str, str, Any, tuple[str, ...]]] = [
    ("GET", "/api/v1/shifts", None, EVERYONE),
    ("GET", f"/api/v1/shifts/{NOBODY}", None, EVERYONE),
    ("POST", "/api/v1/shifts", {}, MANAGER_ONLY),
    ("POST", "/api/v1/shifts/bulk", {}, MANAGER_ONLY),
    ("PATCH", f"/api/v1/shifts/{NOBODY}", {}, MANAGER_ONLY),
    ("POST", f"/api/v1/shifts/{NOBODY}/cancel", {}, MANAGER_ONLY),
    ("POST", "/api/v1/shifts/swap", {}, MANAGER_ONLY),
    ("POST", f"/api/v1/shifts/{NOBODY}/absence-reason", {"reason": "x"}, EVERYONE),
    ("POST", "/api/v1/attendance/clock-in", {}, EVERYONE),
    ("POST", "/api/v1/attendance/clock-out", {}, EVERYONE),
    ("POST", "/api/v1/attendance/breaks/start", {}, EVERYONE),
    ("POST", "/api/v1/attendance/breaks/end", {}, EVERYONE),
    ("POST", f"/api/v1/attendance/{NOBODY}/reason", {"kind": "late", "reason": "x"}, EVERYONE),
    ("GET", f"/api/v1/attendance/{NOBODY}", None, EVERYONE),
    ("GET", "/api/v1/attendance", None, EVERYONE),
    ("GET", "/api/v1/attendance/summary", None, EVERYONE),
    ("GET", "/api/v1/attendance/current", None, EVERYONE),
    ("GET", "/api/v1/attendance/today", None, MANAGER_ONLY),
]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient[Any], Headers]]:
    """One node and one login per role shared by the whole matrix: the guards do not depend
    on state, and logging five people in per endpoint would dominate the suite's run time."""
    data_dir = tmp_path_factory.mktemp("matrix") / "node"
    init_store(
        data_dir,
        store_id=STORE_ID,
        name="矩阵营业厅",
        region="east",
        tz=TZ,
        manager=MANAGER,
        manager_password=MANAGER_PASSWORD,
    )
    with TestClient(app=create_app(data_dir, clock=Clock(local(9)))) as c:
        headers = {"manager": login(c, MANAGER, MANAGER_PASSWORD)}
        for role in EVERYONE[:-1]:
            body = {
                "username": f"{role}1",
                "display_name": role,
                "role": role,
                "password": STAFF_PASSWORD,
            }
            assert c.post("/api/v1/staff", json=body, headers=headers["manager"]).status_code == 201
            headers[role] = login(c, f"{role}1", STAFF_PASSWORD)
        yield c, headers


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS]
)
def test_role_matrix(
    matrix: tuple[TestClient[Any], Headers],
    method: str,
    path: str,
    body: Any,
    allowed: tuple[str, ...],
) -> None:
    """Each role gets past the guard of exactly the endpoints DOMAIN.md gives it."""
    client, as_role = matrix
    assert client.request(method, path, json=body).status_code == 401
    for role, headers in as_role.items():
        r = client.request(method, path, json=body, headers=headers)
        if role in allowed:
            assert r.status_code not in (401, 403), f"{role}: {r.status_code} {r.text}"
        else:
            assert r.status_code == 403, f"{role}: {r.status_code} {r.text}"
            assert r.json()["code"] == "forbidden"


# ---------------------------------------------------------------- replay


def test_replay_rebuilds_shift_tables(
    client: TestClient[Any], as_role: Headers, ids: dict[str, str], clock: Clock, data_dir: Path
) -> None:
    m = as_role["manager"]
    week = {
        "shifts": [
            shift(ids[p], "08:00:00", "14:00:00", day=(DAY + timedelta(days=i)).isoformat())
            for i in range(3)
            for p in ("clerk", "greeter", "admin")
        ]
    }
    items = client.post("/api/v1/shifts/bulk", json=week, headers=m).json()["items"]
    first, second = items[0]["shift_id"], items[1]["shift_id"]
    client.patch(f"/api/v1/shifts/{items[3]['shift_id']}", json={"window": "B2"}, headers=m)
    client.post(f"/api/v1/shifts/{items[4]['shift_id']}/cancel", json={}, headers=m)
    swap = {"first_shift_id": items[6]["shift_id"], "second_shift_id": items[7]["shift_id"]}
    assert client.post("/api/v1/shifts/swap", json=swap, headers=m).status_code == 200
    clock.now = local(8, 9)
    rec = client.post("/api/v1/attendance/clock-in", json={}, headers=as_role["clerk"]).json()
    assert rec["shift_id"] == first
    client.post("/api/v1/attendance/clock-in", json={}, headers=as_role["greeter"])
    client.post("/api/v1/attendance/clock-in", json={}, headers=as_role["tech"])
    clock.now = local(10)
    client.post("/api/v1/attendance/breaks/start", json={}, headers=as_role["clerk"])
    clock.now = local(10, 20)
    client.post("/api/v1/attendance/breaks/end", json={}, headers=as_role["clerk"])
    client.post("/api/v1/attendance/breaks/start", json={}, headers=as_role["greeter"])
    clock.now = local(13)
    client.post("/api/v1/attendance/clock-out", json={}, headers=as_role["clerk"])
    client.post("/api/v1/attendance/clock-out", json={}, headers=as_role["greeter"])
    client.post(
        f"/api/v1/attendance/{rec['attendance_id']}/reason",
        json={"kind": "late", "reason": "堵车"},
        headers=as_role["clerk"],
    )
    clock.now = local(15)
    client.post(
        f"/api/v1/shifts/{items[2]['shift_id']}/absence-reason",
        json={"reason": "病假"},
        headers=m,
    )
    states = client.get("/api/v1/shifts?day=2026-11-26", headers=m).json()["items"]
    assert {s["shift_id"]: s["status"] for s in states} == {
        first: "completed",
        second: "completed",
        items[2]["shift_id"]: "absent",
    }
    assert_replay_matches(data_dir, [shifts, attendance_records, attendance_breaks])
