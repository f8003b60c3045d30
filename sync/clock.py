"""Hybrid logical clock (HLC): causal order across store nodes and HQ despite skewed clocks.

A timestamp packs the physical milliseconds and a logical counter into one sortable integer:
``physical_ms << 16 | logical``. The clock never reads the time itself: callers pass the wall
clock in, so tests drive it with any skew they like.
"""

from __future__ import annotations

LOGICAL_BITS = 16
LOGICAL_MASK = (1 << LOGICAL_BITS) - 1


def pack(physical_ms: int, logical: int) -> int:
    """Join physical milliseconds and a logical counter into one HLC value."""
    return (physical_ms << LOGICAL_BITS) | logical


def unpack(hlc: int) -> tuple[int, int]:
    """Split an HLC value into ``(physical_ms, logical)``."""
    return hlc >> LOGICAL_BITS, hlc & LOGICAL_MASK


class HybridClock:
    """The HLC of one node. ``last`` is the highest value issued or observed so far.

    After a restart, seed it with the highest HLC in the node's log so values keep rising even
    if the wall clock went backwards while the node was down.
    """

    def __init__(self, last: int = 0) -> None:
        self.last = last

    def now(self, wall_ms: int) -> int:
        """A new timestamp for a local event, strictly above every earlier one."""
        last_phys, last_log = unpack(self.last)
        if wall_ms > last_phys:
            self.last = pack(wall_ms, 0)
        else:
            self.last = self._bump(last_phys, last_log)
        return self.last

    def observe(self, remote: int, wall_ms: int) -> int:
        """Merge a timestamp received from another node; returns the new local value."""
        last_phys, last_log = unpack(self.last)
        rem_phys, rem_log = unpack(remote)
        phys = max(wall_ms, last_phys, rem_phys)
        if phys == last_phys == rem_phys:
            logical = max(last_log, rem_log) + 1
        elif phys == last_phys:
            logical = last_log + 1
        elif phys == rem_phys:
            logical = rem_log + 1
        else:
            logical = 0
        if logical > LOGICAL_MASK:
            phys, logical = phys + 1, 0
        self.last = pack(phys, logical)
        return self.last

    @staticmethod
    def _bump(phys: int, logical: int) -> int:
        # The counter overflowing means >65k events in one millisecond: borrow the next ms.
        if logical >= LOGICAL_MASK:
            return pack(phys + 1, 0)
        return pack(phys, logical + 1)
