"""How long a store's sync connection waits, and when it is over, sans I/O.

The adapter waits for the next thing to happen (a frame from central, a commit on the node, a
request to stop) for ``timeout(now)`` seconds at most. A wait that runs out is reported with
``quiet()``: while central still owes an answer that is a stalled link (``Disconnected``);
caught up, a one-off sync (``run_once``) has settled, since central had nothing more to send.
``over(now)`` says when to end the connection cleanly: settled, or its deadline (the close of
the overnight window) passed. Time is always passed in, in seconds on any monotonic clock.
"""

from __future__ import annotations

from sync.errors import Disconnected, SyncError


class Pacing:
    """The waits of one connection.

    ``keep_open``: stay connected once caught up (until ``deadline``, if any) rather than
    settle; ``settle``: once caught up, how long a one-off sync waits for HQ batches central may
    still send; ``stall_timeout``: how long to wait for central while it owes an answer."""

    def __init__(
        self, *, keep_open: bool, deadline: float | None, settle: float, stall_timeout: float
    ) -> None:
        self.keep_open, self.deadline = keep_open, deadline
        self.settle, self.stall_timeout = settle, stall_timeout
        self._settled = False

    def over(self, now: float) -> bool:
        """Whether the connection has done its work: settled, or past its deadline."""
        return self._settled or (self.deadline is not None and now >= self.deadline)

    def timeout(self, now: float, *, caught_up: bool) -> float | None:
        """Seconds to wait for the next event before calling ``quiet`` (None: no limit)."""
        if not caught_up:
            return self.stall_timeout
        if not self.keep_open:
            return self.settle
        return None if self.deadline is None else max(0.0, self.deadline - now)

    def quiet(self, *, caught_up: bool) -> SyncError | None:
        """A wait of ``timeout`` ran out with nothing happening: the error that ends the
        connection, if it is one (else ``over`` says whether it is done)."""
        if not caught_up:
            return Disconnected(f"central sent nothing for {self.stall_timeout:.0f} s")
        if not self.keep_open:
            self._settled = True
        return None
