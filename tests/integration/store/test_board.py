"""The hall's queue display board (叫号屏): polling, the server-sent event stream, and the
board's promises (latest state only, bursts coalesced, keep-alives, clean shutdown)."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from schema.api.queue import TicketIn
from schema.events import Event, decode
from schema.tables.core import events
from server.domain import queue as domain
from server.store.app import create_app
from server.store.board import Display, QueueBoard
from server.store.db import Reader
from tests.conftest import Harness, engine_for

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
"""The harness's clock: 10:00 in Shanghai."""
Headers = dict[str, dict[str, str]]


def states(body: str) -> list[dict[str, Any]]:
    """The ``state`` events of a server-sent event stream, decoded, in order."""
    out = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = block.split("\n")
        if "event: state" in lines:
            data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
            out.append(json.loads(data))
    return out


# ---------------------------------------------------------------- over HTTP


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient[Any]]:
    """The store node app with the board's pusher not waiting for bursts (overrides shared)."""
    app = create_app(data_dir)
    app.state.board.coalesce = 0
    with TestClient(app=app) as c:
        yield c


def test_polling_board_for_any_role(client: TestClient[Any], as_role: Headers) -> None:
    assert client.get("/api/v1/queue/board").status_code == 401
    client.post("/api/v1/queue/tickets", json={"category": "porting"}, headers=as_role["greeter"])
    for headers in as_role.values():
        body = client.get("/api/v1/queue/board", headers=headers).json()
        assert body["totals"]["waiting"] == 1
        assert {c["category"]: c["waiting"] for c in body["categories"]}["porting"] == 1


def test_stream_sends_state_at_connect_and_after_a_write(
    client: TestClient[Any], as_role: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    board: QueueBoard = client.app.state.board
    subscribed, pushed = threading.Event(), threading.Event()
    subscribe = board.subscribe

    async def watched_subscribe() -> Display:
        # The TestClient hands over a response only when it ends, so the test learns from the
        # board itself when the display is connected and when the update reached its mailbox.
        display = await subscribe()
        offer = display.offer

        def watched_offer(version: int, payload: bytes) -> None:
            offer(version, payload)
            pushed.set()

        monkeypatch.setattr(display, "offer", watched_offer)
        subscribed.set()
        return display

    monkeypatch.setattr(board, "subscribe", watched_subscribe)
    response: dict[str, Any] = {}

    def display() -> None:  # the hall's display, on its own connection
        response["r"] = client.get("/api/v1/queue/board/stream", headers=as_role["tech"])

    reader = threading.Thread(target=display)
    reader.start()
    try:
        assert subscribed.wait(30)
        assert board.displays == 1
        r = client.post(
            "/api/v1/queue/tickets", json={"category": "billing"}, headers=as_role["greeter"]
        )
        assert r.status_code == 201
        assert pushed.wait(30)
    finally:
        client.blocking_portal.call(board.close)  # what shutdown does: ends every stream
        reader.join(30)
    r = response["r"]
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache"
    assert "retry: 3000" in r.text
    first, update = states(r.text)
    assert first["totals"]["waiting"] == 0
    assert update["totals"]["waiting"] == 1
    assert {c["category"]: c["waiting"] for c in update["categories"]}["billing"] == 1
    assert board.displays == 0 and board.pushes == 1


def test_stream_needs_a_token(client: TestClient[Any]) -> None:
    r = client.get("/api/v1/queue/board/stream")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


# ---------------------------------------------------------------- the board itself


@pytest.fixture
async def board(data_dir: Path) -> AsyncIterator[QueueBoard]:
    """A board over the node's database, with no waiting for bursts, at the harness's time."""
    engine = engine_for(data_dir)
    b = QueueBoard(Reader(engine), "S001", coalesce=0, clock=lambda: NOW)
    yield b
    await b.close()
    engine.dispose()


def issue(harness: Harness, category: Any = "billing") -> list[Event]:
    """Issue a ticket; the events that commit made durable, as the writer would report them."""
    out = harness.run(lambda ctx: domain.issue_ticket(ctx, TicketIn(category=category)))
    rows = harness.read(
        lambda c: c.execute(sa.select(events.c.body).order_by(events.c.seq.desc()).limit(1)).all()
    )
    assert out.number
    return [decode(r.body) for r in rows]


async def test_display_gets_the_current_state_first(board: QueueBoard, harness: Harness) -> None:
    issue(harness)
    stream = board.stream()
    first = await anext(stream)
    assert first.event == "state" and first.retry == 3000
    assert json.loads(str(first.data))["totals"]["waiting"] == 1
    await stream.aclose()
    assert board.displays == 0  # a display that goes away is forgotten


async def test_a_burst_of_commits_is_pushed_once(board: QueueBoard, harness: Harness) -> None:
    stream = board.stream()
    await anext(stream)
    for _ in range(5):
        board.on_commit(issue(harness))  # five commits before the pusher gets to run
    await board.close()  # flushes what is pending, then ends the stream
    rest = [m async for m in stream]
    assert board.pushes == 1
    assert [json.loads(str(m.data))["totals"]["waiting"] for m in rest] == [5]


async def test_keep_alive_when_nothing_changes(board: QueueBoard) -> None:
    board.keepalive = 0
    stream = board.stream()
    await anext(stream)
    quiet = await anext(stream)
    assert quiet.comment == "keep-alive" and quiet.data is None and quiet.event is None
    assert quiet.encode() == b": keep-alive\r\n\r\n"  # a comment: displays ignore it
    await board.close()
    assert [m async for m in stream] == []


async def test_only_queue_events_wake_the_board_and_only_with_displays(
    board: QueueBoard, harness: Harness
) -> None:
    board.on_commit(issue(harness))
    assert board.pushes == 0 and board._task is None  # nobody watches: nothing to do
    stream = board.stream()
    await anext(stream)
    staff = harness.read(
        lambda c: c.execute(sa.select(events.c.body).where(events.c.type == "staff.added")).all()
    )
    board.on_commit([decode(r.body) for r in staff])
    assert board._task is None
    await stream.aclose()


async def test_a_slow_display_gets_only_the_newest_state() -> None:
    display = Display()
    display.offer(1, b"one")
    display.offer(3, b"three")
    display.offer(2, b"two")  # a read that started earlier finished later: ignored
    assert await display.next(0) == b"three"
    assert await display.next(0) is None  # nothing new: keep-alive
    display.close()
    assert await display.next(0) is not None  # the closed marker


async def test_after_close_new_displays_end_at_once(board: QueueBoard) -> None:
    await board.close()
    assert [m async for m in board.stream()] == []
    assert board.displays == 0
