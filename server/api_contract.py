"""What the store node's and central's OpenAPI documents promise, and the request decoding that
keeps the two APIs to it. Both apps use ``ContractRequest`` as their request class and install
the same two plugins (``contract_plugins``).

- A JSON body is read only when it is sent as JSON (``application/json`` or ``…+json``); any
  other content type, or none, is refused with 415 before the body is parsed.
- A JSON body, once decoded and checked (``server.inputs.CheckedRequest``), is converted
  strictly to the handler's type: ``"active": 0`` is not a boolean and ``"5"`` is not an
  integer (Litestar converts bodies leniently, as it must query strings). A wrong type is a 400
  naming the field, like every other mismatch of the API's types.
- Every error an operation can answer is documented on it as problem details
  (``application/problem+json``, ``Problem``), so a client generated from the document knows
  each status it must handle; an operation that answers more than its shape implies (a login's
  401 and 429) declares those with ``responses=problems(...)``.
- A body the handler may go without (``JSONBody[X | None] = None``) is documented as optional.
- A time of day is documented as what it is: a store-local ``HH:MM:SS`` with no UTC offset.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

import msgspec
from litestar.exceptions import ClientException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Operation, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import OpenAPISchemaPlugin, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from litestar.typing import FieldDefinition

from schema.api.common import Problem
from server.inputs import CheckedRequest
from server.problems import PROBLEM_JSON

_BODY_TYPE = "hallsync.body_type"
"""Key in a handler's ``opt`` of the type its JSON body is converted to."""

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NOT_INPUTS = frozenset({"self", "request", "state", "scope", "data"})
"""Handler arguments that are not a client's input (``data``, the body, is counted apart)."""

_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")

PROBLEMS: Mapping[int, str] = {
    400: "The request does not fit the API's types (malformed JSON, a wrong type, an unknown "
    "value, a missing field); `errors` names the field.",
    401: "No credentials, or wrong, expired or revoked ones.",
    403: "The caller's role may not do this.",
    404: "No such entity.",
    409: "An illegal state transition, or a duplicate.",
    415: "The body was not sent as `application/json`.",
    422: "The request fits the API's types but breaks a business rule, or reuses an "
    "`Idempotency-Key` for another request; `errors` names the field.",
    429: "Too many attempts; retry after `Retry-After` seconds.",
    503: "The database is unavailable; retry.",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses of problem details for ``statuses``, for a handler's ``responses=``."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=PROBLEMS[status],
            generate_examples=False,
        )
        for status in statuses
    }


def _is_json(media_type: str) -> bool:
    media_type = media_type.strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class ContractRequest(CheckedRequest):
    """The request class of both apps: reads a JSON body only as JSON, checks it as every
    request is checked (``CheckedRequest``), and converts it strictly."""

    async def json(self) -> Any:
        media_type = self.content_type[0]
        if not _is_json(media_type):
            sent = f"not as {media_type}" if media_type else "without a Content-Type"
            raise ClientException(
                status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                detail=f"send the body as application/json ({sent})",
            )
        value = await super().json()
        body_type = self.route_handler.opt.get(_BODY_TYPE)
        if body_type is None:
            return value
        try:
            return msgspec.convert(value, body_type, strict=True)
        except msgspec.ValidationError as exc:
            raise _validation_error(str(exc)) from None


def _validation_error(text: str) -> ValidationException:
    """Litestar's validation error for msgspec's ``"Expected `bool`, got `int` - at `$.active`"``,
    naming the field as Litestar does for the rest of a request (``body.active``)."""
    message, _, at = text.partition(" - at ")
    path = at.strip("`").removeprefix("$").removeprefix(".")
    if not path and (missing := _MISSING_FIELD.search(message)):
        path = missing.group(1)
    error = {"key": path, "source": "body"} if path else {"key": "body"}
    return ValidationException(detail=text, extra=[{**error, "message": message}])


@dataclass(frozen=True)
class _Shape:
    """What an operation's signature says about the errors it can answer."""

    write: bool
    body: bool
    body_optional: bool
    path_params: bool
    other_params: bool
    guarded: bool
    public: bool

    def statuses(self) -> list[int]:
        statuses = [503]
        if self.write or self.body or self.path_params or self.other_params:
            statuses += [400, 422]
        if self.write or self.path_params:
            statuses.append(404)
        if self.write:
            statuses.append(409)
        if self.body:
            statuses.append(415)
        if not self.public:
            statuses.append(401)
            if self.guarded:
                statuses.append(403)
        return sorted(statuses)


def _optional_body_operation(base: type[Operation]) -> type[Operation]:
    """``base`` with its request body marked optional: Litestar marks every body required."""

    @dataclass
    class OptionalBodyOperation(base):  # type: ignore[valid-type, misc]
        def __post_init__(self) -> None:
            if self.request_body is not None:
                self.request_body.required = False

    return OptionalBodyOperation


class ApiContract(ReceiveRoutePlugin):
    """Documents each operation's errors and optional body, and notes the type its JSON body
    is converted to (for ``ContractRequest``).

    ``public_paths`` are the path patterns the app's authentication leaves open (no 401 or 403
    on them unless the handler declares it).
    """

    def __init__(self, public_paths: Iterable[str]) -> None:
        self._public = [re.compile(p) for p in public_paths]

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        public = any(p.match(route.path) for p in self._public)
        for handler in route.route_handlers:
            self._document(handler, route, public)

    def _document(self, handler: HTTPRouteHandler, route: HTTPRoute, public: bool) -> None:
        params = handler.parsed_fn_signature.parameters
        data = params.get("data")
        shape = _Shape(
            write=bool(handler.http_methods & _WRITES),
            body=data is not None,
            body_optional=data is not None and data.has_default,
            path_params=bool(route.path_parameters),
            other_params=bool(set(params) - _NOT_INPUTS - set(route.path_parameters)),
            guarded=bool(handler.resolve_guards()),
            public=public,
        )
        handler.responses = {**problems(*shape.statuses()), **(handler.responses or {})}
        if data is not None:
            handler.opt[_BODY_TYPE] = data.annotation
        if shape.body_optional:
            handler.operation_class = _optional_body_operation(handler.operation_class)


class LocalTimeSchema(OpenAPISchemaPlugin):
    """Documents ``datetime.time`` as a store-local time of day, which every time in these APIs
    is. Litestar documents it as a duration, and JSON Schema's ``format: time`` is RFC 3339's
    full-time, which requires a UTC offset these values never have."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return field_definition.annotation is time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return Schema(
            type=OpenAPIType.STRING,
            format="partial-time",  # type: ignore[arg-type]  # RFC 3339's name for it
            pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$",
            description="Store-local time of day, `HH:MM:SS[.ffffff]`, without a UTC offset.",
            examples=["08:00:00"],
        )


def contract_plugins(public_paths: Iterable[str]) -> list[Any]:
    """The plugins both apps install."""
    return [ApiContract(public_paths), LocalTimeSchema()]
