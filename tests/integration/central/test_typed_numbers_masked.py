"""End to end: phone and ID numbers staff type into any field, in any format, are masked on
entry and are found raw nowhere: not in the store node's answers, its database file and WAL,
the events it syncs, central's tables (SQLite and PostgreSQL) or anybody's logs.

Hypothesis generates mobile and ID numbers, renders them the ways people write them
(``tests.pii``: separators, brackets, ``+86``, full-width digits, groups) inside sentences, and
a real store node takes them through its REST API in every field a person types; central,
running on a real port, takes HQ's typed fields through its HQ API and the node's log through
a real sync. The detector strips everything but digits, ``X`` and ``*`` from each string, so a
number is found raw whatever was put between its digits.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from server.central.app import create_app as create_central
from server.central.db import make_engine as make_central_engine
from server.central.node import read_secrets
from server.settings import SyncSettings
from server.store.app import create_app as create_store
from server.store.db import db_path
from server.store.enrollment import init_enrolled
from tests.conftest import MANAGER, MANAGER_PASSWORD, STAFF_PASSWORD, login
from tests.contact import key_dir
from tests.integration.central.conftest import ADMIN, ADMIN_PASSWORD
from tests.integration.central.test_hq_publish_reaches_stores import LiveCentral, sync_once
from tests.pii import Number, id_numbers, in_text, mobiles, raw_in, strings_in

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TODAY, TOMORROW = "2026-11-26", "2026-11-27"
EXAMPLES = 12
HQ_READS = ("stores", "published", "quarantine")


@pytest.fixture
def live_central(central_url: str) -> Iterator[LiveCentral]:
    """Central on a real loopback port over the test's database (SQLite or PostgreSQL)."""
    secrets = asyncio.run(read_secrets(central_url, key_dir()))
    app = create_central(central_url, secrets, hq_poll=0.05)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(
            app, ws="websockets-sansio", log_level="warning", access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "central did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with httpx.Client(base_url=url, timeout=10) as http:
        live = LiveCentral(url, http)
        r = http.post("/api/v1/hq/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        live.admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        yield live
    server.should_exit = True
    thread.join(10)
    sock.close()


class Tablet:
    """The store node's REST API as the manager uses it; every answer is kept for the scan."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        self.headers = login(client, MANAGER, MANAGER_PASSWORD)
        self.answers: list[Any] = []
        body = {"username": "admin1", "display_name": "综合", "role": "admin"}
        self.post("/staff", {**body, "password": STAFF_PASSWORD}, ok=201)
        self.admin = login(client, "admin1", STAFF_PASSWORD)
        self.checklist = self.post("/checklists", ok=201)["checklist_id"]  # one a day

    def call(
        self, method: str, path: str, body: Any = None, *, ok: int = 200, as_: Any = None
    ) -> Any:
        headers = as_ or self.headers
        r = self.client.request(method, f"/api/v1{path}", json=body, headers=headers)
        assert r.status_code == ok, (method, path, r.text)
        answer = r.json() if r.content else None
        self.answers.append(answer)
        return answer

    def post(self, path: str, body: Any = None, *, ok: int = 200, as_: Any = None) -> Any:
        return self.call("POST", path, body, ok=ok, as_=as_)


def enter_everywhere(tablet: Tablet, k: int, text: str, phone: str, me: str) -> None:
    """Type ``text`` into every field of the tablet API a person types (``phone`` into the
    customer phone fields, which take only a number)."""
    t = tablet
    t.call("PATCH", "/store", {"name": text})
    staff = t.post(
        "/staff",
        {"username": f"u{k}", "display_name": text, "role": "clerk", "password": STAFF_PASSWORD},
        ok=201,
    )
    # queue
    window = t.post("/queue/windows", {"code": f"W{k}", "name": text, "kind": "business"}, ok=201)
    wid = window["window_id"]
    t.call("PATCH", f"/queue/windows/{wid}", {"name": text})
    clerk = login(t.client, f"u{k}", STAFF_PASSWORD)  # one window per person: their own
    t.post(f"/queue/windows/{wid}/open", as_=clerk)
    t.post(f"/queue/windows/{wid}/pause", {"reason": "other", "note": text}, as_=clerk)
    t.post(f"/queue/windows/{wid}/resume", as_=clerk)
    t.post("/queue/tickets", {"category": "billing", "customer_phone": phone}, ok=201)
    called = t.post(f"/queue/windows/{wid}/call-next", as_=clerk)
    tid = called["ticket_id"]
    t.post(f"/queue/tickets/{tid}/start", as_=clerk)
    t.post(f"/queue/tickets/{tid}/finish", {"outcome": "completed", "note": text}, as_=clerk)
    t.post(f"/queue/tickets/{tid}/rating", {"score": 4, "comment": text})
    t.post(f"/queue/windows/{wid}/close", as_=clerk)
    slot = {"category": "billing", "slot_start": "2026-11-27T06:00:00Z"}
    appt = t.post(
        "/queue/appointments",
        {**slot, "customer_name": text, "customer_phone": phone, "note": text},
        ok=201,
    )
    t.post(f"/queue/appointments/{appt['appointment_id']}/cancel", {"reason": text})
    # inventory
    sku = f"SKU{k}"
    t.post(
        "/items",
        {"sku": sku, "name": text, "category": "accessory", "unit_price_cents": 100},
        ok=201,
    )
    t.call("PATCH", f"/items/{sku}", {"name": text})
    line = [{"sku": sku, "qty": 1}]
    recv = {"supplier": text, "reference": text, "note": text, "lines": [{"sku": sku, "qty": 9}]}
    t.post("/stock/receive", recv, ok=201)
    t.post(
        "/stock/transfer-out",
        {"to_store": "S002", "reference": text, "note": text, "lines": line},
        ok=201,
    )
    t.post(
        "/stock/transfer-in",
        {"from_store": f"S9{k}", "reference": text, "note": text, "lines": line},
        ok=201,
    )
    t.post("/stock/sell", {"lines": line, "note": text}, ok=201)
    t.post("/stock/write-off", {"reason": text, "note": text, "lines": line}, ok=201)
    for decision in ("reject", "approve"):
        adj = t.post("/adjustments", {"sku": sku, "delta": 1, "reason": text}, ok=201, as_=t.admin)
        t.post(f"/adjustments/{adj['adjustment_id']}/{decision}", {"note": text})
    count = t.post("/counts", {"skus": [sku], "note": text}, ok=201)
    t.post(f"/counts/{count['count_id']}/cancel", {"reason": text})
    # complaints
    c = t.post(
        "/complaints",
        {
            "channel": "in_store",
            "category": "billing",
            "description": text,
            "customer_phone": phone,
        },
        ok=201,
    )
    cid = c["complaint_id"]
    t.post(f"/complaints/{cid}/assign", {"owner_id": staff["user_id"]})
    t.post(f"/complaints/{cid}/respond", {"note": text}, as_=clerk)
    t.post(f"/complaints/{cid}/escalate", {"level": "region", "reason": text})
    t.post(f"/complaints/{cid}/resolve", {"remedy": text, "verified": False})
    t.post(f"/complaints/{cid}/feedback", {"satisfied": True, "rating": 5, "comment": text})
    t.post(f"/complaints/{cid}/close", {"note": text})
    t.post(f"/complaints/{cid}/reopen", {"reason": text})
    # daily operations
    t.post(f"/checklists/{t.checklist}/items/printers/check", {"ok": False, "note": text})
    fault = t.post("/faults", {"kind": "pc", "asset_name": text, "description": text}, ok=201)
    fid = fault["fault_id"]
    t.post(f"/faults/{fid}/start-repair", {"note": text})
    t.post(f"/faults/{fid}/repair", {"resolution": text})
    t.post(f"/faults/{fid}/reopen", {"reason": text})
    t.post(f"/faults/{fid}/cancel", {"reason": text})
    drill = {"day": TODAY, "start_time": "09:00:00", "end_time": "09:20:00", "participants": [me]}
    t.post(
        "/fire-drills", {**drill, "scenario": text, "conducted_by": text, "findings": text}, ok=201
    )
    t.post(
        "/fire-inspections",
        {"day": TODAY, "inspector": text, "passed": False, "issues": [text], "note": text},
        ok=201,
    )
    training = t.post(
        "/trainings",
        {"topic": text, "kind": "privacy", "day": TOMORROW, "start_time": "14:00:00",
         "duration_min": 30, "trainer": text, "invited": [me]},
        ok=201,
    )  # fmt: skip
    t.post(f"/trainings/{training['session_id']}/cancel", {"reason": text})
    # shifts
    times = {"user_id": staff["user_id"], "day": TOMORROW, "start_time": "09:00:00"}
    shift = t.post("/shifts", {**times, "end_time": "12:00:00", "note": text}, ok=201)
    t.call("PATCH", f"/shifts/{shift['shift_id']}", {"note": text})
    t.post(f"/shifts/{shift['shift_id']}/cancel", {"reason": text})


def read_everything(tablet: Tablet) -> None:
    """The lists a tablet shows, so the answers of reads are scanned too."""
    for path in (
        "/store", "/staff", "/queue/windows", "/queue/tickets", "/queue/appointments", "/items",
        "/movements", "/adjustments", "/counts", "/complaints", "/faults", "/fire-drills",
        "/fire-inspections", "/trainings", "/shifts", "/checklists",
    ):  # fmt: skip
        tablet.call("GET", path)


def scan_database(url: str) -> list[str]:
    """Every string in every row of every table of a database (msgpack and JSON decoded)."""

    async def scan() -> list[str]:
        engine = make_central_engine(url)
        try:
            async with engine.connect() as conn:
                meta = sa.MetaData()
                await conn.run_sync(meta.reflect)
                found: list[str] = []
                for table in meta.sorted_tables:
                    for row in await conn.execute(sa.select(table)):
                        found.extend(strings_in(list(row)))
                return found
        finally:
            await engine.dispose()

    return asyncio.run(scan())


def scan_files(*paths: Path) -> list[str]:
    """The bytes of a node's or central's files (the database, its WAL, where freed pages keep
    old values, anything else in the data dir), as text."""
    return [p.read_bytes().decode("utf-8", "replace") for p in paths if p.is_file()]


def test_numbers_typed_anywhere_are_found_raw_nowhere(
    live_central: LiveCentral, central_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what a node or central logs when serving
    for ours in ("server", "sync", "litestar", "websockets"):
        caplog.set_level(logging.DEBUG, logger=ours)
    typed: list[str] = []
    hq = live_central

    def hq_types(text: str) -> Any:
        r = hq.http.post(
            "/api/v1/hq/stores",
            json={"store_id": "S001", "name": text, "region": "east"},
            headers=hq.admin,
        )
        assert r.status_code == 201, r.text
        for answer in (r.json(), hq.http.get("/api/v1/hq/stores", headers=hq.admin).json()):
            assert [n for s in strings_in(answer) for n in raw_in(s, typed)] == [], answer
        return r.json()

    typed += ["13987654320", "11010119900307123X"]
    hq_store = hq_types("营业厅 （+86）139 8765 4320 110101 19900307 123x")
    data_dir = tmp_path / "S001"
    init_enrolled(
        data_dir,
        central_url=hq.url,
        code=hq_store["code"],
        manager=MANAGER,
        manager_password=MANAGER_PASSWORD,
    )
    counter = itertools.count()

    with TestClient(
        app=create_store(data_dir, clock=lambda: T0, sync_settings=SyncSettings(mode="off"))
    ) as client:
        tablet = Tablet(client)
        me = tablet.call("GET", "/auth/me")["user_id"]

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            # No shrinking: the node keeps what each example typed, so a replay is not the
            # same run; the failing example is reported as generated.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        )
        @given(phone=mobiles(), id_number=id_numbers(), data=st.data())
        def staff_type(phone: Number, id_number: Number, data: st.DataObject) -> None:
            k = next(counter)
            text = data.draw(in_text(phone)) + " " + data.draw(in_text(id_number))
            typed.extend([phone.canonical, id_number.canonical])
            seen = len(tablet.answers)
            enter_everywhere(tablet, k, text, phone.canonical, me)
            for answer in tablet.answers[seen:]:
                leaked = [n for s in strings_in(answer) for n in raw_in(s, typed)]
                assert leaked == [], f"{text!r} came back raw: {answer}"

        staff_type()
        read_everything(tablet)

        # HQ types too: catalog names and roster names reach the store through the sync.
        typed += ["15912345678", "320102198512240017"]
        hq_text = "店长 159_1234_5678，证件 320102 1985 1224 0017"
        hq_answers = [hq_store]
        item = {"sku": "HQ-1", "name": hq_text, "category": "accessory", "unit_price_cents": 100}
        hq_answers.append(hq.publish("/catalog/items", {"audience": "all", **item}))
        member = {"username": "hq.staff", "display_name": hq_text, "role": "clerk"}
        to_s001 = {"audience": "store", "target": "S001"}
        hq_answers.append(hq.publish("/roster", {**to_s001, **member}))
        sync_once(data_dir)
        sync_once(data_dir)  # what the HQ events made the store record goes up too
        read_everything(tablet)

    everywhere = {
        "store API answers": tablet.answers,
        "HQ API answers": hq_answers
        + [hq.http.get(f"/api/v1/hq/{p}", headers=hq.admin).json() for p in HQ_READS],
        "store database": scan_database(f"sqlite+aiosqlite:///{db_path(data_dir)}"),
        "store node files": scan_files(*data_dir.rglob("*")),
        "central database": scan_database(central_url),
        "logs": [r.getMessage() for r in caplog.records],
    }
    central_file = sa.engine.make_url(central_url).database
    if central_url.startswith("sqlite") and central_file:
        everywhere["central database files"] = scan_files(*Path(central_file).parent.rglob("*"))
    assert len(typed) >= 2 * EXAMPLES, "the examples did not all run"
    for where, found in everywhere.items():
        strings = list(strings_in(found))
        assert strings or where == "logs", f"nothing read from {where}"
        leaked = {(number, s[:200]) for s in strings for number in raw_in(s, typed)}
        assert leaked == set(), f"raw in {where}: {leaked}"
