"""Errors of the sync protocol. Each has a stable code, a websocket close code and whether the
peer should reconnect and try again.

    SyncError                      close  retry
    ├── Unauthorized              4001   no    bad, unknown or revoked store credential
    ├── VersionUnsupported        4002   no    protocol or schema version not accepted
    ├── ProtocolViolation         4003   no    a frame out of order, undecodable or malformed
    ├── FrameTooLarge             1009   no    a frame over the size limit
    ├── WrongStore                4005   no    an event of another store than the credential's
    └── Unavailable               1013   yes   the server cannot store right now; reconnect later
"""

from __future__ import annotations

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
