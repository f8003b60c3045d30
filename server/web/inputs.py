"""What every REST request must look like before a handler (or the database) sees it, for the
store node and central alike.

Two checks, each in one place:

- ``CheckedRequest.json`` (the app's ``request_class``): the JSON body is decoded once, here. A
  body nested deeper than ``MAX_DEPTH`` is a 400 (no request type nests more than a few
  levels; a deeper one would only exhaust the decoder's stack), and any string in it, keys
  included, holding a control character other than newline and tab is a 422 naming the field
  (``body.shifts[0].note``).
- ``check_request_text`` (the apps' ``before_request``): the same for query parameters
  (``query.sku``), path parameters (``path.sku``) and header values (``header.idempotency-key``).

Why: text with a NUL cannot be stored by central's PostgreSQL, so an event carrying one would be
applied by the store and quarantined by central, and their figures would disagree; the other
control characters have no place in typed text and break displays, logs and exports. Refusing
them where a request enters means no event can carry them.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from server.errors import BadRequest, ValidationFailed

MAX_DEPTH = 32
"""The deepest nesting of arrays and objects a JSON body may have."""

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Unicode control characters (C0, DEL, C1) except tab (U+0009) and newline (U+000A)."""
_HEADER_CONTROL = re.compile(b"[\x00-\x08\x0a-\x1f\x7f]")
"""Control bytes in a header value; tab is the only one HTTP allows there."""


def control_character(text: str) -> str | None:
    """The first forbidden control character of ``text`` as ``U+XXXX``, or None."""
    found = _CONTROL.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def refuse_control_characters(text: str, field: str) -> None:
    """Raise a 422 naming ``field`` when ``text`` holds a forbidden control character."""
    char = control_character(text)
    if char is not None:
        raise ValidationFailed(
            f"{field}: control character {char} is not allowed in text (only newline and tab are)",
            field=field,
        )


def check_value(value: Any, field: str) -> None:
    """Check a decoded JSON value: nesting at most ``MAX_DEPTH`` deep and no string (value or
    key) with a forbidden control character. Walks with an explicit stack, so no body can
    exhaust Python's."""
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            refuse_control_characters(item, path)
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise BadRequest(f"the JSON body nests deeper than {MAX_DEPTH} levels", field=field)
            children: list[tuple[Any, str, int]] = []
            if isinstance(item, list):
                children = [(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(item)]
            else:
                for key, v in item.items():
                    refuse_control_characters(key, f"{path}.{key!r}")
                    children.append((v, f"{path}.{key}", depth + 1))
            stack.extend(reversed(children))  # the first offending field is the one named


class CheckedRequest(Request[Any, Any, Any]):
    """Litestar's request whose JSON body is checked as it is decoded (see the module)."""

    _body_checked = False

    async def json(self) -> Any:
        try:
            value = await super().json()
        except RecursionError:
            # msgspec's decoder gives up on very deep nesting with a RecursionError, which is
            # not a decode error: without this it would be a 500.
            raise BadRequest(
                f"the JSON body nests deeper than {MAX_DEPTH} levels", field="body"
            ) from None
        if not self._body_checked:
            check_value(value, "body")
            self._body_checked = True
        return value


async def check_request_text(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: refuse control characters in query and path parameters and in
    header values, naming the parameter."""
    for key, value in request.query_params.multi_items():
        refuse_control_characters(key, f"query.{key!r}")
        refuse_control_characters(value, f"query.{key}")
    for name, value in request.path_params.items():
        if isinstance(value, str):
            refuse_control_characters(value, f"path.{name}")
    for raw_name, raw_value in request.scope["headers"]:
        if _HEADER_CONTROL.search(raw_value):
            name = raw_name.decode("latin-1").lower()
            raise ValidationFailed(
                f"header.{name}: control characters are not allowed in a header value",
                field=f"header.{name}",
            )
