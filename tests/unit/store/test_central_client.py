"""The node's HTTP calls to central: the wire types sent and read, and how failures read."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import msgspec
import pytest

from schema.api.enrollment import EnrollOut, RestorePage
from server.errors import CentralRefused, CentralUnreachable, HallsyncError, Unauthorized
from server.store.central_address import Enrollment
from server.store.central_client import CentralClient

OUT = EnrollOut(
    store_id="S001",
    name="人民路营业厅",
    region="east",
    tz="Asia/Shanghai",
    credential="hs1.S001.secret",
    contact_key="key",
    central_time=datetime(2026, 3, 1, tzinfo=UTC),
    high_water=12,
)


def _central(answer: Callable[[httpx.Request], httpx.Response]) -> CentralClient:
    return CentralClient("ws://central:8000", transport=httpx.MockTransport(answer))


def test_enroll_sends_the_request_type_and_reads_central_s_answer() -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=msgspec.json.encode(OUT))

    with _central(answer) as central:
        assert central.enroll("CODE-1", existing=("S001", "Asia/Shanghai")) == OUT
        central.enroll("CODE-2", restore=True)
    assert str(sent[0].url) == "http://central:8000/api/v1/enroll"
    assert json.loads(sent[0].content) == {
        "code": "CODE-1", "store_id": "S001", "tz": "Asia/Shanghai",
    }  # fmt: skip
    assert json.loads(sent[1].content) == {"code": "CODE-2", "restore": True}


def test_restore_pages_are_asked_for_with_the_credential() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer hs1.S001.secret"
        assert request.url.path == "/api/v1/restore/events"
        assert dict(request.url.params) == {"after": "5", "limit": "2"}
        page = {"events": [b"a", b"b"], "next_after": 7, "high_water": 9}
        return httpx.Response(200, content=msgspec.msgpack.encode(page))

    enrollment = Enrollment("wss://central", "hs1.S001.secret")
    with CentralClient.enrolled(enrollment, transport=httpx.MockTransport(answer)) as central:
        page = central.restore_page(5, 2)
    assert isinstance(page, RestorePage)
    assert [bytes(e) for e in page.events] == [msgspec.msgpack.encode(x) for x in (b"a", b"b")]
    assert (page.next_after, page.high_water) == (7, 9)


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, Unauthorized), (403, Unauthorized), (409, CentralRefused), (503, CentralUnreachable)],
)
def test_a_refusal_reads_as_a_hallsync_error_with_central_s_detail(
    status: int, error: type[HallsyncError]
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"detail": "used code"})

    with _central(answer) as central, pytest.raises(error, match=rf"used code \(HTTP {status}\)"):
        central.enroll("CODE")


def test_an_unreachable_or_unreadable_central_is_said_so() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with _central(down) as central, pytest.raises(CentralUnreachable, match="cannot be reached"):
        central.enroll("CODE")
    garbage = httpx.MockTransport(lambda r: httpx.Response(200, content=b"<html>"))
    enrollment = Enrollment("ws://central:8000", "hs1.S001.secret")
    with CentralClient.enrolled(enrollment, transport=garbage) as central:
        with pytest.raises(CentralRefused, match="enrollment: central's answer is unreadable"):
            central.enroll("CODE")
        with pytest.raises(CentralRefused, match="restore: central's page is unreadable"):
            central.restore_page(0, 1)
    bad_id = msgspec.json.encode(msgspec.structs.replace(OUT, store_id="S 1"))
    with (
        _central(lambda r: httpx.Response(200, content=bad_id)) as central,
        pytest.raises(CentralRefused, match="invalid store id"),
    ):
        central.enroll("CODE")


def test_a_store_node_given_for_central_is_named() -> None:
    def store_node(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ready":
            return httpx.Response(200, json={"store_id": "S007"})
        return httpx.Response(404, json={"detail": "Not Found"})

    with _central(store_node) as central, pytest.raises(CentralRefused, match="is store node S007"):
        central.enroll("CODE")
