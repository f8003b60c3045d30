"""The store's sync client against an in-process fake central: upload, reconnects, HQ events,
the status page, ``store sync --once``, enrollment and restore.

The fake speaks the real protocol through ``sync.server.ServerSession`` over ``websockets``
(with permessage-deflate) and keeps central's state in memory; its HTTP side (enroll and
restore) is a stdlib ``http.server`` on its own port.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar.testing import AsyncTestClient, TestClient
from uuid_utils.compat import uuid7
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from schema.api.inventory import ItemIn, LineIn, ReceiveIn, SaleIn, SaleLineIn
from schema.api.queue import TicketIn
from schema.events import SCHEMA_VERSION, decode, encode
from schema.events.inventory import ItemDefined
from schema.events.store import StoreConfigured
from schema.tables import inventory as inv_tables
from schema.tables.core import events, node_meta, staff
from schema.tables.databases import store_metadata
from schema.tables.sync import hq_log, sync_state
from server.cli import main
from server.domain import inventory, queue
from server.domain import store as store_domain
from server.domain.context import Ctx
from server.errors import CentralUnreachable
from server.passwords import hash_password
from server.settings import SyncSettings
from server.store.app import create_app
from server.store.central_address import Enrollment
from server.store.db import Reader
from server.store.enrollment import init_enrolled
from server.store.node import open_store
from server.store.sync_service import (
    META_CENTRAL_URL,
    META_CREDENTIAL,
    NodeHqSink,
    NodeOutbox,
    NodeProgress,
    SyncService,
)
from server.store.writer import Writer
from sync.errors import LogBehind, SyncError, Unauthorized, Unavailable
from sync.frames import Hello, HqItem, Push, decode_client_frame
from sync.frames import encode as encode_frame
from sync.ports import Ports
from sync.progress import SyncOptions
from sync.schedule import Backoff
from sync.server import IngestRequest, ServerSession
from sync.store_ws import run_forever, run_once
from tests.conftest import MANAGER, MANAGER_PASSWORD, STORE_ID, Harness, login
from tests.contact import CONTACT_KEY

CREDENTIAL = f"hs1.{STORE_ID}.not-a-real-secret"
T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
FAST = SyncOptions(settle=0.2, save_interval=0.0, ping_interval=None)

# ------------------------------------------------------------------ the fake central


@dataclass
class FakeCentral:
    """Central's sync endpoint with in-memory storage, for one store."""

    store_id: str = STORE_ID
    credential: str = CREDENTIAL
    events: dict[int, bytes] = field(default_factory=dict)
    high_water: int = 0
    hq: list[HqItem] = field(default_factory=list)
    hq_acked: int = 0
    hellos: list[Hello] = field(default_factory=list)
    pushes: list[int] = field(default_factory=list)
    """Size of each Push received."""
    duplicates: int = 0
    """Events received again after central held them."""
    ingests: int = 0
    connections: int = 0
    drop_after_ingests: int | None = None
    """Abort the socket after this many ingests, before acknowledging (once)."""
    fail_with: SyncError | None = None
    """Answer every hello with this error."""
    server: Server | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def sync_url(self) -> str:
        return self.url + "/sync/v1"

    def add_hq(self, event_bytes: bytes) -> int:
        cursor = len(self.hq) + 1
        self.hq.append(HqItem(cursor=cursor, event=msgspec.Raw(event_bytes)))
        return cursor

    async def start(self) -> None:
        self.server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._authenticate,
            compression="deflate",
            max_size=4 * 1024 * 1024,
        )
        self.port = next(iter(self.server.sockets)).getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    def _authenticate(self, conn: ServerConnection, request: Request) -> Response | None:
        if request.path != "/sync/v1":
            return conn.respond(404, "no such endpoint\n")
        if request.headers.get("Authorization") != f"Bearer {self.credential}":
            return conn.respond(401, "bad store credential\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        session = ServerSession(self.store_id, schema=SCHEMA_VERSION)
        try:
            async for message in ws:
                assert isinstance(message, bytes)
                frame = decode_client_frame(message)
                if isinstance(frame, Hello):
                    self.hellos.append(frame)
                elif isinstance(frame, Push):
                    self.pushes.append(len(frame.events))
                session.receive_frame(frame)
                self.hq_acked = max(self.hq_acked, session.hq_acked)
                if not await self._pump(ws, session):
                    return
        except ConnectionClosed:
            pass

    async def _pump(self, ws: ServerConnection, s: ServerSession) -> bool:
        while True:
            busy = False
            if s.wants_state():
                if self.fail_with is not None:
                    s.fail(self.fail_with)
                else:
                    s.state_loaded(self.high_water)
                busy = True
            ingest = s.ingest_request()
            if ingest is not None:
                self._ingest(ingest)
                self.ingests += 1
                if self.ingests == self.drop_after_ingests:
                    self.drop_after_ingests = None
                    ws.transport.abort()  # stored, but the Ack never leaves
                    return False
                s.ingested(self.high_water)
                busy = True
            hq = s.hq_request()
            if hq is not None:
                items = [i for i in self.hq if i.cursor > hq.after][: hq.limit]
                s.hq_loaded(items, items[-1].cursor if items else hq.after)
                busy = True
            for frame in s.frames_to_send():
                await ws.send(encode_frame(frame))
            if s.close_with is not None:
                await ws.close(s.close_with.close_code, s.close_with.message)
                return False
            if not busy:
                return True

    def _ingest(self, req: IngestRequest) -> None:
        for i, raw in enumerate(req.events):
            seq = req.first_seq + i
            if seq in self.events:
                self.duplicates += 1
            else:
                assert decode(bytes(raw)).store_id == self.store_id
                self.events[seq] = bytes(raw)
        while self.high_water + 1 in self.events:
            self.high_water += 1


@pytest.fixture
async def central() -> AsyncIterator[FakeCentral]:
    """A fake central on the test's event loop."""
    c = FakeCentral()
    await c.start()
    yield c
    await c.stop()


@pytest.fixture
def central_thread() -> Iterator[FakeCentral]:
    """A fake central on its own event loop and thread, for tests that block theirs (the
    synchronous test client, the CLI runner)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    c = FakeCentral()
    asyncio.run_coroutine_threadsafe(c.start(), loop).result(5)
    yield c
    asyncio.run_coroutine_threadsafe(c.stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


class CentralHttp:
    """Central's enroll and restore endpoints (stdlib HTTP server in a thread)."""

    def __init__(self, central: FakeCentral) -> None:
        self.central = central
        self.codes: dict[str, bool] = {}
        """One-time codes: code → already used."""
        self.restore_calls: list[int] = []
        self.fail_restore_after: int | None = None
        """Answer 503 to the restore page after this ``after`` (once)."""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        http = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/api/v1/enroll" or http.codes.get(data["code"]) is not False:
                    problem = {"status": 409, "detail": "unknown or used enrollment code"}
                    self._send(409, json.dumps(problem).encode(), "application/problem+json")
                    return
                http.codes[data["code"]] = True
                c = http.central
                out = {
                    "store_id": c.store_id,
                    "name": "人民路营业厅",
                    "region": "east",
                    "tz": "Asia/Shanghai",
                    "credential": c.credential,
                    "contact_key": CONTACT_KEY,
                    "central_time": datetime.now(UTC).isoformat(),
                }
                self._send(201, json.dumps(out).encode(), "application/json")

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if self.headers.get("Authorization") != f"Bearer {http.central.credential}":
                    self._send(401, b'{"detail": "bad credential"}', "application/problem+json")
                    return
                query = {k: int(v[0]) for k, v in parse_qs(url.query).items()}
                after, limit = query["after"], query["limit"]
                http.restore_calls.append(after)
                if http.fail_restore_after is not None and after >= http.fail_restore_after:
                    http.fail_restore_after = None
                    self._send(503, b'{"detail": "try later"}', "application/problem+json")
                    return
                c = http.central
                seqs = [s for s in range(after + 1, c.high_water + 1)][:limit]
                page = {
                    "events": [msgspec.Raw(c.events[s]) for s in seqs],
                    "next_after": seqs[-1] if seqs and seqs[-1] < c.high_water else None,
                    "high_water": c.high_water,
                }
                self._send(200, msgspec.msgpack.encode(page), "application/msgpack")

        return Handler


@pytest.fixture
def central_http(central: FakeCentral) -> Iterator[CentralHttp]:
    http = CentralHttp(central)
    http.thread.start()
    yield http
    http.server.shutdown()
    http.server.server_close()


# ------------------------------------------------------------------ helpers


def enroll_with(data_dir: Path, url: str, credential: str = CREDENTIAL) -> None:
    """Mark an initialised node as enrolled with the central at ``url``."""
    engine = open_store(data_dir).engine
    with engine.begin() as conn:
        conn.execute(
            node_meta.delete().where(node_meta.c.key.in_([META_CENTRAL_URL, META_CREDENTIAL]))
        )
        conn.execute(
            node_meta.insert(),
            [
                {"key": META_CENTRAL_URL, "value": url},
                {"key": META_CREDENTIAL, "value": credential},
            ],
        )
    engine.dispose()


def renames(n: int) -> Callable[[Ctx], None]:
    """A command that appends ``n`` events (store renames) in one transaction."""

    def command(ctx: Ctx) -> None:
        s = ctx.store
        for i in range(n):
            ctx.emit(
                StoreConfigured,
                name=f"营业厅 {i}",
                region=s.region,
                tz=s.tz,
                open_time=s.open_time,
                close_time=s.close_time,
            )

    return command


def local_log(h: Harness) -> dict[int, bytes]:
    rows = h.read(lambda c: c.execute(sa.select(events.c.seq, events.c.body)).all())
    return {seq: bytes(body) for seq, body in rows}


def sync_row(h: Harness) -> Any:
    return h.read(lambda c: c.execute(sa.select(sync_state)).one())


@dataclass
class RunningNode:
    """A node's writer running on the test's event loop, and the sync ports over it."""

    writer: Writer
    reader: Reader
    ports: Ports


@pytest.fixture
def running(harness: Harness) -> Iterator[RunningNode]:
    writer = Writer(harness.engine, STORE_ID, contact_key=harness.contact_key)
    reader = Reader(harness.engine)
    writer.start()
    ports = Ports(
        STORE_ID, NodeOutbox(reader, STORE_ID), NodeHqSink(writer, reader), NodeProgress(writer)
    )
    yield RunningNode(writer, reader, ports)
    writer.stop()


def item_defined_by_hq(sku: str) -> bytes:
    return encode(
        ItemDefined(
            id=uuid7(),
            store_id="*",
            seq=0,
            hlc=0,
            at=T0,
            actor="hq:ops",
            device="hq",
            sku=sku,
            name="总部统一配件",
            category="accessory",
            unit_price_cents=2900,
            serialised=False,
            active=True,
        )
    )


# ------------------------------------------------------------------ upload


async def test_uploads_a_backlog_in_batches(
    harness: Harness, running: RunningNode, central: FakeCentral
) -> None:
    harness.run(renames(1000))
    local = local_log(harness)
    progress: list[tuple[int, int]] = []
    opts = dataclasses.replace(FAST, batch_count=100)

    result = await run_once(
        central.sync_url,
        CREDENTIAL,
        running.ports,
        options=opts,
        on_progress=lambda a, b: progress.append((a, b)),
    )

    assert central.events == local  # every event, byte for byte, exactly once
    assert central.high_water == result.acked_seq == max(local) == len(local)
    assert sum(central.pushes) == len(local) and max(central.pushes) == 100
    assert len(central.pushes) == -(-len(local) // 100)
    assert central.duplicates == 0
    assert progress[-1] == (len(local), len(local))
    row = sync_row(harness)
    assert row.acked_seq == len(local) and row.last_error is None
    assert row.last_success_at is not None and row.last_attempt_at is not None


async def test_batches_are_cut_by_bytes(
    harness: Harness, running: RunningNode, central: FakeCentral
) -> None:
    harness.run(renames(300))
    sizes = sorted(len(b) for b in local_log(harness).values())
    opts = dataclasses.replace(FAST, batch_bytes=sizes[-1] * 10)
    await run_once(central.sync_url, CREDENTIAL, running.ports, options=opts)
    assert max(central.pushes) <= 10 and central.high_water == len(sizes)


async def test_reconnects_after_a_drop_mid_upload_without_loss_or_duplicates(
    harness: Harness, running: RunningNode, central: FakeCentral
) -> None:
    harness.run(renames(700))
    local = local_log(harness)
    central.drop_after_ingests = 2  # two batches stored, the second never acknowledged
    stop = asyncio.Event()
    delays: list[float] = []

    class StopWhenDone(NodeProgress):
        async def saved(self, acked_seq: int, hq: int, q: int, *, caught_up: bool) -> None:
            await super().saved(acked_seq, hq, q, caught_up=caught_up)
            if caught_up and acked_seq == len(local):
                stop.set()

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    ports = dataclasses.replace(running.ports, progress=StopWhenDone(running.writer))
    opts = dataclasses.replace(FAST, batch_count=100, window=1)
    await asyncio.wait_for(
        run_forever(
            central.sync_url,
            CREDENTIAL,
            ports,
            stop=stop,
            backoff=Backoff(rand=lambda: 0.25),
            sleep=sleep,
            options=opts,
        ),
        10,
    )

    assert central.connections == 2 and delays == [0.25]
    assert central.hellos[1].local_seq == len(local)
    assert central.events == local and central.duplicates == 0
    # The second connection resumed after what central held, not after what it acknowledged.
    assert sum(central.pushes) == len(local)
    row = sync_row(harness)
    assert row.acked_seq == len(local) and row.last_error is None


async def test_wakes_on_commit_and_uploads_while_connected(
    running: RunningNode, central: FakeCentral
) -> None:
    service = SyncService(
        running.writer, running.reader, Enrollment(central.url, CREDENTIAL), options=FAST
    )
    running.writer.on_commit.append(service.on_commit)
    await service.start()
    try:
        await wait_for(lambda: central.high_water == 2 and service.link.connected)
        await running.writer.submit(renames(3), actor=MANAGER, device="t")
        await wait_for(lambda: central.high_water == 5, seconds=3)
        assert central.connections == 1  # the same connection carried the new events
    finally:
        await service.stop()
    assert not service.link.connected


async def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Poll state that other tasks change (the fake central's, the link's)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


# ------------------------------------------------------------------ download


async def test_hq_batch_is_applied_once_and_shows_in_projections(
    harness: Harness, running: RunningNode, central: FakeCentral
) -> None:
    central.add_hq(item_defined_by_hq("HQ-CASE"))
    unknown = msgspec.msgpack.encode({"type": "target.set", "id": str(uuid7()), "kpi": "nps"})
    upto = central.add_hq(unknown)

    result = await run_once(central.sync_url, CREDENTIAL, running.ports, options=FAST)

    assert result.hq_cursor == upto and result.hq_applied == 2
    items = harness.read(lambda c: c.execute(sa.select(inv_tables.inventory_items)).all())
    assert [(i.store_id, i.sku, i.unit_price_cents) for i in items] == [(STORE_ID, "HQ-CASE", 2900)]
    logged = harness.read(lambda c: c.execute(sa.select(hq_log).order_by(hq_log.c.cursor)).all())
    assert [(r.cursor, r.type, r.applied_after_seq) for r in logged] == [
        (1, "item.defined", 2),
        (2, "target.set", 2),  # not understood: kept, not applied, and not wedging the node
    ]
    assert bytes(logged[1].body) == unknown
    assert sync_row(harness).hq_cursor == upto and central.hq_acked == upto

    await run_once(central.sync_url, CREDENTIAL, running.ports, options=FAST)
    assert central.hellos[-1].hq_cursor == upto
    count = sa.select(sa.func.count()).select_from(hq_log)
    assert harness.read(lambda c: c.execute(count).scalar()) == 2


# ------------------------------------------------------------------ failures


async def test_a_bad_credential_is_not_retryable_and_is_recorded(
    harness: Harness, running: RunningNode, central: FakeCentral
) -> None:
    with pytest.raises(Unauthorized) as caught:
        await run_once(central.sync_url, "hs1.S001.wrong", running.ports, options=FAST)
    assert not caught.value.retryable
    assert "unauthorized" in sync_row(harness).last_error


async def test_an_error_frame_says_whether_to_retry(
    running: RunningNode, central: FakeCentral
) -> None:
    central.fail_with = Unavailable("central's database is down")
    with pytest.raises(Unavailable, match="database is down") as caught:
        await run_once(central.sync_url, CREDENTIAL, running.ports, options=FAST)
    assert caught.value.retryable


async def test_a_node_behind_central_is_told_to_restore(
    running: RunningNode, central: FakeCentral
) -> None:
    central.high_water = 50
    with pytest.raises(LogBehind, match="--restore") as caught:
        await run_once(central.sync_url, CREDENTIAL, running.ports, options=FAST)
    assert not caught.value.retryable


# ------------------------------------------------------------------ status page


def test_status_page(data_dir: Path, harness: Harness, central_thread: FakeCentral) -> None:
    central = central_thread
    harness.run(renames(10))
    with TestClient(app=create_app(data_dir)) as client:  # not enrolled
        headers = login(client, MANAGER, MANAGER_PASSWORD)
        body = client.get("/api/v1/sync/status", headers=headers).json()
        assert body["enrolled"] is False and body["connected"] is False
        assert body["pending"] == body["local_seq"] == 12 and body["acked_seq"] == 0

    enroll_with(data_dir, central.url)
    app = create_app(data_dir, sync_settings=SyncSettings(mode="continuous"))
    app.state.sync.options = FAST
    with TestClient(app=app) as client:
        headers = login(client, MANAGER, MANAGER_PASSWORD)

        def status() -> dict[str, Any]:
            r = client.get("/api/v1/sync/status", headers=headers)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            return body

        body = poll(status, lambda b: b["last_success_at"] is not None)
        assert body["enrolled"] is True and body["central_url"] == central.url
        assert (body["local_seq"], body["acked_seq"], body["pending"]) == (12, 12, 0)
        assert body["connected"] is True and body["last_error"] is None
        assert central.high_water == 12 and body["last_attempt_at"] is not None

        r = client.post(
            "/api/v1/staff",
            json={"username": "clerk1", "display_name": "c", "role": "clerk", "password": "x" * 9},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        # The new staff event goes up at once over the open connection.
        poll(status, lambda b: b["acked_seq"] == 13)
        clerk = login(client, "clerk1", "x" * 9)
        assert client.get("/api/v1/sync/status", headers=clerk).status_code == 403


def poll(read: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if ok(value):
            return value
        assert time.monotonic() < deadline, f"still {value}"
        time.sleep(0.05)


async def alogin(client: Any, username: str, password: str) -> Any:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


# ------------------------------------------------------------------ the CLI


def test_sync_once_from_the_command_line(
    data_dir: Path, harness: Harness, central_thread: FakeCentral
) -> None:
    central = central_thread
    harness.run(renames(2500))  # enough for the progress bar
    runner = CliRunner()
    args = ["store", "sync", "--once", "--data-dir", str(data_dir)]

    not_enrolled = runner.invoke(main, args)
    assert not_enrolled.exit_code == 1 and "not enrolled" in not_enrolled.output

    enroll_with(data_dir, central.url)
    ok = runner.invoke(main, args)
    assert ok.exit_code == 0, ok.output
    assert "caught up: central holds seq 2502" in ok.output
    assert central.high_water == 2502

    enroll_with(data_dir, central.url, credential="hs1.S001.revoked")
    refused = runner.invoke(main, args)
    assert refused.exit_code == 1 and "refused the store credential" in refused.output

    enroll_with(data_dir, "ws://127.0.0.1:9")  # nobody listens: try again later
    down = runner.invoke(main, args)
    assert down.exit_code == 75 and "try again later" in down.output


def test_enroll_from_the_command_line(tmp_path: Path, central_http: CentralHttp) -> None:
    central_http.codes["CODE-1"] = False
    runner = CliRunner()
    data_dir = tmp_path / "new"
    args = ["store", "init", "--data-dir", str(data_dir), "--enroll", "CODE-1"]
    env = {"HALLSYNC_MANAGER_PASSWORD": MANAGER_PASSWORD}

    usage = runner.invoke(main, args, env=env)
    assert usage.exit_code == 2 and "--central" in usage.output

    central_url = central_http.url.replace("http://", "ws://")
    result = runner.invoke(main, [*args, "--central", central_url], env=env)
    assert result.exit_code == 0, result.output
    assert f"store node {STORE_ID} (人民路营业厅) enrolled" in result.output
    opened = open_store(data_dir)
    with opened.engine.connect() as conn:
        meta = dict(conn.execute(sa.select(node_meta.c.key, node_meta.c.value)).all())
        managers = conn.execute(sa.select(staff.c.username, staff.c.role)).all()
    opened.engine.dispose()
    assert meta[META_CENTRAL_URL] == central_url and meta[META_CREDENTIAL] == CREDENTIAL
    # The chain's contact key is kept beside the database, never in it.
    assert "contact_key" not in meta and meta["store_id"] == STORE_ID
    assert opened.contact_key.spec == CONTACT_KEY
    assert [tuple(m) for m in managers] == [(MANAGER, "manager")]

    again = runner.invoke(main, [*args, "--central", central_url], env=env)
    assert again.exit_code == 1 and "already holds a store node" in again.output
    used = runner.invoke(
        main, [*args[:3], str(tmp_path / "other"), *args[4:], "--central", central_url], env=env
    )
    assert used.exit_code == 1 and "unknown or used enrollment code" in used.output


# ------------------------------------------------------------------ restore


def build_history(h: Harness) -> None:
    """A business day's worth of varied events on the node."""
    for item in (
        ItemIn(sku="CASE", name="手机壳", category="accessory", unit_price_cents=3900),
        ItemIn(sku="ROLL", name="打印纸", category="supply", unit_price_cents=500),
    ):
        h.run(partial(inventory.define_item, cmd=item), now=T0 - timedelta(days=1))
    h.run(
        lambda ctx: inventory.receive(
            ctx,
            ReceiveIn(
                supplier="区域仓", lines=[LineIn(sku="CASE", qty=20), LineIn(sku="ROLL", qty=5)]
            ),
        )
    )
    for minute in range(5):
        h.run(
            lambda ctx: inventory.sell(ctx, SaleIn(lines=[SaleLineIn(sku="CASE", qty=1)])),
            now=T0 + timedelta(minutes=minute),
        )
        h.run(
            lambda ctx: queue.issue_ticket(ctx, TicketIn(category="consultation")),
            now=T0 + timedelta(minutes=minute),
        )
    pw = hash_password("clerk-pass-123")
    h.run(
        lambda ctx: store_domain.add_staff(
            ctx, username="clerk1", display_name="店员", role="clerk", password_hash=pw
        )
    )


def node_tables() -> list[sa.Table]:
    """Every table whose rows a restore must reproduce (all but node-local bookkeeping)."""
    local = {"node_meta", "credentials", "idempotency_keys", "sync_state", "hq_log"}
    return [t for t in store_metadata.sorted_tables if t.name not in local]


def assert_same_rows(a: Path, b: Path) -> None:
    ea, eb = open_store(a).engine, open_store(b).engine
    try:
        for table in node_tables():
            order = list(table.primary_key.columns) or list(table.columns)
            with ea.connect() as ca, eb.connect() as cb:
                want = ca.execute(sa.select(table).order_by(*order)).all()
                got = cb.execute(sa.select(table).order_by(*order)).all()
            assert got == want, f"restore does not rebuild {table.name}"
    finally:
        ea.dispose()
        eb.dispose()


async def test_restore_rebuilds_the_node_exactly(
    tmp_path: Path,
    data_dir: Path,
    harness: Harness,
    running: RunningNode,
    central: FakeCentral,
    central_http: CentralHttp,
) -> None:
    build_history(harness)
    central.add_hq(item_defined_by_hq("HQ-CASE"))
    await run_once(central.sync_url, CREDENTIAL, running.ports, options=FAST)
    original_seq = central.high_water
    assert original_seq > 15

    central_http.codes["RESTORE-1"] = False
    central_http.fail_restore_after = 7  # the link fails part-way through
    replacement = tmp_path / "replacement"
    seen: list[tuple[int, int]] = []
    restore = partial(
        init_enrolled,
        replacement,
        central_url=central_http.url,
        code="RESTORE-1",
        manager=MANAGER,
        manager_password="new-manager-pass",
        restore=True,
        progress=lambda done, total: seen.append((done, total)),
        page_size=7,
    )
    with pytest.raises(CentralUnreachable, match="try later"):
        await asyncio.to_thread(restore)
    with pytest.raises(Exception, match="did not finish"):
        open_store(replacement)
    assert await asyncio.to_thread(restore) is None  # resumed, without a new code
    assert central_http.restore_calls[:3] == [0, 7, 7]
    assert seen[-1] == (original_seq, original_seq)

    running.writer.stop()  # the original node is gone; compare it with its replacement
    harness.engine.dispose()
    restored = Harness(replacement)
    assert local_log(restored) == central.events  # same seq, same id, same bytes
    # Projections equal the original's, except the HQ item the original got by sync.
    items = inv_tables.inventory_items
    with harness.engine.begin() as conn:
        conn.execute(items.delete().where(items.c.sku == "HQ-CASE"))
    assert_same_rows(data_dir, replacement)
    assert sync_row(restored).acked_seq == original_seq and sync_row(restored).hq_cursor == 0

    # The new manager password works, and the log continues after the restored events.
    app = create_app(replacement, sync_settings=SyncSettings(mode="off"))
    async with AsyncTestClient(app=app) as client:
        await alogin(client, MANAGER, "new-manager-pass")
    restored.run(renames(1))
    assert max(local_log(restored)) == original_seq + 1

    # Sync picks up where central stands and receives the HQ events again.
    enroll_with(replacement, central.url)
    writer = Writer(restored.engine, STORE_ID, contact_key=restored.contact_key)
    writer.start()
    try:
        reader = Reader(restored.engine)
        ports = Ports(
            STORE_ID, NodeOutbox(reader, STORE_ID), NodeHqSink(writer, reader), NodeProgress(writer)
        )
        result = await run_once(central.sync_url, CREDENTIAL, ports, options=FAST)
    finally:
        writer.stop()
    assert result.acked_seq == central.high_water == original_seq + 1
    assert result.hq_applied == 1 and central.duplicates == 0
    restored.engine.dispose()


def test_restore_from_the_command_line(
    tmp_path: Path,
    data_dir: Path,
    harness: Harness,
    central: FakeCentral,
    central_http: CentralHttp,
) -> None:
    harness.run(renames(30))
    central.events = local_log(harness)
    central.high_water = len(central.events)
    central_http.codes["R"] = False
    replacement = tmp_path / "replacement"
    result = CliRunner().invoke(
        main,
        [
            "store", "init", "--data-dir", str(replacement), "--enroll", "R",
            "--central", central_http.url, "--restore",
        ],
        env={"HALLSYNC_MANAGER_PASSWORD": MANAGER_PASSWORD},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "restored from central" in result.output
    restored = Harness(replacement)
    assert local_log(restored) == central.events
    restored.engine.dispose()


def test_set_central_refuses_an_address_that_holds_more_of_the_log(tmp_path: Path) -> None:
    """A central holding more of the store's log than the node has is not this node's central
    (or the node was restored from an old copy): syncing with it would lose events."""
    from server.store.enrollment import set_central
    from server.store.node import init_store

    data = tmp_path / "node"
    meta = {META_CENTRAL_URL: "ws://old:8000", META_CREDENTIAL: CREDENTIAL}
    init_store(
        data, store_id=STORE_ID, name="n", region="east", tz="Asia/Shanghai",
        manager=MANAGER, manager_password=MANAGER_PASSWORD, contact_key=CONTACT_KEY, meta=meta,
    )  # fmt: skip

    def central(high_water: int) -> Any:
        import httpx

        def answer(request: httpx.Request) -> httpx.Response:
            assert request.headers["Authorization"] == f"Bearer {CREDENTIAL}"
            page = {"events": [], "next_after": None, "high_water": high_water}
            return httpx.Response(200, content=msgspec.msgpack.encode(page))

        return httpx.MockTransport(answer)

    with pytest.raises(Exception, match="holds 999 events of store") as refused:
        set_central(data, "ws://new:8000", transport=central(999))
    assert refused.value.code == "central_refused"  # type: ignore[attr-defined]
    assert set_central(data, "wss://new:8443", transport=central(1)) == 1
    engine = open_store(data).engine
    with engine.connect() as conn:
        url = conn.execute(
            sa.select(node_meta.c.value).where(node_meta.c.key == META_CENTRAL_URL)
        ).scalar()
    engine.dispose()
    assert url == "wss://new:8443"
