"""A node of an earlier release (7 of 11 digits shown, a bare HMAC, the key in the database)
opens upgraded: nothing stored gives a number away, and returning customers still match."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa

from schema.api.complaints import ComplaintIn
from schema.api.queue import TicketIn
from schema.tables.complaints import complaints
from schema.tables.core import events, node_meta
from schema.tables.databases import store_metadata
from schema.tables.queue import queue_tickets
from server.contact_hash import key_path
from server.domain import complaints as complaints_domain
from server.domain import queue as queue_domain
from server.store.node import open_store
from tests.conftest import Harness, assert_replay_matches
from tests.contact import CONTACT_HASHER, CONTACT_KEY

PHONE = "13812345678"
OLD_MASK = "138****5678"
OLD_HASH = hmac.new(CONTACT_HASHER.pepper, PHONE.encode(), hashlib.sha256).hexdigest()
TOKEN = CONTACT_HASHER.token(PHONE)
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def _as_earlier_release(data_dir: Path, engine: Any) -> None:
    """Rewrite the node's phone data into what an earlier release stored."""

    def old(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(TOKEN, OLD_HASH).replace("*" * 11, OLD_MASK)
        if isinstance(value, dict):
            return {k: old(v) for k, v in value.items()}
        return value

    with engine.begin() as conn:
        for row in conn.execute(sa.select(events.c.seq, events.c.body)).all():
            body = msgspec.msgpack.encode(old(msgspec.msgpack.decode(row.body)))
            conn.execute(events.update().where(events.c.seq == row.seq).values(body=body))
        conn.execute(
            complaints.update().values(
                customer_phone_hash=OLD_HASH,
                customer_phone_masked=OLD_MASK,
                description="客户电话 " + OLD_MASK,
            )
        )
        conn.execute(queue_tickets.update().values(phone_hash=OLD_HASH, phone_masked=OLD_MASK))
        conn.execute(node_meta.delete().where(node_meta.c.key == "contact_data"))
        conn.execute(node_meta.insert(), {"key": "contact_key", "value": CONTACT_KEY})
    key_path(data_dir).unlink()


def _everything(engine: Any) -> str:
    """Every value of every table, event bodies decoded, as one text to search."""
    out: list[str] = []
    with engine.connect() as conn:
        for table in store_metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        try:
                            value = msgspec.msgpack.decode(value)
                        except msgspec.DecodeError:
                            value = value.decode("utf-8", "replace")
                    out.append(str(value))
    return "\n".join(out)


def test_an_earlier_release_node_opens_with_its_phone_data_upgraded(
    harness: Harness, data_dir: Path
) -> None:
    ticket = TicketIn(category="billing", customer_phone=PHONE)
    harness.run(lambda c: queue_domain.issue_ticket(c, ticket))
    complaint = ComplaintIn(
        channel="in_store",
        category="service_attitude",
        description=f"客户电话 {PHONE}",
        customer_phone=PHONE,
    )
    harness.run(lambda c: complaints_domain.open_complaint(c, complaint), actor="manager")
    _as_earlier_release(data_dir, harness.engine)
    assert OLD_MASK in _everything(harness.engine) and OLD_HASH in _everything(harness.engine)
    harness.engine.dispose()

    opened = open_store(data_dir)
    try:
        assert opened.contact_key == CONTACT_HASHER
        assert key_path(data_dir).stat().st_mode & 0o777 == 0o600
        stored = _everything(opened.engine)
        # No display form with digits, no old hash, no key left in the database.
        assert re.search(r"1\d\d\*{4}\d{4}", stored) is None
        assert OLD_HASH not in stored and CONTACT_HASHER.spec not in stored
        assert CONTACT_HASHER.pepper.decode() not in stored
        with opened.engine.connect() as conn:
            keys = {r.key for r in conn.execute(sa.select(node_meta.c.key))}
            assert "contact_key" not in keys
            # A returning customer still matches what was recorded before the upgrade.
            found = conn.execute(complaints_domain.search_by_phone("S001", TOKEN)).all()
            assert len(found) == 1
            assert conn.execute(sa.select(queue_tickets.c.phone_hash)).scalar_one() == TOKEN
    finally:
        opened.engine.dispose()
    # The rewritten log still folds into exactly the upgraded projections.
    assert_replay_matches(data_dir, [complaints, queue_tickets])
    # A second open finds nothing to do.
    again = open_store(data_dir)
    again.engine.dispose()
