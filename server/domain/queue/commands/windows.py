"""Window commands (服务台): define, change, open, pause, resume, close.

A window is ``closed`` → ``open`` (a staff member sits at it) ⇄ ``paused`` (暂停服务) → ``closed``.
Only an open window calls tickets. A staff member works at one window at a time, and a window
that has a customer called or at the desk cannot pause or close until that visit moves on.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from uuid_utils.compat import uuid7

from schema.api.queue import WindowIn, WindowOut, WindowPauseIn, WindowUpdateIn
from schema.events.queue import (
    ServiceCategory,
    WindowChanged,
    WindowClosed,
    WindowDefined,
    WindowOpened,
    WindowPaused,
    WindowResumed,
)
from schema.tables.queue import queue_tickets, queue_windows
from server.domain.context import Ctx
from server.domain.guards import require_state
from server.domain.queue.reads import active_ticket_at, get_window, window_row
from server.domain.queue.rules import DEFAULT_CATEGORIES, require_operator
from server.errors import Conflict, WindowBusy


def _distinct(categories: list[ServiceCategory]) -> list[ServiceCategory]:
    """The categories without repeats, in the order given."""
    return list(dict.fromkeys(categories))


def define_window(ctx: Ctx, cmd: WindowIn) -> WindowOut:
    """Set up a service window (manager); it starts closed."""
    taken = ctx.conn.execute(
        sa.select(queue_windows.c.window_id).where(
            queue_windows.c.store_id == ctx.store_id, queue_windows.c.code == cmd.code
        )
    ).first()
    if taken is not None:
        raise Conflict(f"window code {cmd.code} is taken", field="code")
    categories = _distinct(cmd.categories or DEFAULT_CATEGORIES[cmd.kind])
    event = ctx.emit(
        WindowDefined,
        window_id=uuid7(),
        code=cmd.code,
        name=cmd.name,
        kind=cmd.kind,
        categories=categories,
    )
    return get_window(ctx.conn, ctx.store_id, event.window_id)


def update_window(ctx: Ctx, window_id: UUID, cmd: WindowUpdateIn) -> WindowOut:
    """Rename a window or change the categories it calls (manager); takes effect at once."""
    row = window_row(ctx.conn, ctx.store_id, window_id)
    name = cmd.name or row.name
    categories = _distinct(cmd.categories) if cmd.categories else list(row.categories)
    if name != row.name or categories != list(row.categories):
        ctx.emit(WindowChanged, window_id=window_id, name=name, categories=categories)
    return get_window(ctx.conn, ctx.store_id, window_id)


def open_window(ctx: Ctx, window_id: UUID) -> WindowOut:
    """The acting staff member opens a closed window and works at it (开窗)."""
    row = window_row(ctx.conn, ctx.store_id, window_id)
    require_state(row.status, ["closed"], "open", f"window {row.code}")
    elsewhere = ctx.conn.execute(
        sa.select(queue_windows.c.code).where(
            queue_windows.c.store_id == ctx.store_id,
            queue_windows.c.staff == ctx.actor,
            queue_windows.c.status != "closed",
        )
    ).scalar()
    if elsewhere is not None:
        raise Conflict(
            f"{ctx.actor} already works at window {elsewhere}; close it first", window=elsewhere
        )
    ctx.emit(WindowOpened, window_id=window_id, staff=ctx.actor)
    return get_window(ctx.conn, ctx.store_id, window_id)


def _require_idle(ctx: Ctx, row: Any, action: str) -> None:
    busy = active_ticket_at(ctx.conn, ctx.store_id, row.window_id)
    if busy is not None:
        raise WindowBusy(
            f"window {row.code} has ticket {busy.number} {busy.status}; "
            f"finish, transfer or mark it no-show before you {action}",
            ticket=busy.number,
        )


def pause_window(ctx: Ctx, window_id: UUID, cmd: WindowPauseIn) -> WindowOut:
    """Stop calling for a while (暂停服务) with a reason; the staff member stays assigned."""
    row = window_row(ctx.conn, ctx.store_id, window_id)
    require_state(row.status, ["open"], "pause", f"window {row.code}")
    require_operator(ctx, row)
    _require_idle(ctx, row, "pause")
    ctx.emit(WindowPaused, window_id=window_id, reason=cmd.reason, note=cmd.note)
    return get_window(ctx.conn, ctx.store_id, window_id)


def resume_window(ctx: Ctx, window_id: UUID) -> WindowOut:
    """A paused window calls again (恢复服务)."""
    row = window_row(ctx.conn, ctx.store_id, window_id)
    require_state(row.status, ["paused"], "resume", f"window {row.code}")
    require_operator(ctx, row)
    ctx.emit(WindowResumed, window_id=window_id)
    return get_window(ctx.conn, ctx.store_id, window_id)


def close_window(ctx: Ctx, window_id: UUID) -> WindowOut:
    """Close an open or paused window (关窗); its staff member is free to open another."""
    row = window_row(ctx.conn, ctx.store_id, window_id)
    require_state(row.status, ["open", "paused"], "close", f"window {row.code}")
    require_operator(ctx, row)
    _require_idle(ctx, row, "close")
    pinned = ctx.conn.execute(
        sa.select(sa.func.count()).where(
            queue_tickets.c.store_id == ctx.store_id,
            queue_tickets.c.target_window_id == window_id,
            queue_tickets.c.status == "waiting",
            queue_tickets.c.day == ctx.today,
        )
    ).scalar_one()
    if pinned:
        # Customers sent to this very window would otherwise wait for a window nobody opens.
        raise Conflict(
            f"{pinned} waiting ticket(s) were sent to window {row.code}; transfer them first",
            waiting=pinned,
        )
    ctx.emit(WindowClosed, window_id=window_id, staff=row.staff)
    return get_window(ctx.conn, ctx.store_id, window_id)
