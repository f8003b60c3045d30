"""The hash pool: at most ``workers`` jobs at once, a bounded queue, Busy beyond it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from server.errors import Busy
from server.hashing import HashPool


class Gate:
    """A blocking job that counts how many run at once and waits to be let through."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def job(self, value: int) -> int:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.open.wait(10)
        with self.lock:
            self.running -= 1
        return value * 2


@pytest.fixture
def pool() -> Iterator[HashPool]:
    p = HashPool(workers=2, waiting=3, retry_after=2)
    yield p
    p.close()


async def test_excess_jobs_are_refused_at_once_and_the_rest_run_two_at_a_time(
    pool: HashPool,
) -> None:
    gate = Gate()
    tasks = [asyncio.create_task(pool.run(gate.job, n)) for n in range(12)]
    await asyncio.sleep(0)  # every task has asked for its place
    refused = [t for t in tasks if t.done()]
    assert len(refused) == 7
    for t in refused:
        exc = t.exception()
        assert isinstance(exc, Busy) and exc.status == 429 and exc.extra["retry_after"] == 2
    gate.open.set()
    results = await asyncio.gather(*(t for t in tasks if t not in refused))
    assert sorted(results) == [0, 2, 4, 6, 8]
    assert gate.most == 2
    assert pool.admitted == 0


async def test_a_cancelled_caller_keeps_its_running_job_counted_until_it_ends(
    pool: HashPool,
) -> None:
    gate = Gate()
    tasks = [asyncio.create_task(pool.run(gate.job, n)) for n in range(5)]
    await asyncio.sleep(0)
    while gate.running < 2:  # noqa: ASYNC110 - waiting for worker threads, not a task
        await asyncio.sleep(0.01)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # The three that waited are dropped; the two running cannot be stopped and stay counted,
    # so callers who give up cannot push more work into the threads than the bound allows.
    assert pool.admitted == 2
    more = [asyncio.create_task(pool.run(gate.job, 1)) for _ in range(4)]
    await asyncio.sleep(0)
    assert [t.done() for t in more] == [False, False, False, True]
    assert isinstance(more[3].exception(), Busy)
    gate.open.set()
    assert await asyncio.gather(*more[:3]) == [2, 2, 2]
    while pool.admitted:  # noqa: ASYNC110 - the cancelled callers' jobs end in their threads
        await asyncio.sleep(0.01)
