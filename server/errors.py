"""hallsync's error tree. Every error has a stable ``code``, an HTTP status and ``retryable``.

    HallsyncError
    ├── BadRequest            400  bad_request        the request is malformed
    │   └── ValidationFailed  422  validation_failed  a field fails a business rule
    │       └── ShiftInPast   422  shift_in_past      a shift starting in the past, not back-dated
    ├── Unauthorized          401  unauthorized       no or bad credentials
    ├── Forbidden             403  forbidden          the role may not do this
    │   ├── PasswordChangeRequired 403 password_change_required  choose your own password first
    │   └── OwnVisitRating    403  own_visit_rating   who served a visit may not record its rating
    ├── NotFound              404  not_found          no such entity in this store
    ├── IdempotencyMismatch   422  idempotency_key_reused  same key, different request
    ├── Conflict              409  conflict           illegal state transition or duplicate
    │   ├── IllegalTransition 409  illegal_transition e.g. closing an unresolved complaint
    │   ├── SerialUnavailable 409  serial_unavailable a serial not in stock, sold twice
    │   ├── InsufficientStock 409  insufficient_stock taking out more than is on hand
    │   ├── QueueEmpty        409  queue_empty        nothing waits that this window may call
    │   ├── Incomplete        409  incomplete         required steps missing (checklist, training)
    │   ├── SerialInStock     409  serial_in_stock    a serial received is already in stock
    │   ├── ItemDiscontinued  409  item_discontinued  a discontinued item cannot come into stock
    │   ├── TransferAlreadyReceived  409  transfer_already_received  a transfer note taken twice
    │   ├── ShiftOverlap      409  shift_overlap      the person has another shift at that time
    │   ├── WindowBusy        409  window_busy        the window still has a ticket being served
    │   ├── UsernameTaken     409  username_taken     the user name belongs to someone (or did)
    │   ├── TooEarlyToCheckIn 409  too_early_to_check_in  an appointment's check-in is not open yet
    │   ├── TooLateToCheckIn  409  too_late_to_check_in   an appointment's check-in has closed
    │   ├── StoreMismatch     409  store_mismatch     an enrollment code issued for another store
    │   └── TimeZoneMismatch  409  time_zone_mismatch a node and central disagree on its time zone
    ├── TooManyAttempts       429  too_many_attempts  too many failed logins; wait
    ├── Busy                  429  busy               too much expensive work queued; retry
    ├── CentralRefused        502  central_refused    central answered, not with what a node needs
    ├── CentralUnreachable    503  central_unreachable central cannot be reached; retry
    └── StorageError          503  storage_unavailable the database failed; retry

Domain code raises these; the REST layer turns them into RFC 9457 problem details in one place
(``server.web.problems``). A 400 means the request does not fit the API's types (wrong type,
unknown enum value, missing field: found by the framework); a 422 means it fits but breaks a
business rule. Both name the offending field. Driver exceptions are translated at the
boundary, never leaked.
"""

from __future__ import annotations

from typing import Any, ClassVar


class HallsyncError(Exception):
    """Base of every error hallsync reports to a caller."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    retryable: ClassVar[bool] = False
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(HallsyncError):
    code, status, title = "bad_request", 400, "Bad request"


class ValidationFailed(BadRequest):
    code, status, title = "validation_failed", 422, "Validation failed"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        errors = [{"field": field, "message": detail}] if field else []
        super().__init__(detail, errors=errors, **extra)


class ShiftInPast(ValidationFailed):
    code, title = "shift_in_past", "Shift in the past"


class Unauthorized(HallsyncError):
    code, status, title = "unauthorized", 401, "Not authenticated"


class Forbidden(HallsyncError):
    code, status, title = "forbidden", 403, "Not allowed for this role"


class PasswordChangeRequired(Forbidden):
    code, title = "password_change_required", "Password change required"


class OwnVisitRating(Forbidden):
    code, title = "own_visit_rating", "Not your own visit"


class NotFound(HallsyncError):
    code, status, title = "not_found", 404, "Not found"


class Conflict(HallsyncError):
    code, status, title = "conflict", 409, "Conflict"


class IllegalTransition(Conflict):
    code, title = "illegal_transition", "Illegal state transition"


class SerialUnavailable(Conflict):
    code, title = "serial_unavailable", "Serial number not available"


class InsufficientStock(Conflict):
    code, title = "insufficient_stock", "Not enough stock"


class QueueEmpty(Conflict):
    code, title = "queue_empty", "Queue empty"


class Incomplete(Conflict):
    code, title = "incomplete", "Required steps missing"


class SerialInStock(Conflict):
    code, title = "serial_in_stock", "Serial number already in stock"


class ItemDiscontinued(Conflict):
    code, title = "item_discontinued", "Item discontinued"


class TransferAlreadyReceived(Conflict):
    code, title = "transfer_already_received", "Transfer already received"


class ShiftOverlap(Conflict):
    code, title = "shift_overlap", "Overlapping shift"


class WindowBusy(Conflict):
    code, title = "window_busy", "Window busy"


class UsernameTaken(Conflict):
    code, title = "username_taken", "User name taken"


class TooEarlyToCheckIn(Conflict):
    code, title = "too_early_to_check_in", "Too early to check in"


class TooLateToCheckIn(Conflict):
    code, title = "too_late_to_check_in", "Too late to check in"


class StoreMismatch(Conflict):
    code, title = "store_mismatch", "Enrollment code of another store"


class TimeZoneMismatch(Conflict):
    code, title = "time_zone_mismatch", "Time zones differ"


class IdempotencyMismatch(HallsyncError):
    code, status, title = "idempotency_key_reused", 422, "Idempotency key reused"


class TooManyAttempts(HallsyncError):
    code, status, retryable, title = "too_many_attempts", 429, True, "Too many attempts"


class Busy(HallsyncError):
    code, status, retryable, title = "busy", 429, True, "Busy; retry shortly"


class CentralRefused(HallsyncError):
    """Central answered a node's call, but not with what the node needs (a used code, a gap in
    a log, an unreadable answer); ``extra["status"]`` is central's HTTP status, if it had one."""

    code, status, title = "central_refused", 502, "Central refused"


class CentralUnreachable(HallsyncError):
    """Central could not be reached, or failed (5xx); try again."""

    code, status, retryable, title = "central_unreachable", 503, True, "Central unreachable"


class StorageError(HallsyncError):
    code, status, retryable, title = "storage_unavailable", 503, True, "Storage unavailable"
