"""Every text field of every event is either free text (masked before it is recorded) or a
structured value on an explicit list, with the reason it is not free text.

The rule (``schema.events.base.FreeText``): a field a person types is free text unless the system
relies on its exact value (an identifier it matches or joins on: user names, store ids, SKUs,
codes, IMEI/ICCID serials, numbers the node makes up) or it already holds a masked or hashed
value. Names, labels and typed references are free text.

``Ctx.emit`` masks phone and ID numbers in the fields annotated ``FreeText`` (also inside
``list[FreeText]`` and ``FreeText | None``). A new event field holding staff-typed text must be
marked too; this test fails until it is, or until it is listed here as structured.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from schema.api.ops import FaultIn, FireInspectionIn
from schema.events import EVENT_TYPES
from schema.events.base import FREE_TEXT, Event
from schema.tables.core import events
from server.domain import ops
from server.domain.stamp import free_text_fields, redact_free_text
from tests.conftest import Harness
from tests.pii import raw_in, squeeze, strings_in

NUMBERS = ["13987654321", "110101199003071235"]

ENVELOPE = {name for name in Event.__struct_fields__}
"""The envelope (ids, store, actor, device) is written by the node, never typed by staff."""

STRUCTURED: dict[tuple[str, str], str] = {
    # store and roster
    ("StoreConfigured", "region"): "a region code",
    ("StoreConfigured", "tz"): "an IANA time zone name",
    ("StaffAdded", "username"): "a login name",
    # queue
    ("WindowDefined", "code"): "a window code (W1)",
    ("WindowOpened", "staff"): "a user name",
    ("WindowClosed", "staff"): "a user name",
    ("TicketIssued", "number"): "a ticket number the node made (B023)",
    ("TicketIssued", "phone_masked"): "already masked by the queue code",
    ("TicketIssued", "phone_hash"): "a keyed hash",
    ("TicketCalled", "staff"): "a user name",
    ("TicketServingStarted", "served_by"): "a user name",
    ("TicketFinished", "served_by"): "a user name",
    ("TicketRated", "served_by"): "a user name",
    ("AppointmentBooked", "customer_name"): "already masked by the queue code (张*)",
    ("AppointmentBooked", "phone_masked"): "already masked by the queue code",
    ("AppointmentBooked", "phone_hash"): "a keyed hash",
    ("AppointmentCheckedIn", "number"): "a ticket number the node made",
    # inventory
    ("ItemDefined", "sku"): "a SKU code",
    ("ItemPriceChanged", "sku"): "a SKU code",
    ("MovementLine", "sku"): "a SKU code",
    ("MovementLine", "serials"): "IMEI/ICCID, checked digits",
    ("StockTransferredOut", "to_store"): "a store id",
    ("StockTransferredIn", "from_store"): "a store id",
    ("AdjustmentRequested", "sku"): "a SKU code",
    ("AdjustmentRequested", "serials"): "IMEI/ICCID, checked digits",
    ("StockAdjusted", "sku"): "a SKU code",
    ("StockAdjusted", "serials"): "IMEI/ICCID, checked digits",
    ("StockAdjusted", "requested_by"): "a user name",
    ("CountOpened", "skus"): "SKU codes",
    ("CountLineRecorded", "sku"): "a SKU code",
    ("CountLineRecorded", "serials"): "IMEI/ICCID, checked digits",
    ("CountLine", "sku"): "a SKU code",
    ("CountLine", "missing"): "IMEI/ICCID, checked digits",
    ("CountLine", "unexpected"): "IMEI/ICCID, checked digits",
    # shifts
    ("ShiftPlanned", "window"): "a window code",
    ("ShiftChanged", "window"): "a window code",
    # complaints
    ("ComplaintOpened", "number"): "a complaint number the node made (T20261126-003)",
    ("ComplaintOpened", "customer_phone_masked"): "already masked by the complaints code",
    ("ComplaintOpened", "customer_phone_hash"): "a keyed hash",
    # daily operations
    ("ChecklistItemSpec", "code"): "a checklist item code",
    ("ChecklistItemSpec", "label"): "the standard item's label, from the code base",
    ("ChecklistItemChecked", "item"): "a checklist item code",
    ("ChecklistCompleted", "not_ok_items"): "checklist item codes",
    ("FaultReported", "asset_tag"): "an asset tag code (Code: letters, digits, _ . : -)",
    # sync conflicts
    ("ConflictRecorded", "entity_id"): "a user id, SKU or store id",
    ("ConflictRecorded", "hq_event_type"): "an event type name",
    ("ConflictRecorded", "hq_actor"): "an HQ user name",
    ("ConflictRecorded", "store_event_type"): "an event type name",
    ("ConflictResolved", "resolved_by"): "a user name",
}


_COLLECTIONS = (
    msgspec.inspect.ListType,
    msgspec.inspect.VarTupleType,
    msgspec.inspect.SetType,
    msgspec.inspect.FrozenSetType,
)


def _children(t: msgspec.inspect.Type) -> list[msgspec.inspect.Type]:
    if isinstance(t, msgspec.inspect.UnionType):
        return list(t.types)
    if isinstance(t, _COLLECTIONS):
        return [t.item_type]
    if isinstance(t, msgspec.inspect.TupleType):
        return list(t.item_types)
    if isinstance(t, msgspec.inspect.DictType):
        return [t.key_type, t.value_type]
    return []


def _str_leaves(t: msgspec.inspect.Type, free: bool = False) -> list[bool]:
    """For each ``str`` inside a field's type (through ``Annotated``, unions and collections,
    not into nested structs, which are checked on their own): whether it is ``FreeText``."""
    if isinstance(t, msgspec.inspect.Metadata):
        return _str_leaves(t.type, free or bool((t.extra or {}).get(FREE_TEXT)))
    if isinstance(t, msgspec.inspect.StrType):
        return [free]
    return [leaf for child in _children(t) for leaf in _str_leaves(child, free)]


def _nested_structs(t: msgspec.inspect.Type) -> list[msgspec.inspect.StructType]:
    if isinstance(t, msgspec.inspect.Metadata):
        return _nested_structs(t.type)
    if isinstance(t, msgspec.inspect.StructType):
        return [t]
    return [s for child in _children(t) for s in _nested_structs(child)]


def _text_fields() -> list[tuple[str, str, bool, bool]]:
    """(struct, field, top level?, marked FreeText?) for every text field of every event."""
    found: list[tuple[str, str, bool, bool]] = []
    seen: set[type[Any]] = set()

    def walk(struct: msgspec.inspect.StructType, top: bool) -> None:
        if struct.cls in seen:
            return
        seen.add(struct.cls)
        for f in struct.fields:
            if top and f.name in ENVELOPE:
                continue
            marked = _str_leaves(f.type)
            if marked:
                assert all(marked) or not any(marked), f"{struct.cls.__name__}.{f.name}: mixed"
                found.append((struct.cls.__name__, f.name, top, all(marked)))
            for nested in _nested_structs(f.type):
                walk(nested, top=False)

    for event_type in EVENT_TYPES:
        info = msgspec.inspect.type_info(event_type)
        assert isinstance(info, msgspec.inspect.StructType)
        walk(info, top=True)
    return found


def test_every_text_field_is_free_text_or_listed_as_structured() -> None:
    unmarked, both, nested_free = [], [], []
    for struct, field, top, marked in _text_fields():
        listed = (struct, field) in STRUCTURED
        if marked and listed:
            both.append(f"{struct}.{field}")
        elif not marked and not listed:
            unmarked.append(f"{struct}.{field}")
        elif marked and not top:
            nested_free.append(f"{struct}.{field}")
    assert unmarked == [], "mark these FreeText, or list them in STRUCTURED with a reason"
    assert both == [], "FreeText fields must not also be listed as structured"
    # Ctx.emit masks the event's own fields, not those of structs nested in them.
    assert nested_free == [], "free text in a nested struct would not be masked"


def test_the_structured_list_names_only_real_text_fields() -> None:
    real = {(struct, field) for struct, field, _top, _marked in _text_fields()}
    assert set(STRUCTURED) - real == set()
    assert all(reason.strip() for reason in STRUCTURED.values())


def test_free_text_is_found_where_it_is() -> None:
    marked = {(s, f) for s, f, _top, free in _text_fields() if free}
    assert {
        ("ComplaintOpened", "description"),
        ("TicketFinished", "note"),  # FreeText | None
        ("FireInspectionRecorded", "issues"),  # list[FreeText]
        ("StockReceived", "note"),  # inherited from StockMovement
        ("ClockedIn", "on_behalf_reason"),
        # names and references people type, though they look structured
        ("StoreConfigured", "name"),
        ("StaffAdded", "display_name"),
        ("WindowDefined", "name"),
        ("WindowChanged", "name"),
        ("ItemDefined", "name"),
        ("StockReceived", "reference"),
        ("StockTransferredOut", "reference"),
        ("StockTransferredIn", "reference"),
        ("FaultReported", "asset_name"),
    } <= marked


def test_every_free_text_field_is_masked_when_recorded() -> None:
    """What the list above marks free text is exactly what ``Ctx.emit`` masks."""
    typed = "客户（139）8765_4321，身份证 110101 19900307 1235"
    fields = _text_fields()
    for event_type in EVENT_TYPES:
        names = {f for s, f, top, free in fields if free and top and s == event_type.__name__}
        payload: dict[str, Any] = {name: typed for name in names}
        payload |= {"issues": [typed, typed]} if "issues" in names else {}
        redact_free_text(event_type, payload)
        leaked = [name for name, value in payload.items() if raw_in(str(value), NUMBERS)]
        assert leaked == [], f"{event_type.__name__}: raw number kept in {leaked}"
        assert set(free_text_fields(event_type)) == names


@pytest.mark.parametrize(
    "typed",
    ["13812345678", "138 1234 5678", "110101199003071234", "139_8765_4325", "(139)87654329"],
)
def test_numbers_typed_into_free_text_never_reach_the_log(harness: Harness, typed: str) -> None:
    harness.run(
        lambda ctx: ops.report_fault(
            ctx,
            FaultIn(kind="pc", asset_name=f"{typed}的电脑", description=f"客户{typed}说蓝屏"),
        )
    )
    harness.run(
        lambda ctx: ops.record_fire_inspection(
            ctx,
            FireInspectionIn(
                day=date(2026, 11, 26),
                inspector="李主管",
                passed=False,
                issues=[f"联系人 {typed} 未到场"],
            ),
        )
    )
    bodies = harness.read(lambda c: [r.body for r in c.execute(sa.select(events.c.body))])
    canonical = [squeeze(typed)]
    assert bodies and not any(raw_in(text, canonical) for b in bodies for text in strings_in(b)), (
        "a raw number was recorded"
    )
