"""The queue (排队叫号) part of the tablet client: windows, tickets, appointments, live state.

Mixed into ``clients.tablet.TabletClient``; import that, not this.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID

import msgspec

from clients.http import ApiError, HttpCore
from schema.api.common import Page, Problem
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

_WINDOWS = "/api/v1/queue/windows"
_TICKETS = "/api/v1/queue/tickets"
_APPOINTMENTS = "/api/v1/queue/appointments"


class QueueApi(HttpCore):
    """Windows are set up by the manager and worked by clerks; the greeter issues tickets and
    books appointments; anyone logged in reads the live queue."""

    # ---------------------------------------------------------------- windows (服务台)

    async def list_windows(
        self,
        *,
        status: WindowStatus | None = None,
        kind: WindowKind | None = None,
        staff: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[WindowOut]:
        """The hall's service windows by code; ``staff`` is a user name."""
        params = {"status": status, "kind": kind, "staff": staff, "limit": limit, "offset": offset}
        return await self.request("GET", _WINDOWS, Page[WindowOut], params=params)

    async def define_window(
        self, body: WindowIn, *, idempotency_key: str | None = None
    ) -> WindowOut:
        """Set up a service window (manager); it starts closed."""
        return await self.request(
            "POST", _WINDOWS, WindowOut, body=body, idempotency_key=idempotency_key
        )

    async def get_window(self, window_id: UUID) -> WindowOut:
        return await self.request("GET", f"{_WINDOWS}/{window_id}", WindowOut)

    async def update_window(
        self,
        window_id: UUID,
        body: WindowUpdateIn | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> WindowOut:
        """Rename a window or change the categories it serves (manager)."""
        return await self.request(
            "PATCH",
            f"{_WINDOWS}/{window_id}",
            WindowOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def open_window(
        self, window_id: UUID, *, idempotency_key: str | None = None
    ) -> WindowOut:
        """Open the window and work at it (clerk)."""
        return await self.request(
            "POST", f"{_WINDOWS}/{window_id}/open", WindowOut, idempotency_key=idempotency_key
        )

    async def pause_window(
        self, window_id: UUID, body: WindowPauseIn, *, idempotency_key: str | None = None
    ) -> WindowOut:
        """Stop calling for a while, with a reason (clerk)."""
        return await self.request(
            "POST",
            f"{_WINDOWS}/{window_id}/pause",
            WindowOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def resume_window(
        self, window_id: UUID, *, idempotency_key: str | None = None
    ) -> WindowOut:
        return await self.request(
            "POST", f"{_WINDOWS}/{window_id}/resume", WindowOut, idempotency_key=idempotency_key
        )

    async def close_window(
        self, window_id: UUID, *, idempotency_key: str | None = None
    ) -> WindowOut:
        return await self.request(
            "POST", f"{_WINDOWS}/{window_id}/close", WindowOut, idempotency_key=idempotency_key
        )

    async def call_next(self, window_id: UUID, *, idempotency_key: str | None = None) -> TicketOut:
        """Call the next waiting ticket to this window (clerk); ``queue_empty`` if none waits."""
        return await self.request(
            "POST", f"{_WINDOWS}/{window_id}/call-next", TicketOut, idempotency_key=idempotency_key
        )

    # ---------------------------------------------------------------- tickets (排队号码)

    async def list_tickets(
        self,
        *,
        day: date | None = None,
        status: TicketStatus | None = None,
        category: ServiceCategory | None = None,
        window_id: UUID | None = None,
        number: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[TicketOut]:
        """One store-local day's tickets (default today) in issue order."""
        params = {
            "day": day,
            "status": status,
            "category": category,
            "window_id": window_id,
            "number": number,
            "limit": limit,
            "offset": offset,
        }
        return await self.request("GET", _TICKETS, Page[TicketOut], params=params)

    async def issue_ticket(
        self, body: TicketIn, *, idempotency_key: str | None = None
    ) -> TicketOut:
        """Issue a queue ticket for a service (greeter); ``ahead`` says how many wait before it."""
        return await self.request(
            "POST", _TICKETS, TicketOut, body=body, idempotency_key=idempotency_key
        )

    async def get_ticket(self, ticket_id: UUID) -> TicketOut:
        return await self.request("GET", f"{_TICKETS}/{ticket_id}", TicketOut)

    async def recall_ticket(
        self, ticket_id: UUID, *, idempotency_key: str | None = None
    ) -> TicketOut:
        """Call the ticket again (clerk); past the recall limit it becomes a no-show."""
        return await self.request(
            "POST", f"{_TICKETS}/{ticket_id}/recall", TicketOut, idempotency_key=idempotency_key
        )

    async def mark_ticket_no_show(
        self, ticket_id: UUID, *, idempotency_key: str | None = None
    ) -> TicketOut:
        """The called customer did not come (clerk)."""
        return await self.request(
            "POST", f"{_TICKETS}/{ticket_id}/no-show", TicketOut, idempotency_key=idempotency_key
        )

    async def start_ticket(
        self, ticket_id: UUID, *, idempotency_key: str | None = None
    ) -> TicketOut:
        """The called customer is at the window: start service (clerk)."""
        return await self.request(
            "POST", f"{_TICKETS}/{ticket_id}/start", TicketOut, idempotency_key=idempotency_key
        )

    async def finish_ticket(
        self, ticket_id: UUID, body: FinishIn, *, idempotency_key: str | None = None
    ) -> TicketOut:
        """End service with an outcome (clerk)."""
        return await self.request(
            "POST",
            f"{_TICKETS}/{ticket_id}/finish",
            TicketOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def transfer_ticket(
        self, ticket_id: UUID, body: TransferIn, *, idempotency_key: str | None = None
    ) -> TicketOut:
        """Send the ticket to another category or window, at the head of its queue."""
        return await self.request(
            "POST",
            f"{_TICKETS}/{ticket_id}/transfer",
            TicketOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def cancel_ticket(
        self, ticket_id: UUID, body: CancelIn | None = None, *, idempotency_key: str | None = None
    ) -> TicketOut:
        """The waiting customer left or gave the ticket up (default reason ``walkout``)."""
        return await self.request(
            "POST",
            f"{_TICKETS}/{ticket_id}/cancel",
            TicketOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def rate_ticket(
        self, ticket_id: UUID, body: RatingIn, *, idempotency_key: str | None = None
    ) -> TicketOut:
        """Record the customer's rating of a finished visit, once; ``forbidden`` for the staff
        member who served it."""
        return await self.request(
            "POST",
            f"{_TICKETS}/{ticket_id}/rating",
            TicketOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    # ---------------------------------------------------------------- appointments (预约)

    async def list_appointments(
        self,
        *,
        day: date | None = None,
        status: AppointmentStatus | None = None,
        category: ServiceCategory | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[AppointmentOut]:
        """One store-local day's appointments (default today) by slot."""
        params = {
            "day": day,
            "status": status,
            "category": category,
            "limit": limit,
            "offset": offset,
        }
        return await self.request("GET", _APPOINTMENTS, Page[AppointmentOut], params=params)

    async def book_appointment(
        self, body: AppointmentIn, *, idempotency_key: str | None = None
    ) -> AppointmentOut:
        return await self.request(
            "POST", _APPOINTMENTS, AppointmentOut, body=body, idempotency_key=idempotency_key
        )

    async def search_appointments(
        self, body: AppointmentSearchIn, *, limit: int | None = None, offset: int | None = None
    ) -> Page[AppointmentOut]:
        """A customer's appointments of a day by phone; the number goes in the body."""
        return await self.request(
            "POST",
            f"{_APPOINTMENTS}/search",
            Page[AppointmentOut],
            body=body,
            params={"limit": limit, "offset": offset},
        )

    async def get_appointment(self, appointment_id: UUID) -> AppointmentOut:
        return await self.request("GET", f"{_APPOINTMENTS}/{appointment_id}", AppointmentOut)

    async def check_in_appointment(
        self, appointment_id: UUID, *, idempotency_key: str | None = None
    ) -> CheckInOut:
        """The customer arrived: check in and get a priority ticket."""
        return await self.request(
            "POST",
            f"{_APPOINTMENTS}/{appointment_id}/check-in",
            CheckInOut,
            idempotency_key=idempotency_key,
        )

    async def cancel_appointment(
        self,
        appointment_id: UUID,
        body: AppointmentCancelIn | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> AppointmentOut:
        """Cancel before check-in."""
        return await self.request(
            "POST",
            f"{_APPOINTMENTS}/{appointment_id}/cancel",
            AppointmentOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def mark_appointment_no_show(
        self, appointment_id: UUID, *, idempotency_key: str | None = None
    ) -> AppointmentOut:
        """The customer missed the slot; allowed after the late check-in limit."""
        return await self.request(
            "POST",
            f"{_APPOINTMENTS}/{appointment_id}/no-show",
            AppointmentOut,
            idempotency_key=idempotency_key,
        )

    # ---------------------------------------------------------------- live state (排队状态)

    async def get_queue_state(self) -> QueueStateOut:
        """The live queue: waiting per category, windows, latest calls, today's totals."""
        return await self.request("GET", "/api/v1/queue/state", QueueStateOut)

    async def get_board(self) -> QueueStateOut:
        """The display board's state, for a display that polls."""
        return await self.request("GET", "/api/v1/queue/board", QueueStateOut)

    async def watch_board(self) -> AsyncIterator[QueueStateOut]:
        """The display board's state, first as it is and then after every change, until the
        server ends the stream (server-sent events; keep-alives are skipped).

        Not retried: a display that loses the stream calls again and gets the current state.
        """
        headers = self._headers({"Accept": "text/event-stream"})
        async with self._http.stream("GET", "/api/v1/queue/board/stream", headers=headers) as r:
            if r.status_code >= 400:
                await r.aread()
                raise ApiError(msgspec.json.decode(r.content, type=Problem))
            event, data = "message", list[str]()
            async for line in r.aiter_lines():
                if line == "":  # a blank line ends one event
                    if event == "state" and data:
                        yield msgspec.json.decode("\n".join(data), type=QueueStateOut)
                    event, data = "message", []
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
