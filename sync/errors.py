"""Errors of the sync protocol. Each has a stable code, a websocket close code and whether the
peer should reconnect and try again.

    SyncError                      close  retry
    ├── Unauthorized              4001   no    bad, unknown or revoked store credential
    ├── VersionUnsupported        4002   no    protocol or schema version not accepted
    ├── ProtocolViolation         4003   no    a frame out of order, undecodable or malformed
    ├── FrameTooLarge             1009   no    a frame over the size limit
    ├── WrongStore                4005   no    an event of another store than the credential's
    ├── Unavailable               1013   yes   the server cannot store right now; reconnect later
    ├── Disconnected              1006   yes   the connection could not open or broke off
    └── LogBehind                 4006   no    central holds more of the log than the node
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar


class SyncError(Exception):
    code: ClassVar[str] = "sync_error"
    close_code: ClassVar[int] = 4000
    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(SyncError):
    code, close_code = "unauthorized", 4001


class VersionUnsupported(SyncError):
    code, close_code = "version_unsupported", 4002


class ProtocolViolation(SyncError):
    code, close_code = "protocol_violation", 4003


class FrameTooLarge(SyncError):
    code, close_code = "frame_too_large", 1009


class WrongStore(SyncError):
    code, close_code = "wrong_store", 4005


class Unavailable(SyncError):
    code, close_code, retryable = "unavailable", 1013, True


class Disconnected(SyncError):
    """The connection could not be opened or broke off; reconnecting later may work."""

    code, close_code, retryable = "disconnected", 1006, True


class LogBehind(SyncError):
    """Central holds more of this store's log than the node has: the node lost history and
    must be rebuilt with ``hallsync store init --restore``."""

    code, close_code = "log_behind", 4006


# The codes central may send in an Error frame (Disconnected and LogBehind are the store's own).
BY_CODE: dict[str, type[SyncError]] = {
    c.code: c
    for c in (
        SyncError,
        Unauthorized,
        VersionUnsupported,
        ProtocolViolation,
        FrameTooLarge,
        WrongStore,
        Unavailable,
    )
}

BY_CLOSE: dict[int, type[SyncError]] = {c.close_code: c for c in BY_CODE.values()}
"""The error a websocket close code stands for, when it is one of ours."""


def from_wire(code: str, message: str, retryable: bool) -> SyncError:
    """The exception an ``Error`` frame from central stands for (its ``retryable`` wins)."""
    cls = BY_CODE.get(code)
    if cls is None or cls.retryable != retryable:
        cls = Unavailable if retryable else SyncError
    return cls(f"central: {message} ({code})")


def from_close(closes: Iterable[tuple[int, str]]) -> SyncError | None:
    """The error the first of these ``(close code, reason)`` that is one of ours stands for (a
    connection's received close, then the one it sent), if any."""
    for code, reason in closes:
        if code in BY_CLOSE:
            return BY_CLOSE[code](f"connection closed: {code} {reason}".strip())
    return None


def from_refusal(status: int) -> SyncError:
    """The error an HTTP status refusing the websocket upgrade stands for: a refused credential
    is ``Unauthorized``, another client error will not go away by retrying, and the rest (a
    timeout, throttling, a server error) may."""
    if status in (401, 403):
        return Unauthorized(f"central refused the store credential (HTTP {status})")
    if 400 <= status < 500 and status not in (408, 429):
        return SyncError(f"central refused the sync connection (HTTP {status})")
    return Disconnected(f"central is not accepting connections (HTTP {status})")


def close_reason(message: str) -> str:
    """``message`` cut to fit a websocket close frame (123 bytes of UTF-8), whole characters."""
    return message.encode()[:120].decode(errors="ignore")
