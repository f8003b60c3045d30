"""What the store node's and central's OpenAPI documents promise, and the request decoding that
keeps the two APIs to it. Both apps use ``ContractRequest`` as their request class and install
the same two plugins (``contract_plugins``).

- A JSON body is read only when it is sent as JSON (``application/json`` or ``…+json``); any
  other content type, or none, is refused with 415 before the body is parsed.
- A JSON body, once decoded and checked (``server.web.inputs.CheckedRequest``), is converted
  strictly to the handler's type: ``"active": 0`` is not a boolean and ``"5"`` is not an
  integer (Litestar converts bodies leniently, as it must query strings). A wrong type is a 400
  naming the field, like every other mismatch of the API's types.
- Every error an operation can answer is documented on it as problem details
  (``application/problem+json``, ``Problem``), so a client generated from the document knows
  each status it must handle; an operation that answers more than its shape implies (a login's
  401 and 429) declares those with ``responses=problems(...)``.
- Every operation says who may call it: ``x-roles`` lists the roles its ``RoleGuard``s admit
  (``server.web.guards``), and its description says so ("Roles: clerk, manager."). An operation
  open to no role (a login, ``/health``) has ``x-roles: []`` and says what, if anything, its
  caller shows instead (``opt=open_with(...)``). An app does not start with an operation
  behind its login that no role guard guards.
- Every write (POST, PUT, PATCH, DELETE) documents the ``Idempotency-Key`` header with what the
  operation does with it: what a retry gets (``opt=key_replays(...)``) or why the key is not
  used there (``opt=key_not_used(...)``). An app does not start with a write that says neither.
- A body the handler may go without (``JSONBody[X | None] = None``) is documented as optional.
- A time of day is documented as what it is: a store-local ``HH:MM:SS`` with no UTC offset.
- A websocket, which Litestar leaves out of OpenAPI, is described by a plain GET handler on its
  path (``opt=websocket_upgrade()``): a ``101 Switching Protocols`` answer and ``x-websocket:
  true``. The GET itself, sent without an upgrade, answers 426.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

import msgspec
from litestar.enums import ParamType
from litestar.exceptions import (
    ClientException,
    ImproperlyConfiguredException,
    ValidationException,
)
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIResponse,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import OpenAPISchemaPlugin, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from litestar.typing import FieldDefinition

from schema.api.common import PROBLEM_JSON, Problem
from server import idempotency
from server.web.guards import admitted
from server.web.inputs import CheckedRequest

_BODY_TYPE = "hallsync.body_type"
"""Key in a handler's ``opt`` of the type its JSON body is converted to."""
_KEY_USE = "hallsync.idempotency_key"
"""Key in a handler's ``opt`` of what it does with ``Idempotency-Key`` (a ``KeyUse``)."""
_OPEN_WITH = "hallsync.open_with"
"""Key in a handler's ``opt`` of what the caller of an operation open to no role shows."""
_WEBSOCKET = "hallsync.websocket"
"""Key in a handler's ``opt``: the handler is the plain GET that stands for a websocket."""

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
    426: "Not a websocket upgrade: connect with `Upgrade: websocket`.",
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


@dataclass(frozen=True)
class KeyUse:
    """What an operation does with an ``Idempotency-Key`` header, as its documentation says."""

    replay: str | None
    """What a retry with the same key and the same request gets; None: the key is not used."""
    reason: str = ""
    """Why the key is not used, so a caller knows what a retry does instead."""


def key_replays(answer: str) -> dict[str, Any]:
    """``opt`` of a write that honours ``Idempotency-Key``: ``answer`` is what a retry with the
    same key and the same request gets ("the first answer again")."""
    return {_KEY_USE: KeyUse(answer)}


def key_not_used(reason: str) -> dict[str, Any]:
    """``opt`` of a write that ignores ``Idempotency-Key``, with why (what a retry does)."""
    return {_KEY_USE: KeyUse(None, reason)}


def open_with(credential: str) -> dict[str, Any]:
    """``opt`` of an operation open to no role: what its caller shows instead of a login, as
    the sentence its documentation says it in."""
    return {_OPEN_WITH: credential}


def websocket_upgrade() -> dict[str, Any]:
    """``opt`` of the plain GET handler that stands for a websocket in the documents (its
    description is the websocket's; without an upgrade, it answers 426)."""
    return {_WEBSOCKET: True}


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
    websocket: bool = False

    def statuses(self) -> list[int]:
        if self.websocket:  # a refused upgrade, a GET without one, a database down
            return [401, 426, 503]
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


class ApiContract(ReceiveRoutePlugin):
    """Documents each operation's errors, roles, ``Idempotency-Key`` and optional body, and
    notes the type its JSON body is converted to (for ``ContractRequest``).

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
            websocket=bool(handler.opt.get(_WEBSOCKET)),
        )
        handler.responses = {**problems(*shape.statuses()), **(handler.responses or {})}
        if data is not None:
            handler.opt[_BODY_TYPE] = data.annotation
        if not handler.resolve_include_in_schema():
            return  # not documented: Litestar's OPTIONS handlers, the docs' own pages
        roles, who = _access(handler, route, public)
        key: KeyUse | None = handler.opt.get(_KEY_USE)
        if shape.write and key is None:
            raise ImproperlyConfiguredException(
                f"{_name(handler, route)}: say what it does with {idempotency.HEADER} "
                "(opt=key_replays(...) or opt=key_not_used(...))"
            )
        handler.operation_class = _operation_class(
            _Promise(
                roles=roles,
                who=who,
                key=key if shape.write else None,
                body_optional=shape.body_optional,
                websocket=shape.websocket,
            )
        )


def _access(
    handler: HTTPRouteHandler, route: HTTPRoute, public: bool
) -> tuple[tuple[str, ...], str]:
    """The roles that may call the handler, and the sentence that says so."""
    # The guards as declared, on every layer: ``resolve_guards`` wraps the sync ones.
    found = admitted(g for layer in handler.ownership_layers for g in layer.guards or [])
    if found is not None:
        said = f"Roles: {', '.join(found.roles)}"
        return found.roles, f"{said} ({'; '.join(found.notes)})." if found.notes else f"{said}."
    if public:
        return (), handler.opt.get(_OPEN_WITH, "No login needed.")
    raise ImproperlyConfiguredException(
        f"{_name(handler, route)} is behind the login, but no role guard says who may call it"
    )


def _name(handler: HTTPRouteHandler, route: HTTPRoute) -> str:
    return f"{'/'.join(sorted(handler.http_methods))} {route.path}"


@dataclass
class ContractOperation(Operation):
    """An OpenAPI operation with hallsync's extensions."""

    x_roles: list[str] | None = field(default=None, metadata={"alias": "x-roles"})
    """The roles that may call the operation; empty when it is open to no role."""
    x_websocket: bool | None = field(default=None, metadata={"alias": "x-websocket"})
    """True on the GET that describes a websocket."""


@dataclass(frozen=True)
class _Promise:
    """What the document says of one operation beyond what Litestar says."""

    roles: tuple[str, ...]
    who: str
    """The sentence that says who may call it."""
    key: KeyUse | None
    """What a write does with ``Idempotency-Key``; None for a read."""
    body_optional: bool
    websocket: bool

    def keep(self, operation: ContractOperation) -> None:
        """Make Litestar's ``operation`` say it all."""
        operation.x_roles = list(self.roles)
        said = (operation.description or "").strip()
        operation.description = f"{said}\n\n{self.who}" if said else self.who
        if self.body_optional and isinstance(operation.request_body, RequestBody):
            operation.request_body.required = False  # Litestar marks every body required
        if self.key is not None:
            others = [p for p in operation.parameters or [] if not _is_key(p)]
            operation.parameters = [*others, _key_parameter(self.key)]
            if self.key.replay is not None:
                _mark_replays(operation)
        if self.websocket:
            operation.x_websocket = True
            errors = {s: r for s, r in (operation.responses or {}).items() if s[0] != "2"}
            operation.responses = {
                "101": OpenAPIResponse(
                    description="Switching Protocols: the websocket is open; frames follow."
                ),
                **errors,
            }


def _operation_class(promise: _Promise) -> type[Operation]:
    """The operation class of one handler: Litestar builds it, and it keeps ``promise``."""

    @dataclass
    class PromisedOperation(ContractOperation):
        def __post_init__(self) -> None:
            promise.keep(self)

    return PromisedOperation


def _is_key(parameter: Parameter | Reference) -> bool:
    return (
        isinstance(parameter, Parameter)
        and parameter.param_in == ParamType.HEADER
        and parameter.name.lower() == idempotency.HEADER.lower()
    )


def _key_parameter(use: KeyUse) -> Parameter:
    """The ``Idempotency-Key`` header parameter of a write, saying what it does there."""
    if use.replay is None:
        return Parameter(
            name=idempotency.HEADER,
            param_in=ParamType.HEADER,
            required=False,
            schema=Schema(type=OpenAPIType.STRING),
            description=f"Not used here, and ignored if sent: {use.reason}.",
        )
    return Parameter(
        name=idempotency.HEADER,
        param_in=ParamType.HEADER,
        required=False,
        # What ``idempotency.checked_key`` takes; control characters are refused (422) in any
        # header (``server.web.inputs``).
        schema=Schema(
            type=OpenAPIType.STRING,
            min_length=1,
            max_length=idempotency.MAX_CHARS,
            pattern=r"\S",
        ),
        description=(
            "A string unique to this request (a UUID, say), so that it can be retried safely. "
            "A retry with the same key and the same request (same user, method, path and body) "
            f"is answered with {use.replay}; that answer carries `{idempotency.REPLAYED}: true`. "
            "The same key on a different request is refused with 422 `idempotency_key_reused`; "
            f"an empty or blank key, or one over {idempotency.MAX_CHARS} characters, with 400. "
            "Only a success is kept: a retry of a request that failed runs anew."
        ),
    )


def _mark_replays(operation: Operation) -> None:
    """Document the ``Idempotent-Replayed`` header on the operation's success answers."""
    for status, response in (operation.responses or {}).items():
        if status[0] == "2" and isinstance(response, OpenAPIResponse):
            response.headers = {
                **(response.headers or {}),
                idempotency.REPLAYED: OpenAPIHeader(
                    schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
                    description="Present when this answer is the first attempt's, replayed "
                    "for a retry with the same `Idempotency-Key`.",
                ),
            }


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
