"""Password logins of the store node and of central's HQ API: throttled, then checked with
bounded concurrency. One mechanism for both apps (:class:`LoginGate`).

Throttling (:class:`LoginThrottle`) keeps two tallies of failed logins, each with a growing
delay once its free allowance is spent (1 s, 2 s, 4 s, … at most 5 minutes; never a fixed long
lockout):

- per **user name**, from any address: slows guessing one account's password from many
  addresses. An address from which that user has logged in successfully is exempt from this
  tally (not from its own), so an attacker elsewhere cannot keep the rightful user out;
- per **client address**: counts every failure from the address and how many distinct user
  names failed from it, so one address can neither hammer one account nor spray a common
  password across many names.

An attempt is counted as a failure *before* its password is checked, in the same step that
checks the delays (no await between them), so concurrent attempts cannot all pass the gate; a
successful login then cancels its own count and resets its user's tally. An attempt refused
by the delay counts nothing, so a delay ends when it says it does.

The tallies live in memory on purpose: they protect a running process, and a restart that
forgets them costs an attacker a restart. On central each replica keeps its own, so N replicas
allow N times the attempts; the delays still grow exponentially.

The client address is the socket peer, unless the peer is one of ``trusted_proxies`` (a
reverse proxy that appends to ``X-Forwarded-For``): then it is the right-most address in that
header not itself a trusted proxy. IPv6 clients are tallied by their /64 network, which one
host usually owns whole.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from litestar.connection import ASGIConnection

from server.errors import TooManyAttempts, Unauthorized
from server.hashing import HashPool, shared_pool
from server.passwords import verify_password

U = TypeVar("U")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOGIN_RECORDS_NOTHING = "logging in records nothing; a retry logs in again"
"""What a retried login does, as the API documents say (``Idempotency-Key`` is not used)."""
PASSWORD_CHANGED_ONCE = (
    "the answer holds a new token, which is kept nowhere for a replay; once the change is made, "
    "the token that sent it is refused (401), so a retry cannot make it twice: log in with the "
    "new password"
)
"""What a retried change of one's own password does, as the API documents say."""


@dataclass(frozen=True)
class LoginLimits:
    """How many failures are free and how the delay after them grows."""

    user_free: int = 5
    """Failed logins for one user name (from addresses it never logged in from) before delays."""
    address_free: int = 10
    """Failed logins from one client address before delays."""
    names_free: int = 5
    """Distinct user names failing from one client address before delays (spraying)."""
    first_delay: float = 1.0
    """Seconds of the first delay; each further failure doubles it."""
    max_delay: float = 300.0
    """Seconds: the delay stops growing here."""
    forget_after: float = 3600.0
    """Seconds without a counted attempt after which a tally starts afresh."""
    known_for: float = 30 * 86400.0
    """Seconds an address stays exempt from the user-name tally after a successful login."""
    max_tallies: int = 10_000
    """Tallies kept per kind; the least recently used go first (bounds memory under floods)."""
    max_names: int = 64
    """Distinct failed user names remembered per address (far past ``names_free``)."""

    def delay(self, excess: int) -> float:
        """Seconds to wait before the next attempt when the failures so far are ``excess``
        more than the free ones (0: the free ones are just spent)."""
        if excess < 0:
            return 0.0
        return min(self.max_delay, self.first_delay * 2.0 ** min(excess, 62))


@dataclass
class _Tally:
    failures: int = 0
    last: float = 0.0
    """When the latest counted attempt began (throttle clock)."""
    names: dict[str, int] = field(default_factory=dict)
    """Failures per user name (address tallies only)."""


class LoginThrottle:
    """Tallies of failed logins by user name and by client address (see the module doc).

    ``clock`` gives monotonic seconds; tests pass one they move by hand.
    """

    def __init__(
        self, limits: LoginLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or LoginLimits()
        self.clock = clock
        self._users: OrderedDict[str, _Tally] = OrderedDict()
        self._addresses: OrderedDict[str, _Tally] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()

    def begin(self, username: str, address: str) -> LoginAttempt:
        """Count an attempt as failed before its password is checked; raises
        :class:`TooManyAttempts` (with ``retry_after``) while a delay is running."""
        now = self.clock()
        lim = self.limits
        user = self._current(self._users, username, now)
        addr = self._current(self._addresses, address, now)
        wait = 0.0
        if addr is not None:
            excess = max(addr.failures - lim.address_free, len(addr.names) - lim.names_free)
            wait = addr.last + lim.delay(excess) - now
        if user is not None and not self._is_known(username, address, now):
            wait = max(wait, user.last + lim.delay(user.failures - lim.user_free) - now)
        if wait > 0:
            seconds = math.ceil(wait)
            raise TooManyAttempts(
                f"too many failed logins; try again in {seconds} s", retry_after=seconds
            )
        user = self._touch(self._users, username, user)
        addr = self._touch(self._addresses, address, addr)
        attempt = LoginAttempt(self, username, address, now, user.last, addr.last)
        user.failures += 1
        user.last = now
        addr.failures += 1
        addr.last = now
        if username in addr.names or len(addr.names) < lim.max_names:
            addr.names[username] = addr.names.get(username, 0) + 1
        return attempt

    def _current(self, tallies: OrderedDict[str, _Tally], key: str, now: float) -> _Tally | None:
        tally = tallies.get(key)
        if tally is not None and now - tally.last > self.limits.forget_after:
            del tallies[key]
            return None
        return tally

    def _touch(self, tallies: OrderedDict[str, _Tally], key: str, tally: _Tally | None) -> _Tally:
        """The tally of ``key``, made if new, now the most recently used."""
        if tally is not None:
            tallies.move_to_end(key)
            return tally
        while len(tallies) >= self.limits.max_tallies:
            tallies.popitem(last=False)
        tally = tallies[key] = _Tally()
        return tally

    def _is_known(self, username: str, address: str, now: float) -> bool:
        since = self._known.get((username, address))
        return since is not None and now - since <= self.limits.known_for

    def _succeeded(self, attempt: LoginAttempt) -> None:
        self._users.pop(attempt.username, None)
        addr = self._addresses.get(attempt.address)
        if addr is not None:
            # This user's mistyped passwords from here are forgiven; other names' are not.
            addr.failures = max(0, addr.failures - addr.names.pop(attempt.username, 1))
        key = (attempt.username, attempt.address)
        self._known.pop(key, None)
        while len(self._known) >= self.limits.max_tallies:
            self._known.popitem(last=False)
        self._known[key] = self.clock()

    def _withdraw(self, attempt: LoginAttempt) -> None:
        for tallies, key, last in (
            (self._users, attempt.username, attempt.user_last),
            (self._addresses, attempt.address, attempt.address_last),
        ):
            tally = tallies.get(key)
            if tally is None:
                continue
            tally.failures = max(0, tally.failures - 1)
            if tally.last == attempt.at:  # no later attempt counted since: undo its time too
                tally.last = last
            if tallies is self._addresses:
                left = tally.names.get(attempt.username, 0) - 1
                if left > 0:
                    tally.names[attempt.username] = left
                else:
                    tally.names.pop(attempt.username, None)


@dataclass
class LoginAttempt:
    """One login attempt admitted by :meth:`LoginThrottle.begin`, counted as failed until
    :meth:`succeeded` or :meth:`withdraw` says otherwise."""

    throttle: LoginThrottle
    username: str
    address: str
    at: float
    user_last: float
    address_last: float

    def succeeded(self) -> None:
        """The password was right: reset the user's tally, cancel this attempt's count and
        exempt this address from the user-name tally."""
        self.throttle._succeeded(self)

    def withdraw(self) -> None:
        """No password was checked (the server was busy or failed): count nothing."""
        self.throttle._withdraw(self)


def parse_proxies(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``["10.0.0.0/8", "127.0.0.1"]`` as networks; raises ValueError naming a bad entry."""
    networks: list[IPNetwork] = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {entry!r}") from None
    return tuple(networks)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str:
    """The key a client is tallied under: its address (IPv6: its /64 network).

    ``forwarded_for`` holds the ``X-Forwarded-For`` header values; they are read only when the
    peer is a trusted proxy, from the right (the hop the proxy itself saw), skipping further
    trusted proxies; what a client wrote to their left is never believed.
    """
    ip = _ip(peer) if peer else None
    if ip is not None and trusted and any(ip in net for net in trusted):
        hops = [h for value in forwarded_for for h in value.split(",")]
        for hop in reversed(hops):
            hop_ip = _ip(hop)
            if hop_ip is None:
                break  # a trusted proxy would not write this: stop at the last good hop
            ip = hop_ip
            if not any(hop_ip in net for net in trusted):
                break
    if ip is None:
        return peer or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class LoginGate:
    """Checks a login: throttle, then the password in a bounded pool, then the tallies.

    ``pool`` defaults to the process-wide :func:`~server.hashing.shared_pool`, so a process
    serving several apps still checks only that many passwords at once.
    """

    def __init__(
        self,
        *,
        throttle: LoginThrottle | None = None,
        pool: HashPool | None = None,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        self.throttle = throttle or LoginThrottle()
        self.pool = pool or shared_pool()
        self.trusted = parse_proxies(trusted_proxies)

    def address(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """The client address of a request, as tallied."""
        peer = connection.client.host if connection.client else None
        forwarded = connection.headers.getall("x-forwarded-for", []) if self.trusted else []
        return client_address(peer, forwarded, self.trusted)

    async def verify(
        self,
        connection: ASGIConnection[Any, Any, Any, Any],
        username: str,
        password: str,
        find: Callable[[], Awaitable[tuple[U, str] | None]],
    ) -> U:
        """The user ``find`` returns (with their password hash) if ``password`` is theirs.

        Raises :class:`TooManyAttempts` or :class:`~server.errors.Busy` (429, with
        ``Retry-After``) or :class:`Unauthorized` (the same for an unknown user name as for a
        wrong password, and it costs the same time).
        """
        attempt = self.throttle.begin(username, self.address(connection))
        try:
            found = await find()
            ok = await self.pool.run(verify_password, found[1] if found else None, password)
        except Exception:
            attempt.withdraw()
            raise
        # A cancelled request (client gone) stays counted: its password was, or is being,
        # checked.
        if not ok or found is None:
            raise Unauthorized("wrong user name or password")
        attempt.succeeded()
        return found[0]
