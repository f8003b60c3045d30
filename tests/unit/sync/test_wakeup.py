"""The replica-wide wake-up of sync connections: no fire is missed between two waits."""

from __future__ import annotations

import anyio

from sync.wakeup import StoreWakeups, Wakeup


async def test_a_waiter_wakes_when_fired() -> None:
    w = Wakeup()
    woke: list[int] = []

    async def waiter() -> None:
        woke.append(await w.wait(w.generation, seconds=5))

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        tg.start_soon(waiter)
        await anyio.sleep(0.01)
        w.fire()
    assert woke == [1, 1]


async def test_a_fire_while_busy_is_not_missed() -> None:
    w = Wakeup()
    seen = w.generation
    w.fire()  # the connection was loading HQ events when this came
    with anyio.fail_after(1):
        assert await w.wait(seen, seconds=60) == 1  # returns at once


async def test_a_timeout_returns_the_same_generation() -> None:
    w = Wakeup()
    assert await w.wait(0, seconds=0.01) == 0
    w.fire()
    assert await w.wait(0, seconds=0.01) == 1


def test_a_stores_wakeup_reaches_only_its_own_connections_while_they_run() -> None:
    stores = StoreWakeups()
    with stores.watch("S001") as one, stores.watch("S001") as two, stores.watch("S002") as other:
        assert sorted(stores.watched()) == ["S001", "S002"] and one is two
        stores.fire("S001")
        stores.fire("S404")  # no connection here: nothing to do
        assert (one.generation, other.generation) == (1, 0)
        stores.fire_all()
        assert (one.generation, other.generation) == (2, 1)
    assert stores.watched() == []  # nothing kept for stores that left
