"""Login throttling: attempts counted before the check, growing delays that end, spraying
limited per address, the rightful user not kept out; client addresses behind proxies."""

from __future__ import annotations

import pytest

from server.errors import TooManyAttempts
from server.web.logins import (
    LoginAttempt,
    LoginLimits,
    LoginThrottle,
    client_address,
    parse_proxies,
)


class Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused_for(throttle: LoginThrottle, user: str, address: str) -> int | None:
    """Seconds the attempt is told to wait, or None if it was admitted (and left failed)."""
    try:
        throttle.begin(user, address)
    except TooManyAttempts as exc:
        assert exc.status == 429 and exc.retryable
        seconds: int = exc.extra["retry_after"]
        return seconds
    return None


def test_concurrent_attempts_are_counted_before_any_password_is_checked() -> None:
    throttle = LoginThrottle(clock=Clock())
    admitted: list[LoginAttempt] = []
    refused = 0
    for _ in range(40):  # all in flight at once: none has been settled yet
        try:
            admitted.append(throttle.begin("manager", "10.0.0.9"))
        except TooManyAttempts:
            refused += 1
    assert (len(admitted), refused) == (5, 35)


def test_delays_double_up_to_the_cap_and_then_end() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(5):
        assert refused_for(throttle, "manager", "10.0.0.9") is None
    waits = []
    for _ in range(12):
        wait = refused_for(throttle, "manager", "10.0.0.9")
        assert wait is not None
        waits.append(wait)
        clock.now += wait - 0.5
        assert refused_for(throttle, "manager", "10.0.0.9") == 1  # refused: counts nothing
        clock.now += 0.5
        assert refused_for(throttle, "manager", "10.0.0.9") is None  # the delay has ended
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]


def test_right_password_after_the_delay_resets_the_user() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(8):
        clock.now += 600
        throttle.begin("manager", "10.0.0.9")
    wait = refused_for(throttle, "manager", "10.0.0.9")
    assert wait is not None
    clock.now += wait
    throttle.begin("manager", "10.0.0.9").succeeded()
    for _ in range(5):  # a fresh allowance for typos
        assert refused_for(throttle, "manager", "10.0.0.9") is None


def test_an_attacker_elsewhere_does_not_keep_the_manager_out_of_their_tablet() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    throttle.begin("manager", "192.168.1.20").succeeded()  # the manager's usual tablet
    for _ in range(20):  # the attacker takes every moment a delay ends
        wait = refused_for(throttle, "manager", "203.0.113.7")
        if wait is not None:
            clock.now += wait
            assert refused_for(throttle, "manager", "203.0.113.7") is None
    assert refused_for(throttle, "manager", "203.0.113.7") is not None
    # Every other address is held back by the user's tally; the manager's tablet is not.
    assert refused_for(throttle, "manager", "198.51.100.1") is not None
    throttle.begin("manager", "192.168.1.20").succeeded()


def test_spraying_one_password_across_user_names_is_limited_per_address() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    outcomes = [refused_for(throttle, f"user{n}", "203.0.113.7") for n in range(30)]
    assert outcomes.count(None) == LoginLimits().names_free
    assert refused_for(throttle, "someone", "198.51.100.1") is None  # other clients go on


def test_a_known_address_is_still_slowed_by_its_own_tally() -> None:
    throttle = LoginThrottle(clock=Clock())
    throttle.begin("manager", "192.168.1.30").succeeded()
    admitted = 0
    while refused_for(throttle, "manager", "192.168.1.30") is None:
        admitted += 1
    assert admitted == LoginLimits().address_free


def test_a_withdrawn_attempt_counts_nothing() -> None:
    throttle = LoginThrottle(clock=Clock())
    for _ in range(50):
        throttle.begin("manager", "10.0.0.9").withdraw()
    for _ in range(5):
        assert refused_for(throttle, "manager", "10.0.0.9") is None


def test_tallies_are_forgotten_after_a_quiet_hour_and_bounded_in_number() -> None:
    clock = Clock()
    throttle = LoginThrottle(LoginLimits(max_tallies=100), clock=clock)
    for _ in range(5):
        throttle.begin("manager", "10.0.0.9")
    assert refused_for(throttle, "manager", "10.0.0.9") is not None
    clock.now += 3601
    assert refused_for(throttle, "manager", "10.0.0.9") is None
    for n in range(1000):
        throttle.begin(f"u{n}", f"10.1.{n // 250}.{n % 250}")
    assert len(throttle._users) <= 100 and len(throttle._addresses) <= 100


TRUSTED = parse_proxies(["10.0.0.0/8", "127.0.0.1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),  # untrusted peer: header ignored
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1, 10.1.2.3"], "198.51.100.1"),  # spoof on the left
        ("127.0.0.1", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # repeated header
        ("10.1.2.3", ["10.0.0.5"], "10.0.0.5"),  # only proxies: the farthest one
        ("127.0.0.1", ["garbage, 198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["198.51.100.1, garbage"], "127.0.0.1"),
        ("127.0.0.1", [], "127.0.0.1"),
        ("2001:db8:1:2:3:4:5:6", [], "2001:db8:1:2::/64"),  # one host owns a whole /64
        ("::ffff:198.51.100.1", [], "198.51.100.1"),
        ("testclient", [], "testclient"),
        (None, [], "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded: list[str], expected: str) -> None:
    assert client_address(peer, forwarded, TRUSTED) == expected


def test_forwarded_header_is_ignored_without_trusted_proxies() -> None:
    assert client_address("127.0.0.1", ["198.51.100.1"], ()) == "127.0.0.1"


def test_a_bad_trusted_proxy_entry_is_named() -> None:
    with pytest.raises(ValueError, match=r"proxy\.example"):
        parse_proxies(["10.0.0.0/8", "proxy.example"])
