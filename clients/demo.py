"""``make demo``: central and store nodes on their embedded SQLite, a simulated business day,
the KPIs synced to central.

Starts central (``hallsync central init`` and ``serve``) and two store nodes (two halls in
different regions), each enrolled with central by a one-time code, as real processes on
loopback. HQ publishes a new catalog item to every store; then a compressed business day runs
against each hall through the typed tablet client — opening checklist, staff clocking in,
windows opening, customers taking tickets and being served, sales, satisfaction ratings, a
complaint — while the nodes sync in the background. It prints each hall's KPIs of the day as
its manager sees them, then, once every event has reached central, central's view: what each
store synced and the same KPIs computed on central from the synced events.

The day is compressed: customers arrive and are served within seconds, not minutes.
Everything it made stays in ``demo-data/`` for a look around (``hallsync store serve``,
``hallsync central serve``).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from clients.http import ApiError
from clients.tablet import TabletClient
from schema.api.complaints import AssignIn, ComplaintIn, RespondIn
from schema.api.inventory import LineIn, ReceiveIn, SaleIn, SaleLineIn
from schema.api.kpis import StoreKpisOut
from schema.api.ops import CheckItemIn
from schema.api.queue import FinishIn, RatingIn, TicketIn, WindowIn
from schema.api.shifts import ShiftIn
from schema.api.store import StaffIn
from schema.events.queue import ServiceCategory
from schema.events.store import Role

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "demo-data"
PASSWORD = "demo-pass-123"
HQ_PASSWORD = "demo-hq-pass-123"
ENV = {
    **os.environ,
    "HALLSYNC_MANAGER_PASSWORD": PASSWORD,
    "HALLSYNC_HQ_ADMIN_PASSWORD": HQ_PASSWORD,
    "HALLSYNC_CONTACT_KEY": "demo-chain-contact-key-0001",
}
CATEGORIES: tuple[ServiceCategory, ...] = (
    "billing",
    "plan_change",
    "new_line",
    "device_purchase",
    "consultation",
)
STAFF: tuple[tuple[str, Role], ...] = (
    ("greeter1", "greeter"),
    ("clerk1", "clerk"),
    ("clerk2", "clerk"),
    ("tech1", "tech"),
    ("admin1", "admin"),
)
console = Console()


@dataclass(frozen=True)
class Hall:
    store_id: str
    name: str
    region: str
    customers: int


HALLS = (Hall("S001", "人民路营业厅", "east", 40), Hall("S002", "解放路营业厅", "north", 25))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hallsync(*args: str) -> str:
    """Run a ``hallsync`` command to completion; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=ENV,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"hallsync {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def serve(name: str, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``hallsync … serve`` on a free port and wait until it is ready."""
    port = free_port()
    log = (DATA / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", *args, "--port", str(port), "--log-level", "warning"],
        env=ENV,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(url + "/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not start; see {log.name}")


def start_central() -> tuple[subprocess.Popen[bytes], str]:
    hallsync("central", "init", "--data-dir", str(DATA / "central"))
    return serve("central", "central", "serve", "--data-dir", str(DATA / "central"))


def start_node(hall: Hall, central_url: str) -> tuple[subprocess.Popen[bytes], str]:
    """Enroll the hall with central (a one-time code), set its node up, and serve it."""
    data_dir = str(DATA / hall.store_id)
    code = hallsync(
        "central", "enroll-store", hall.store_id, "--data-dir", str(DATA / "central"),
        "--name", hall.name, "--region", hall.region,
    ).split()[0]  # fmt: skip
    ws = central_url.replace("http://", "ws://")
    hallsync("store", "init", "--data-dir", data_dir, "--enroll", code, "--central", ws)
    return serve(hall.store_id, "store", "serve", "--data-dir", data_dir)


async def tablet(url: str, username: str) -> TabletClient:
    client = TabletClient(url, device=f"tablet-{username}")
    await client.login(username, PASSWORD)
    return client


async def run_day(hall: Hall, url: str, rng: random.Random) -> StoreKpisOut:
    manager = await tablet(url, "manager")
    for username, role in STAFF:
        await manager.add_staff(
            StaffIn(username=username, display_name=username, role=role, password=PASSWORD)
        )
    greeter, tech, admin = [await tablet(url, n) for n in ("greeter1", "tech1", "admin1")]
    clerks = [await tablet(url, n) for n in ("clerk1", "clerk2")]

    # 开门准备: the opening checklist, every item fine.
    checklist = await tech.start_checklist()
    for item in checklist.items:
        checklist = await tech.check_checklist_item(
            checklist.checklist_id, item.code, CheckItemIn(ok=True)
        )
    await admin.complete_checklist(checklist.checklist_id)

    # Stock for the day, of the items HQ's catalog brought down (synced before the day).
    await admin.receive(
        ReceiveIn(
            supplier="区域仓库",
            lines=[LineIn(sku="CASE-01", qty=20), LineIn(sku="CABLE-C", qty=30)],
        )
    )

    store = await manager.get_store()
    windows = []
    for i, clerk in enumerate(clerks, start=1):
        me = await clerk.me()
        await manager.plan_shift(
            ShiftIn(
                user_id=me.user_id,
                day=date.fromisoformat(store.today),
                start_time=store.open_time,
                end_time=store.close_time,
                window=f"W{i}",
                # The hall's day began before the demo runs: record it as a back-dated plan.
                backdated=True,
            )
        )
        await clerk.clock_in()
        w = await manager.define_window(
            WindowIn(
                code=f"W{i}", name=f"业务受理台{i}", kind="business", categories=list(CATEGORIES)
            )
        )
        await clerk.open_window(w.window_id)
        windows.append(w.window_id)

    async def customers() -> None:
        for _ in range(hall.customers):
            await greeter.issue_ticket(
                TicketIn(category=rng.choice(CATEGORIES), vip=rng.random() < 0.05)
            )
            await asyncio.sleep(rng.uniform(0.05, 0.5))

    async def serve(clerk: TabletClient, window_id: object) -> None:
        idle = 0
        while idle < 30:
            try:
                ticket = await clerk.call_next(window_id)  # type: ignore[arg-type]
            except ApiError as exc:
                if exc.code != "queue_empty":
                    raise
                idle += 1
                await asyncio.sleep(0.1)
                continue
            idle = 0
            await clerk.start_ticket(ticket.ticket_id)
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            await clerk.finish_ticket(ticket.ticket_id, FinishIn(outcome="completed"))
            if rng.random() < 0.3:
                await clerk.sell(
                    SaleIn(
                        lines=[SaleLineIn(sku=rng.choice(["CASE-01", "CABLE-C"]), qty=1)],
                        ticket_id=ticket.ticket_id,
                    )
                )
            if rng.random() < 0.7:
                await greeter.rate_ticket(
                    ticket.ticket_id, RatingIn(score=rng.choice([5, 5, 5, 4, 4, 3, 2]))
                )

    await asyncio.gather(customers(), *(serve(c, w) for c, w in zip(clerks, windows, strict=True)))

    complaint = await greeter.open_complaint(
        ComplaintIn(
            channel="in_store",
            category="waiting_time",
            description="高峰期等候时间过长",
            customer_phone="13800138000",
        )
    )
    owner = await clerks[0].me()
    await manager.assign_complaint(complaint.complaint_id, AssignIn(owner_id=owner.user_id))
    await clerks[0].respond_to_complaint(
        complaint.complaint_id, RespondIn(note="已当面致歉并说明高峰时段")
    )
    kpis = await manager.get_kpis()
    for c in (manager, greeter, tech, admin, *clerks):
        await c.aclose()
    return kpis


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def secs(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f} s"


def report(results: list[tuple[Hall, StoreKpisOut]]) -> None:
    table = Table(title="今日指标 · store KPIs of the day")
    table.add_column("KPI")
    for hall, k in results:
        table.add_column(f"{hall.store_id} {hall.name}\n{k.day}", justify="right")
    rows: list[tuple[str, list[str]]] = [
        ("visits 客流", [str(k.queue.visits) for _, k in results]),
        ("served 办结", [str(k.queue.done) for _, k in results]),
        ("avg wait 平均等候", [secs(k.queue.avg_wait_seconds) for _, k in results]),
        ("p90 wait", [secs(k.queue.p90_wait_seconds) for _, k in results]),
        ("within 15 min", [pct(k.queue.served_within_15min) for _, k in results]),
        ("avg service 办理时长", [secs(k.queue.avg_service_seconds) for _, k in results]),
        ("satisfaction 满意度", [f"{k.satisfaction.average or 0:.2f}" for _, k in results]),
        ("CSAT (4–5)", [pct(k.satisfaction.share_4_5) for _, k in results]),
        ("sales 销售额", [f"¥{k.sales.amount_cents / 100:.2f}" for _, k in results]),
        (
            "complaints open/overdue",
            [f"{k.complaints.open_now}/{k.complaints.overdue_now}" for _, k in results],
        ),
        ("stock-outs 缺货", [str(k.stockouts) for _, k in results]),
        (
            "staff on shift 在岗",
            [f"{k.attendance.clocked_in}/{k.attendance.planned}" for _, k in results],
        ),
    ]
    for label, values in rows:
        table.add_row(label, *values)
    console.print(table)


# ---------------------------------------------------------------- central and HQ

CATALOG: tuple[dict[str, Any], ...] = (
    {"sku": "CASE-01", "name": "手机壳", "category": "accessory", "unit_price_cents": 3900},
    {"sku": "CABLE-C", "name": "数据线", "category": "accessory", "unit_price_cents": 1900},
)


async def hq_session(central_url: str) -> httpx.AsyncClient:
    """An HQ admin's session on central's HQ API."""
    hq = httpx.AsyncClient(base_url=central_url, timeout=10)
    r = await hq.post("/api/v1/hq/auth/login", json={"username": "admin", "password": HQ_PASSWORD})
    r.raise_for_status()
    hq.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return hq


async def publish_catalog(hq: httpx.AsyncClient) -> None:
    """HQ defines the chain's catalog items once, for every store."""
    for item in CATALOG:
        r = await hq.post(
            "/api/v1/hq/catalog/items",
            json={"audience": "all", **item},
            headers={"Idempotency-Key": f"demo-catalog-{item['sku']}"},
        )
        r.raise_for_status()


async def wait_for_catalog(url: str) -> None:
    """Until the node has applied HQ's catalog (it arrives over the node's sync connection)."""
    manager = await tablet(url, "manager")
    try:
        for sku in (item["sku"] for item in CATALOG):
            deadline = time.monotonic() + 30
            while True:
                try:
                    await manager.get_item(sku)
                    break
                except ApiError as exc:
                    if exc.status != 404 or time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.2)
    finally:
        await manager.aclose()


async def wait_synced(hq: httpx.AsyncClient, nodes: list[tuple[Hall, str]]) -> list[Any]:
    """Until central holds every event of every node; central's status of each store."""
    deadline = time.monotonic() + 60
    local: dict[str, int] = {}
    for hall, url in nodes:
        manager = await tablet(url, "manager")
        local[hall.store_id] = (await manager.sync_status()).local_seq
        await manager.aclose()
    while True:
        r = await hq.get("/api/v1/hq/stores")
        r.raise_for_status()
        rows = {row["store_id"]: row for row in r.json()["items"]}
        if all(rows[s]["high_water"] >= n for s, n in local.items()):
            return [rows[hall.store_id] for hall, _ in nodes]
        if time.monotonic() > deadline:
            raise RuntimeError(f"central did not catch up: {rows}, nodes at {local}")
        await asyncio.sleep(0.2)


def report_central(statuses: list[Any], nodes: list[StoreKpisOut], central: list[Any]) -> None:
    table = Table(title="中心 · central after sync: what each store synced, its KPIs there")
    for name in ("store", "events", "pending", "quarantined", "visits", "served", "sales"):
        table.add_column(name, justify="left" if name == "store" else "right")
    table.add_column("= node")
    for status, mine, theirs in zip(statuses, nodes, central, strict=True):
        same = (
            theirs["queue"]["visits"] == mine.queue.visits
            and theirs["queue"]["done"] == mine.queue.done
            and theirs["sales"]["amount_cents"] == mine.sales.amount_cents
        )
        table.add_row(
            f"{status['store_id']} ({status['region']})",
            str(status["high_water"]),
            str(status["pending"]),
            str(status["quarantined"]),
            str(theirs["queue"]["visits"]),
            str(theirs["queue"]["done"]),
            f"¥{theirs['sales']['amount_cents'] / 100:.2f}",
            "✓" if same else "✗",
        )
    console.print(table)


async def main() -> None:
    if DATA.exists():
        shutil.rmtree(DATA)
    DATA.mkdir()
    rng = random.Random(20261126)
    procs = []
    try:
        with console.status("starting central and the store nodes…"):
            central_proc, central_url = start_central()
            procs.append(central_proc)
            nodes = []
            for hall in HALLS:
                proc, url = start_node(hall, central_url)
                procs.append(proc)
                nodes.append((hall, url))
        console.print(f"central on {central_url} (SQLite in demo-data/central)")
        for hall, url in nodes:
            console.print(
                f"store node {hall.store_id} {hall.name} on {url} (SQLite in "
                f"{(DATA / hall.store_id).relative_to(ROOT)}), enrolled with central"
            )
        hq = await hq_session(central_url)
        with console.status("HQ publishes the catalog; the nodes apply it…"):
            await publish_catalog(hq)
            await asyncio.gather(*(wait_for_catalog(url) for _, url in nodes))
        with console.status("simulating a business day in each hall…"):
            kpis = await asyncio.gather(*(run_day(h, url, rng) for h, url in nodes))
        report(list(zip([h for h, _ in nodes], kpis, strict=True)))
        with console.status("waiting for central to hold every event…"):
            statuses = await wait_synced(hq, nodes)
            on_central = []
            for hall, node_kpis in zip(HALLS, kpis, strict=True):
                r = await hq.get(
                    f"/api/v1/hq/stores/{hall.store_id}/kpis", params={"day": str(node_kpis.day)}
                )
                r.raise_for_status()
                on_central.append(r.json())
        report_central(statuses, list(kpis), on_central)
        await hq.aclose()
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
