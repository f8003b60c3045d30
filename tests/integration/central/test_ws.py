"""The sync websocket on central, driven with hand-built frames through the test client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import WebSocketTestSession

from schema.events import SCHEMA_VERSION
from sync.frames import (
    MAX_FRAME,
    PROTOCOL_VERSION,
    Ack,
    Error,
    Hello,
    HqAck,
    HqBatch,
    Push,
    Resend,
    ServerFrame,
    Welcome,
    decode_server_frame,
    encode,
)
from tests.integration.central import store_events as ev
from tests.integration.central.conftest import CentralApp, publish_raw

TIMEOUT = 5.0


def sync(app: CentralApp, credential: str | None) -> WebSocketTestSession:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    return app.client.websocket_connect("/sync/v1", headers=headers)


def recv(ws: WebSocketTestSession) -> ServerFrame:
    return decode_server_frame(ws.receive_bytes(timeout=TIMEOUT))


def closed_with(ws: WebSocketTestSession) -> int:
    with pytest.raises(WebSocketDisconnect) as exc:
        ws.receive(timeout=TIMEOUT)
    return int(exc.value.code)


def hello(ws: WebSocketTestSession, store_id: str, **over: Any) -> ServerFrame:
    fields: dict[str, Any] = {
        "store_id": store_id,
        "protocol": PROTOCOL_VERSION,
        "schema": SCHEMA_VERSION,
        "hq_cursor": 0,
        "local_seq": 0,
        **over,
    }
    ws.send_bytes(encode(Hello(**fields)))
    return recv(ws)


def acks_until(ws: WebSocketTestSession, seq: int) -> list[Any]:
    """Frames received until an Ack of ``seq``. Acks are cumulative: pushes that arrive while
    one before them is stored are stored together, so one ack may answer several."""
    frames = [recv(ws)]
    while not (isinstance(frames[-1], Ack) and frames[-1].seq == seq):
        frames.append(recv(ws))
    return frames


def push(ws: WebSocketTestSession, first: int, raws: Sequence[bytes]) -> None:
    ws.send_bytes(encode(Push(first_seq=first, events=[msgspec.Raw(r) for r in raws])))


def status(app: CentralApp, store_id: str) -> dict[str, Any]:
    r = app.client.get("/api/v1/hq/stores", headers=app.admin)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = next(s for s in r.json()["items"] if s["store_id"] == store_id)
    return found


def test_hello_welcome_push_ack(app: CentralApp) -> None:
    credential = app.enrolled("S001")
    with sync(app, credential) as ws:
        welcome = hello(ws, "S001", local_seq=12)
        assert welcome == Welcome(protocol=PROTOCOL_VERSION, schema=SCHEMA_VERSION, high_water=0)
        raws = ev.log("S001", 1, 12)
        push(ws, 1, raws[:5])
        push(ws, 6, raws[5:])
        acks = acks_until(ws, 12)
        assert acks[-1] == Ack(seq=12, quarantined=0)
        assert len(acks) <= 2 and all(isinstance(a, Ack) for a in acks)
    s = status(app, "S001")
    assert (s["high_water"], s["local_seq"], s["pending"], s["lag_seconds"]) == (12, 12, 0, 0.0)
    # A reconnect resumes after what central holds.
    with sync(app, credential) as ws:
        assert hello(ws, "S001") == Welcome(
            protocol=PROTOCOL_VERSION, schema=SCHEMA_VERSION, high_water=12
        )


def test_a_gap_is_answered_with_resend(app: CentralApp) -> None:
    credential = app.enrolled("S001")
    raws = ev.log("S001", 1, 10)
    with sync(app, credential) as ws:
        hello(ws, "S001")
        push(ws, 1, raws[:3])
        assert recv(ws) == Ack(seq=3)
        push(ws, 6, raws[5:])  # 4 and 5 lost on the way
        assert recv(ws) == Resend(from_seq=4)
        push(ws, 4, raws[3:])
        assert recv(ws) == Ack(seq=10)


def test_a_replay_is_a_no_op(app: CentralApp) -> None:
    credential = app.enrolled("S001")
    raws = ev.log("S001", 1, 5)
    with sync(app, credential) as ws:
        hello(ws, "S001")
        push(ws, 1, raws)
        assert recv(ws) == Ack(seq=5)
        push(ws, 1, raws)
        assert recv(ws) == Ack(seq=5)
    with sync(app, credential) as ws:  # a new connection replaying from the start
        hello(ws, "S001")
        push(ws, 1, raws)
        assert recv(ws) == Ack(seq=5)
    s = status(app, "S001")
    assert (s["high_water"], s["quarantined"]) == (5, 0)
    metrics = app.client.get("/metrics").text
    assert "hallsync_central_events_ingested_total" in metrics


def test_hello_for_another_store_is_refused(app: CentralApp) -> None:
    credential = app.enrolled("S001")
    with sync(app, credential) as ws:
        error = hello(ws, "S002")
        assert isinstance(error, Error) and error.code == "wrong_store" and not error.retryable
        assert closed_with(ws) == 4005


def test_a_push_of_only_foreign_events_is_refused_but_a_mixed_one_quarantines_them(
    app: CentralApp,
) -> None:
    credential = app.enrolled("S001")
    with sync(app, credential) as ws:
        hello(ws, "S001")
        push(ws, 1, [ev.configured("S001", 1), ev.staff("S002", 2)])
        assert recv(ws) == Ack(seq=2, quarantined=1)
        push(ws, 3, [ev.staff("S002", 3), ev.staff("S002", 4)])
        error = recv(ws)
        assert isinstance(error, Error) and error.code == "wrong_store"
        assert closed_with(ws) == 4005
    assert status(app, "S001")["high_water"] == 2


@pytest.mark.parametrize(
    ("over", "accepted"),
    [
        ({"protocol": PROTOCOL_VERSION + 1}, False),
        ({"protocol": PROTOCOL_VERSION - 2}, False),
        ({"schema": SCHEMA_VERSION + 1}, False),
        ({"schema": SCHEMA_VERSION - 1}, True),
    ],
)
def test_versions_current_and_previous_are_accepted(
    app: CentralApp, over: dict[str, int], accepted: bool
) -> None:
    credential = app.enrolled("S001")
    with sync(app, credential) as ws:
        answer = hello(ws, "S001", **over)
        if accepted:
            assert isinstance(answer, Welcome)
        else:
            assert isinstance(answer, Error) and answer.code == "version_unsupported"
            assert closed_with(ws) == 4002


def test_a_garbage_frame_closes_only_that_connection(app: CentralApp) -> None:
    one, two = app.enrolled("S001"), app.enrolled("S002")
    with sync(app, two) as other, sync(app, one) as ws:
        hello(other, "S002")
        hello(ws, "S001")
        ws.send_bytes(b"\xc1 this is not msgpack")
        error = recv(ws)
        assert isinstance(error, Error) and error.code == "protocol_violation"
        assert closed_with(ws) == 4003
        push(other, 1, ev.log("S002", 1, 3))
        assert recv(other) == Ack(seq=3)


@pytest.mark.parametrize(
    "frame",
    [
        msgspec.msgpack.encode({"t": "teleport"}),
        msgspec.msgpack.encode({"t": "push", "first_seq": 0, "events": []}),
        encode(Push(first_seq=1, events=[])),  # a push before hello
    ],
)
def test_malformed_or_early_frames_are_protocol_violations(app: CentralApp, frame: bytes) -> None:
    with sync(app, app.enrolled("S001")) as ws:
        ws.send_bytes(frame)
        error = recv(ws)
        assert isinstance(error, Error) and error.code == "protocol_violation"
        assert closed_with(ws) == 4003


@pytest.mark.parametrize("where", ["unknown_field", "event"])
def test_a_frame_nested_a_thousand_deep_is_a_protocol_violation(
    app: CentralApp, where: str
) -> None:
    """A frame nesting arrays 1,000 deep (in a field a newer store might add, or inside an
    event) gets an Error frame and the protocol-violation close, not an internal error (4500)
    with no word; the store's next connection works."""
    credential = app.enrolled("S001")
    deep = b"\x91" * 1_000 + b"\xc0"
    with sync(app, credential) as ws:
        hello(ws, "S001")
        if where == "unknown_field":
            wire = msgspec.msgpack.encode({"t": "hq_ack", "cursor": 0})
            ws.send_bytes(bytes([wire[0] + 1]) + wire[1:] + msgspec.msgpack.encode("x") + deep)
        else:
            ws.send_bytes(encode(Push(first_seq=1, events=[msgspec.Raw(deep)])))
        error = recv(ws)
        assert isinstance(error, Error) and error.code == "protocol_violation"
        assert "nested too deeply" in error.message
        assert closed_with(ws) == 4003
    with sync(app, credential) as ws:
        hello(ws, "S001")
        push(ws, 1, ev.log("S001", 1, 2))
        assert recv(ws) == Ack(seq=2)


def test_text_frames_are_refused(app: CentralApp) -> None:
    with sync(app, app.enrolled("S001")) as ws:
        ws.send_text("hello")
        error = recv(ws)
        assert isinstance(error, Error) and error.code == "protocol_violation"
        assert closed_with(ws) == 4003


def test_an_oversized_frame_is_refused(app: CentralApp) -> None:
    with sync(app, app.enrolled("S001")) as ws:
        hello(ws, "S001")
        big = msgspec.Raw(msgspec.msgpack.encode(b"x" * MAX_FRAME))
        ws.send_bytes(encode(Push(first_seq=1, events=[big])))
        error = recv(ws)
        assert isinstance(error, Error) and error.code == "frame_too_large"
        assert closed_with(ws) == 1009


@pytest.mark.parametrize("credential", [None, "hs1.S001.wrong", "not-a-credential"])
def test_unknown_credentials_are_refused(app: CentralApp, credential: str | None) -> None:
    app.enrolled("S001")
    with pytest.raises(WebSocketDisconnect) as exc, sync(app, credential):
        pass
    assert exc.value.code == 4001


def test_a_revoked_credential_is_refused_even_mid_session(app: CentralApp) -> None:
    credential = app.enrolled("S001")
    with sync(app, credential) as ws:
        hello(ws, "S001")
        r = app.client.post("/api/v1/hq/stores/S001/revoke", headers=app.admin)
        assert r.status_code == 200, r.text
        push(ws, 1, ev.log("S001", 1, 2))
        error = recv(ws)
        assert isinstance(error, Error) and error.code == "unauthorized"
        assert closed_with(ws) == 4001
    with pytest.raises(WebSocketDisconnect) as exc, sync(app, credential):
        pass
    assert exc.value.code == 4001


def test_an_undecodable_event_is_quarantined_and_the_ack_still_advances(app: CentralApp) -> None:
    credential = app.enrolled("S001")
    raws = ev.log("S001", 1, 4)
    raws[1] = ev.unknown_type("S001", 2)
    with sync(app, credential) as ws:
        hello(ws, "S001")
        push(ws, 1, raws)
        assert recv(ws) == Ack(seq=4, quarantined=1)
        push(ws, 5, ev.log("S001", 5, 1))
        assert recv(ws) == Ack(seq=5, quarantined=0)
    r = app.client.get("/api/v1/hq/quarantine", headers=app.admin)
    items = r.json()["items"]
    assert [(i["store_id"], i["seq"], i["event_type"]) for i in items] == [
        ("S001", 2, "ticket.teleported")
    ]
    assert status(app, "S001")["quarantined"] == 1


def test_hq_events_go_down_and_their_ack_is_recorded(app: CentralApp) -> None:
    credential = app.enrolled("S001", region="east")
    url = app.client.app.state.central.url
    first = publish_raw(url, app.clock(), "all", "")
    publish_raw(url, app.clock(), "region", "west")  # not for S001
    with sync(app, credential) as ws:
        hello(ws, "S001")
        batch = recv(ws)
        assert isinstance(batch, HqBatch)
        assert [i.cursor for i in batch.items] == [first] and batch.upto == first + 1
        ws.send_bytes(encode(HqAck(cursor=batch.upto)))
        mine = publish_raw(url, app.clock(), "store", "S001")
        later = recv(ws)  # found by the poller
        assert isinstance(later, HqBatch) and [i.cursor for i in later.items] == [mine]
        ws.send_bytes(encode(HqAck(cursor=later.upto)))
        push(ws, 1, ev.log("S001", 1, 1))  # a round trip, so the ack is surely processed
        assert recv(ws) == Ack(seq=1)
    assert status(app, "S001")["hq_acked"] == mine


def test_metrics_report_connections_and_lag(app: CentralApp) -> None:
    credential = app.enrolled("S001")
    with sync(app, credential) as ws:
        hello(ws, "S001", local_seq=40)
        push(ws, 1, ev.log("S001", 1, 10))
        assert recv(ws) == Ack(seq=10)
        text = app.client.get("/metrics").text
        assert "hallsync_central_connected_stores 1.0" in text
        assert 'hallsync_central_sync_lag_events{region="east",store_id="S001"} 30.0' in text
    s = status(app, "S001")
    assert (s["pending"], s["lag_seconds"]) == (30, 0.0)
    app.clock.advance(minutes=5)
    assert status(app, "S001")["lag_seconds"] == 300.0
