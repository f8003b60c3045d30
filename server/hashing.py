"""Bounded concurrency for CPU- and memory-heavy work such as Argon2 (password checks).

One Argon2id verification with this project's parameters takes about 64 MiB and a few hundred
milliseconds of CPU. Run in the default thread pool (40 threads), a burst of logins took a node
from about 100 MiB to 2.6 GiB. A :class:`HashPool` runs at most ``workers`` such jobs at once,
lets at most ``waiting`` more wait their turn, and refuses the rest at once with
:class:`~server.errors.Busy` (HTTP 429 with ``Retry-After``): memory stays bounded by
``workers`` × the cost of one job, and a flood gets fast refusals instead of a queue that grows
without end.

Call it from async code: ``ok = await pool.run(verify_password, stored_hash, password)``.
The pool is not bound to an event loop, so one pool can serve every app of a process
(:func:`shared_pool`), which is what bounds the process's memory.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from server.errors import Busy

P = ParamSpec("P")
T = TypeVar("T")

WORKERS = 2
"""Jobs run at once: 2 × 64 MiB of Argon2 memory, and the 2 cores of a hall's node stay
shared with the rest of the node."""

WAITING = 16
"""Jobs that may wait for a worker: a few seconds of work at most, so a waiting login is
answered in reasonable time; beyond that, waiting longer helps nobody."""


class HashPool:
    """Runs blocking functions in threads, ``workers`` at a time, ``waiting`` more queued."""

    def __init__(
        self, workers: int = WORKERS, waiting: int = WAITING, retry_after: int = 1
    ) -> None:
        if workers < 1 or waiting < 0:
            raise ValueError("a hash pool needs at least one worker and a queue of 0 or more")
        self.workers = workers
        self.waiting = waiting
        self.retry_after = retry_after
        """Seconds a refused caller is told to wait (``Retry-After``)."""
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hash")
        self._lock = threading.Lock()
        self._admitted = 0  # running + waiting; changed from the event loops and the workers

    @property
    def admitted(self) -> int:
        """Jobs running or waiting right now."""
        return self._admitted

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args)`` in a worker thread; raises :class:`Busy` when the queue is full.

        If the caller is cancelled, a job that has not started is dropped; one that has
        started runs to its end (a thread cannot be interrupted) and keeps its place in the
        count until then, so disconnecting clients cannot push more work through than the
        bound allows.
        """
        with self._lock:
            if self._admitted >= self.workers + self.waiting:
                raise Busy(
                    "the server is busy checking other passwords; retry shortly",
                    retry_after=self.retry_after,
                )
            self._admitted += 1
        try:
            job = self._executor.submit(fn, *args, **kwargs)
        except BaseException:
            self._release(None)
            raise
        # Released when the job ends or is dropped, not when the caller stops waiting.
        job.add_done_callback(self._release)
        return await asyncio.wrap_future(job)

    def _release(self, _job: Future[T] | None) -> None:
        with self._lock:
            self._admitted -= 1

    def close(self) -> None:
        """Stop the threads once queued jobs are done (tests; a server just exits)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


_shared: HashPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> HashPool:
    """The process-wide pool every app uses unless given its own: one bound per process."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = HashPool()
        return _shared
