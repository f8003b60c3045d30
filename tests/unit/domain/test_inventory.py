"""Inventory (库存): catalog, movements, serials, adjustments and counts, through domain
commands at controlled times, then reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from schema.api.inventory import (
    AdjustmentIn,
    CountIn,
    CountLineIn,
    ItemIn,
    ItemUpdateIn,
    LineIn,
    MovementOut,
    ReceiveIn,
    ReturnIn,
    ReturnLineIn,
    SaleIn,
    SaleLineIn,
    TransferInIn,
    TransferOutIn,
    WriteOffIn,
)
from schema.api.queue import TicketIn
from schema.events.store import Role
from schema.tables import inventory as tables
from schema.tables.core import events
from server.domain import inventory as domain
from server.domain import queue
from server.domain import store as store_domain
from server.domain.inventory.rules import check_serial
from server.domain.paging import paginate
from server.errors import (
    Conflict,
    Forbidden,
    IllegalTransition,
    NotFound,
    SerialUnavailable,
    ValidationFailed,
)
from server.privacy import redact_text
from server.store.node import init_store
from tests.conftest import STORE_ID, Harness, assert_replay_matches

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
"""10:00 in Shanghai on 2026-11-26."""
DAY0 = date(2026, 11, 26)

ALL_TABLES = [
    tables.inventory_items,
    tables.inventory_stock,
    tables.inventory_movements,
    tables.inventory_serials,
    tables.inventory_serial_history,
    tables.inventory_adjustments,
    tables.inventory_counts,
    tables.inventory_count_lines,
]


def luhn_complete(body: str) -> str:
    """``body`` followed by its Luhn check digit."""
    for d in "0123456789":
        if domain.luhn_ok(body + d):
            return body + d
    raise AssertionError("unreachable")


def imei(n: int) -> str:
    return luhn_complete(f"35{n:012d}")


def iccid(n: int) -> str:
    return luhn_complete(f"898601{n:012d}")


def bad_check_digit(serial: str) -> str:
    return serial[:-1] + str((int(serial[-1]) + 1) % 10)


@pytest.fixture
def h(harness: Harness) -> Harness:
    """A harness with a phone (serialised), a SIM (serialised), a case and paper rolls."""
    for item in [
        ItemIn(
            sku="P1",
            name="华为 Mate 60",
            category="phone",
            unit_price_cents=599900,
            serialised=True,
        ),
        ItemIn(sku="SIM", name="5G SIM卡", category="sim", unit_price_cents=0, serialised=True),
        ItemIn(sku="CASE", name="手机壳", category="accessory", unit_price_cents=3900),
        ItemIn(sku="ROLL", name="打印纸", category="supply", unit_price_cents=500),
    ]:
        harness.run(partial(domain.define_item, cmd=item), now=T0 - timedelta(days=1))
    return harness


def on_hand(h: Harness, sku: str) -> int:
    return h.read(lambda c: domain.on_hand(c, STORE_ID, sku))


def receive(h: Harness, *lines: LineIn, at: datetime = T0) -> MovementOut:
    return h.run(
        lambda ctx: domain.receive(ctx, ReceiveIn(supplier="区域仓", lines=list(lines))), now=at
    )


def sell(h: Harness, *lines: SaleLineIn, at: datetime = T0) -> MovementOut:
    return h.run(lambda ctx: domain.sell(ctx, SaleIn(lines=list(lines))), now=at)


def serial_status(h: Harness, serial: str) -> str:
    return h.read(lambda c: domain.get_serial(c, STORE_ID, serial)).status


def field_of(exc: Any) -> str:
    return str(exc.extra.get("field") or exc.extra["errors"][0]["field"])


# ---------------------------------------------------------------- serial numbers


def test_serial_formats() -> None:
    good_imei, good_iccid = imei(1), iccid(1)
    assert check_serial(good_imei, "imei", "x") == good_imei
    assert check_serial(good_iccid, "iccid", "x") == good_iccid
    assert check_serial(luhn_complete("89860" + "1" * 14), "iccid", "x")  # 20 digits
    assert domain.luhn_ok("490154203237518")  # a published example IMEI
    # The whole value must match: a trailing newline is not part of a serial.
    for serial, kind in ((good_imei, "imei"), (good_iccid, "iccid")):
        for bad in (serial + "\n", "\n" + serial, serial + " "):
            with pytest.raises(ValidationFailed):
                check_serial(bad, kind, "x")  # type: ignore[arg-type]
    cases = [
        (bad_check_digit(good_imei), "imei"),
        (good_imei[:-1], "imei"),
        ("35a" + good_imei[3:], "imei"),
        (bad_check_digit(good_iccid), "iccid"),
        (luhn_complete("881234567890123456"), "iccid"),  # must start with 89
        (luhn_complete("8912345678"), "iccid"),  # too short
    ]
    for value, kind in cases:
        with pytest.raises(ValidationFailed) as ei:
            check_serial(value, kind, "lines[0].serials[0]")  # type: ignore[arg-type]
        assert field_of(ei.value) == "lines[0].serials[0]"


# ---------------------------------------------------------------- catalog


def test_define_and_update_items(h: Harness) -> None:
    item = h.read(lambda c: domain.get_item(c, STORE_ID, "P1"))
    assert item.serial_kind == "imei" and item.active
    assert h.read(lambda c: domain.get_item(c, STORE_ID, "SIM")).serial_kind == "iccid"
    assert h.read(lambda c: domain.get_item(c, STORE_ID, "CASE")).serial_kind is None

    with pytest.raises(Conflict) as dup:
        h.run(
            lambda ctx: domain.define_item(
                ctx, ItemIn(sku="P1", name="x", category="phone", unit_price_cents=1)
            )
        )
    assert dup.value.extra["field"] == "sku"
    with pytest.raises(ValidationFailed) as bad:
        h.run(
            lambda ctx: domain.define_item(
                ctx,
                ItemIn(
                    sku="C2", name="x", category="accessory", unit_price_cents=1, serialised=True
                ),
            )
        )
    assert field_of(bad.value) == "serialised"

    later = T0 + timedelta(hours=1)
    out = h.run(
        lambda ctx: domain.update_item(ctx, "CASE", ItemUpdateIn(unit_price_cents=4500)), now=later
    )
    assert out.unit_price_cents == 4500 and out.updated_at == later
    out = h.run(
        lambda ctx: domain.update_item(ctx, "CASE", ItemUpdateIn(name="硅胶壳", active=False))
    )
    assert (out.name, out.active, out.unit_price_cents) == ("硅胶壳", False, 4500)
    types = h.read(lambda c: list(c.execute(sa.select(events.c.type)).scalars()))
    assert types[-2:] == ["item.price_changed", "item.defined"]

    with pytest.raises(ValidationFailed) as cat:
        h.run(lambda ctx: domain.update_item(ctx, "P1", ItemUpdateIn(category="sim")))
    assert field_of(cat.value) == "category"
    with pytest.raises(NotFound):
        h.run(lambda ctx: domain.update_item(ctx, "NOPE", ItemUpdateIn(name="x")))


def test_item_list_filters(h: Harness) -> None:
    def skus(**kw: Any) -> list[str]:
        page = h.read(
            lambda c: paginate(
                c, domain.list_items(c, STORE_ID, **kw), domain.item_out, limit=50, offset=0
            )
        )
        return [i.sku for i in page.items]

    assert skus() == ["CASE", "P1", "ROLL", "SIM"]
    assert skus(category="phone") == ["P1"]
    assert skus(q="sim") == ["SIM"]
    assert skus(q="手机") == ["CASE"]
    h.run(lambda ctx: domain.update_item(ctx, "ROLL", ItemUpdateIn(active=False)))
    assert skus(active=False) == ["ROLL"]


# ---------------------------------------------------------------- receiving


def test_receive_quantities_and_serials(h: Harness) -> None:
    out = receive(h, LineIn(sku="CASE", qty=10), LineIn(sku="P1", serials=[imei(1), imei(2)]))
    assert out.kind == "receive" and out.day == DAY0
    assert [(ln.sku, ln.qty, ln.delta, ln.on_hand_after) for ln in out.lines] == [
        ("CASE", 10, 10, 10),
        ("P1", 2, 2, 2),
    ]
    assert out.lines[0].counterparty == "区域仓"
    assert on_hand(h, "CASE") == 10 and on_hand(h, "P1") == 2
    unit = h.read(lambda c: domain.get_serial(c, STORE_ID, imei(1)))
    assert (unit.status, unit.sku, unit.kind) == ("in_stock", "P1", "imei")
    assert [s.kind for s in unit.history] == ["receive"]
    receive(h, LineIn(sku="CASE", qty=5))
    assert on_hand(h, "CASE") == 15


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (LineIn(sku="NOPE", qty=1), "lines[0].sku"),
        (LineIn(sku="CASE"), "lines[0].qty"),
        (LineIn(sku="CASE", qty=1, serials=[imei(1)]), "lines[0].serials"),
        (LineIn(sku="P1", qty=1), "lines[0].serials"),
        (LineIn(sku="P1", qty=3, serials=[imei(1), imei(2)]), "lines[0].qty"),
        (LineIn(sku="P1", serials=[imei(1), imei(1)]), "lines[0].serials[1]"),
        (LineIn(sku="P1", serials=[bad_check_digit(imei(1))]), "lines[0].serials[0]"),
        (LineIn(sku="SIM", serials=[imei(1)]), "lines[0].serials[0]"),
    ],
)
def test_receive_refuses_bad_lines(h: Harness, line: LineIn, field: str) -> None:
    with pytest.raises(ValidationFailed) as ei:
        receive(h, line)
    assert field_of(ei.value) == field
    assert on_hand(h, line.sku) == 0


def test_receive_refuses_serial_twice_and_discontinued(h: Harness) -> None:
    receive(h, LineIn(sku="P1", serials=[imei(1)]))
    with pytest.raises(Conflict) as again:
        receive(h, LineIn(sku="P1", serials=[imei(1)]))
    assert again.value.code == "serial_in_stock" and again.value.extra["serial"] == imei(1)
    with pytest.raises(ValidationFailed):  # same serial on two lines of one request
        receive(h, LineIn(sku="P1", serials=[imei(2)]), LineIn(sku="P1", serials=[imei(2)]))
    h.run(
        lambda ctx: domain.define_item(
            ctx, ItemIn(sku="P2", name="P2", category="phone", unit_price_cents=1, serialised=True)
        )
    )
    with pytest.raises(SerialUnavailable):  # a serial keeps its SKU
        receive(h, LineIn(sku="P2", serials=[imei(1)]))
    h.run(lambda ctx: domain.update_item(ctx, "ROLL", ItemUpdateIn(active=False)))
    with pytest.raises(Conflict) as gone:
        receive(h, LineIn(sku="ROLL", qty=1))
    assert gone.value.extra["field"] == "lines[0].sku"


# ---------------------------------------------------------------- selling


def test_sell_quantities_and_serials(h: Harness) -> None:
    receive(h, LineIn(sku="CASE", qty=3), LineIn(sku="P1", serials=[imei(1), imei(2)]))
    ticket = h.run(
        lambda ctx: queue.issue_ticket(ctx, TicketIn(category="device_purchase"))
    ).ticket_id
    out = h.run(
        lambda ctx: domain.sell(
            ctx,
            SaleIn(
                lines=[
                    SaleLineIn(sku="P1", serial=imei(1), unit_price_cents=549900),
                    SaleLineIn(sku="CASE", qty=2),
                ],
                ticket_id=ticket,
            ),
        ),
        now=T0 + timedelta(hours=1),
    )
    assert out.kind == "sell" and out.amount_cents == 549900 + 2 * 3900
    assert [(ln.sku, ln.delta, ln.unit_price_cents) for ln in out.lines] == [
        ("P1", -1, 549900),
        ("CASE", -2, 3900),
    ]
    assert out.lines[0].ticket_id == ticket
    assert on_hand(h, "P1") == 1 and on_hand(h, "CASE") == 1
    unit = h.read(lambda c: domain.get_serial(c, STORE_ID, imei(1)))
    assert unit.status == "sold" and unit.sale_price_cents == 549900
    assert [s.status_after for s in unit.history] == ["in_stock", "sold"]


def add_clerk(h: Harness, name: str = "clerk1", role: Role = "clerk") -> str:
    h.run(
        partial(
            store_domain.add_staff,
            username=name,
            display_name=name.title(),
            role=role,
            password_hash="x",
        )
    )
    return name


def test_selling_below_the_list_price_needs_a_manager(h: Harness) -> None:
    clerk = add_clerk(h)
    receive(h, LineIn(sku="CASE", qty=5), LineIn(sku="P1", serials=[imei(1), imei(2)]))

    def sale(*lines: SaleLineIn, actor: str) -> MovementOut:
        return h.run(lambda ctx: domain.sell(ctx, SaleIn(lines=list(lines))), actor=actor)

    with pytest.raises(Forbidden, match=r"below its list price.*needs a manager") as err:
        sale(
            SaleLineIn(sku="CASE", qty=1),
            SaleLineIn(sku="P1", serial=imei(1), unit_price_cents=1),
            actor=clerk,
        )
    assert field_of(err.value) == "lines[1].unit_price_cents"
    assert err.value.extra["list_price_cents"] == 599900
    assert on_hand(h, "P1") == 2  # nothing was sold
    # At (or above) the list price a clerk sells; the manager may give a discount.
    sale(SaleLineIn(sku="CASE", qty=1, unit_price_cents=3900), actor=clerk)
    sale(SaleLineIn(sku="P1", serial=imei(1), unit_price_cents=650000), actor=clerk)
    out = sale(SaleLineIn(sku="P1", serial=imei(2), unit_price_cents=500000), actor="manager")
    assert out.amount_cents == 500000


def test_sales_and_returns_name_a_ticket_of_this_store(h: Harness) -> None:
    receive(h, LineIn(sku="CASE", qty=5))
    unknown = UUID("01900000-0000-7000-8000-000000000001")
    with pytest.raises(ValidationFailed) as sale:
        h.run(
            lambda ctx: domain.sell(
                ctx, SaleIn(lines=[SaleLineIn(sku="CASE", qty=1)], ticket_id=unknown)
            )
        )
    assert field_of(sale.value) == "ticket_id"
    with pytest.raises(ValidationFailed) as ret:
        h.run(
            lambda ctx: domain.return_stock(
                ctx,
                ReturnIn(reason="x", lines=[ReturnLineIn(sku="CASE", qty=1)], ticket_id=unknown),
            )
        )
    assert field_of(ret.value) == "ticket_id"
    assert on_hand(h, "CASE") == 5
    ticket = h.run(lambda ctx: queue.issue_ticket(ctx, TicketIn(category="after_sales")))
    back = h.run(
        lambda ctx: domain.return_stock(
            ctx,
            ReturnIn(
                reason="x", lines=[ReturnLineIn(sku="CASE", qty=1)], ticket_id=ticket.ticket_id
            ),
        )
    )
    assert back.lines[0].ticket_id == ticket.ticket_id


def test_one_request_lists_at_most_1000_serials_over_all_lines(h: Harness) -> None:
    phones = [imei(i) for i in range(600)]
    sims = [iccid(i) for i in range(401)]
    with pytest.raises(ValidationFailed, match="at most 1000 serials") as err:
        receive(h, LineIn(sku="P1", serials=phones), LineIn(sku="SIM", serials=sims))
    assert field_of(err.value) == "lines[1].serials"
    with pytest.raises(ValidationFailed) as ret:
        h.run(
            lambda ctx: domain.return_stock(
                ctx,
                ReturnIn(
                    reason="x",
                    lines=[
                        ReturnLineIn(sku="P1", serials=phones),
                        ReturnLineIn(sku="SIM", serials=sims),
                    ],
                ),
            )
        )
    assert field_of(ret.value) == "lines[1].serials"
    out = receive(h, LineIn(sku="P1", serials=phones), LineIn(sku="SIM", serials=sims[:400]))
    assert [ln.on_hand_after for ln in out.lines] == [600, 400]


def test_projecting_a_movement_takes_the_same_statements_for_1_or_300_serials(
    h: Harness,
) -> None:
    """Lines and serials go in with ``executemany``: the statement count does not grow."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def receipt_statements(serials: list[str]) -> int:
        statements.clear()
        sa.event.listen(h.engine, "before_cursor_execute", count)
        try:
            receive(h, LineIn(sku="P1", serials=serials))
        finally:
            sa.event.remove(h.engine, "before_cursor_execute", count)
        return len(statements)

    one = receipt_statements([imei(0)])
    many = receipt_statements([imei(i) for i in range(1, 301)])
    assert many == one
    assert on_hand(h, "P1") == 301


def test_sell_refuses_what_is_not_there(h: Harness) -> None:
    receive(h, LineIn(sku="CASE", qty=2), LineIn(sku="P1", serials=[imei(1)]))
    with pytest.raises(Conflict) as short:
        sell(h, SaleLineIn(sku="CASE", qty=1), SaleLineIn(sku="CASE", qty=2))
    assert short.value.extra == {"sku": "CASE", "on_hand": 2, "requested": 3}
    with pytest.raises(SerialUnavailable) as unknown:
        sell(h, SaleLineIn(sku="P1", serial=imei(9)))
    assert unknown.value.extra["field"] == "lines[0].serial"
    sell(h, SaleLineIn(sku="P1", serial=imei(1)))
    with pytest.raises(SerialUnavailable) as twice:
        sell(h, SaleLineIn(sku="P1", serial=imei(1)))
    assert twice.value.code == "serial_unavailable" and twice.value.extra["status"] == "sold"
    h.run(
        lambda ctx: domain.define_item(
            ctx, ItemIn(sku="P2", name="P2", category="phone", unit_price_cents=1, serialised=True)
        )
    )
    receive(h, LineIn(sku="P2", serials=[imei(2)]))
    with pytest.raises(SerialUnavailable) as other:
        sell(h, SaleLineIn(sku="P1", serial=imei(2)))
    assert other.value.extra["sku"] == "P2"
    assert on_hand(h, "CASE") == 2 and on_hand(h, "P2") == 1


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (SaleLineIn(sku="P1"), "lines[0].serial"),
        (SaleLineIn(sku="P1", serial=imei(1), qty=2), "lines[0].qty"),
        (SaleLineIn(sku="CASE"), "lines[0].qty"),
        (SaleLineIn(sku="CASE", serial=imei(1)), "lines[0].serial"),
        (SaleLineIn(sku="P1", serial="123"), "lines[0].serial"),
    ],
)
def test_sell_refuses_bad_lines(h: Harness, line: SaleLineIn, field: str) -> None:
    with pytest.raises(ValidationFailed) as ei:
        sell(h, line)
    assert field_of(ei.value) == field


def test_discontinued_item_can_still_be_sold(h: Harness) -> None:
    receive(h, LineIn(sku="CASE", qty=1))
    h.run(lambda ctx: domain.update_item(ctx, "CASE", ItemUpdateIn(active=False)))
    sell(h, SaleLineIn(sku="CASE", qty=1))
    assert on_hand(h, "CASE") == 0


# ---------------------------------------------------------------- transfers


def test_transfer_out_and_in(h: Harness) -> None:
    receive(h, LineIn(sku="CASE", qty=5), LineIn(sku="P1", serials=[imei(1)]))
    out = h.run(
        lambda ctx: domain.transfer_out(
            ctx,
            TransferOutIn(
                to_store="S002",
                lines=[LineIn(sku="CASE", qty=2), LineIn(sku="P1", serials=[imei(1)])],
            ),
        )
    )
    ref = out.lines[0].reference
    assert ref.startswith("TR-S001-") and out.lines[0].counterparty == "S002"
    assert on_hand(h, "CASE") == 3 and serial_status(h, imei(1)) == "transferred_out"
    with pytest.raises(SerialUnavailable):
        sell(h, SaleLineIn(sku="P1", serial=imei(1)))
    with pytest.raises(ValidationFailed) as self_:
        h.run(
            lambda ctx: domain.transfer_out(
                ctx, TransferOutIn(to_store=STORE_ID, lines=[LineIn(sku="CASE", qty=1)])
            )
        )
    assert field_of(self_.value) == "to_store"
    with pytest.raises(Conflict) as short:
        h.run(
            lambda ctx: domain.transfer_out(
                ctx, TransferOutIn(to_store="S002", lines=[LineIn(sku="CASE", qty=4)])
            )
        )
    assert short.value.extra["on_hand"] == 3

    # The unit comes back from S002 under that store's note; the note is taken in once.
    back = TransferInIn(
        from_store="S002",
        reference="TR-S002-0001",
        lines=[LineIn(sku="P1", serials=[imei(1)]), LineIn(sku="CASE", qty=1)],
    )
    h.run(lambda ctx: domain.transfer_in(ctx, back))
    assert serial_status(h, imei(1)) == "in_stock" and on_hand(h, "CASE") == 4
    with pytest.raises(Conflict) as dup:
        h.run(lambda ctx: domain.transfer_in(ctx, back))
    assert dup.value.extra["field"] == "reference"
    history = h.read(lambda c: domain.get_serial(c, STORE_ID, imei(1))).history
    assert [s.kind for s in history] == ["receive", "transfer_out", "transfer_in"]


def test_made_up_transfer_references_are_never_masked(tmp_path: Path) -> None:
    """References are masked like typed text, and a store id ending in ``139`` followed by
    digits would read as a phone number; the node makes up references masking leaves alone,
    so no two of them are made alike."""
    init_store(
        tmp_path / "n", store_id="S139", name="x", region="east", tz="Asia/Shanghai",
        manager="manager", manager_password="manager-pass-1",
    )  # fmt: skip
    h = Harness(tmp_path / "n")
    try:
        case = ItemIn(sku="CASE", name="手机壳", category="accessory", unit_price_cents=3900)
        h.run(partial(domain.define_item, cmd=case))
        h.run(lambda ctx: domain.receive(ctx, ReceiveIn(supplier="仓", lines=[_case(50)])))
        out = TransferOutIn(to_store="S002", lines=[_case(1)])
        sent = [h.run(lambda ctx: domain.transfer_out(ctx, out)) for _ in range(40)]
        refs = [movement.lines[0].reference for movement in sent]
    finally:
        h.engine.dispose()
    assert all(ref.startswith("TR-S139-") and redact_text(ref) == ref for ref in refs)
    assert len(set(refs)) == len(refs)


def _case(qty: int) -> LineIn:
    return LineIn(sku="CASE", qty=qty)


# ---------------------------------------------------------------- returns and write-offs


def test_customer_return(h: Harness) -> None:
    receive(h, LineIn(sku="P1", serials=[imei(1), imei(2)]), LineIn(sku="CASE", qty=1))
    sell(h, SaleLineIn(sku="P1", serial=imei(1), unit_price_cents=500000))
    out = h.run(
        lambda ctx: domain.return_stock(
            ctx,
            ReturnIn(
                reason="七天无理由",
                lines=[ReturnLineIn(sku="P1", serials=[imei(1)]), ReturnLineIn(sku="CASE", qty=1)],
            ),
        ),
        now=T0 + timedelta(days=2),
    )
    assert out.kind == "return" and out.day == DAY0 + timedelta(days=2)
    assert out.amount_cents == 500000 + 3900
    assert serial_status(h, imei(1)) == "in_stock" and on_hand(h, "P1") == 2
    assert on_hand(h, "CASE") == 2
    for serial in (imei(2), imei(7)):  # in stock (never sold) / unknown here
        with pytest.raises(SerialUnavailable):
            h.run(
                partial(
                    domain.return_stock,
                    cmd=ReturnIn(reason="x", lines=[ReturnLineIn(sku="P1", serials=[serial])]),
                )
            )


def test_write_off(h: Harness) -> None:
    receive(h, LineIn(sku="ROLL", qty=4), LineIn(sku="SIM", serials=[iccid(1), iccid(2)]))
    out = h.run(
        lambda ctx: domain.write_off(
            ctx,
            WriteOffIn(
                reason="受潮",
                lines=[LineIn(sku="ROLL", qty=3), LineIn(sku="SIM", serials=[iccid(1)])],
            ),
        )
    )
    assert [ln.delta for ln in out.lines] == [-3, -1] and out.lines[0].reason == "受潮"
    assert on_hand(h, "ROLL") == 1 and serial_status(h, iccid(1)) == "written_off"
    with pytest.raises(Conflict):
        h.run(
            lambda ctx: domain.write_off(
                ctx, WriteOffIn(reason="x", lines=[LineIn(sku="ROLL", qty=2)])
            )
        )
    with pytest.raises(SerialUnavailable):
        h.run(
            lambda ctx: domain.write_off(
                ctx, WriteOffIn(reason="x", lines=[LineIn(sku="SIM", serials=[iccid(1)])])
            )
        )


# ---------------------------------------------------------------- adjustments


def test_adjustment_request_then_approve(h: Harness) -> None:
    receive(h, LineIn(sku="CASE", qty=5))
    req = h.run(
        lambda ctx: domain.request_adjustment(
            ctx, AdjustmentIn(sku="CASE", delta=-2, reason="破损")
        ),
        actor="admin1",
    )
    assert req.status == "pending" and req.requested_by == "admin1"
    assert on_hand(h, "CASE") == 5  # nothing moves before approval
    ok = h.run(
        lambda ctx: domain.approve_adjustment(ctx, req.adjustment_id, "核实"),
        now=T0 + timedelta(hours=2),
    )
    assert (ok.status, ok.decided_by, ok.decision_note) == ("approved", "manager", "核实")
    assert on_hand(h, "CASE") == 3
    move = h.read(lambda c: domain.get_movement(c, STORE_ID, req.adjustment_id))
    assert move.kind == "adjust" and move.lines[0].delta == -2
    for verb in (domain.approve_adjustment, domain.reject_adjustment):
        with pytest.raises(IllegalTransition) as ei:
            h.run(partial(verb, adjustment_id=req.adjustment_id))
        assert ei.value.extra["state"] == "approved"
    assert on_hand(h, "CASE") == 3


def test_adjustment_reject(h: Harness) -> None:
    req = h.run(
        lambda ctx: domain.request_adjustment(ctx, AdjustmentIn(sku="ROLL", delta=4, reason="盘盈"))
    )
    out = h.run(lambda ctx: domain.reject_adjustment(ctx, req.adjustment_id, "先盘点"))
    assert out.status == "rejected" and out.decision_note == "先盘点"
    assert on_hand(h, "ROLL") == 0
    with pytest.raises(IllegalTransition):
        h.run(lambda ctx: domain.approve_adjustment(ctx, req.adjustment_id))
    with pytest.raises(NotFound):
        h.run(lambda ctx: domain.approve_adjustment(ctx, UUID(int=1)))


def test_adjustment_checked_again_at_approval(h: Harness) -> None:
    receive(h, LineIn(sku="CASE", qty=2))
    req = h.run(
        lambda ctx: domain.request_adjustment(ctx, AdjustmentIn(sku="CASE", delta=-2, reason="x"))
    )
    sell(h, SaleLineIn(sku="CASE", qty=1))
    with pytest.raises(Conflict) as ei:
        h.run(lambda ctx: domain.approve_adjustment(ctx, req.adjustment_id))
    assert ei.value.extra["on_hand"] == 1
    pending = h.read(lambda c: domain.get_adjustment(c, STORE_ID, req.adjustment_id))
    assert pending.status == "pending"


def test_manager_adjusts_directly_and_serials(h: Harness) -> None:
    out = h.run(
        lambda ctx: domain.adjust(
            ctx, AdjustmentIn(sku="P1", delta=1, serials=[imei(5)], reason="漏入库")
        )
    )
    assert out.status == "approved" and out.requested_by == "manager"
    assert serial_status(h, imei(5)) == "in_stock" and on_hand(h, "P1") == 1
    h.run(
        lambda ctx: domain.adjust(
            ctx, AdjustmentIn(sku="P1", delta=-1, serials=[imei(5)], reason="丢失")
        )
    )
    assert serial_status(h, imei(5)) == "written_off" and on_hand(h, "P1") == 0


@pytest.mark.parametrize(
    ("cmd", "error", "field"),
    [
        (AdjustmentIn(sku="CASE", delta=0, reason="x"), ValidationFailed, "delta"),
        (AdjustmentIn(sku="NOPE", delta=1, reason="x"), ValidationFailed, "sku"),
        (
            AdjustmentIn(sku="P1", delta=2, serials=[imei(1)], reason="x"),
            ValidationFailed,
            "serials",
        ),
        (
            AdjustmentIn(sku="CASE", delta=1, serials=[imei(1)], reason="x"),
            ValidationFailed,
            "serials",
        ),
        (AdjustmentIn(sku="CASE", delta=-1, reason="x"), Conflict, None),
        (
            AdjustmentIn(sku="P1", delta=-1, serials=[imei(1)], reason="x"),
            SerialUnavailable,
            "serials[0]",
        ),
    ],
)
def test_adjustment_refused(
    h: Harness, cmd: AdjustmentIn, error: type[Exception], field: str | None
) -> None:
    with pytest.raises(error) as ei:
        h.run(lambda ctx: domain.request_adjustment(ctx, cmd))
    if field is not None:
        assert field_of(ei.value) == field


# ---------------------------------------------------------------- counts


def test_count_plain_items_posts_variance(h: Harness) -> None:
    receive(h, LineIn(sku="CASE", qty=10), LineIn(sku="ROLL", qty=4))
    count = h.run(lambda ctx: domain.open_count(ctx, CountIn(skus=["CASE", "ROLL"])))
    assert count.status == "open" and not count.all_items
    assert [ln.counted for ln in count.lines] == [None, None]
    h.run(
        lambda ctx: domain.record_count_line(
            ctx, count.count_id, CountLineIn(sku="CASE", counted=9)
        )
    )
    with pytest.raises(Conflict) as missing:
        h.run(lambda ctx: domain.post_count(ctx, count.count_id))
    assert missing.value.extra["uncounted"] == ["ROLL"]
    h.run(
        lambda ctx: domain.record_count_line(
            ctx, count.count_id, CountLineIn(sku="ROLL", counted=3)
        )
    )
    # Recording again replaces the line.
    h.run(
        lambda ctx: domain.record_count_line(
            ctx, count.count_id, CountLineIn(sku="ROLL", counted=6)
        )
    )
    sell(h, SaleLineIn(sku="CASE", qty=1))  # book at posting is 9
    posted = h.run(lambda ctx: domain.post_count(ctx, count.count_id), now=T0 + timedelta(hours=16))
    assert posted.status == "posted" and posted.posted_day == DAY0 + timedelta(days=1)
    lines = {ln.sku: ln for ln in posted.lines}
    assert (lines["CASE"].book, lines["CASE"].counted, lines["CASE"].variance) == (9, 9, 0)
    assert (lines["ROLL"].book, lines["ROLL"].variance) == (4, 2)
    assert lines["ROLL"].variance_value_cents == 1000 and posted.total_variance == 2
    assert on_hand(h, "CASE") == 9 and on_hand(h, "ROLL") == 6
    ledger = h.read(lambda c: domain.get_movement(c, STORE_ID, count.count_id))
    assert [(ln.sku, ln.kind, ln.delta) for ln in ledger.lines] == [("ROLL", "count", 2)]
    for verb in (
        lambda ctx: domain.post_count(ctx, count.count_id),
        lambda ctx: domain.cancel_count(ctx, count.count_id),
        lambda ctx: domain.record_count_line(
            ctx, count.count_id, CountLineIn(sku="CASE", counted=1)
        ),
    ):
        with pytest.raises(IllegalTransition) as ei:
            h.run(verb)
        assert ei.value.extra["state"] == "posted"


def test_count_serials_missing_and_unexpected(h: Harness) -> None:
    receive(h, LineIn(sku="P1", serials=[imei(1), imei(2), imei(3)]))
    sell(h, SaleLineIn(sku="P1", serial=imei(3)))
    count = h.run(lambda ctx: domain.open_count(ctx, CountIn(skus=["P1"])))
    # imei(2) is gone; imei(3), sold, is on the shelf; imei(4) was never received.
    scanned = [imei(1), imei(3), imei(4)]
    out = h.run(
        lambda ctx: domain.record_count_line(
            ctx, count.count_id, CountLineIn(sku="P1", serials=scanned)
        )
    )
    assert out.lines[0].counted == 3
    posted = h.run(lambda ctx: domain.post_count(ctx, count.count_id))
    line = posted.lines[0]
    assert (line.book, line.counted, line.variance) == (2, 3, 1)
    assert line.missing == [imei(2)] and line.unexpected == sorted([imei(3), imei(4)])
    assert on_hand(h, "P1") == 3
    assert serial_status(h, imei(2)) == "written_off"
    assert serial_status(h, imei(3)) == serial_status(h, imei(4)) == "in_stock"


def test_count_line_validation(h: Harness) -> None:
    receive(h, LineIn(sku="P1", serials=[imei(1)]))
    h.run(
        lambda ctx: domain.define_item(
            ctx, ItemIn(sku="P2", name="P2", category="phone", unit_price_cents=1, serialised=True)
        )
    )
    count = h.run(lambda ctx: domain.open_count(ctx, CountIn(skus=["P2", "CASE"])))
    cases: list[tuple[CountLineIn, type[Exception], str]] = [
        (CountLineIn(sku="ROLL", counted=1), ValidationFailed, "sku"),
        (CountLineIn(sku="CASE"), ValidationFailed, "counted"),
        (CountLineIn(sku="CASE", counted=1, serials=[imei(2)]), ValidationFailed, "serials"),
        (CountLineIn(sku="P2", serials=[imei(2)], counted=2), ValidationFailed, "counted"),
        (CountLineIn(sku="P2", serials=["42"]), ValidationFailed, "serials[0]"),
        (CountLineIn(sku="P2", serials=[imei(1)]), SerialUnavailable, "serials[0]"),
    ]
    for cmd, error, field in cases:
        with pytest.raises(error) as ei:
            h.run(partial(domain.record_count_line, count_id=count.count_id, cmd=cmd))
        assert field_of(ei.value) == field


def test_one_open_count_per_sku_and_cancel(h: Harness) -> None:
    first = h.run(lambda ctx: domain.open_count(ctx, CountIn(skus=["CASE"])))
    with pytest.raises(Conflict) as busy:
        h.run(lambda ctx: domain.open_count(ctx, CountIn()))  # all items include CASE
    assert busy.value.extra["skus"] == ["CASE"]
    assert busy.value.extra["count_id"] == str(first.count_id)
    with pytest.raises(ValidationFailed):
        h.run(lambda ctx: domain.open_count(ctx, CountIn(skus=["ROLL", "ROLL"])))
    with pytest.raises(ValidationFailed):
        h.run(lambda ctx: domain.open_count(ctx, CountIn(skus=["NOPE"])))
    other = h.run(lambda ctx: domain.open_count(ctx, CountIn(skus=["ROLL"])))
    assert other.status == "open"
    cancelled = h.run(lambda ctx: domain.cancel_count(ctx, first.count_id, "人手不够"))
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "人手不够")
    with pytest.raises(IllegalTransition):
        h.run(lambda ctx: domain.post_count(ctx, first.count_id))
    h.run(lambda ctx: domain.cancel_count(ctx, other.count_id))
    everything = h.run(lambda ctx: domain.open_count(ctx, CountIn()))
    assert everything.all_items and [ln.sku for ln in everything.lines] == [
        "CASE",
        "P1",
        "ROLL",
        "SIM",
    ]
    with pytest.raises(NotFound):
        h.run(lambda ctx: domain.cancel_count(ctx, UUID(int=7)))


def test_all_items_count_covers_discontinued_stock(h: Harness) -> None:
    receive(h, LineIn(sku="ROLL", qty=2))
    h.run(lambda ctx: domain.update_item(ctx, "ROLL", ItemUpdateIn(active=False)))
    h.run(lambda ctx: domain.update_item(ctx, "SIM", ItemUpdateIn(active=False)))
    count = h.run(lambda ctx: domain.open_count(ctx, CountIn()))
    # SIM is discontinued with nothing left: nothing to count.
    assert [ln.sku for ln in count.lines] == ["CASE", "P1", "ROLL"]


# ---------------------------------------------------------------- reads


def test_stock_levels_and_stockouts(h: Harness) -> None:
    receive(h, LineIn(sku="CASE", qty=10), LineIn(sku="ROLL", qty=2))
    # P1 and SIM are active with nothing on hand.
    assert h.read(lambda c: domain.stockouts(c, STORE_ID)) == 2
    h.run(lambda ctx: domain.update_item(ctx, "SIM", ItemUpdateIn(active=False)))
    assert h.read(lambda c: domain.stockouts(c, STORE_ID)) == 1

    def skus(**kw: Any) -> list[str]:
        page = h.read(
            lambda c: paginate(
                c, domain.list_stock(c, STORE_ID, **kw), domain.stock_out, limit=50, offset=0
            )
        )
        return [s.sku for s in page.items]

    assert skus(out_of_stock=True) == ["P1"]
    assert skus(low=True) == ["P1", "ROLL"]
    assert skus(low=True, threshold=10) == ["CASE", "P1", "ROLL"]
    assert skus(low=False) == ["CASE", "SIM"]
    assert skus(category="accessory") == ["CASE"]
    level = h.read(lambda c: domain.get_stock(c, STORE_ID, "CASE"))
    assert (level.on_hand, level.value_cents, level.out_of_stock) == (10, 39000, False)
    assert level.last_movement_at == T0


def test_movement_ledger_filters_by_store_local_day(h: Harness) -> None:
    receive(h, LineIn(sku="CASE", qty=10), at=T0)
    # 17:30 UTC is 01:30 the next day in Shanghai.
    sell(h, SaleLineIn(sku="CASE", qty=1), at=datetime(2026, 11, 26, 17, 30, tzinfo=UTC))
    receive(h, LineIn(sku="ROLL", qty=1), at=T0 + timedelta(days=2))

    def rows(**kw: Any) -> list[tuple[str, str, date]]:
        page = h.read(
            lambda c: paginate(
                c,
                domain.list_movements(c, STORE_ID, **kw),
                domain.movement_line_out,
                limit=50,
                offset=0,
            )
        )
        return [(m.kind, m.sku, m.day) for m in page.items]

    day1 = DAY0 + timedelta(days=1)
    assert rows() == [
        ("receive", "ROLL", DAY0 + timedelta(days=2)),
        ("sell", "CASE", day1),
        ("receive", "CASE", DAY0),
    ]
    assert rows(date_from=day1, date_to=day1) == [("sell", "CASE", day1)]
    assert rows(kind="receive", sku="CASE") == [("receive", "CASE", DAY0)]
    with pytest.raises(NotFound):
        h.read(lambda c: domain.get_movement(c, STORE_ID, UUID(int=3)))
    with pytest.raises(NotFound):
        h.read(lambda c: domain.get_serial(c, STORE_ID, imei(1)))


def test_replay_rebuilds_every_inventory_table(h: Harness) -> None:
    receive(h, LineIn(sku="CASE", qty=10), LineIn(sku="P1", serials=[imei(1), imei(2)]))
    sell(h, SaleLineIn(sku="P1", serial=imei(1)), SaleLineIn(sku="CASE", qty=2))
    h.run(
        lambda ctx: domain.return_stock(
            ctx, ReturnIn(reason="x", lines=[ReturnLineIn(sku="P1", serials=[imei(1)])])
        )
    )
    req = h.run(
        lambda ctx: domain.request_adjustment(ctx, AdjustmentIn(sku="CASE", delta=-1, reason="x"))
    )
    h.run(lambda ctx: domain.approve_adjustment(ctx, req.adjustment_id))
    count = h.run(lambda ctx: domain.open_count(ctx, CountIn(skus=["P1", "CASE"])))
    h.run(
        lambda ctx: domain.record_count_line(
            ctx, count.count_id, CountLineIn(sku="CASE", counted=5)
        )
    )
    h.run(
        lambda ctx: domain.record_count_line(
            ctx, count.count_id, CountLineIn(sku="P1", serials=[imei(1), imei(3)])
        )
    )
    h.run(lambda ctx: domain.post_count(ctx, count.count_id))
    assert on_hand(h, "CASE") == 5 and on_hand(h, "P1") == 2
    assert_replay_matches(h.data_dir, ALL_TABLES)


async def test_central_folds_the_same_rows_on_postgresql(pg_url: str, h: Harness) -> None:
    """Central runs these projectors over PostgreSQL: the upserts (counters, first-writer
    columns, executemany) must give the same rows as on the store node."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from schema.events import decode
    from schema.tables import metadata
    from server.domain.projection import apply_all

    receive(h, LineIn(sku="CASE", qty=10), LineIn(sku="P1", serials=[imei(1), imei(2)]))
    sell(h, SaleLineIn(sku="P1", serial=imei(1)), SaleLineIn(sku="CASE", qty=2))
    h.run(
        lambda ctx: domain.return_stock(
            ctx, ReturnIn(reason="x", lines=[ReturnLineIn(sku="P1", serials=[imei(1)])])
        )
    )
    h.run(lambda ctx: domain.update_item(ctx, "CASE", ItemUpdateIn(name="硅胶手机壳")))
    req = h.run(
        lambda ctx: domain.request_adjustment(ctx, AdjustmentIn(sku="CASE", delta=-1, reason="x"))
    )
    h.run(lambda ctx: domain.approve_adjustment(ctx, req.adjustment_id), now=T0 + timedelta(1))
    h.run(lambda ctx: domain.adjust(ctx, AdjustmentIn(sku="ROLL", delta=4, reason="漏记")))

    def snapshot(c: sa.Connection) -> list[Any]:
        return [c.execute(sa.select(t).order_by(*t.primary_key.columns)).all() for t in ALL_TABLES]

    log = h.read(
        lambda c: [
            decode(r.body) for r in c.execute(sa.select(events.c.body).order_by(events.c.seq))
        ]
    )
    want = h.read(snapshot)
    engine = create_async_engine(pg_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.run_sync(apply_all, log)
            got = await conn.run_sync(snapshot)
    finally:
        await engine.dispose()
    assert got == want
