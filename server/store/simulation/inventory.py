"""The stock's part of the day: the catalogue and the morning delivery (phones and SIM cards
scanned in by serial), sales and returns at the desks, the admins' transfers, write-off and
adjustments, and the count after closing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from schema.api.inventory import (
    AdjustmentIn,
    CountIn,
    CountLineIn,
    ItemIn,
    LineIn,
    ReceiveIn,
    ReturnIn,
    ReturnLineIn,
    SaleIn,
    SaleLineIn,
    TransferInIn,
    TransferOutIn,
    WriteOffIn,
)
from server.domain import inventory
from server.domain.context import Ctx
from server.store.simulation.fixtures import (
    ITEMS,
    PHONES,
    PHONES_RECEIVED,
    SERIALISED,
    SIM_SKU,
    SIMS_RECEIVED,
)
from server.store.simulation.hall import Hall, step


def stock_up(hall: Hall, now: datetime) -> None:
    """The admin defines the catalogue and books in the morning delivery."""
    rng = hall.rng
    for sku, item_name, category, price in ITEMS:
        hall.run(
            "admin1",
            now,
            partial(
                inventory.define_item,
                cmd=ItemIn(sku=sku, name=item_name, category=category, unit_price_cents=price),
            ),
        )
    for sku, item_name, category, price, _ in SERIALISED:
        item = ItemIn(
            sku=sku, name=item_name, category=category, unit_price_cents=price, serialised=True
        )
        hall.run("admin1", now, partial(inventory.define_item, cmd=item))
    hall.run(
        "admin1",
        now + timedelta(minutes=3),
        lambda c: inventory.receive(
            c,
            ReceiveIn(
                supplier="区域仓库",
                reference=f"DO-{hall.day:%Y%m%d}",
                lines=[LineIn(sku=sku, qty=400) for sku, *_ in ITEMS],
            ),
        ),
    )
    # Phones and SIM cards come boxed, their serials in a run: each is scanned in.
    serial_lines = [
        LineIn(
            sku=sku,
            serials=_serials(
                prefix, rng.randrange(10_000), SIMS_RECEIVED if sku == SIM_SKU else PHONES_RECEIVED
            ),
        )
        for sku, *_, prefix in SERIALISED
    ]
    hall.run(
        "admin1",
        now + timedelta(minutes=4),
        lambda c: inventory.receive(
            c,
            ReceiveIn(
                supplier="省公司终端库",
                reference=f"DO-{hall.day:%Y%m%d}-T",
                lines=serial_lines,
                note="串号逐台扫描入库",
            ),
        ),
    )


# ---------------------------------------------------------------- serials


def _serials(prefix: str, start: int, count: int) -> list[str]:
    """``count`` serials in a run from ``start``: ``prefix``, a running number, a Luhn check
    digit; an 8-digit type allocation code gives 15-digit IMEIs, an 8-digit ``8986…`` card batch
    20-digit ICCIDs."""
    width = 6 if not prefix.startswith("89") else 11
    return [_luhn(f"{prefix}{n:0{width}d}") for n in range(start, start + count)]


def _luhn(body: str) -> str:
    """``body`` with its Luhn check digit appended."""
    return next(body + d for d in "0123456789" if inventory.luhn_ok(body + d))


# ---------------------------------------------------------------- at the desk


def sell(
    hall: Hall,
    who: str,
    tid: UUID,
    lines: list[SaleLineIn],
    phone: str | None,
    sim: bool,
    now: datetime,
) -> None:
    """A sale at the desk: accessories, the phone wanted (or another model still in stock, or
    none when all are gone), a SIM card for a new line."""
    lines = list(lines)
    sold: tuple[str, str] | None = None
    if phone is not None:
        for sku in (phone, *(p for p in PHONES if p != phone)):
            left = hall.in_stock(sku)
            if left:
                sold = (sku, hall.rng.choice(left))
                lines.append(SaleLineIn(sku=sku, serial=sold[1]))
                break
    if sim:
        cards = hall.in_stock(SIM_SKU)
        if cards:
            lines.append(SaleLineIn(sku=SIM_SKU, serial=cards[0]))
    if not lines:
        return
    hall.run(who, now, lambda c: inventory.sell(c, SaleIn(lines=lines, ticket_id=tid)))
    if sold is not None:
        hall.sold_phones.append(sold)


def brought_back(hall: Hall, tid: UUID) -> ReturnIn | None:
    """What an after-sales customer returns, if anything is left to return today: a phone sold
    earlier (7-day return) once there is one, a faulty charger; one of each a day."""
    if "phone" not in hall.returned and hall.sold_phones:
        hall.returned.add("phone")
        sku, imei = hall.sold_phones.pop(hall.rng.randrange(len(hall.sold_phones)))
        line = ReturnLineIn(sku=sku, serials=[imei])
        reason = "7天无理由退货：颜色不满意，包装配件齐全"
    elif "charger" not in hall.returned:
        hall.returned.add("charger")
        line = ReturnLineIn(sku="CHARGER-20W", qty=1)
        reason = "充电器无法充电，质量问题退货"
    else:
        return None
    return ReturnIn(reason=reason, lines=[line], ticket_id=tid)


# ---------------------------------------------------------------- the admins' day


def stock_work(hall: Hall) -> None:
    """The admins' day: a transfer out and one in, a write-off, two adjustments for the manager."""
    rng = hall.rng
    others = [s for s in ("S002", "S003", "S004") if s != hall.ctx.store_id]
    hall.later(hall.at(10, 30), partial(_transfer_out, hall, others[0]))
    hall.later(hall.at(11, 15), partial(_write_off, hall))
    reference = f"TR-{others[1]}-{rng.randrange(16**8):08X}"
    cards = _serials("89860022", rng.randrange(10_000), 10)  # another batch than ours
    transfer_in = TransferInIn(
        from_store=others[1],
        reference=reference,
        lines=[LineIn(sku="POWERBANK", qty=10), LineIn(sku=SIM_SKU, serials=cards)],
        note="兄弟厅调拨补货",
    )
    hall.later(
        hall.at(14, 20),
        partial(step, hall, "admin2", partial(inventory.transfer_in, cmd=transfer_in)),
    )
    hall.later(hall.at(15, 20), partial(_adjustment, hall, "POWERBANK", 2, approve=True))
    hall.later(hall.at(15, 25), partial(_adjustment, hall, "CASE-01", -5, approve=False))


def _transfer_out(hall: Hall, to_store: str, now: datetime) -> None:
    lines = [LineIn(sku="CHARGER-20W", qty=20)]
    phones = hall.in_stock("PHONE-MI")[:3]
    if phones:
        lines.append(LineIn(sku="PHONE-MI", serials=phones))
    cmd = TransferOutIn(to_store=to_store, lines=lines, note="区域调拨：支援新店开业")
    hall.run("admin1", now, partial(inventory.transfer_out, cmd=cmd))


def _write_off(hall: Hall, now: datetime) -> None:
    lines = [LineIn(sku="FILM-01", qty=3)]
    phones = hall.in_stock("PHONE-HW")
    if phones:
        lines.append(LineIn(sku="PHONE-HW", serials=[phones[-1]]))
    cmd = WriteOffIn(reason="贴膜时破损；展示样机跌落屏幕碎裂", lines=lines)
    hall.run("admin1", now, partial(inventory.write_off, cmd=cmd))


def _adjustment(hall: Hall, sku: str, delta: int, now: datetime, *, approve: bool) -> None:
    """The admin asks; the manager decides within the half hour."""
    reason = "到货清点多出 2 个，送货单漏记" if delta > 0 else "货架少 5 个，疑似丢失"
    cmd = AdjustmentIn(sku=sku, delta=delta, reason=reason)
    asked = hall.run("admin1", now, partial(inventory.request_adjustment, cmd=cmd))
    aid = asked.adjustment_id
    decide: Callable[[Ctx], Any]
    if approve:
        decide = partial(inventory.approve_adjustment, adjustment_id=aid, note="已核对送货单")
    else:
        decide = partial(inventory.reject_adjustment, adjustment_id=aid, note="先盘点再调整")
    hall.later(
        now + timedelta(minutes=hall.rng.randint(10, 30)), partial(step, hall, "manager", decide)
    )


# ---------------------------------------------------------------- the count


def count(hall: Hall, now: datetime) -> None:
    """The closing count (闭店盘点) of every item: a few accessories short or over, one phone
    missing, one SIM card found that was never booked in."""
    rng = hall.rng
    opened = hall.run("admin2", now, partial(inventory.open_count, cmd=CountIn(note="闭店盘点")))
    cid = opened.count_id
    accessories = [sku for sku, _, category, _ in ITEMS if category == "accessory"]
    *short, over = rng.sample(accessories, 3)
    missing_phone = rng.choice(PHONES)
    # A card of our own batch that never reached the books (the delivery's run is below 10,048).
    stray = _serials(SERIALISED[-1][4], rng.randrange(20_000, 30_000), 1)[0]
    t = now
    for line in opened.lines:
        variance = -rng.randint(1, 2) if line.sku in short else 1 if line.sku == over else 0
        t += timedelta(seconds=rng.randint(40, 100))
        hall.later(t, partial(_count_line, hall, cid, line.sku, variance, missing_phone, stray))
    post = partial(inventory.post_count, count_id=cid)
    hall.later(t + timedelta(minutes=4), partial(step, hall, "admin2", post))


def _count_line(
    hall: Hall,
    cid: UUID,
    sku: str,
    variance: int,
    missing_phone: str,
    stray: str,
    now: datetime,
) -> None:
    cmd: CountLineIn
    if sku in PHONES or sku == SIM_SKU:
        scanned = hall.in_stock(sku)
        if sku == missing_phone and scanned:
            scanned.pop(hall.rng.randrange(len(scanned)))
        if sku == SIM_SKU:
            scanned.append(stray)
        cmd = CountLineIn(sku=sku, serials=scanned)
    else:
        on_hand = inventory.on_hand(hall.ctx.conn, hall.ctx.store_id, sku)
        cmd = CountLineIn(sku=sku, counted=max(0, on_hand + variance))
    hall.run("admin2", now, partial(inventory.record_count_line, count_id=cid, cmd=cmd))
