"""When a store's connection tells the node of its progress, and what a connection reports."""

from __future__ import annotations

from sync.client import ClientSession
from sync.frames import Ack, Welcome
from sync.progress import Progress, ProgressPolicy, Save, SyncOptions, SyncResult


def at(acked: int, *, hq: int = 0, caught_up: bool = False, quarantined: int = 0) -> Progress:
    return Progress(acked, hq, caught_up, quarantined)


def test_the_first_progress_is_saved_at_once() -> None:
    policy = ProgressPolicy(save_interval=1.0)
    assert policy.save(at(10), now=500.0) == Save(10, 0, 0, caught_up=False)


def test_while_uploading_saves_are_at_most_one_per_interval() -> None:
    policy = ProgressPolicy(save_interval=1.0)
    assert policy.save(at(10), now=0.0) is not None
    assert policy.save(at(20), now=0.5) is None  # too soon: a durable write each time
    assert policy.save(at(30), now=1.0) == Save(30, 0, 0, caught_up=False)


def test_nothing_new_is_never_saved_again() -> None:
    policy = ProgressPolicy(save_interval=0.0)
    assert policy.save(at(10, caught_up=True), now=0.0) is not None
    assert policy.save(at(10, caught_up=True), now=60.0) is None


def test_caught_up_is_saved_at_once() -> None:
    policy = ProgressPolicy(save_interval=1.0)
    policy.save(at(10), now=0.0)
    assert policy.save(at(20, caught_up=True), now=0.1) == Save(20, 0, 0, caught_up=True)


def test_a_quarantine_is_saved_at_once_and_counted_once() -> None:
    policy = ProgressPolicy(save_interval=1.0)
    policy.save(at(10), now=0.0)
    assert policy.save(at(20, quarantined=2), now=0.1) == Save(20, 0, 2, caught_up=False)
    assert policy.save(at(30, quarantined=2), now=0.2) is None  # nothing fresh: throttled
    assert policy.save(at(40, quarantined=3), now=0.3) == Save(40, 0, 1, caught_up=False)


def test_hq_progress_counts_as_progress() -> None:
    policy = ProgressPolicy(save_interval=0.0)
    policy.save(at(10, caught_up=True), now=0.0)
    assert policy.save(at(10, hq=5, caught_up=True), now=0.0) == Save(10, 5, 0, caught_up=True)


def test_the_callback_is_shown_each_new_ack_once_even_when_saves_are_throttled() -> None:
    policy = ProgressPolicy(save_interval=60.0)
    shown = []
    for now, acked in enumerate([10, 10, 20, 20, 30]):
        progress = at(acked)
        if policy.show(progress):
            shown.append(acked)
        policy.save(progress, now=float(now))
    assert shown == [10, 20, 30]


def test_the_result_follows_the_session_and_remembers_being_caught_up() -> None:
    s = SyncOptions().session("S001", hq_cursor=3, local_seq=5)
    result = SyncResult()
    result.observe(s)
    assert (result.local_seq, result.hq_cursor, result.caught_up) == (5, 3, False)
    s.connected()
    s.receive_frame(Welcome(protocol=1, schema=1, high_water=5))
    s.receive_frame(Ack(seq=5, quarantined=1))
    result.observe(s)
    assert (result.acked_seq, result.quarantined, result.caught_up) == (5, 1, True)
    s.receive_disconnect()
    result.observe(s)
    assert result.caught_up and result.acked_seq == 5


def test_options_make_the_session_and_the_pacing_they_tune() -> None:
    opts = SyncOptions(batch_count=7, window=2, max_size=1000, settle=0.2, stall_timeout=9.0)
    s = opts.session("S001", hq_cursor=0, local_seq=0)
    assert isinstance(s, ClientSession)
    assert (s.batch_count, s.window, s.max_frame) == (7, 2, 1000)
    once = opts.pacing(keep_open=False)
    assert (once.keep_open, once.settle, once.stall_timeout) == (False, 0.2, 9.0)
    assert opts.pacing(keep_open=True, deadline=50.0).deadline == 50.0
