"""Tablet routes of complaints (投诉): intake, handling steps, lists, search and the summary.

Roles: greeters and clerks take complaints in and read them; clerks handle the ones they own
(respond, escalate, resolve, reopen); the manager assigns and closes, and may do everything.
Technical support and general admin have no business with customer complaints and their
(masked) contact data, so they are refused.

Status codes: taking a complaint in answers 201; every handling step answers 200. Day ranges
are ``from``/``to``: store-local days of intake, both inclusive.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from schema.api.common import Page
from schema.api.complaints import (
    AssignIn,
    CloseIn,
    ComplaintDetailOut,
    ComplaintIn,
    ComplaintOut,
    ComplaintSearchIn,
    ComplaintSummaryOut,
    EscalateIn,
    FeedbackIn,
    ReopenIn,
    ResolveIn,
    RespondIn,
)
from schema.events.complaints import Category, Channel, ComplaintStatus, EscalationLevel
from server.domain import complaints as domain
from server.domain.calendar import check_date_range
from server.domain.paging import paginate
from server.idempotency import fingerprint_body
from server.store.api.common import (
    SEARCH_RECORDS_NOTHING,
    AnyRequest,
    PagingDep,
    node,
    phone_token,
    read,
    submit,
)
from server.store.auth import requires
from server.web.contract import key_not_used

READERS = requires("greeter", "clerk")
"""Who takes complaints in and looks them up: 前台接待, 业务员 (and the manager)."""
HANDLERS = requires("clerk")
"""Who works on complaints they own: 业务员 (and the manager, on any complaint)."""
MANAGER = requires()
"""Assigning and closing are the manager's (厅长)."""


class ComplaintController(Controller):
    path = "/api/v1/complaints"
    tags = ["complaints"]

    @post("/", guards=[READERS], status_code=201)
    async def open_complaint(
        self, request: AnyRequest, data: JSONBody[ComplaintIn]
    ) -> Response[ComplaintDetailOut]:
        """Take in a complaint (受理投诉); the customer's phone is stored only masked and hashed."""
        token = await phone_token(request, data.customer_phone)
        return await submit(
            request,
            lambda ctx: domain.open_complaint(ctx, data, phone_token=token),
            fingerprinted=fingerprint_body(data, customer_phone=token),
        )

    @get("/", guards=[READERS])
    async def list_complaints(
        self,
        request: AnyRequest,
        paging: PagingDep,
        status: Annotated[
            ComplaintStatus | None, QueryParameter(description="filter by status")
        ] = None,
        category: Annotated[Category | None, QueryParameter(description="filter by category")] = (
            None
        ),
        channel: Annotated[Channel | None, QueryParameter(description="filter by channel")] = None,
        owner_id: Annotated[UUID | None, QueryParameter(description="filter by owner")] = None,
        escalation_level: Annotated[
            EscalationLevel | None, QueryParameter(description="filter by escalation level")
        ] = None,
        overdue: Annotated[
            bool | None,
            QueryParameter(description="true: overdue for first response or resolution now"),
        ] = None,
        date_from: Annotated[
            date | None,
            QueryParameter(name="from", description="opened on or after this store-local day"),
        ] = None,
        date_to: Annotated[
            date | None,
            QueryParameter(name="to", description="opened on or before this store-local day"),
        ] = None,
    ) -> Page[ComplaintOut]:
        """Complaints (投诉列表), newest first, with SLA overdue flags as of now."""
        check_date_range(date_from, date_to)
        n = node(request)
        now = n.writer.clock()
        query = domain.list_complaints(
            n.store_id,
            now,
            status=status,
            category=category,
            channel=channel,
            owner_id=owner_id,
            escalation_level=escalation_level,
            overdue=overdue,
            date_from=date_from,
            date_to=date_to,
        )
        return await read(
            request,
            lambda c: paginate(
                c, query, domain.complaint_out(now), limit=paging.limit, offset=paging.offset
            ),
        )

    @post("/search", guards=[READERS], status_code=200, opt=key_not_used(SEARCH_RECORDS_NOTHING))
    async def search(
        self, request: AnyRequest, paging: PagingDep, data: JSONBody[ComplaintSearchIn]
    ) -> Page[ComplaintOut]:
        """A customer's complaints by phone (按手机号查询投诉); the number stays out of URLs."""
        n = node(request)
        now = n.writer.clock()
        domain.check_customer_phone(data.customer_phone)
        token = await phone_token(request, data.customer_phone)
        assert token is not None  # checked just above
        query = domain.search_by_phone(n.store_id, token)
        return await read(
            request,
            lambda c: paginate(
                c, query, domain.complaint_out(now), limit=paging.limit, offset=paging.offset
            ),
        )

    @get("/summary", guards=[READERS])
    async def summary(self, request: AnyRequest) -> ComplaintSummaryOut:
        """Unresolved and overdue complaints now (未结投诉 · 超时投诉)."""
        n = node(request)
        now = n.writer.clock()
        counts = await read(request, lambda c: domain.open_and_overdue(c, n.store_id, now))
        return ComplaintSummaryOut(open=counts[0], overdue=counts[1])

    @get("/{complaint_id:uuid}", guards=[READERS])
    async def get_complaint(
        self, request: AnyRequest, complaint_id: FromPath[UUID]
    ) -> ComplaintDetailOut:
        """One complaint with its timeline (投诉详情 · 处理记录)."""
        n = node(request)
        now = n.writer.clock()
        return await read(request, lambda c: domain.get_complaint(c, n.store_id, complaint_id, now))

    @post("/{complaint_id:uuid}/assign", guards=[MANAGER], status_code=200)
    async def assign(
        self, request: AnyRequest, complaint_id: FromPath[UUID], data: JSONBody[AssignIn]
    ) -> Response[ComplaintDetailOut]:
        """Assign an owner (分派处理人), a clerk or the manager (manager)."""
        return await submit(
            request, lambda ctx: domain.assign(ctx, complaint_id, data.owner_id), status_code=200
        )

    @post("/{complaint_id:uuid}/respond", guards=[HANDLERS], status_code=200)
    async def respond(
        self, request: AnyRequest, complaint_id: FromPath[UUID], data: JSONBody[RespondIn]
    ) -> Response[ComplaintDetailOut]:
        """Record the first response to the customer (首次响应), by the owner or the manager."""
        return await submit(
            request, lambda ctx: domain.respond(ctx, complaint_id, data.note), status_code=200
        )

    @post("/{complaint_id:uuid}/escalate", guards=[HANDLERS], status_code=200)
    async def escalate(
        self, request: AnyRequest, complaint_id: FromPath[UUID], data: JSONBody[EscalateIn]
    ) -> Response[ComplaintDetailOut]:
        """Escalate to the manager, region or HQ (升级); the level only goes up."""
        return await submit(
            request, lambda ctx: domain.escalate(ctx, complaint_id, data), status_code=200
        )

    @post("/{complaint_id:uuid}/resolve", guards=[HANDLERS], status_code=200)
    async def resolve(
        self, request: AnyRequest, complaint_id: FromPath[UUID], data: JSONBody[ResolveIn]
    ) -> Response[ComplaintDetailOut]:
        """Resolve with a remedy (解决 · 补救措施), stating whether it was verified (核实)."""
        return await submit(
            request, lambda ctx: domain.resolve(ctx, complaint_id, data), status_code=200
        )

    @post("/{complaint_id:uuid}/feedback", guards=[READERS], status_code=200)
    async def feedback(
        self, request: AnyRequest, complaint_id: FromPath[UUID], data: JSONBody[FeedbackIn]
    ) -> Response[ComplaintDetailOut]:
        """Record the customer's feedback on the resolution (客户回访评价)."""
        return await submit(
            request, lambda ctx: domain.record_feedback(ctx, complaint_id, data), status_code=200
        )

    @post("/{complaint_id:uuid}/close", guards=[MANAGER], status_code=200)
    async def close(
        self,
        request: AnyRequest,
        complaint_id: FromPath[UUID],
        data: JSONBody[CloseIn | None] = None,
    ) -> Response[ComplaintDetailOut]:
        """Close a resolved complaint (结案) (manager)."""
        note = (data or CloseIn()).note
        return await submit(
            request, lambda ctx: domain.close(ctx, complaint_id, note), status_code=200
        )

    @post("/{complaint_id:uuid}/reopen", guards=[HANDLERS], status_code=200)
    async def reopen(
        self, request: AnyRequest, complaint_id: FromPath[UUID], data: JSONBody[ReopenIn]
    ) -> Response[ComplaintDetailOut]:
        """Reopen a resolved or closed complaint (重新打开); the resolution clock restarts."""
        return await submit(
            request, lambda ctx: domain.reopen(ctx, complaint_id, data.reason), status_code=200
        )


ROUTES = [ComplaintController]
