"""Types shared by every REST endpoint: pages of results and problem details."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Generic, TypeVar

import msgspec

T = TypeVar("T")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
"""A human-readable name or title."""
Text = Annotated[str, msgspec.Meta(max_length=2000)]
"""Free text: a description, a comment, a remedy."""
Code = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]*\Z")
]
"""A machine code: SKU, window code, outcome code (no leading dot, no trailing newline)."""
LocalTime = Annotated[time, msgspec.Meta(tz=False)]
"""A store-local wall-clock time of day, without a UTC offset (``08:00``)."""
StoreCode = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+\Z")]
"""A store's code, e.g. ``S001``."""
Region = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
"""A region's code, e.g. ``east``."""
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
"""An IANA time zone name, e.g. ``Asia/Shanghai``."""


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a list. Ask for the next with ``offset=next_offset`` until it is null."""

    items: list[T]
    total: int
    """How many items match the filters, over all pages."""
    limit: int
    offset: int
    next_offset: int | None


class FieldError(msgspec.Struct, kw_only=True):
    field: str | None
    """Dotted path of the offending field (``body.category``, ``query.limit``)."""
    message: str


PROBLEM_JSON = "application/problem+json"
"""Media type of ``Problem``: every error answer of the REST APIs, and a refused sync upgrade."""
PROBLEM_TYPE_BASE = "https://hallsync.dev/problems/"
"""A problem's ``type`` is this followed by its ``code``."""


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details, with hallsync's stable ``code`` and ``retryable``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    retryable: bool
    """Whether the same request may succeed if sent again later; always present."""
    instance: str | None = None
    errors: list[FieldError] = msgspec.field(default_factory=list)
    extra: dict[str, Any] = msgspec.field(default_factory=dict)
