"""The complaints (投诉) part of the tablet client: intake, handling steps, lists and search.

Mixed into ``clients.tablet.TabletClient``; import that, not this.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from clients.http import HttpCore
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

_COMPLAINTS = "/api/v1/complaints"


class ComplaintsApi(HttpCore):
    """Greeters and clerks take complaints in; clerks handle the ones they own; the manager
    assigns and closes. Tech and admin staff are refused."""

    # ---------------------------------------------------------------- reads

    async def list_complaints(
        self,
        *,
        status: ComplaintStatus | None = None,
        category: Category | None = None,
        channel: Channel | None = None,
        owner_id: UUID | None = None,
        escalation_level: EscalationLevel | None = None,
        overdue: bool | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[ComplaintOut]:
        """Complaints, newest first, with SLA overdue flags as of now; ``date_from`` and
        ``date_to`` bound the store-local day of intake (inclusive)."""
        params = {
            "status": status,
            "category": category,
            "channel": channel,
            "owner_id": owner_id,
            "escalation_level": escalation_level,
            "overdue": overdue,
            "from": date_from,
            "to": date_to,
            "limit": limit,
            "offset": offset,
        }
        return await self.request("GET", _COMPLAINTS, Page[ComplaintOut], params=params)

    async def search_complaints(
        self, body: ComplaintSearchIn, *, limit: int | None = None, offset: int | None = None
    ) -> Page[ComplaintOut]:
        """A customer's complaints by phone; the number goes in the body, never in the URL."""
        return await self.request(
            "POST",
            f"{_COMPLAINTS}/search",
            Page[ComplaintOut],
            body=body,
            params={"limit": limit, "offset": offset},
        )

    async def get_complaint_summary(self) -> ComplaintSummaryOut:
        """How many complaints are unresolved, and how many of those are overdue, now."""
        return await self.request("GET", f"{_COMPLAINTS}/summary", ComplaintSummaryOut)

    async def get_complaint(self, complaint_id: UUID) -> ComplaintDetailOut:
        """One complaint with its timeline."""
        return await self.request("GET", f"{_COMPLAINTS}/{complaint_id}", ComplaintDetailOut)

    # ---------------------------------------------------------------- lifecycle

    async def open_complaint(
        self, body: ComplaintIn, *, idempotency_key: str | None = None
    ) -> ComplaintDetailOut:
        """Take a complaint in (受理); the phone is stored only masked and hashed."""
        return await self.request(
            "POST", _COMPLAINTS, ComplaintDetailOut, body=body, idempotency_key=idempotency_key
        )

    async def _step(
        self,
        complaint_id: UUID,
        step: str,
        body: object,
        idempotency_key: str | None,
    ) -> ComplaintDetailOut:
        return await self.request(
            "POST",
            f"{_COMPLAINTS}/{complaint_id}/{step}",
            ComplaintDetailOut,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def assign_complaint(
        self, complaint_id: UUID, body: AssignIn, *, idempotency_key: str | None = None
    ) -> ComplaintDetailOut:
        """Make a clerk or the manager the owner (manager)."""
        return await self._step(complaint_id, "assign", body, idempotency_key)

    async def respond_to_complaint(
        self, complaint_id: UUID, body: RespondIn, *, idempotency_key: str | None = None
    ) -> ComplaintDetailOut:
        """Record the first response to the customer (the owner or the manager)."""
        return await self._step(complaint_id, "respond", body, idempotency_key)

    async def escalate_complaint(
        self, complaint_id: UUID, body: EscalateIn, *, idempotency_key: str | None = None
    ) -> ComplaintDetailOut:
        """Escalate to the manager, region or HQ; the level only goes up."""
        return await self._step(complaint_id, "escalate", body, idempotency_key)

    async def resolve_complaint(
        self, complaint_id: UUID, body: ResolveIn, *, idempotency_key: str | None = None
    ) -> ComplaintDetailOut:
        """Resolve with a remedy, stating whether the complaint was found justified."""
        return await self._step(complaint_id, "resolve", body, idempotency_key)

    async def record_complaint_feedback(
        self, complaint_id: UUID, body: FeedbackIn, *, idempotency_key: str | None = None
    ) -> ComplaintDetailOut:
        """Record the customer's feedback on the resolution (回访)."""
        return await self._step(complaint_id, "feedback", body, idempotency_key)

    async def close_complaint(
        self, complaint_id: UUID, body: CloseIn | None = None, *, idempotency_key: str | None = None
    ) -> ComplaintDetailOut:
        """Close a resolved complaint (manager)."""
        return await self._step(complaint_id, "close", body, idempotency_key)

    async def reopen_complaint(
        self, complaint_id: UUID, body: ReopenIn, *, idempotency_key: str | None = None
    ) -> ComplaintDetailOut:
        """Reopen a resolved or closed complaint; the resolution clock restarts."""
        return await self._step(complaint_id, "reopen", body, idempotency_key)
