"""``make demo``: store nodes on their embedded SQLite, a simulated business day, the KPIs.

Starts two store nodes (two halls in different regions) as real processes on loopback, runs a
compressed business day against each through the typed tablet client — opening checklist,
staff clocking in, windows opening, customers taking tickets and being served, sales,
satisfaction ratings, a complaint — and prints each hall's KPIs of the day.

The day is compressed: customers arrive and are served within seconds, not minutes.
Everything it made stays in ``demo-data/`` for a look around (``hallsync store serve``).
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

import httpx
from rich.console import Console
from rich.table import Table

from clients.http import ApiError
from clients.tablet import TabletClient
from schema.api.complaints import AssignIn, ComplaintIn, RespondIn
from schema.api.inventory import ItemIn, LineIn, ReceiveIn, SaleIn, SaleLineIn
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


def start_node(hall: Hall) -> tuple[subprocess.Popen[bytes], str]:
    data_dir = DATA / hall.store_id
    env = {
        **os.environ,
        "HALLSYNC_MANAGER_PASSWORD": PASSWORD,
        "HALLSYNC_CONTACT_KEY": "demo-chain-contact-key-0001",
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "store",
            "init",
            "--data-dir",
            str(data_dir),
            "--store-id",
            hall.store_id,
            "--name",
            hall.name,
            "--region",
            hall.region,
        ],
        check=True,
        env=env,
        cwd=ROOT,
        capture_output=True,
    )
    port = free_port()
    log = (DATA / f"{hall.store_id}.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "store",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"store node {hall.store_id} did not start; see {log.name}")


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

    # Stock for the day: accessories and SIM-free phones' cases.
    await admin.define_item(
        ItemIn(sku="CASE-01", name="手机壳", category="accessory", unit_price_cents=3900)
    )
    await admin.define_item(
        ItemIn(sku="CABLE-C", name="数据线", category="accessory", unit_price_cents=1900)
    )
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


async def main() -> None:
    if DATA.exists():
        shutil.rmtree(DATA)
    DATA.mkdir()
    rng = random.Random(20261126)
    procs = []
    try:
        with console.status("starting store nodes…"):
            nodes = [(hall, *start_node(hall)) for hall in HALLS]
            procs = [p for _, p, _ in nodes]
        for hall, _, url in nodes:
            console.print(
                f"store node {hall.store_id} {hall.name} on {url} (SQLite in "
                f"{(DATA / hall.store_id).relative_to(ROOT)})"
            )
        with console.status("simulating a business day in each hall…"):
            kpis = await asyncio.gather(*(run_day(h, url, rng) for h, _, url in nodes))
        report(list(zip([h for h, _, _ in nodes], kpis, strict=True)))
        console.print("Central and the synced chain-wide rollup arrive with the sync service.")
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
