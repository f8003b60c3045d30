"""The hybrid logical clock never goes backwards, whatever the wall clocks do."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync.clock import HybridClock, pack, unpack

walls = st.integers(min_value=0, max_value=2**40)


@given(st.lists(st.tuples(st.booleans(), walls, walls), min_size=1, max_size=200))
def test_monotonic_under_any_wall_clock(steps: list[tuple[bool, int, int]]) -> None:
    clock = HybridClock()
    last = 0
    for is_remote, wall, remote_wall in steps:
        now = clock.observe(pack(remote_wall, 0), wall) if is_remote else clock.now(wall)
        assert now > last
        last = now


def test_observe_moves_past_a_clock_ahead() -> None:
    clock = HybridClock()
    remote = pack(5_000, 7)
    assert clock.observe(remote, 1_000) > remote
    assert unpack(clock.now(1_000)) == (5_000, 9)


def test_logical_overflow_borrows_next_millisecond() -> None:
    clock = HybridClock(pack(10, 0xFFFF))
    assert unpack(clock.now(10)) == (11, 0)
