"""Replaying quarantined events after an upgrade, on SQLite and PostgreSQL: the events an older
central could not read are applied exactly once and HQ's KPIs catch up with the node's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from schema.events import decode
from schema.tables.core import events
from schema.tables.sync import central_quarantine, central_stores
from server.central import db
from server.central.fold.ingest import ingest
from server.domain.kpis import store_kpis
from server.domain.projection import apply_all
from server.store.db import create_schema, make_engine
from server.store.simulation import record_day
from tests.integration.central import store_events as ev
from tests.integration.central.conftest import ADMIN, ADMIN_PASSWORD, CentralApp, Clock, open_app
from tests.integration.central.test_hq_api import add_user

S = "S001"
DAY = date(2026, 11, 25)
OLDER_BUILD_UNKNOWN = {
    "ticket.rated",
    *(
        f"complaint.{v}"
        for v in (
            "opened",
            "assigned",
            "responded",
            "escalated",
            "resolved",
            "feedback_recorded",
            "closed",
            "reopened",
        )
    ),
}
"""The event types the older central did not know: satisfaction ratings and complaints."""


@pytest.fixture
def hq(central_url: str, clock: Clock) -> Iterator[CentralApp]:
    """Central over SQLite, then over PostgreSQL, with the HQ admin logged in."""
    with open_app(central_url, clock) as client:
        c = CentralApp(client, {}, clock)
        c.admin = c.login(ADMIN, ADMIN_PASSWORD)
        yield c


def run_db(url: str, fn: Any) -> Any:
    """Run ``fn(conn)`` in one write transaction on central's database."""

    async def go() -> Any:
        engine = db.make_engine(url)
        try:
            async with db.write(engine) as conn:
                return await fn(conn)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def type_of(raw: bytes) -> str:
    kind: str = msgspec.msgpack.decode(raw)["type"]
    return kind


def upload_as_an_older_build(url: str, raws: list[bytes], now: Any) -> list[int]:
    """Store ``raws`` (seq 1…) as the older central did: it could not read the types in
    ``OLDER_BUILD_UNKNOWN``, so those sit in quarantine, raw, with the reason it gave. Returns
    their seqs."""
    older = [i + 1 for i, raw in enumerate(raws) if type_of(raw) in OLDER_BUILD_UNKNOWN]
    # This build would apply them: send in their place an event type no build knows, then give
    # each quarantine entry back the bytes the store really sent and the older build's reason.
    sent = [ev.unknown_type(S, seq) if seq in older else raw for seq, raw in enumerate(raws, 1)]

    async def go(conn: Any) -> None:
        result = await ingest(conn, S, 1, sent, now=now)
        assert result.quarantined == len(older)
        for seq in older:
            raw = raws[seq - 1]
            await conn.execute(
                central_quarantine.update()
                .where(central_quarantine.c.store_id == S, central_quarantine.c.seq == seq)
                .values(
                    raw=raw,
                    event_type=type_of(raw),
                    reason=f"cannot decode: Invalid value '{type_of(raw)}' - at `$.type`",
                )
            )

    run_db(url, go)
    return older


def node_kpis(raws: list[bytes], tmp_path: Any, now: Any) -> Any:
    """The KPIs the hall's node computes from its whole log."""
    node = make_engine(tmp_path / "node.sqlite3")
    create_schema(node)
    try:
        with node.begin() as conn:
            apply_all(conn, [decode(raw) for raw in raws])
            return msgspec.to_builtins(store_kpis(conn, S, now, DAY))
    finally:
        node.dispose()


def test_events_an_older_build_quarantined_are_replayed_exactly_once(
    hq: CentralApp, central_url: str, tmp_path: Any
) -> None:
    c, admin = hq.client, hq.admin
    hq.enrolled(S)
    raws = [body for _, body in record_day(S, events=600, seed=2, day=DAY).records]
    older = upload_as_an_older_build(central_url, raws, hq.clock())
    assert len(older) > 10
    # Two more entries: an event no build can read, and a copy of an event the log already
    # holds (a replay must not fold it a second time).
    teleported = len(raws) + 1
    run_db(
        central_url,
        lambda conn: ingest(conn, S, teleported, [ev.unknown_type(S, teleported)], now=hq.clock()),
    )
    issued = next(seq for seq, raw in enumerate(raws, 1) if type_of(raw) == "ticket.issued")

    async def duplicate(conn: Any) -> None:
        await conn.execute(
            central_quarantine.insert().values(
                store_id=S,
                seq=issued,
                event_type="ticket.issued",
                reason="cannot apply: …",
                raw=raws[issued - 1],
                received_at=hq.clock(),
                replayed_at=None,
            )
        )
        await conn.execute(
            central_stores.update()
            .where(central_stores.c.store_id == S)
            .values(quarantined=central_stores.c.quarantined + 1)
        )

    run_db(central_url, duplicate)

    want = node_kpis(raws, tmp_path, hq.clock())
    kpis = f"/api/v1/hq/stores/{S}/kpis?day={DAY}"
    before = c.get(kpis, headers=admin).json()
    assert before != want  # central misses the ratings and complaints

    analyst = add_user(hq, "ana", "analyst", [])
    assert c.post("/api/v1/hq/quarantine/replay", headers=analyst).status_code == 403

    r = c.post("/api/v1/hq/quarantine/replay", headers=admin)
    assert r.status_code == 200, r.text
    out = r.json()
    outcomes = {i["seq"]: i["outcome"] for i in out["items"]}
    assert outcomes == {
        **dict.fromkeys(older, "applied"),
        teleported: "quarantined",
        issued: "already_held",
    }
    assert (out["applied"], out["quarantined"], out["next_after"]) == (len(older), 1, None)
    still = next(i for i in out["items"] if i["seq"] == teleported)
    assert "ticket.teleported" in still["reason"] and still["replayed_at"] is None

    assert c.get(kpis, headers=admin).json() == want  # HQ now sees what the manager sees

    listing = c.get(f"/api/v1/hq/quarantine?store_id={S}&limit=500", headers=admin).json()
    replayed = {i["seq"] for i in listing["items"] if i["replayed_at"] is not None}
    assert replayed == {*older, issued}
    status = c.get("/api/v1/hq/stores", headers=admin).json()["items"][0]
    assert status["quarantined"] == 1

    # Idempotent: a second replay takes up only what still waits, and folds nothing twice.
    async def held(conn: Any) -> int:
        return int(
            (await conn.execute(sa.select(sa.func.count()).select_from(events))).scalar_one()
        )

    count = run_db(central_url, held)
    assert count == len(raws)
    again = c.post("/api/v1/hq/quarantine/replay", headers=admin).json()
    assert [(i["seq"], i["outcome"]) for i in again["items"]] == [(teleported, "quarantined")]
    assert again["applied"] == 0
    assert run_db(central_url, held) == count
    assert c.get(kpis, headers=admin).json() == want

    # One entry by id: one replayed before says so and changes nothing; an unknown id is 404.
    first = next(i for i in out["items"] if i["outcome"] == "applied")
    r = c.post(f"/api/v1/hq/quarantine/{first['quarantine_id']}/replay", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "replayed_before"
    assert r.json()["replayed_at"] == first["replayed_at"]
    assert c.post("/api/v1/hq/quarantine/999999/replay", headers=admin).status_code == 404
    assert run_db(central_url, held) == count


def test_replay_is_paged_and_scoped_to_the_callers_regions(
    hq: CentralApp, central_url: str
) -> None:
    c, admin = hq.client, hq.admin
    hq.enrolled("S001", "east")
    hq.enrolled("S002", "north")
    for store in ("S001", "S002"):
        raws = [ev.unknown_type(store, seq) for seq in (1, 2, 3)]
        run_db(central_url, lambda conn, s=store, r=raws: ingest(conn, s, 1, r, now=hq.clock()))

    north_admin = add_user(hq, "adm-north", "admin", ["north"])
    r = c.post("/api/v1/hq/quarantine/replay?limit=2", headers=north_admin)
    assert r.status_code == 200, r.text
    page = r.json()
    assert [i["store_id"] for i in page["items"]] == ["S002", "S002"]
    assert page["next_after"] is not None
    rest = c.post(
        f"/api/v1/hq/quarantine/replay?limit=2&after={page['next_after']}", headers=north_admin
    ).json()
    assert [(i["store_id"], i["seq"]) for i in rest["items"]] == [("S002", 3)]
    assert rest["next_after"] is None
    r = c.post("/api/v1/hq/quarantine/replay?region=east", headers=north_admin)
    assert r.status_code == 403
    r = c.post("/api/v1/hq/quarantine/replay?store_id=S001", headers=admin)
    assert {i["store_id"] for i in r.json()["items"]} == {"S001"}


def test_an_uploaded_event_with_a_nul_has_a_clear_reason_on_postgresql(
    hq: CentralApp, central_url: str
) -> None:
    """Older store nodes could record a NUL in text. PostgreSQL cannot store it, so that event
    goes to quarantine saying which field holds it, not in the driver's words; a central on
    SQLite can store it and applies it. Either way the others of the batch are applied."""
    hq.enrolled(S)
    raws = [*ev.log(S, 1, 3), ev.staff(S, 4), ev.staff(S, 5, username="nul\x00name")]
    result = run_db(central_url, lambda conn: ingest(conn, S, 1, raws, now=hq.clock()))
    listing = hq.client.get("/api/v1/hq/quarantine", headers=hq.admin).json()
    if db.is_sqlite(central_url):
        assert (result.stored, result.quarantined) == (5, 0)
        return
    assert (result.stored, result.quarantined) == (4, 1)
    [entry] = listing["items"]
    assert entry["seq"] == 5
    assert entry["reason"] == (
        "cannot apply: username holds a NUL character (U+0000), "
        "which central's database cannot store"
    )
