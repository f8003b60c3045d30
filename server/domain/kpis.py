"""The store's own KPIs for one store-local day, computed from its projections.

Central computes the same figures per store-day for the whole chain; these definitions
(see ``../shared/research``) are the ones HQ uses: wait = first call − issue; served within
15 minutes is over called tickets; no-show rate over visits; CSAT = share of 4–5 ratings.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.kpis import (
    AttendanceKpis,
    ComplaintKpis,
    QueueKpis,
    SalesKpis,
    SatisfactionKpis,
    StoreKpisOut,
)
from schema.tables.complaints import complaints
from schema.tables.inventory import inventory_movements
from schema.tables.queue import queue_tickets
from server.domain.complaints import open_and_overdue
from server.domain.context import load_settings
from server.domain.inventory import stockouts
from server.domain.ops import open_faults
from server.domain.shifts import attendance_today

SERVICE_LEVEL_SECONDS = 15 * 60
"""The service-level threshold: a customer called within 15 minutes was served in time."""


def percentile(values: list[int], q: float) -> float | None:
    """Nearest-rank percentile (the value at rank ⌈q·n⌉), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return float(ordered[rank - 1])


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def queue_kpis(
    conn: Connection, store_id: str, day: date, *, today: bool = True
) -> tuple[QueueKpis, SatisfactionKpis]:
    t = queue_tickets
    rows = conn.execute(
        sa.select(t.c.status, t.c.wait_seconds, t.c.service_seconds, t.c.score).where(
            t.c.store_id == store_id, t.c.day == day
        )
    ).all()
    waits = [r.wait_seconds for r in rows if r.wait_seconds is not None]
    done = [r for r in rows if r.status == "done"]
    scores = [r.score for r in rows if r.score is not None]
    no_shows = sum(r.status == "no_show" for r in rows)
    queue = QueueKpis(
        visits=len(rows),
        waiting_now=sum(r.status == "waiting" for r in rows) if today else None,
        called=len(waits),
        avg_wait_seconds=_mean(waits),
        p90_wait_seconds=percentile(waits, 0.9),
        served_within_15min=_ratio(sum(w <= SERVICE_LEVEL_SECONDS for w in waits), len(waits)),
        done=len(done),
        avg_service_seconds=_mean([r.service_seconds for r in done]),
        no_shows=no_shows,
        no_show_rate=_ratio(no_shows, len(rows)),
    )
    satisfaction = SatisfactionKpis(
        ratings=len(scores),
        average=_mean(scores),
        share_4_5=_ratio(sum(s >= 4 for s in scores), len(scores)),
        response_rate=_ratio(len(scores), len(done)),
    )
    return queue, satisfaction


def sales_kpis(conn: Connection, store_id: str, day: date) -> SalesKpis:
    m = inventory_movements
    sign = sa.case((m.c.kind == "return", -1), else_=1)
    row = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(m.c.qty * sign), 0),
            sa.func.coalesce(sa.func.sum(sa.func.coalesce(m.c.amount_cents, 0) * sign), 0),
        ).where(m.c.store_id == store_id, m.c.day == day, m.c.kind.in_(("sell", "return")))
    ).one()
    return SalesKpis(units=int(row[0]), amount_cents=int(row[1]))


def store_kpis(
    conn: Connection, store_id: str, now: datetime, day: date | None = None
) -> StoreKpisOut:
    """Every KPI of one store-day; ``day`` defaults to the store-local today of ``now``."""
    zone = load_settings(conn, store_id).zone
    today = now.astimezone(zone).date()
    day = day or today
    is_today = day == today
    queue, satisfaction = queue_kpis(conn, store_id, day, today=is_today)
    opened = conn.execute(
        sa.select(sa.func.count()).where(
            complaints.c.store_id == store_id, complaints.c.opened_day == day
        )
    ).scalar_one()
    open_now, overdue_now = open_and_overdue(conn, store_id, now) if is_today else (None, None)
    att = attendance_today(conn, store_id, day, now=now)
    return StoreKpisOut(
        store_id=store_id,
        day=day,
        as_of=now,
        queue=queue,
        satisfaction=satisfaction,
        complaints=ComplaintKpis(opened=opened, open_now=open_now, overdue_now=overdue_now),
        sales=sales_kpis(conn, store_id, day),
        stockouts=stockouts(conn, store_id) if is_today else None,
        open_faults=open_faults(conn, store_id) if is_today else None,
        attendance=AttendanceKpis(
            planned=att.planned,
            clocked_in=att.clocked_in,
            late=att.late,
            early_leave=att.early_leave,
            absent=att.absent,
        ),
    )
