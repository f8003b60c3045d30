"""RFC 9457 problem details for every error a REST caller can see, in one place.

hallsync's own errors carry their stable code; Litestar's (validation, auth, routing) are
translated to the same shape, with the offending field named for validation failures.
Anything else is logged and answered with a bare 500 that reveals nothing internal.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from schema.api.common import PROBLEM_JSON, FieldError, Problem
from schema.api.common import PROBLEM_TYPE_BASE as TYPE_BASE
from server.errors import HallsyncError

log = logging.getLogger(__name__)


_LITESTAR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    426: "upgrade_required",
    429: "too_many_requests",
    503: "service_unavailable",
}


def _respond(request: Request[Any, Any, Any], problem: Problem) -> Response[bytes]:
    problem.instance = request.url.path
    return Response(
        content=msgspec.json.encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
    )


def _field_errors(extra: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            key = item.get("key")
            source = getattr(item.get("source"), "value", item.get("source"))
            name = f"{source}.{key}" if source and key else key
            errors.append(FieldError(field=name, message=str(item.get("message", ""))))
    return errors


def hallsync_error(request: Request[Any, Any, Any], exc: HallsyncError) -> Response[bytes]:
    extra = dict(exc.extra)
    raw_errors = extra.pop("errors", [])
    errors = [FieldError(field=e.get("field"), message=e["message"]) for e in raw_errors]
    if "field" in extra and not errors:
        errors = [FieldError(field=str(extra.pop("field")), message=exc.detail)]
    response = _respond(
        request,
        Problem(
            type=TYPE_BASE + exc.code,
            title=exc.title,
            status=exc.status,
            detail=exc.detail,
            code=exc.code,
            retryable=exc.retryable,
            errors=errors,
            extra=extra,
        ),
    )
    if "retry_after" in extra:
        response.headers["Retry-After"] = str(extra["retry_after"])
    return response


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        code, errors = "validation_failed", _field_errors(exc.extra)
        detail = "; ".join(
            f"{e.field}: {e.message}" if e.field else e.message for e in errors
        ) or str(exc.detail)
    else:
        code, errors, detail = _LITESTAR_CODES.get(status, "http_error"), [], str(exc.detail)
        if isinstance(exc, NotAuthorizedException):
            code = "unauthorized"
        elif isinstance(exc, PermissionDeniedException):
            code = "forbidden"
    headers = getattr(exc, "headers", None)
    response = _respond(
        request,
        Problem(
            type=TYPE_BASE + code,
            title=code.replace("_", " ").capitalize(),
            status=status,
            detail=detail,
            code=code,
            retryable=status in (429, 503),
            errors=errors,
        ),
    )
    if headers:
        response.headers.update(headers)
    return response


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(
        request,
        Problem(
            type=TYPE_BASE + "internal_error",
            title="Internal error",
            status=HTTP_500_INTERNAL_SERVER_ERROR,
            detail="an unexpected error occurred; it has been logged",
            code="internal_error",
            retryable=False,
        ),
    )


EXCEPTION_HANDLERS: Any = {
    HallsyncError: hallsync_error,
    HTTPException: http_error,
    Exception: internal_error,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType"]
