"""What the database returns for a value written to a column: central's batch fold
(``batch_rows``) keeps the rows it wrote in memory as the database will read them back, so a
later ``get`` needs no round trip, and a value it cannot tell of makes the row *inexact*."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from schema.tables.base import UTCDateTime
from server.domain.rows import Row


class _CannotTell:
    def __repr__(self) -> str:
        return "CANNOT_TELL"


_CANNOT_TELL: Any = _CannotTell()
"""What a reader returns for a value whose read-back form it cannot tell."""


def as_read(table: sa.Table, values: Row) -> tuple[dict[str, Any], bool]:
    """``values`` as the database would return them (an aware datetime in UTC, say), and
    whether every one of them could be told."""
    readers = _readers(table)
    out: dict[str, Any] = {}
    exact = True
    for name, value in values.items():
        reader = readers[name]
        read = _CANNOT_TELL if reader is None else reader(value)
        if read is _CANNOT_TELL:
            exact = False
            read = value
        out[name] = read
    return out, exact


@functools.cache
def _readers(table: sa.Table) -> dict[str, Callable[[Any], Any] | None]:
    """Each column's reader, worked out once per table (folding asks for one per value)."""
    return {column.name: _reader(column.type) for column in table.c}


def _json_as_read(value: Any) -> Any:
    """A JSON column: a list of plain scalars (serials, categories) reads back as it is."""
    if value is None:
        return None
    if type(value) is list and all(type(v) in _JSON_SCALARS for v in value):
        return value
    return _CANNOT_TELL


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _utc_as_read(value: Any) -> Any:
    """``UTCDateTime``: what the column returns for an aware datetime written (UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return _CANNOT_TELL


def _exactly(kind: type) -> Callable[[Any], Any]:
    def as_read(value: Any) -> Any:
        return value if value is None or type(value) is kind else _CANNOT_TELL

    return as_read


def _instance_of(kind: type) -> Callable[[Any], Any]:
    def as_read(value: Any) -> Any:
        return value if value is None or isinstance(value, kind) else _CANNOT_TELL

    return as_read


def _reader(column_type: Any) -> Callable[[Any], Any] | None:
    """How a value written to a column of this type reads back; None when this cannot tell."""
    if isinstance(column_type, UTCDateTime):
        return _utc_as_read
    if isinstance(column_type, TypeDecorator):
        return None
    if isinstance(column_type, sa.JSON):
        return _json_as_read
    if isinstance(column_type, sa.Uuid):
        return _instance_of(uuid.UUID)  # asyncpg's UUIDs are a subclass
    kinds = (
        (sa.Boolean, bool),
        (sa.Integer, int),
        (sa.String, str),
        (sa.Date, date),
        (sa.Time, time),
    )
    for kind, python in kinds:
        if isinstance(column_type, kind):
            return _exactly(python)
    return None
