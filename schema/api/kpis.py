"""REST types of the store's own KPIs (门店指标) for one store-local day."""

from __future__ import annotations

from datetime import date, datetime

import msgspec


class QueueKpis(msgspec.Struct, kw_only=True):
    visits: int
    """Tickets issued that day (客流量)."""
    waiting_now: int | None
    """Tickets waiting at the moment; null for a past day."""
    called: int
    """Tickets called at least once (the base of the wait figures)."""
    avg_wait_seconds: float | None
    """Mean of first call − issue."""
    p90_wait_seconds: float | None
    """90th percentile of first call − issue (nearest-rank)."""
    served_within_15min: float | None
    """Share of called tickets whose wait was at most 15 minutes (0–1)."""
    done: int
    avg_service_seconds: float | None
    """Mean service time of finished tickets (done − serving)."""
    no_shows: int
    no_show_rate: float | None
    """No-shows ÷ visits (0–1)."""


class SatisfactionKpis(msgspec.Struct, kw_only=True):
    ratings: int
    average: float | None
    """Mean score, 1–5 (满意度)."""
    share_4_5: float | None
    """Share of ratings that are 4 or 5 (CSAT, 0–1)."""
    response_rate: float | None
    """Ratings ÷ finished tickets (0–1)."""


class ComplaintKpis(msgspec.Struct, kw_only=True):
    opened: int
    """Complaints opened that day."""
    open_now: int | None
    """Unresolved complaints at the moment; null for a past day."""
    overdue_now: int | None
    """Of those, past their first-response or resolution due time; null for a past day."""


class SalesKpis(msgspec.Struct, kw_only=True):
    units: int
    amount_cents: int
    """Sales that day in fen (分), net of customer returns."""


class AttendanceKpis(msgspec.Struct, kw_only=True):
    planned: int
    clocked_in: int
    late: int
    early_leave: int
    absent: int


class StoreKpisOut(msgspec.Struct, kw_only=True):
    """The manager's view of one store-day (今日指标).

    Figures named ``*_now`` (and stock-outs, open faults) describe the present moment, so they
    are given for today only; every other figure is a fact of the day asked for.
    """

    store_id: str
    day: date
    """Store-local day the figures are for."""
    as_of: datetime
    queue: QueueKpis
    satisfaction: SatisfactionKpis
    complaints: ComplaintKpis
    sales: SalesKpis
    stockouts: int | None
    """Active items with nothing on hand (缺货) at the moment; null for a past day."""
    open_faults: int | None
    """Equipment faults awaiting repair at the moment; null for a past day."""
    attendance: AttendanceKpis
