"""The queue (排队叫号) over HTTP, on a store node whose clock the tests move."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from schema.tables.queue import queue_appointments, queue_tickets, queue_windows
from server.store.app import create_app
from tests.conftest import TZ, assert_replay_matches

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

    def tick(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock() -> Clock:
    return Clock(local(10))


@pytest.fixture
def client(data_dir: Path, clock: Clock) -> Iterator[TestClient[Any]]:
    """The store node app with the test's clock (overrides the shared fixture)."""
    app = create_app(data_dir, clock=clock)
    app.state.board.clock = clock
    with TestClient(app=app) as c:
        yield c


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def problem(r: Any, status: int, code: str) -> Any:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code, body
    return body


@pytest.fixture
def window(client: TestClient[Any], as_role: Headers) -> str:
    """Business window W1, opened by the clerk."""
    body = {"code": "W1", "name": "1号业务受理台", "kind": "business"}
    w = ok(client.post("/api/v1/queue/windows", json=body, headers=as_role["manager"]), 201)
    ok(client.post(f"/api/v1/queue/windows/{w['window_id']}/open", headers=as_role["clerk"]))
    return str(w["window_id"])


def issue(client: TestClient[Any], as_role: Headers, **body: Any) -> Any:
    body.setdefault("category", "new_line")
    return ok(client.post("/api/v1/queue/tickets", json=body, headers=as_role["greeter"]), 201)


# ---------------------------------------------------------------- happy paths


def test_a_visit_from_ticket_to_rating(
    client: TestClient[Any], as_role: Headers, clock: Clock, window: str
) -> None:
    clerk = as_role["clerk"]
    t = issue(client, as_role, customer_phone="138 1234 5678", vip=False)
    assert (t["number"], t["status"], t["customer_phone"], t["ahead"]) == (
        "B001",
        "waiting",
        "***********",
        0,
    )
    tid = t["ticket_id"]
    clock.tick(6)
    called = ok(client.post(f"/api/v1/queue/windows/{window}/call-next", headers=clerk))
    assert (called["ticket_id"], called["status"], called["wait_seconds"]) == (tid, "called", 360)
    assert called["window_code"] == "W1" and called["called_by"] == "clerk1"
    clock.tick(1)
    ok(client.post(f"/api/v1/queue/tickets/{tid}/recall", headers=clerk))
    serving = ok(client.post(f"/api/v1/queue/tickets/{tid}/start", headers=clerk))
    assert (serving["status"], serving["call_count"]) == ("serving", 2)
    clock.tick(10)
    done = ok(
        client.post(
            f"/api/v1/queue/tickets/{tid}/finish", json={"outcome": "completed"}, headers=clerk
        )
    )
    assert (done["status"], done["outcome"], done["service_seconds"]) == ("done", "completed", 600)
    rated = ok(
        client.post(
            f"/api/v1/queue/tickets/{tid}/rating",
            json={"score": 5, "comment": "很满意"},
            headers=as_role["greeter"],
        ),
    )
    assert (rated["score"], rated["comment"]) == (5, "很满意")
    got = ok(client.get(f"/api/v1/queue/tickets/{tid}", headers=clerk))
    assert got["served_by"] == "clerk1" and got["ahead"] is None


def test_window_lifecycle_over_http(client: TestClient[Any], as_role: Headers, window: str) -> None:
    clerk, m = as_role["clerk"], as_role["manager"]
    paused = ok(
        client.post(
            f"/api/v1/queue/windows/{window}/pause",
            json={"reason": "system_fault", "note": "打印机卡纸"},
            headers=clerk,
        )
    )
    assert (paused["status"], paused["pause_reason"]) == ("paused", "system_fault")
    issue(client, as_role)
    problem(
        client.post(f"/api/v1/queue/windows/{window}/call-next", headers=clerk),
        409,
        "illegal_transition",
    )
    ok(client.post(f"/api/v1/queue/windows/{window}/resume", headers=clerk))
    changed = ok(
        client.patch(
            f"/api/v1/queue/windows/{window}", json={"categories": ["consultation"]}, headers=m
        )
    )
    assert changed["categories"] == ["consultation"]
    problem(
        client.post(f"/api/v1/queue/windows/{window}/call-next", headers=clerk), 409, "queue_empty"
    )
    closed = ok(client.post(f"/api/v1/queue/windows/{window}/close", headers=clerk))
    assert (closed["status"], closed["staff"]) == ("closed", None)
    listed = ok(client.get("/api/v1/queue/windows?status=closed", headers=as_role["tech"]))
    assert [w["code"] for w in listed["items"]] == ["W1"]
    assert ok(client.get("/api/v1/queue/windows?status=open", headers=m))["total"] == 0


def test_transfer_and_cancel_over_http(
    client: TestClient[Any], as_role: Headers, window: str
) -> None:
    clerk = as_role["clerk"]
    first = issue(client, as_role, category="billing")
    second = issue(client, as_role)
    ok(client.post(f"/api/v1/queue/windows/{window}/call-next", headers=clerk))
    ok(client.post(f"/api/v1/queue/tickets/{first['ticket_id']}/start", headers=clerk))
    moved = ok(
        client.post(
            f"/api/v1/queue/tickets/{first['ticket_id']}/transfer",
            json={"category": "after_sales", "note": "转售后"},
            headers=clerk,
        )
    )
    assert (moved["status"], moved["category"], moved["transfer_count"]) == (
        "waiting",
        "after_sales",
        1,
    )
    gone = ok(
        client.post(
            f"/api/v1/queue/tickets/{second['ticket_id']}/cancel",
            json={"reason": "walkout"},
            headers=as_role["greeter"],
        )
    )
    assert gone["status"] == "cancelled"
    problem(
        client.post(f"/api/v1/queue/tickets/{second['ticket_id']}/cancel", json={}, headers=clerk),
        409,
        "illegal_transition",
    )


def test_appointment_book_check_in_and_no_show(
    client: TestClient[Any], as_role: Headers, clock: Clock, window: str
) -> None:
    g = as_role["greeter"]
    body = {
        "category": "plan_change",
        "slot_start": "2026-11-26T11:00:00",
        "customer_name": "李四",
        "customer_phone": "13912345678",
    }
    appt = ok(client.post("/api/v1/queue/appointments", json=body, headers=g), 201)
    assert (appt["customer_name"], appt["customer_phone"], appt["status"]) == (
        "李*",
        "***********",
        "booked",
    )
    assert appt["slot_start"] == "2026-11-26T03:00:00Z"
    other = ok(
        client.post(
            "/api/v1/queue/appointments",
            json={
                **body,
                "slot_start": "2026-11-26T14:00:00+08:00",
                "customer_phone": "13700000000",
            },
            headers=as_role["clerk"],
        ),
        201,
    )
    walk_in = issue(client, as_role, category="plan_change")
    early = problem(
        client.post(f"/api/v1/queue/appointments/{appt['appointment_id']}/check-in", headers=g),
        409,
        "too_early_to_check_in",
    )
    assert early["extra"]["opens_at"] == "2026-11-26T02:30:00Z"
    clock.now = local(10, 45)
    checked = ok(
        client.post(f"/api/v1/queue/appointments/{appt['appointment_id']}/check-in", headers=g),
        201,
    )
    assert checked["appointment"]["status"] == "checked_in"
    assert (checked["ticket"]["number"], checked["ticket"]["priority"]) == ("C002", True)
    called = ok(client.post(f"/api/v1/queue/windows/{window}/call-next", headers=as_role["clerk"]))
    assert called["number"] == "C002" and walk_in["number"] == "C001"
    clock.now = local(14, 16)
    gone = ok(
        client.post(f"/api/v1/queue/appointments/{other['appointment_id']}/no-show", headers=g)
    )
    assert gone["status"] == "no_show"
    listed = ok(client.get("/api/v1/queue/appointments?status=checked_in", headers=g))
    assert [a["appointment_id"] for a in listed["items"]] == [appt["appointment_id"]]
    # Found by the customer's number (in the body), whatever way it is written.
    search = {"customer_phone": "+86 137-0000-0000"}
    found = ok(client.post("/api/v1/queue/appointments/search", json=search, headers=g))
    assert [a["appointment_id"] for a in found["items"]] == [other["appointment_id"]]
    bad = client.post(
        "/api/v1/queue/appointments/search", json={"customer_phone": "12345"}, headers=g
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "customer_phone"
    tomorrow = (DAY + timedelta(days=1)).isoformat()
    assert ok(client.get(f"/api/v1/queue/appointments?day={tomorrow}", headers=g))["total"] == 0


def test_state_for_any_role(
    client: TestClient[Any], as_role: Headers, clock: Clock, window: str
) -> None:
    issue(client, as_role)
    clock.tick(4)
    issue(client, as_role, category="consultation")
    clock.tick(1)
    state = ok(client.get("/api/v1/queue/state", headers=as_role["admin"]))
    by = {c["category"]: c for c in state["categories"]}
    assert (by["new_line"]["waiting"], by["new_line"]["longest_wait_seconds"]) == (1, 300)
    assert state["totals"]["waiting"] == 2 and state["totals"]["open_windows"] == 1
    assert [w["code"] for w in state["windows"]] == ["W1"]
    assert state["day"] == DAY.isoformat()


# ---------------------------------------------------------------- problems


def test_errors_are_problem_details(client: TestClient[Any], as_role: Headers, window: str) -> None:
    g, clerk = as_role["greeter"], as_role["clerk"]
    problem(
        client.post(f"/api/v1/queue/windows/{window}/call-next", headers=clerk), 409, "queue_empty"
    )
    bad = problem(
        client.post("/api/v1/queue/tickets", json={"category": "lottery"}, headers=g),
        400,
        "validation_failed",
    )
    assert any("category" in (e["field"] or "") for e in bad["errors"])
    bad = problem(
        client.post(
            "/api/v1/queue/tickets",
            json={"category": "billing", "customer_phone": "010-12345678"},
            headers=g,
        ),
        422,
        "validation_failed",
    )
    assert bad["errors"][0]["field"] == "customer_phone"
    assert "12345678" not in bad["detail"]  # a rejected number is not echoed
    bad = problem(
        client.post(f"/api/v1/queue/tickets/{'0' * 32}/rating", json={"score": 6}, headers=clerk),
        400,
        "validation_failed",
    )
    assert any("score" in (e["field"] or "") for e in bad["errors"])
    problem(client.get(f"/api/v1/queue/tickets/{'0' * 32}", headers=g), 404, "not_found")
    t = issue(client, as_role)
    state = problem(
        client.post(f"/api/v1/queue/tickets/{t['ticket_id']}/start", headers=clerk),
        409,
        "illegal_transition",
    )
    assert state["extra"]["state"] == "waiting"
    dup = problem(
        client.post(
            "/api/v1/queue/windows",
            json={"code": "W1", "name": "again", "kind": "vip"},
            headers=as_role["manager"],
        ),
        409,
        "conflict",
    )
    assert dup["errors"][0]["field"] == "code"
    problem(
        client.post(
            "/api/v1/queue/windows",
            json={"code": "w 1", "name": "x", "kind": "vip"},
            headers=as_role["manager"],
        ),
        400,
        "validation_failed",
    )


def test_the_clerk_who_served_may_not_rate_the_visit(
    client: TestClient[Any], as_role: Headers, window: str
) -> None:
    clerk = as_role["clerk"]
    t = issue(client, as_role)
    ok(client.post(f"/api/v1/queue/windows/{window}/call-next", headers=clerk))
    ok(client.post(f"/api/v1/queue/tickets/{t['ticket_id']}/start", headers=clerk))
    ok(
        client.post(
            f"/api/v1/queue/tickets/{t['ticket_id']}/finish",
            json={"outcome": "completed"},
            headers=clerk,
        )
    )
    url = f"/api/v1/queue/tickets/{t['ticket_id']}/rating"
    denied = problem(client.post(url, json={"score": 5}, headers=clerk), 403, "own_visit_rating")
    assert "clerk1 served ticket B001 and may not record its rating" in denied["detail"]
    rated = ok(client.post(url, json={"score": 4}, headers=as_role["greeter"]))
    assert rated["score"] == 4
    again = problem(
        client.post(url, json={"score": 1}, headers=as_role["greeter"]), 409, "illegal_transition"
    )
    assert again["extra"]["state"] == "done" and "already rated" in again["detail"]


def test_bodies_with_only_defaults_may_be_left_out(
    client: TestClient[Any], as_role: Headers, window: str
) -> None:
    g = as_role["greeter"]
    t = issue(client, as_role)
    gone = ok(client.post(f"/api/v1/queue/tickets/{t['ticket_id']}/cancel", headers=g))
    assert (gone["status"], gone["cancel_reason"]) == ("cancelled", "walkout")
    body = {
        "category": "plan_change",
        "slot_start": "2026-11-26T11:00:00",
        "customer_name": "李四",
        "customer_phone": "13912345678",
    }
    appt = ok(client.post("/api/v1/queue/appointments", json=body, headers=g), 201)
    out = ok(client.post(f"/api/v1/queue/appointments/{appt['appointment_id']}/cancel", headers=g))
    assert (out["status"], out["cancel_reason"]) == ("cancelled", None)
    same = ok(client.patch(f"/api/v1/queue/windows/{window}", headers=as_role["manager"]))
    assert same["code"] == "W1" and same["status"] == "open"
    # A transfer must say where to: its body stays required.
    r = client.post(
        f"/api/v1/queue/tickets/{issue(client, as_role)['ticket_id']}/transfer", headers=g
    )
    assert r.status_code == 400


def test_a_retried_issue_gets_the_same_number(client: TestClient[Any], as_role: Headers) -> None:
    h = {**as_role["greeter"], "Idempotency-Key": "kiosk-1-0001"}
    first = client.post("/api/v1/queue/tickets", json={"category": "billing"}, headers=h)
    again = client.post("/api/v1/queue/tickets", json={"category": "billing"}, headers=h)
    assert first.json() == again.json() and again.headers["Idempotent-Replayed"] == "true"
    listed = ok(client.get("/api/v1/queue/tickets", headers=as_role["greeter"]))
    assert [t["number"] for t in listed["items"]] == ["D001"]


# ---------------------------------------------------------------- lists


def test_ticket_list_pages_and_filters(
    client: TestClient[Any], as_role: Headers, clock: Clock, window: str
) -> None:
    g = as_role["greeter"]
    numbers = [issue(client, as_role)["number"] for _ in range(3)]
    numbers += [issue(client, as_role, category="after_sales")["number"] for _ in range(2)]
    ok(client.post(f"/api/v1/queue/windows/{window}/call-next", headers=as_role["clerk"]))
    page = ok(client.get("/api/v1/queue/tickets?limit=2", headers=g))
    assert (page["total"], page["next_offset"]) == (5, 2)
    assert [t["number"] for t in page["items"]] == numbers[:2]
    rest = ok(client.get("/api/v1/queue/tickets?limit=2&offset=4", headers=g))
    assert [t["number"] for t in rest["items"]] == ["G002"] and rest["next_offset"] is None
    waiting = ok(client.get("/api/v1/queue/tickets?status=waiting", headers=g))
    assert waiting["total"] == 4
    g_only = ok(client.get("/api/v1/queue/tickets?category=after_sales", headers=g))
    assert [t["number"] for t in g_only["items"]] == ["G001", "G002"]
    at_w1 = ok(client.get(f"/api/v1/queue/tickets?window_id={window}", headers=g))
    assert [t["number"] for t in at_w1["items"]] == ["B001"]
    assert ok(client.get("/api/v1/queue/tickets?number=b002", headers=g))["total"] == 1
    yesterday = (DAY - timedelta(days=1)).isoformat()
    assert ok(client.get(f"/api/v1/queue/tickets?day={yesterday}", headers=g))["total"] == 0
    problem(client.get("/api/v1/queue/tickets?status=lost", headers=g), 400, "validation_failed")
    clock.now = local(9, day=DAY + timedelta(days=1))
    assert ok(client.get("/api/v1/queue/tickets", headers=g))["total"] == 0  # today moved on


# ---------------------------------------------------------------- roles

NOBODY = "00000000000000000000000000000000"
EVERYONE = ("greeter", "clerk", "tech", "admin", "manager")
FRONT = ("greeter", "clerk", "manager")
CLERK = ("clerk", "manager")
GREETER = ("greeter", "manager")
MANAGER_ONLY = ("manager",)
W = f"/api/v1/queue/windows/{NOBODY}"
T = f"/api/v1/queue/tickets/{NOBODY}"
A = f"/api/v1/queue/appointments/{NOBODY}"
APPOINTMENT = {
    "category": "billing",
    "slot_start": "2026-11-26T15:00:00+08:00",
    "customer_name": "王五",
    "customer_phone": "13800000000",
}

ENDPOINTS: list[tuple[str, str, Any, tuple[str, ...]]] = [
    ("GET", "/api/v1/queue/windows", None, EVERYONE),
    ("POST", "/api/v1/queue/windows", {"code": "W7", "name": "7", "kind": "vip"}, MANAGER_ONLY),
    ("GET", W, None, EVERYONE),
    ("PATCH", W, {"name": "x"}, MANAGER_ONLY),
    ("POST", f"{W}/open", None, CLERK),
    ("POST", f"{W}/pause", {"reason": "break"}, CLERK),
    ("POST", f"{W}/resume", None, CLERK),
    ("POST", f"{W}/close", None, CLERK),
    ("POST", f"{W}/call-next", None, CLERK),
    ("GET", "/api/v1/queue/tickets", None, FRONT),
    ("POST", "/api/v1/queue/tickets", {"category": "billing"}, GREETER),
    ("GET", T, None, FRONT),
    ("POST", f"{T}/recall", None, CLERK),
    ("POST", f"{T}/no-show", None, CLERK),
    ("POST", f"{T}/start", None, CLERK),
    ("POST", f"{T}/finish", {"outcome": "completed"}, CLERK),
    ("POST", f"{T}/transfer", {"category": "billing"}, FRONT),
    ("POST", f"{T}/cancel", {}, FRONT),
    ("POST", f"{T}/rating", {"score": 5}, FRONT),
    ("GET", "/api/v1/queue/appointments", None, FRONT),
    ("POST", "/api/v1/queue/appointments", APPOINTMENT, FRONT),
    ("GET", A, None, FRONT),
    ("POST", f"{A}/check-in", None, FRONT),
    ("POST", f"{A}/cancel", {}, FRONT),
    ("POST", f"{A}/no-show", None, FRONT),
    ("GET", "/api/v1/queue/state", None, EVERYONE),
    ("GET", "/api/v1/queue/board", None, EVERYONE),
]


@pytest.mark.parametrize("role", EVERYONE)
def test_role_matrix(client: TestClient[Any], as_role: Headers, role: str) -> None:
    """The role gets past the guard of exactly the queue endpoints DOMAIN.md gives it.

    One node per role (not per endpoint): logging in five roles is what a test here costs.
    """
    headers = as_role[role]
    for method, path, body, allowed in ENDPOINTS:
        where = f"{role} {method} {path}"
        if role == "manager":
            assert client.request(method, path, json=body).status_code == 401, where
        r = client.request(method, path, json=body, headers=headers)
        if role in allowed:
            assert r.status_code not in (401, 403), f"{where}: {r.status_code} {r.text}"
        else:
            assert r.status_code == 403, f"{where}: {r.status_code} {r.text}"
            assert r.json()["code"] == "forbidden", where


def test_a_clerk_cannot_work_another_clerks_window(
    client: TestClient[Any], as_role: Headers, window: str
) -> None:
    ok(
        client.post(
            "/api/v1/staff",
            json={
                "username": "clerk2",
                "display_name": "C2",
                "role": "clerk",
                "password": "pass-pass-2",
            },
            headers=as_role["manager"],
        ),
        201,
    )
    r = client.post("/api/v1/auth/login", json={"username": "clerk2", "password": "pass-pass-2"})
    other = {"Authorization": f"Bearer {r.json()['access_token']}"}
    issue(client, as_role)
    problem(
        client.post(f"/api/v1/queue/windows/{window}/call-next", headers=other), 403, "forbidden"
    )
    ok(client.post(f"/api/v1/queue/windows/{window}/call-next", headers=as_role["manager"]))


# ---------------------------------------------------------------- replay


def test_replay_rebuilds_queue_tables(
    client: TestClient[Any], as_role: Headers, clock: Clock, data_dir: Path
) -> None:
    m, clerk, g = as_role["manager"], as_role["clerk"], as_role["greeter"]
    w1 = ok(
        client.post(
            "/api/v1/queue/windows", json={"code": "W1", "name": "1", "kind": "business"}, headers=m
        ),
        201,
    )["window_id"]
    w2 = ok(
        client.post(
            "/api/v1/queue/windows",
            json={"code": "S1", "name": "售后", "kind": "after_sales"},
            headers=m,
        ),
        201,
    )["window_id"]
    ok(client.post(f"/api/v1/queue/windows/{w1}/open", headers=clerk))
    ok(client.post(f"/api/v1/queue/windows/{w2}/open", headers=m))
    tickets = [issue(client, as_role, customer_phone="13800001234")]
    tickets += [issue(client, as_role, category="after_sales", vip=True)]
    tickets += [issue(client, as_role, category="plan_change")]
    appt = ok(
        client.post(
            "/api/v1/queue/appointments",
            json={**APPOINTMENT, "slot_start": "2026-11-26T10:30:00+08:00"},
            headers=g,
        ),
        201,
    )
    clock.tick(3)
    t = ok(client.post(f"/api/v1/queue/windows/{w1}/call-next", headers=clerk))
    ok(client.post(f"/api/v1/queue/tickets/{t['ticket_id']}/start", headers=clerk))
    clock.tick(4)
    ok(
        client.post(
            f"/api/v1/queue/tickets/{t['ticket_id']}/transfer",
            json={"window_id": w2},
            headers=clerk,
        )
    )
    s = ok(client.post(f"/api/v1/queue/windows/{w2}/call-next", headers=m))
    ok(client.post(f"/api/v1/queue/tickets/{s['ticket_id']}/start", headers=m))
    clock.tick(5)
    ok(
        client.post(
            f"/api/v1/queue/tickets/{s['ticket_id']}/finish",
            json={"outcome": "referred"},
            headers=m,
        )
    )
    ok(client.post(f"/api/v1/queue/tickets/{s['ticket_id']}/rating", json={"score": 3}, headers=g))
    ok(client.post(f"/api/v1/queue/appointments/{appt['appointment_id']}/check-in", headers=g), 201)
    ok(client.post(f"/api/v1/queue/tickets/{tickets[2]['ticket_id']}/cancel", json={}, headers=g))
    ok(client.post(f"/api/v1/queue/windows/{w1}/pause", json={"reason": "meeting"}, headers=clerk))
    ok(client.patch(f"/api/v1/queue/windows/{w1}", json={"name": "一号"}, headers=m))
    assert_replay_matches(data_dir, [queue_windows, queue_tickets, queue_appointments])


def test_a_busy_window_answers_window_busy(
    client: TestClient[Any], as_role: Headers, window: str
) -> None:
    """A tablet tells "finish the customer first" from other conflicts by the code alone."""
    clerk = as_role["clerk"]
    t = issue(client, as_role)
    issue(client, as_role)
    ok(client.post(f"/api/v1/queue/windows/{window}/call-next", headers=clerk))
    for step, body in (("call-next", None), ("pause", {"reason": "break"}), ("close", None)):
        busy = problem(
            client.post(f"/api/v1/queue/windows/{window}/{step}", json=body, headers=clerk),
            409,
            "window_busy",
        )
        assert busy["extra"]["ticket"] == t["number"]


def test_a_late_check_in_answers_too_late_to_check_in(
    client: TestClient[Any], as_role: Headers, clock: Clock
) -> None:
    g = as_role["greeter"]
    body = {
        "category": "plan_change",
        "slot_start": "2026-11-26T11:00:00",
        "customer_name": "李四",
        "customer_phone": "13912345678",
    }
    appt = ok(client.post("/api/v1/queue/appointments", json=body, headers=g), 201)
    clock.now = local(12)
    late = problem(
        client.post(f"/api/v1/queue/appointments/{appt['appointment_id']}/check-in", headers=g),
        409,
        "too_late_to_check_in",
    )
    assert "issue an ordinary ticket" in late["detail"]
