"""The writer's one thread for the calls that may block the event loop: ``BEGIN IMMEDIATE``
(waiting for another process's write lock), ``COMMIT`` (the fsync), and the reload of the log
state after a failure; run one at a time, in the order they were queued."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class WriteThread:
    """One thread that runs, in order, the writer's calls that may block.

    A plain thread and queue rather than a ``ThreadPoolExecutor``, whose bookkeeping (a lock
    shared with its worker) showed up in profiles of the event loop as a stall on every call.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[
            tuple[Callable[[], Any], asyncio.Future[Any] | None] | None
        ] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="hallsync-writer", daemon=True)
        self._thread.start()

    async def run(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in the thread and wait for its result."""
        return await self.submit(fn)

    def submit(self, fn: Callable[[], Any]) -> asyncio.Future[Any]:
        """Queue ``fn`` for the thread, after what is queued, now; its future result (on the
        running event loop)."""
        future = asyncio.get_running_loop().create_future()
        self._queue.put((fn, future))
        return future

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            fn, future = item
            try:
                result, failure = fn(), None
            except BaseException as exc:
                result, failure = None, exc
            if future is None:
                if failure is not None:
                    log.error("writer helper call failed", exc_info=failure)
                continue
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
                future.get_loop().call_soon_threadsafe(_settle, future, result, failure)


def _settle(future: asyncio.Future[Any], result: Any, failure: BaseException | None) -> None:
    if future.done():  # cancelled meanwhile
        return
    if failure is not None:
        future.set_exception(failure)
    else:
        future.set_result(result)
