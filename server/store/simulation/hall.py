"""The simulated hall's state: the open transaction, the clock and who is at work, and how one
command runs in it."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from server.domain.context import Ctx
from server.domain.inventory import reads as inventory_reads
from server.errors import HallsyncError
from server.store.simulation.scheduler import Agenda, Step, local


@dataclass
class Clerk:
    """A clerk and the window they work, with their day's hours."""

    username: str
    user_id: UUID
    window_id: UUID
    start: datetime
    end: datetime
    meal: datetime
    on_shift: bool = False
    on_meal: bool = False


@dataclass
class Hall:
    """The simulation's state: the open transaction, the clock and who is at work."""

    ctx: Ctx
    rng: random.Random
    zone: ZoneInfo
    day: date
    clerks: list[Clerk] = field(default_factory=list)
    greeters: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    users: dict[str, UUID] = field(default_factory=dict)
    agenda: Agenda = field(default_factory=Agenda)
    refused: dict[str, int] = field(default_factory=dict)
    sold_phones: list[tuple[str, str]] = field(default_factory=list)
    """``(sku, IMEI)`` of the phones sold today, which a customer may bring back."""
    returned: set[str] = field(default_factory=set)
    """What was brought back today: ``phone`` (by IMEI), ``charger``; one of each at most."""

    def at(self, hh: int, mm: int = 0) -> datetime:
        """``hh:mm`` today, store-local."""
        return local(self.day, self.zone, hh, mm)

    def later(self, when: datetime, step: Step) -> None:
        self.agenda.later(when, step)

    def run(
        self, actor: str, now: datetime, command: Callable[[Ctx], Any], *, may_fail: bool = False
    ) -> Any:
        """One command as the writer runs it: in a SAVEPOINT, undone with its seqs on error.

        Returns the command's result, or its error when it was refused: an empty queue, or
        (``may_fail``) a step that may have become moot; any other refusal is a bug here.
        """
        base = self.ctx
        log = base.log
        seq_before = log.next_seq
        savepoint = base.conn.begin_nested()
        ctx = Ctx(
            conn=base.conn,
            log=log,
            actor=actor,
            device=f"tablet-{actor}",
            now=now,
            contact_key=base.contact_key,
        )
        try:
            result = command(ctx)
        except HallsyncError as exc:
            savepoint.rollback()
            log.next_seq = seq_before
            if not may_fail and exc.code != "queue_empty":
                raise RuntimeError(f"simulated day: {actor} was refused: {exc}") from exc
            self.refused[exc.code] = self.refused.get(exc.code, 0) + 1
            return exc
        savepoint.commit()
        return result

    def in_stock(self, sku: str) -> list[str]:
        """The serials of a serialised SKU in stock now, by the books, sorted."""
        return inventory_reads.in_stock_serials(self.ctx.conn, self.ctx.store_id, sku)

    def greeter_at(self, now: datetime) -> str:
        for name, start, end in self.greeters:
            if start <= now < end:
                return name
        return self.greeters[-1][0]


def step(hall: Hall, actor: str, command: Callable[[Ctx], Any], now: datetime) -> None:
    """``command`` by ``actor`` at ``now``: with ``functools.partial``, a step for the agenda."""
    hall.run(actor, now, command)
