"""Many rows to PostgreSQL in one statement with one parameter: a JSON document read with
``json_to_recordset``.

Sent as arrays (``unnest``), every value of every row costs asyncpg a few Python-level calls
(an ABC ``isinstance`` check per array element, ``uuid.UUID.bytes``, time-zone arithmetic):
about 0.5 µs per value, more than central spends on the rest of the row. As one JSON text,
checked and made by msgspec in C, the same rows cost central a fraction of that; PostgreSQL
reads each value with its column type's input function (a little more work for it than binary
arrays, less than the per-row statements it replaces).

Only values whose JSON text PostgreSQL reads back as exactly the value asyncpg would have sent
are taken (an aware ``datetime`` for a time-zone-aware timestamp, a ``uuid.UUID`` for a UUID, an
``int`` but no ``bool`` for an integer, …); anything else raises ``NotJson`` and the caller
sends the rows the usual way. A JSON column's serializer runs first, as for the statement
SQLAlchemy would send.
"""

from __future__ import annotations

import functools
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from schema.tables.base import UTCDateTime


class NotJson(ValueError):
    """A value this cannot send as JSON exactly as asyncpg would send it."""


_encoder = msgspec.json.Encoder(decimal_format="string")


@dataclass(frozen=True, eq=False)
class _Column:
    """How the values of one column go as JSON."""

    spec: Any
    """A Struct with one field ``v: list[T | None]``: msgspec checks the values against it,
    strictly and in C, so only a value whose JSON text reads back as the value itself is sent
    (a bool is no int, a datetime no date). A Struct rather than the list type, as msgspec
    works out a Struct's type once, a bare type on every call."""
    process: Callable[[Any], Any] | None = None
    """Bind processing that must run first (a JSON column's serializer, a type decorator's)."""
    raw: bool = False
    """The processed value is JSON text already (a JSON column's serializer ran)."""

    def convert(self, values: list[Any]) -> list[Any]:
        """The column's values as JSON takes them; raises ``NotJson``."""
        process = self.process
        if process is not None:
            values = [v if v is None else process(v) for v in values]
        try:
            values = msgspec.convert({"v": values}, self.spec, strict=True).v
        except msgspec.ValidationError as exc:
            raise NotJson(str(exc)) from exc
        if self.raw:
            values = [v if v is None else msgspec.Raw(v.encode()) for v in values]
        return values


@dataclass(frozen=True, eq=False)
class JsonRows:
    """How rows of one table go as one JSON document: each row an object whose key ``c<i>``
    is its value of the table's ``i``-th column (left out when NULL: a key missing is NULL to
    ``json_to_recordset``) and, for an update, ``m<i>`` is true where the row sets the column.
    The statements name every column of the table, so there is one SQL text per table and
    kind, whichever columns a batch writes (``insert_sql``, ``update_sql``)."""

    table: sa.Table
    columns: tuple[str, ...]
    converters: tuple[_Column, ...]
    records: dict[tuple[tuple[int, ...], bool], type] = field(default_factory=dict)
    """``_record`` by the columns rows have and whether they are masked."""

    def encode(
        self,
        rows: Sequence[Mapping[str, Any]],
        present: Iterable[str],
        *,
        masked: bool = False,
        sources: Mapping[str, str] | None = None,
    ) -> str:
        """The JSON document of ``rows``, which have the columns ``present`` (every row every
        one, unless ``masked``: then a row may lack some, and ``m<i>`` says which it has).
        Each column's value is the row's item ``sources[column]`` (by default the column's
        name). Raises ``NotJson``.

        Made a column at a time, so the per-value work is done by list comprehensions and
        msgspec rather than by a Python loop over every value."""
        positions = tuple(sorted(self.columns.index(c) for c in present))
        columns: list[list[Any]] = []
        for i in positions:
            column = self.columns[i]
            source = sources[column] if sources is not None else column
            if masked:
                values = [row.get(source) for row in rows]
            else:
                try:
                    values = [row[source] for row in rows]
                except KeyError as exc:
                    raise NotJson(f"a row without {column}") from exc
            columns.append(self.converters[i].convert(values))
        if masked:
            for i in positions:
                column = self.columns[i]
                source = sources[column] if sources is not None else column
                columns.append([True if source in row else None for row in rows])
        record = self._record(positions, masked)
        try:
            return _encoder.encode([record(*row) for row in zip(*columns, strict=True)]).decode()
        except (msgspec.EncodeError, ValueError, TypeError, OverflowError) as exc:
            raise NotJson(str(exc)) from exc

    def _record(self, positions: tuple[int, ...], masked: bool) -> type:
        """A msgspec Struct of the row objects (``c<i>`` then the masks ``m<i>``) that leaves
        out NULLs: made once per set of columns."""
        record = self.records.get((positions, masked))
        if record is None:
            names = [f"c{i}" for i in positions] + ([f"m{i}" for i in positions] if masked else [])
            fields = [(name, Any, None) for name in names]
            record = msgspec.defstruct("Row", fields, omit_defaults=True)
            self.records[(positions, masked)] = record
        return record

    def source(self, dialect: Dialect, masks: Iterable[int] = ()) -> str:
        """``json_to_recordset(:rows) AS _v(c0 type, …)``, with a BOOLEAN ``m<i>`` per column
        position in ``masks``."""
        fields = [
            f"c{i} {self.table.c[c].type.compile(dialect=dialect)}"
            for i, c in enumerate(self.columns)
        ]
        fields += [f"m{i} BOOLEAN" for i in masks]
        return f"json_to_recordset(CAST(:rows AS JSON)) AS _v({', '.join(fields)})"


@functools.cache
def json_rows(table: sa.Table, dialect: Dialect) -> JsonRows | None:
    """How to send rows of ``table`` as JSON; None when a column has a type this does not
    handle, or a default (a column left out must be NULL)."""
    converters = []
    for column in table.c:
        convert = _converter(column.type, dialect)
        if convert is None or column.default is not None or column.server_default is not None:
            return None
        converters.append(convert)
    return JsonRows(table, tuple(c.name for c in table.c), tuple(converters))


@functools.cache
def insert_sql(rows: JsonRows, dialect: Dialect) -> sa.TextClause:
    """``INSERT INTO t (every column) SELECT … FROM json_to_recordset(:rows …)``."""
    quote = dialect.identifier_preparer.quote
    table = dialect.identifier_preparer.format_table(rows.table)
    names = ", ".join(quote(c) for c in rows.columns)
    values = ", ".join(f"_v.c{i}" for i in range(len(rows.columns)))
    return sa.text(f"INSERT INTO {table} ({names}) SELECT {values} FROM {rows.source(dialect)}")


@functools.cache
def update_sql(rows: JsonRows, dialect: Dialect) -> sa.TextClause:
    """``UPDATE t SET c = CASE WHEN _v.m<i> THEN _v.c<i> ELSE t.c END, … FROM
    json_to_recordset(:rows …) AS _v WHERE t.pk = _v.pk``: each row by its primary key, and in
    it each column the row sets (its ``m<i>``), the others left as they are."""
    quote = dialect.identifier_preparer.quote
    table = dialect.identifier_preparer.format_table(rows.table)
    key = {c.name for c in rows.table.primary_key.columns}
    sets, masks, where = [], [], []
    for i, c in enumerate(rows.columns):
        if c in key:
            where.append(f"{table}.{quote(c)} = _v.c{i}")
        else:
            sets.append(f"{quote(c)} = CASE WHEN _v.m{i} THEN _v.c{i} ELSE {table}.{quote(c)} END")
            masks.append(i)
    source = rows.source(dialect, masks)
    condition = " AND ".join(where)
    return sa.text(f"UPDATE {table} SET {', '.join(sets)} FROM {source} WHERE {condition}")


def _converter(kind: Any, dialect: Dialect) -> _Column | None:
    """How values of a column of type ``kind`` go as JSON; None for a type this does not
    send."""
    base = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
    if isinstance(base, sa.JSON):  # the serializer's text is the JSON value itself
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        return _Column(_spec(str), process, raw=True)
    for sql_type, python in _TYPES:
        if isinstance(base, sql_type):
            aware = sql_type is sa.DateTime  # only aware timestamps and naive times are sent
            if isinstance(base, sa.DateTime | sa.Time) and base.timezone != aware:
                return None
            # A type decorator's own processing runs, but for UTCDateTime's: it refuses naive
            # datetimes (so does the spec) and moves aware ones to UTC, the same instant.
            custom = isinstance(kind, TypeDecorator) and not isinstance(kind, UTCDateTime)
            process = kind.dialect_impl(dialect).bind_processor(dialect) if custom else None
            return _Column(_spec(python), process)
    return None


@functools.cache
def _spec(python: Any) -> Any:
    return msgspec.defstruct("Values", [("v", list[python | None])])


_FINITE = msgspec.Meta(ge=-sys.float_info.max, le=sys.float_info.max)
"""Not NaN or infinite, which JSON has no number for."""
_TYPES: tuple[tuple[type, Any], ...] = (
    (sa.Boolean, bool),
    (sa.Integer, int),
    (sa.Float, Annotated[float, _FINITE]),
    (sa.Numeric, Decimal),
    (sa.String, str),
    (sa.Uuid, uuid.UUID),
    (sa.DateTime, Annotated[datetime, msgspec.Meta(tz=True)]),
    (sa.Date, date),
    (sa.Time, Annotated[time, msgspec.Meta(tz=False)]),
)
"""Column types JSON carries (the first that matches) and the Python values it carries for
them, as msgspec checks them strictly. A value a plain type's bind processing would take but
this does not (an int for a Boolean) makes the rows go the usual way. A time-zone-aware
timestamp takes aware datetimes, a time without time zone naive times (others are not sent as
JSON)."""
