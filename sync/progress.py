"""What a store's sync connection reports, and when it saves its progress, sans I/O.

``SyncOptions`` tunes a connection, ``SyncResult`` says where one left things and ``LinkState``
whether one is open. ``ProgressPolicy`` decides, from the session's counters and the time it is
given, when the node is told of progress: the progress callback whenever central acknowledges
more, a durable save at once when caught up or when central quarantined something, and else at
most every ``save_interval`` seconds (each save is a durable write on the node).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from schema.events import SCHEMA_VERSION
from sync.client import ClientSession
from sync.frames import MAX_FRAME
from sync.pacing import Pacing


@dataclass
class LinkState:
    """Whether a connection is open right now (for the status page); the adapter keeps it."""

    connected: bool = False


@dataclass
class SyncResult:
    """Where a connection left things."""

    acked_seq: int = 0
    """Central holds the store's log up to here."""
    local_seq: int = 0
    """The log's newest seq as last read."""
    hq_cursor: int = 0
    """HQ events applied up to this cursor."""
    quarantined: int = 0
    """Events central quarantined during this connection."""
    hq_applied: int = 0
    """HQ events applied during this connection."""
    caught_up: bool = False
    """Whether the store was caught up at least once during the connection."""

    def observe(self, session: ClientSession) -> None:
        """Take in where ``session`` stands now; call whenever it may have moved on."""
        self.acked_seq = max(self.acked_seq, session.acked)
        self.local_seq, self.hq_cursor = session.local_seq, session.hq_cursor
        self.quarantined = session.quarantined
        self.caught_up = self.caught_up or session.caught_up


@dataclass(frozen=True)
class SyncOptions:
    """Tuning of the store's sync connection; the defaults are the production values."""

    schema: int = SCHEMA_VERSION
    batch_count: int = 500
    batch_bytes: int = 512 * 1024
    window: int = 4
    max_size: int = MAX_FRAME
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    open_timeout: float = 10.0
    close_timeout: float = 3.0
    """Seconds to wait for central to confirm a close before dropping the connection."""
    stall_timeout: float = 120.0
    """Seconds without a frame while waiting for central before the link counts as dead."""
    settle: float = 1.0
    """``run_once``: once caught up, how long to wait for HQ batches central may still send."""
    save_interval: float = 1.0
    """At most one progress save per this many seconds while uploading."""

    def session(self, store_id: str, *, hq_cursor: int, local_seq: int) -> ClientSession:
        """The session of one connection of the store whose log and HQ cursor are these."""
        return ClientSession(
            store_id,
            schema=self.schema,
            hq_cursor=hq_cursor,
            local_seq=local_seq,
            batch_count=self.batch_count,
            batch_bytes=self.batch_bytes,
            window=self.window,
            max_frame=self.max_size,
        )

    def pacing(self, *, keep_open: bool, deadline: float | None = None) -> Pacing:
        """The waits of one connection: kept open until ``deadline`` (on the loop's clock) or
        settling once caught up."""
        return Pacing(
            keep_open=keep_open,
            deadline=deadline,
            settle=self.settle,
            stall_timeout=self.stall_timeout,
        )


OnProgress = Callable[[int, int], None]
"""``(acked_seq, local_seq)`` whenever central acknowledges more (for progress bars)."""


@dataclass(frozen=True)
class Progress:
    """Where one connection stands, as the session counts it."""

    acked: int
    """Highest seq central acknowledged."""
    hq_cursor: int
    """HQ events durably applied up to here."""
    caught_up: bool
    quarantined: int
    """Events central reported quarantined on this connection, in all."""


@dataclass(frozen=True)
class Save:
    """Save progress durably: ``fresh_quarantined`` are the quarantines not saved before."""

    acked: int
    hq_cursor: int
    fresh_quarantined: int
    caught_up: bool


class ProgressPolicy:
    """When one connection tells the node of its progress. Call ``show`` and ``save`` each time
    the session may have moved on (the session must be past its welcome), with the time now in
    seconds on any monotonic clock."""

    def __init__(self, save_interval: float) -> None:
        self.save_interval = save_interval
        self._saved: tuple[int, int, bool] | None = None
        self._shown = -1
        self._quarantined = 0  # quarantines already saved
        self._last_save: float | None = None

    def show(self, now: Progress) -> bool:
        """Whether to call the progress callback: central acknowledged more since last time."""
        if self._unchanged(now) or now.acked == self._shown:
            return False
        self._shown = now.acked
        return True

    def save(self, progress: Progress, now: float) -> Save | None:
        """The save to make now, if any: at once when caught up or when central quarantined
        more (rare, and never to be lost), else at most once per ``save_interval``."""
        if self._unchanged(progress):
            return None
        due = progress.caught_up or progress.quarantined != self._quarantined
        last = self._last_save
        if not due and last is not None and now - last < self.save_interval:
            return None
        self._saved = (progress.acked, progress.hq_cursor, progress.caught_up)
        self._last_save = now
        fresh, self._quarantined = progress.quarantined - self._quarantined, progress.quarantined
        return Save(progress.acked, progress.hq_cursor, fresh, progress.caught_up)

    def _unchanged(self, progress: Progress) -> bool:
        return (progress.acked, progress.hq_cursor, progress.caught_up) == self._saved
