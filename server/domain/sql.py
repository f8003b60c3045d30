"""Helpers every domain shares: lookups, state guards, staff checks, time arithmetic, ranges.

One home for what the queue, inventory, shifts, complaints and ops domains would otherwise each
write their own copy of, so that "not found", "illegal transition", "blank text", "who is
acting" and "which day is it" read and answer the same everywhere.

Statements on the write path are built once and take their values as bound parameters
(``sa.bindparam``): building and caching-key a SQLAlchemy statement costs several times what
SQLite takes to run it, and a statement object that is reused hits the compiled cache at once.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Connection

from schema.tables.core import staff
from server.domain.context import load_settings
from server.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed

# ---------------------------------------------------------------- rows


@functools.cache
def _find_statement(table: sa.Table, key_col: Any) -> sa.Select[Any]:
    """``SELECT * FROM table WHERE store_id = :store_id AND key_col = :key``, built once."""
    return sa.select(table).where(
        table.c.store_id == sa.bindparam("store_id"), key_col == sa.bindparam("key")
    )


def one_of(column: Any, values: Iterable[Any]) -> Any:
    """``column IN (constants)`` for a statement built once: as ``column = a OR column = b``
    with ordinary bound values. (An IN list of Python values is an "expanding" parameter that
    SQLAlchemy renders anew on every execution; SQLite plans both forms alike.)"""
    return sa.or_(*(column == v for v in values))


def find_row(conn: Connection, table: sa.Table, store_id: str, key_col: Any, key: Any) -> Any:
    """The store's row of ``table`` whose ``key_col`` is ``key``, or None."""
    return conn.execute(_find_statement(table, key_col), {"store_id": store_id, "key": key}).first()


def row_or_404(
    conn: Connection, table: sa.Table, store_id: str, key_col: Any, key: Any, what: str
) -> Any:
    """The store's row of ``table`` whose ``key_col`` is ``key``; 404 ``no {what} {key}``."""
    row = find_row(conn, table, store_id, key_col, key)
    if row is None:
        raise NotFound(f"no {what} {key}")
    return row


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    keys: list[str],
    *,
    insert_only: Collection[str] = (),
    increment: Collection[str] = (),
) -> None:
    """Insert rows, or update those whose ``keys`` exist, on SQLite and PostgreSQL alike.

    ``rows`` is one row or many (sent as one ``executemany``; every row has the same columns).
    Columns in ``insert_only`` are written when a row is created and never overwritten (a
    ``created_at``, a flag that only the first fact decides); columns in ``increment`` are
    added to an existing row's value (a counter), atomically.
    """
    many = list(rows) if not isinstance(rows, Mapping) else [rows]
    if not many:
        return
    stmt = _upsert_statement(
        conn.dialect.name,
        table,
        tuple(keys),
        tuple(many[0]),
        frozenset(insert_only),
        frozenset(increment),
    )
    conn.execute(stmt, many)


@functools.cache
def _upsert_statement(
    dialect: str,
    table: sa.Table,
    keys: tuple[str, ...],
    columns: tuple[str, ...],
    insert_only: frozenset[str],
    increment: frozenset[str],
) -> Any:
    """The ``INSERT … ON CONFLICT`` of ``upsert``, built once per table and shape of row."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    fixed = {*keys, *insert_only}
    update = {
        k: table.c[k] + stmt.excluded[k] if k in increment else stmt.excluded[k]
        for k in columns
        if k not in fixed
    }
    return (
        stmt.on_conflict_do_update(index_elements=list(keys), set_=update)
        if update
        else stmt.on_conflict_do_nothing(index_elements=list(keys))
    )


# ---------------------------------------------------------------- state machines


def require_state(
    current: str, allowed: Iterable[str], action: str, what: str, *, hint: str = ""
) -> None:
    """Refuse ``action`` on ``what`` unless its state ``current`` is one of ``allowed``.

    The 409 ``illegal_transition`` names the current state in its detail and as ``extra.state``
    (one convention for every domain), e.g. "cannot close complaint T…-001: it is open".
    """
    allowed = tuple(allowed)
    if current in allowed:
        return
    detail = f"cannot {action} {what}: it is {current}"
    detail += f"; {hint}" if hint else f" (needs {' or '.join(allowed)})"
    raise IllegalTransition(detail, state=current)


# ---------------------------------------------------------------- text


def blank_checked(text: str, field: str) -> str:
    """``text`` without surrounding blanks; 422 naming ``field`` when nothing is left."""
    value = text.strip()
    if not value:
        raise ValidationFailed(f"{field} must not be blank", field=field)
    return value


# ---------------------------------------------------------------- staff


_ACTIVE_STAFF_BY_USERNAME = sa.select(staff).where(
    staff.c.store_id == sa.bindparam("store_id"),
    staff.c.username == sa.bindparam("username"),
    staff.c.active,
)


def actor_staff(conn: Connection, store_id: str, username: str) -> Any:
    """The active roster row of the staff member acting (None for ``system``, unknown or
    deactivated users): their ``user_id``, ``role``, names."""
    return conn.execute(
        _ACTIVE_STAFF_BY_USERNAME, {"store_id": store_id, "username": username}
    ).first()


def actor_role(conn: Connection, store_id: str, username: str) -> str | None:
    """The role of the staff member acting, or None when the actor is not active staff."""
    row = actor_staff(conn, store_id, username)
    return None if row is None else str(row.role)


def require_manager(conn: Connection, store_id: str, username: str, action: str) -> None:
    """403 unless the actor is the store's manager: "only a manager may {action}"."""
    if actor_role(conn, store_id, username) != "manager":
        raise Forbidden(f"only a manager may {action}")


def staff_member(
    conn: Connection, store_id: str, user_id: UUID, *, field: str, active: bool = True
) -> Any:
    """The roster row of a staff member named in a request (active unless told), else 422
    naming ``field``."""
    row = find_row(conn, staff, store_id, staff.c.user_id, user_id)
    if row is None:
        raise ValidationFailed(f"no staff member {user_id} in this store", field=field)
    if active and not row.active:
        raise ValidationFailed(f"staff member {row.username} is no longer active", field=field)
    return row


def known_staff(
    conn: Connection, store_id: str, user_ids: Iterable[UUID], *, field: str, active: bool
) -> tuple[UUID, ...]:
    """The given user ids, de-duplicated in order, refusing (422 naming ``field``) any not on
    the store's roster or, with ``active``, no longer working there."""
    wanted = tuple(dict.fromkeys(user_ids))
    q = sa.select(staff.c.user_id).where(staff.c.store_id == store_id, staff.c.user_id.in_(wanted))
    if active:
        q = q.where(staff.c.active)
    found = set(conn.execute(q).scalars())
    unknown = [str(u) for u in wanted if u not in found]
    if unknown:
        raise ValidationFailed(
            f"not {'active ' if active else ''}staff of this store: {', '.join(unknown)}",
            field=field,
        )
    return wanted


# ---------------------------------------------------------------- time


def seconds_between(start: datetime, end: datetime) -> int:
    """Whole seconds from ``start`` to ``end``, negative when ``end`` is earlier."""
    return int((end - start).total_seconds())


def elapsed_seconds(since: datetime, until: datetime) -> int:
    """Whole seconds from ``since`` to ``until``, never negative (a clock stepping back
    counts 0): waits, service times, times to repair."""
    return max(0, seconds_between(since, until))


def whole_minutes(start: datetime, end: datetime) -> int:
    """Whole minutes from ``start`` to ``end``, rounded down (negative if ``end`` is earlier)."""
    return int((end - start).total_seconds() // 60)


def store_today(conn: Connection, store_id: str, now: datetime) -> date:
    """The store-local calendar day at ``now``: the day reads mean by "today".

    API routes pass the node's clock (``node(request).writer.clock()``), the one commands are
    stamped with, so a read's "today" agrees with the writes'.
    """
    return now.astimezone(load_settings(conn, store_id).zone).date()


PLAUSIBLE_DAYS = 366
"""How far from the store's today the day of something recorded or planned may lie (a shift, a
drill, an inspection, a training). A year either way covers any real plan or late record; a
date beyond is a typing error (a shift in 9999), and near year 1 or 9999 the instants derived
from it would not even exist."""


def plausible_day(day: date, today: date, field: str) -> date:
    """``day``, or a 422 naming ``field`` when it lies more than ``PLAUSIBLE_DAYS`` from
    ``today`` (the store-local day of the command)."""
    span = timedelta(days=PLAUSIBLE_DAYS)
    earliest, latest = today - span, today + span
    if not earliest <= day <= latest:
        raise ValidationFailed(
            f"{day.isoformat()} is more than a year from today ({today.isoformat()}): "
            f"give a day from {earliest.isoformat()} to {latest.isoformat()}",
            field=field,
        )
    return day


def request_instant(value: datetime, zone: ZoneInfo, field: str) -> datetime:
    """An instant a request gave, in UTC; without a UTC offset it is store-local wall time.

    One that has no UTC equivalent (``0001-01-01T00:00:00+14:00``,
    ``9999-12-31T23:59:59-12:00``: within hours of the calendar's ends) is a 422 naming
    ``field``; converting it would raise OverflowError, a 500."""
    try:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed(
            f"{value.isoformat()} is not a time this hall can book or record", field=field
        ) from None


# ---------------------------------------------------------------- date ranges and months

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def check_date_range(first: date | None, last: date | None) -> None:
    """Refuse a reversed ``from``/``to`` range of store-local days (both inclusive): 422
    naming ``query.from``. Every list endpoint with a day range calls this."""
    if first is not None and last is not None and first > last:
        raise ValidationFailed(
            f"from ({first.isoformat()}) is after to ({last.isoformat()})", field="query.from"
        )


def parse_month(value: str, field: str = "query.month") -> date:
    """The first day of a ``YYYY-MM`` month; 422 naming ``field`` for anything else
    (``0000-01``, ``2026-13``)."""
    m = _MONTH.fullmatch(value)
    if m is None or int(m[1]) < 1 or not 1 <= int(m[2]) <= 12:
        raise ValidationFailed(f"not a month: {value!r}; use YYYY-MM from 0001-01", field=field)
    return date(int(m[1]), int(m[2]), 1)


def month_name(day: date) -> str:
    """``YYYY-MM`` of the month containing ``day`` (zero-padded, whatever the year)."""
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of the month containing ``day`` (both inclusive)."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)
