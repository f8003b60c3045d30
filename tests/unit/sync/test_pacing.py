"""How long a store's connection waits for central, and when it is over: stalled while central
owes an answer, settled once caught up (``run_once``), or at its deadline (the window closes)."""

from __future__ import annotations

import pytest

from sync.errors import Disconnected
from sync.pacing import Pacing


def pacing(*, keep_open: bool, deadline: float | None = None) -> Pacing:
    return Pacing(keep_open=keep_open, deadline=deadline, settle=1.0, stall_timeout=120.0)


@pytest.mark.parametrize("keep_open", [False, True])
def test_while_central_owes_an_answer_it_waits_the_stall_timeout(keep_open: bool) -> None:
    p = pacing(keep_open=keep_open)
    assert p.timeout(0.0, caught_up=False) == 120.0


@pytest.mark.parametrize("keep_open", [False, True])
def test_silence_while_central_owes_an_answer_is_a_broken_link(keep_open: bool) -> None:
    p = pacing(keep_open=keep_open)
    error = p.quiet(caught_up=False)
    assert isinstance(error, Disconnected) and error.retryable
    assert "120 s" in error.message
    assert not p.over(500.0)


def test_a_one_off_sync_caught_up_waits_to_settle_then_is_over() -> None:
    p = pacing(keep_open=False)
    assert p.timeout(10.0, caught_up=True) == 1.0
    assert not p.over(10.0)
    assert p.quiet(caught_up=True) is None
    assert p.over(11.0)


def test_a_kept_open_connection_caught_up_waits_for_ever_without_a_deadline() -> None:
    p = pacing(keep_open=True)
    assert p.timeout(10.0, caught_up=True) is None
    assert p.quiet(caught_up=True) is None
    assert not p.over(1e9)  # caught up and quiet is no reason to hang up


def test_a_kept_open_connection_caught_up_waits_until_its_deadline() -> None:
    p = pacing(keep_open=True, deadline=100.0)
    assert p.timeout(40.0, caught_up=True) == 60.0
    assert p.timeout(100.5, caught_up=True) == 0.0  # never a negative wait
    assert not p.over(99.9)
    assert p.over(100.0)


def test_the_deadline_ends_the_connection_even_mid_upload() -> None:
    p = pacing(keep_open=True, deadline=100.0)
    assert p.timeout(99.0, caught_up=False) == 120.0
    assert p.over(100.0)
