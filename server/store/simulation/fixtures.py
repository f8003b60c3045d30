"""What the simulated hall is made of: its time zone, staff and their hours, the catalogue and
the morning delivery, the windows, the mix of services and outcomes, the day's appointments and
complaints, and the event budget ``record_day`` sizes the crowd by."""

from __future__ import annotations

from datetime import time
from typing import Literal

from schema.events.complaints import Category, Channel
from schema.events.inventory import ItemCategory
from schema.events.queue import Outcome, ServiceCategory
from schema.events.store import Role

TZ = "Asia/Shanghai"
PASSWORD_HASH = "bench-not-a-real-hash"
"""Staff logins are node-local and never synced; the benchmark needs no real hash."""

CLERKS = tuple(f"clerk{i:02d}" for i in range(1, 11))
"""One per window: the first five work the early shift, the other five the late one."""
EARLY_CLERKS = 5
ROSTER: tuple[tuple[str, Role], ...] = (
    ("manager", "manager"),
    ("greeter1", "greeter"),
    ("greeter2", "greeter"),
    *((username, "clerk") for username in CLERKS),
    ("tech1", "tech"),
    ("admin1", "admin"),
    ("admin2", "admin"),
)
"""Everyone on the staff, in the order they are added (the manager first, by the system)."""
EARLY_SHIFT = (time(8), time(16))
LATE_SHIFT = (time(12), time(20, 30))
SHIFTS: tuple[tuple[str, time, time], ...] = (
    ("greeter1", time(8), time(14)),
    ("greeter2", time(14), time(20, 30)),
    *((clerk, *EARLY_SHIFT) for clerk in CLERKS[:EARLY_CLERKS]),
    *((clerk, *LATE_SHIFT) for clerk in CLERKS[EARLY_CLERKS:]),
    ("tech1", time(8), time(17)),
    ("admin1", time(8), time(17)),
    ("admin2", time(12), time(20, 30)),
)
"""The shifts planned: a greeter each half of the day, five clerks early and five late, tech and
admin all day, a second admin for the late shift and the count after closing."""
STAFF_HOURS: tuple[tuple[str, time, time], ...] = (
    ("greeter1", time(7, 45), time(14, 5)),
    ("tech1", time(7, 35), time(17, 5)),
    ("admin1", time(7, 50), time(17, 10)),
    ("greeter2", time(13, 50), time(20, 40)),
    ("admin2", time(11, 52), time(21, 5)),
)
"""When those who do not work a window clock in and out (the clerks' hours follow their desk)."""
GREETER_DESK: tuple[tuple[str, time, time], ...] = (
    ("greeter1", time(7, 40), time(14)),
    ("greeter2", time(14), time(21)),
)
"""Who is at the entrance desk (issuing tickets, taking complaints and bookings) when."""

CATEGORY_WEIGHTS: dict[ServiceCategory, int] = {
    "billing": 30,
    "plan_change": 20,
    "consultation": 15,
    "new_line": 10,
    "device_purchase": 8,
    "after_sales": 7,
    "broadband": 5,
    "loss_report": 3,
    "porting": 2,
}
OUTCOME_WEIGHTS: dict[Outcome, int] = {
    "completed": 85,
    "partially_completed": 5,
    "missing_documents": 4,
    "referred": 3,
    "customer_declined": 2,
    "unresolved": 1,
}
ITEMS: tuple[tuple[str, str, ItemCategory, int], ...] = (
    ("CASE-01", "手机壳", "accessory", 3900),
    ("CASE-02", "防摔手机壳", "accessory", 5900),
    ("CABLE-C", "Type-C 数据线", "accessory", 1900),
    ("CHARGER-20W", "20W 充电器", "accessory", 6900),
    ("FILM-01", "钢化膜", "accessory", 2900),
    ("EARBUDS", "有线耳机", "accessory", 4900),
    ("POWERBANK", "移动电源", "accessory", 9900),
    ("SIM-BLANK", "空白 SIM 卡", "supply", 0),
)
SERIALISED: tuple[tuple[str, str, ItemCategory, int, str], ...] = (
    ("PHONE-HW", "华为 nova 12 5G", "phone", 269900, "86492105"),
    ("PHONE-MI", "小米 14 5G", "phone", 399900, "86770305"),
    ("PHONE-IP", "iPhone 15 128G", "phone", 599900, "35325811"),
    ("SIM-5G", "5G USIM 卡", "sim", 0, "89860021"),
)
"""Items tracked by serial, with the prefix of their serials: a phone model's type allocation
code (the first 8 digits of its IMEIs), the card batch of the SIMs (the first 8 of the ICCIDs)."""
PHONES = tuple(sku for sku, _, category, *_ in SERIALISED if category == "phone")
SIM_SKU = "SIM-5G"
PHONES_RECEIVED = 16
"""Phones of each model in the morning delivery."""
SIMS_RECEIVED = 48
Fate = Literal["on_time", "late", "cancelled", "no_show"]
"""What becomes of an appointment: checked in before the slot or a little after it, called off,
or never kept."""
APPOINTMENTS: tuple[tuple[time, time, ServiceCategory, str, Fate], ...] = (
    (time(7, 50), time(9, 30), "new_line", "张伟", "on_time"),
    (time(7, 55), time(10), "device_purchase", "王芳", "on_time"),
    (time(8, 20), time(10, 30), "broadband", "李娜", "late"),
    (time(8, 40), time(11), "porting", "刘洋", "cancelled"),
    (time(9, 10), time(14), "plan_change", "陈静", "on_time"),
    (time(9, 45), time(15, 30), "device_purchase", "杨帆", "no_show"),
    (time(10, 30), time(16, 30), "new_line", "赵磊", "on_time"),
    (time(14, 30), time(18), "after_sales", "黄敏", "on_time"),
)
"""The day's appointments: booked at, slot, service, customer, what happens."""
CHANNELS: tuple[Channel, ...] = ("in_store", "in_store", "hotline")
COMPLAINTS: tuple[Category, ...] = (
    "waiting_time",
    "billing",
    "service_attitude",
    "network_quality",
)
EVENTS_PER_CUSTOMER = 5.0
"""About: issued, called (recalls now and then), started, finished, rated 70 %, a sale 30 %."""
FIXED_EVENTS = 300
"""About: set-up, shifts, checklist, clock-ins, windows, breaks, complaints, appointments, stock
movements and the count, faults, fire safety, training."""
