"""Several central replicas on one PostgreSQL database: any replica serves any store, because
every bit of state (progress, credentials, token key) is in the database."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import TestClient

from server.central.node import init_central
from sync.frames import Ack, HqAck, HqBatch, Welcome, encode
from tests.contact import key_dir
from tests.integration.central import store_events as ev
from tests.integration.central.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    CONTACT_KEY,
    CentralApp,
    Clock,
    open_app,
    publish_raw,
)
from tests.integration.central.test_ws import acks_until, hello, push, recv, status, sync


@pytest.fixture
async def pg_central(pg_url: str, clock: Clock) -> str:
    await init_central(
        pg_url,
        data_dir=key_dir(),
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        contact_key=CONTACT_KEY,
        now=clock(),
    )
    return pg_url


def test_a_store_moves_between_replicas_and_resumes(pg_central: str, clock: Clock) -> None:
    with open_app(pg_central, clock) as a_client, open_app(pg_central, clock) as b_client:
        a = CentralApp(a_client, {}, clock)
        a.admin = a.login(ADMIN, ADMIN_PASSWORD)
        b = CentralApp(b_client, a.admin, clock)  # a token from one replica works on another
        credential = a.enrolled("S001")
        raws = ev.log("S001", 1, 30)
        with sync(a, credential) as ws:
            hello(ws, "S001", local_seq=30)
            push(ws, 1, raws[:10])
            assert recv(ws) == Ack(seq=10)
        with sync(b, credential) as ws:
            welcome = hello(ws, "S001", local_seq=30)
            assert isinstance(welcome, Welcome) and welcome.high_water == 10
            push(ws, 11, raws[10:])
            assert recv(ws) == Ack(seq=30)
        assert status(a, "S001")["high_water"] == 30
        assert b.client.get("/api/v1/hq/stores", headers=b.admin).json()["total"] == 1


def test_two_connections_of_one_store_on_two_replicas_store_each_event_once(
    pg_central: str, clock: Clock
) -> None:
    """A store's old connection may linger on one replica while it reconnects to another; both
    upload the same events and central must hold each exactly once."""
    with open_app(pg_central, clock) as a_client, open_app(pg_central, clock) as b_client:
        a = CentralApp(a_client, {}, clock)
        a.admin = a.login(ADMIN, ADMIN_PASSWORD)
        b = CentralApp(b_client, a.admin, clock)
        credential = a.enrolled("S001")
        raws = ev.log("S001", 1, 40)
        with sync(a, credential) as one, sync(b, credential) as two:
            hello(one, "S001")
            hello(two, "S001")
            for first in range(1, 41, 10):
                push(one, first, raws[first - 1 : first + 9])
                push(two, first, raws[first - 1 : first + 9])
            last_one: Any = acks_until(one, 40)[-1]
            last_two: Any = acks_until(two, 40)[-1]
        assert last_one == Ack(seq=40) and last_two == Ack(seq=40)
        s = status(a, "S001")
        assert (s["high_water"], s["quarantined"]) == (40, 0)
        r = a.client.get("/metrics").text
        assert 'hallsync_central_store_high_water{region="east",store_id="S001"} 40.0' in r


def _listening(client: TestClient[Any]) -> bool:
    listening: bool = client.app.state.central.hq_notifier.listening
    return listening


def test_hq_events_reach_stores_on_every_replica_through_notify(
    pg_central: str, clock: Clock
) -> None:
    """Replicas poll only hourly here, so prompt delivery can only come from LISTEN/NOTIFY."""
    hour = 3600.0
    with (
        open_app(pg_central, clock, hq_poll=hour) as a_client,
        open_app(pg_central, clock, hq_poll=hour) as b_client,
    ):
        a = CentralApp(a_client, {}, clock)
        a.admin = a.login(ADMIN, ADMIN_PASSWORD)
        b = CentralApp(b_client, a.admin, clock)
        east, west = a.enrolled("S001", region="east"), a.enrolled("S002", region="west")
        deadline = time.monotonic() + 10
        while not (_listening(a_client) and _listening(b_client)):
            assert time.monotonic() < deadline, "the replicas never started listening"
            time.sleep(0.02)
        with sync(a, east) as on_a, sync(b, west) as on_b:
            hello(on_a, "S001")
            hello(on_b, "S002")
            # As another process would publish (an HQ tool, a third replica): only the
            # database's NOTIFY can tell the replicas.
            everyone = publish_raw(pg_central, clock(), "all", "")
            westward = publish_raw(pg_central, clock(), "region", "west")
            got_a = recv(on_a)
            assert isinstance(got_a, HqBatch)
            assert [i.cursor for i in got_a.items] == [everyone]
            cursors_b: list[int] = []
            while westward not in cursors_b:  # one batch or two, as the NOTIFYs fell
                got_b = recv(on_b)
                assert isinstance(got_b, HqBatch)
                cursors_b += [i.cursor for i in got_b.items]
                on_b.send_bytes(encode(HqAck(cursor=got_b.upto)))
            assert cursors_b == [everyone, westward]
            push(on_b, 1, ev.log("S002", 1, 1))  # a round trip: the last ack is surely saved
            assert recv(on_b) == Ack(seq=1)
