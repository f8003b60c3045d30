"""Fixtures of the writer's tests: a started writer on a fresh node, and a command to give it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schema.events.store import StoreConfigured
from server.domain.context import Ctx
from server.errors import Conflict
from server.store.node import open_store
from server.store.writer import Writer

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def rename(name: str, fail: bool = False) -> Callable[[Ctx], dict[str, object]]:
    """A command renaming the store (one ``store.configured`` event); ``fail`` refuses it
    after emitting, so the event must go with the command's savepoint."""

    def command(ctx: Ctx) -> dict[str, object]:
        s = ctx.store
        e = ctx.emit(
            StoreConfigured,
            name=name,
            region=s.region,
            tz=s.tz,
            open_time=s.open_time,
            close_time=s.close_time,
            first_response_sla_hours=s.first_response_sla_hours,
            resolution_sla_hours=s.resolution_sla_hours,
        )
        if fail:
            raise Conflict(f"refusing {name}")
        return {"seq": e.seq, "name": name}

    return command


@pytest.fixture
def writer(data_dir: Path) -> Iterator[Writer]:
    opened = open_store(data_dir)
    w = Writer(opened.engine, opened.store_id, contact_key=opened.contact_key, clock=lambda: NOW)
    w.start()
    yield w
    w.stop()
    opened.engine.dispose()
