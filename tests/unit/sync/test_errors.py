"""The sync error a close code or a refused upgrade stands for, and close reasons that fit."""

from __future__ import annotations

import pytest

from sync.errors import (
    Disconnected,
    SyncError,
    Unauthorized,
    close_reason,
    from_close,
    from_refusal,
)


def test_the_first_close_of_ours_wins() -> None:
    error = from_close([(1000, "bye"), (4001, "revoked"), (1013, "later")])
    assert isinstance(error, Unauthorized)
    assert error.message == "connection closed: 4001 revoked"


def test_closes_that_are_not_ours_stand_for_nothing() -> None:
    assert from_close([(1000, ""), (1006, "")]) is None
    assert from_close([]) is None


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (401, Unauthorized, False),
        (403, Unauthorized, False),
        (404, SyncError, False),
        (408, Disconnected, True),
        (429, Disconnected, True),
        (502, Disconnected, True),
        (503, Disconnected, True),
    ],
)
def test_a_refused_upgrade_says_whether_retrying_helps(
    status: int, kind: type[SyncError], retryable: bool
) -> None:
    error = from_refusal(status)
    assert type(error) is kind and error.retryable is retryable
    assert str(status) in error.message


def test_a_close_reason_fits_a_close_frame_in_whole_characters() -> None:
    assert close_reason("short") == "short"
    reason = close_reason("门店凭证已吊销" * 20)
    assert len(reason.encode()) <= 123
    assert reason and set(reason) <= set("门店凭证已吊销")
