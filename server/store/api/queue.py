"""Tablet routes of the queue domain (排队叫号): windows, tickets, appointments, live state.

Roles: the manager sets up windows; clerks open their window and work tickets at it; the
greeter issues tickets and handles appointments (clerks may too); anyone logged in sees the
live queue, and the hall's display board follows it over server-sent events.

Status codes: what creates something answers 201 (a window, a ticket, an appointment, and a
check-in, which issues a ticket); every other step answers 200 with the thing it changed.
Bodies whose fields all have defaults may be left out (a transfer's may not: it must name
where the ticket goes).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import ServerSentEvent
from sqlalchemy import Connection

from schema.api.common import Page
from schema.api.queue import (
    AppointmentCancelIn,
    AppointmentIn,
    AppointmentOut,
    AppointmentSearchIn,
    AppointmentStatus,
    CancelIn,
    CheckInOut,
    FinishIn,
    QueueStateOut,
    RatingIn,
    TicketIn,
    TicketOut,
    TicketStatus,
    TransferIn,
    WindowIn,
    WindowOut,
    WindowPauseIn,
    WindowStatus,
    WindowUpdateIn,
)
from schema.events.queue import ServiceCategory, WindowKind
from server.domain import queue as domain
from server.domain.calendar import store_today
from server.domain.paging import paginate
from server.domain.queue.rules import check_mobile
from server.idempotency import fingerprint_body
from server.store.api.common import (
    SEARCH_RECORDS_NOTHING,
    AnyRequest,
    PagingDep,
    node,
    phone_token,
    read,
    read_small,
    submit,
)
from server.store.auth import ALL_ROLES, requires
from server.store.board import QueueBoard
from server.web.contract import key_not_used

MANAGER = requires()
CLERK = requires("clerk")
GREETER = requires("greeter")
FRONT = requires("greeter", "clerk")
"""Front-of-hall staff: the greeter at the entrance and the clerks at the windows."""

DayParam = Annotated[
    date | None, QueryParameter(description="store-local day (YYYY-MM-DD); default today")
]
CategoryParam = Annotated[
    ServiceCategory | None, QueryParameter(description="filter by service category")
]


def _now(request: AnyRequest) -> datetime:
    """The node's clock: the one its writes are stamped with, so "today" agrees with them."""
    return node(request).writer.clock()


def _day(conn: Connection, store_id: str, day: date | None, now: datetime) -> date:
    return day if day is not None else store_today(conn, store_id, now)


class WindowController(Controller):
    path = "/api/v1/queue/windows"
    tags = ["queue"]

    @get("/", guards=[ALL_ROLES])
    async def list_windows(
        self,
        request: AnyRequest,
        paging: PagingDep,
        status: Annotated[
            WindowStatus | None, QueryParameter(description="closed, open or paused")
        ] = None,
        kind: Annotated[WindowKind | None, QueryParameter(description="window kind")] = None,
        staff: Annotated[str | None, QueryParameter(description="user name at the window")] = None,
    ) -> Page[WindowOut]:
        """The hall's service windows (服务台), by code."""
        store_id = node(request).store_id
        return await read(
            request,
            lambda c: paginate(
                c,
                domain.list_windows(store_id, status=status, kind=kind, staff=staff),
                domain.window_out,
                limit=paging.limit,
                offset=paging.offset,
            ),
        )

    @post("/", guards=[MANAGER], status_code=201)
    async def define_window(
        self, request: AnyRequest, data: JSONBody[WindowIn]
    ) -> Response[WindowOut]:
        """Set up a service window (设置窗口, manager); it starts closed."""
        return await submit(request, lambda ctx: domain.define_window(ctx, data))

    @get("/{window_id:uuid}", guards=[ALL_ROLES])
    async def get_window(self, request: AnyRequest, window_id: FromPath[UUID]) -> WindowOut:
        """One window with the ticket it has called or is serving (窗口)."""
        store_id = node(request).store_id
        return read_small(request, lambda c: domain.get_window(c, store_id, window_id))

    @patch("/{window_id:uuid}", guards=[MANAGER], status_code=200)
    async def update_window(
        self,
        request: AnyRequest,
        window_id: FromPath[UUID],
        data: JSONBody[WindowUpdateIn | None] = None,
    ) -> Response[WindowOut]:
        """Rename a window or change the categories it serves (修改窗口业务, manager)."""
        cmd = data or WindowUpdateIn()
        return await submit(
            request, lambda ctx: domain.update_window(ctx, window_id, cmd), status_code=200
        )

    @post("/{window_id:uuid}/open", guards=[CLERK], status_code=200)
    async def open_window(
        self, request: AnyRequest, window_id: FromPath[UUID]
    ) -> Response[WindowOut]:
        """Open the window and work at it (开窗)."""
        return await submit(
            request, lambda ctx: domain.open_window(ctx, window_id), status_code=200
        )

    @post("/{window_id:uuid}/pause", guards=[CLERK], status_code=200)
    async def pause_window(
        self, request: AnyRequest, window_id: FromPath[UUID], data: JSONBody[WindowPauseIn]
    ) -> Response[WindowOut]:
        """Stop calling for a while, with a reason (暂停服务)."""
        return await submit(
            request, lambda ctx: domain.pause_window(ctx, window_id, data), status_code=200
        )

    @post("/{window_id:uuid}/resume", guards=[CLERK], status_code=200)
    async def resume_window(
        self, request: AnyRequest, window_id: FromPath[UUID]
    ) -> Response[WindowOut]:
        """Call again after a pause (恢复服务)."""
        return await submit(
            request, lambda ctx: domain.resume_window(ctx, window_id), status_code=200
        )

    @post("/{window_id:uuid}/close", guards=[CLERK], status_code=200)
    async def close_window(
        self, request: AnyRequest, window_id: FromPath[UUID]
    ) -> Response[WindowOut]:
        """Close the window (关窗)."""
        return await submit(
            request, lambda ctx: domain.close_window(ctx, window_id), status_code=200
        )

    @post("/{window_id:uuid}/call-next", guards=[CLERK], status_code=200)
    async def call_next(
        self, request: AnyRequest, window_id: FromPath[UUID]
    ) -> Response[TicketOut]:
        """Call the next waiting ticket to this window (叫号); 409 queue_empty if none waits."""
        return await submit(request, lambda ctx: domain.call_next(ctx, window_id), status_code=200)


class TicketController(Controller):
    path = "/api/v1/queue/tickets"
    tags = ["queue"]

    @get("/", guards=[FRONT])
    async def list_tickets(
        self,
        request: AnyRequest,
        paging: PagingDep,
        day: DayParam = None,
        status: Annotated[TicketStatus | None, QueryParameter(description="ticket state")] = None,
        category: CategoryParam = None,
        window_id: Annotated[
            UUID | None, QueryParameter(description="window that called or served it")
        ] = None,
        number: Annotated[
            str | None, QueryParameter(description="ticket number, e.g. B023", max_length=8)
        ] = None,
    ) -> Page[TicketOut]:
        """One day's queue tickets (排队号码) in issue order."""
        store_id, now = node(request).store_id, _now(request)

        def query(c: Connection) -> Page[TicketOut]:
            q = domain.list_tickets(
                store_id,
                day=_day(c, store_id, day, now),
                status=status,
                category=category,
                window_id=window_id,
                number=number,
            )
            return paginate(c, q, domain.ticket_out, limit=paging.limit, offset=paging.offset)

        return await read(request, query)

    @post("/", guards=[GREETER], status_code=201)
    async def issue_ticket(
        self, request: AnyRequest, data: JSONBody[TicketIn]
    ) -> Response[TicketOut]:
        """Issue a queue ticket for a service (取号)."""
        token = await phone_token(request, data.customer_phone)
        return await submit(
            request,
            lambda ctx: domain.issue_ticket(ctx, data, phone_token=token),
            fingerprinted=fingerprint_body(data, customer_phone=token),
        )

    @get("/{ticket_id:uuid}", guards=[FRONT])
    async def get_ticket(self, request: AnyRequest, ticket_id: FromPath[UUID]) -> TicketOut:
        """One ticket, with how many wait before it (排队号码)."""
        store_id = node(request).store_id
        return read_small(request, lambda c: domain.get_ticket(c, store_id, ticket_id))

    @post("/{ticket_id:uuid}/recall", guards=[CLERK], status_code=200)
    async def recall(self, request: AnyRequest, ticket_id: FromPath[UUID]) -> Response[TicketOut]:
        """Call the ticket again (再次呼叫); past the recall limit it becomes a no-show."""
        return await submit(request, lambda ctx: domain.recall(ctx, ticket_id), status_code=200)

    @post("/{ticket_id:uuid}/no-show", guards=[CLERK], status_code=200)
    async def no_show(self, request: AnyRequest, ticket_id: FromPath[UUID]) -> Response[TicketOut]:
        """The called customer did not come (过号)."""
        return await submit(
            request, lambda ctx: domain.ticket_no_show(ctx, ticket_id), status_code=200
        )

    @post("/{ticket_id:uuid}/start", guards=[CLERK], status_code=200)
    async def start(self, request: AnyRequest, ticket_id: FromPath[UUID]) -> Response[TicketOut]:
        """The customer is at the window: start service (开始办理)."""
        return await submit(
            request, lambda ctx: domain.start_service(ctx, ticket_id), status_code=200
        )

    @post("/{ticket_id:uuid}/finish", guards=[CLERK], status_code=200)
    async def finish(
        self, request: AnyRequest, ticket_id: FromPath[UUID], data: JSONBody[FinishIn]
    ) -> Response[TicketOut]:
        """End service with an outcome code (办结)."""
        return await submit(
            request, lambda ctx: domain.finish(ctx, ticket_id, data), status_code=200
        )

    @post("/{ticket_id:uuid}/transfer", guards=[FRONT], status_code=200)
    async def transfer(
        self, request: AnyRequest, ticket_id: FromPath[UUID], data: JSONBody[TransferIn]
    ) -> Response[TicketOut]:
        """Send the ticket to another category or window, at the head of its queue (转移).

        The body is required although each of its fields is optional: a transfer names the
        category or the window (or both) it goes to."""
        return await submit(
            request, lambda ctx: domain.transfer(ctx, ticket_id, data), status_code=200
        )

    @post("/{ticket_id:uuid}/cancel", guards=[FRONT], status_code=200)
    async def cancel(
        self,
        request: AnyRequest,
        ticket_id: FromPath[UUID],
        data: JSONBody[CancelIn | None] = None,
    ) -> Response[TicketOut]:
        """The waiting customer left or gave up the ticket (离开; reason ``walkout`` if none)."""
        cmd = data or CancelIn()
        return await submit(
            request, lambda ctx: domain.cancel(ctx, ticket_id, cmd), status_code=200
        )

    @post("/{ticket_id:uuid}/rating", guards=[FRONT], status_code=200)
    async def rate(
        self, request: AnyRequest, ticket_id: FromPath[UUID], data: JSONBody[RatingIn]
    ) -> Response[TicketOut]:
        """Record the customer's rating of a finished visit, once (满意度评价); not by the
        staff member who served it."""
        return await submit(request, lambda ctx: domain.rate(ctx, ticket_id, data), status_code=200)


class AppointmentController(Controller):
    path = "/api/v1/queue/appointments"
    tags = ["queue"]

    @get("/", guards=[FRONT])
    async def list_appointments(
        self,
        request: AnyRequest,
        paging: PagingDep,
        day: DayParam = None,
        status: Annotated[
            AppointmentStatus | None, QueryParameter(description="appointment state")
        ] = None,
        category: CategoryParam = None,
    ) -> Page[AppointmentOut]:
        """One day's appointments (线上预约) by slot."""
        store_id, now = node(request).store_id, _now(request)

        def query(c: Connection) -> Page[AppointmentOut]:
            q = domain.list_appointments(
                store_id, day=_day(c, store_id, day, now), status=status, category=category
            )
            return paginate(c, q, domain.appointment_out, limit=paging.limit, offset=paging.offset)

        return await read(request, query)

    @post("/search", guards=[FRONT], status_code=200, opt=key_not_used(SEARCH_RECORDS_NOTHING))
    async def search(
        self, request: AnyRequest, paging: PagingDep, data: JSONBody[AppointmentSearchIn]
    ) -> Page[AppointmentOut]:
        """A customer's appointments of a day (default today) by phone (按手机号查预约)."""
        check_mobile(data.customer_phone, "customer_phone")
        token = await phone_token(request, data.customer_phone)
        store_id, now = node(request).store_id, _now(request)

        def query(c: Connection) -> Page[AppointmentOut]:
            day = _day(c, store_id, data.day, now)
            q = domain.list_appointments(store_id, day=day, phone_token=token)
            return paginate(c, q, domain.appointment_out, limit=paging.limit, offset=paging.offset)

        return await read(request, query)

    @post("/", guards=[FRONT], status_code=201)
    async def book(
        self, request: AnyRequest, data: JSONBody[AppointmentIn]
    ) -> Response[AppointmentOut]:
        """Book an appointment slot for a customer (预约)."""
        token = await phone_token(request, data.customer_phone)
        return await submit(
            request,
            lambda ctx: domain.book(ctx, data, phone_token=token),
            fingerprinted=fingerprint_body(data, customer_phone=token),
        )

    @get("/{appointment_id:uuid}", guards=[FRONT])
    async def get_appointment(
        self, request: AnyRequest, appointment_id: FromPath[UUID]
    ) -> AppointmentOut:
        """One appointment (预约)."""
        store_id = node(request).store_id
        return read_small(request, lambda c: domain.get_appointment(c, store_id, appointment_id))

    @post("/{appointment_id:uuid}/check-in", guards=[FRONT], status_code=201)
    async def check_in(
        self, request: AnyRequest, appointment_id: FromPath[UUID]
    ) -> Response[CheckInOut]:
        """The customer arrived: check in and get a priority ticket (签到); 201, as the
        check-in issues a ticket."""
        return await submit(request, lambda ctx: domain.check_in(ctx, appointment_id))

    @post("/{appointment_id:uuid}/cancel", guards=[FRONT], status_code=200)
    async def cancel(
        self,
        request: AnyRequest,
        appointment_id: FromPath[UUID],
        data: JSONBody[AppointmentCancelIn | None] = None,
    ) -> Response[AppointmentOut]:
        """Cancel an appointment before check-in (取消预约)."""
        cmd = data or AppointmentCancelIn()
        return await submit(
            request,
            lambda ctx: domain.cancel_appointment(ctx, appointment_id, cmd),
            status_code=200,
        )

    @post("/{appointment_id:uuid}/no-show", guards=[FRONT], status_code=200)
    async def no_show(
        self, request: AnyRequest, appointment_id: FromPath[UUID]
    ) -> Response[AppointmentOut]:
        """The customer missed the slot (爽约); allowed after the late check-in limit."""
        return await submit(
            request,
            lambda ctx: domain.appointment_no_show(ctx, appointment_id),
            status_code=200,
        )


def _board(request: AnyRequest) -> QueueBoard:
    board: QueueBoard = request.app.state.board
    return board


class QueueStateController(Controller):
    path = "/api/v1/queue"
    tags = ["queue"]

    @get("/state", guards=[ALL_ROLES])
    async def state(self, request: AnyRequest) -> QueueStateOut:
        """The live queue: waiting per category, windows, latest calls, totals (排队状态)."""
        store_id, now = node(request).store_id, _now(request)
        return read_small(request, lambda c: domain.queue_state(c, store_id, now))

    @get("/board", guards=[ALL_ROLES])
    async def board(self, request: AnyRequest) -> QueueStateOut:
        """The display board's state, for displays that poll (叫号屏)."""
        return await _board(request).snapshot()

    @get("/board/stream", guards=[ALL_ROLES], media_type="text/event-stream")
    async def board_stream(self, request: AnyRequest) -> ServerSentEvent:
        """The display board's state as server-sent events, pushed on every change (叫号屏)."""
        return ServerSentEvent(_board(request).stream())


ROUTES: list[Any] = [
    WindowController,
    TicketController,
    AppointmentController,
    QueueStateController,
]
