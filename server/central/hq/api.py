"""The HQ API of central: login, the stores' sync status, quarantine and its replay, store
enrollment, and each store's KPIs of a day from what it synced.

Region-scoped users see only the stores of their regions (and their quarantined events);
creating, re-coding and revoking stores and replaying quarantined events is for admins.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from schema.api.common import Page
from schema.api.hq_stores import (
    EnrollmentCode,
    QuarantinedEvent,
    QuarantineReplayed,
    QuarantineReplayOut,
    StoreIn,
    StoreSyncStatus,
)
from schema.api.hq_users import HqLoginIn, HqLoginOut
from schema.api.kpis import StoreKpisOut
from schema.tables.sync import central_quarantine, central_stores
from server.central import db, enrollment, metrics
from server.central.context import central
from server.central.fold import quarantine
from server.central.hq.auth import ADMIN, ANY_HQ_ROLE, TOKEN_TTL, HqUser, find_login
from server.domain.kpis import store_kpis
from server.domain.paging import MAX_LIMIT, paginate
from server.errors import Forbidden, NotFound
from server.web.contract import key_not_used, problems
from server.web.logins import LOGIN_RECORDS_NOTHING

HqRequest = Request[HqUser, Any, State]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=2**31 - 1, description="rows to skip")]


def store_status(row: Any, now: datetime) -> StoreSyncStatus:
    """One store's sync progress, with the lag HQ watches."""
    pending = max(0, row.local_seq - row.high_water)
    since = row.last_ingest_at or row.enrolled_at
    lag = 0.0 if pending == 0 else (now - since).total_seconds() if since else None
    return StoreSyncStatus(
        store_id=row.store_id,
        name=row.name,
        region=row.region,
        tz=row.tz,
        status=row.status,
        high_water=row.high_water,
        local_seq=row.local_seq,
        pending=pending,
        hq_acked=row.hq_acked,
        quarantined=row.quarantined,
        enrolled_at=row.enrolled_at,
        last_seen_at=row.last_seen_at,
        last_ingest_at=row.last_ingest_at,
        lag_seconds=lag,
    )


def _scope(user: HqUser, region: str | None) -> Any:
    """The WHERE clause on ``central_stores`` for what ``user`` may see (and asked for)."""
    if region is not None:
        if not user.sees(region):
            raise Forbidden(f"region {region!r} is outside your regions", region=region)
        return central_stores.c.region == region
    return user.store_scope()


class HqAuthController(Controller):
    path = "/api/v1/hq/auth"
    tags = ["hq"]

    @post(
        "/login",
        status_code=200,
        security=[],
        responses=problems(401, 429),
        opt=key_not_used(LOGIN_RECORDS_NOTHING),
    )
    async def login(
        self, request: Request[Any, Any, State], data: JSONBody[HqLoginIn]
    ) -> HqLoginOut:
        """Exchange an HQ user name and password for a bearer token."""
        c = central(request)

        async def find() -> tuple[HqUser, str] | None:
            async with db.read(c.engine) as conn:
                return await find_login(conn, data.username)

        user = await c.logins.verify(request, data.username, data.password, find)
        token = request.app.state.jwt_auth.create_token(
            identifier=user.username, token_extras={"aud_kind": "hq", "role": user.role}
        )
        return HqLoginOut(
            access_token=token,
            token_type="bearer",
            expires_in=int(TOKEN_TTL.total_seconds()),
            username=user.username,
            role=user.role,  # type: ignore[arg-type]
            regions=list(user.regions),
        )


class HqStoresController(Controller):
    path = "/api/v1/hq"
    tags = ["hq"]

    @get("/stores", guards=[ANY_HQ_ROLE])
    async def list_stores(
        self,
        request: HqRequest,
        region: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[StoreSyncStatus]:
        """Every store the user may see with its sync progress (pending events, lag, quarantine),
        most pending first."""
        c = central(request)
        query = sa.select(central_stores).where(_scope(request.user, region))
        if status is not None:
            query = query.where(central_stores.c.status == status)
        query = query.order_by(
            (central_stores.c.local_seq - central_stores.c.high_water).desc(),
            central_stores.c.store_id,
        )
        now = c.clock()
        return await db.run_read(
            c.engine,
            lambda conn: paginate(
                conn, query, lambda r: store_status(r, now), limit=limit, offset=offset
            ),
        )

    @get("/quarantine", guards=[ANY_HQ_ROLE])
    async def list_quarantine(
        self,
        request: HqRequest,
        store_id: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[QuarantinedEvent]:
        """Uploaded events central could not apply, newest first (kept raw for a replay)."""
        c = central(request)
        q = central_quarantine
        query = (
            sa.select(
                q.c.quarantine_id,
                q.c.store_id,
                q.c.seq,
                q.c.event_type,
                q.c.reason,
                sa.func.length(q.c.raw).label("size"),
                q.c.received_at,
                q.c.replayed_at,
            )
            .join(central_stores, central_stores.c.store_id == q.c.store_id)
            .where(_scope(request.user, region))
            .order_by(q.c.quarantine_id.desc())
        )
        if store_id is not None:
            query = query.where(q.c.store_id == store_id)
        return await db.run_read(
            c.engine,
            lambda conn: paginate(
                conn,
                query,
                lambda r: QuarantinedEvent(**r._asdict()),
                limit=limit,
                offset=offset,
            ),
        )

    @post(
        "/quarantine/replay",
        guards=[ADMIN],
        status_code=200,
        opt=key_not_used(
            "a replay takes up only entries not replayed yet, so a retry replays none twice"
        ),
    )
    async def replay_quarantine(
        self,
        request: HqRequest,
        store_id: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        after: Annotated[
            int, QueryParameter(ge=0, le=2**63 - 1, description="start after this quarantine_id")
        ] = 0,
        limit: Annotated[
            int, QueryParameter(ge=1, le=quarantine.MAX_REPLAY, description="entries to take up")
        ] = quarantine.MAX_REPLAY,
    ) -> QuarantineReplayOut:
        """Replay quarantined events (admin), oldest first: each one this build can now read is
        stored and folded exactly as if just uploaded, and marked replayed; the others stay,
        with this build's reason. Filters as the listing; idempotent (replayed entries are not
        taken up again). ``next_after`` says where to continue."""
        c = central(request)
        scope = _scope(request.user, region)
        now = c.clock()
        async with db.write(c.engine) as conn:
            out = await conn.run_sync(
                lambda s: quarantine.replay(
                    s, scope=scope, now=now, store_id=store_id, after=after, limit=limit
                )
            )
        metrics.EVENTS_INGESTED.inc(out.applied)
        return out

    @post(
        "/quarantine/{quarantine_id:int}/replay",
        guards=[ADMIN],
        status_code=200,
        opt=key_not_used("a retry answers `replayed_before` and changes nothing"),
    )
    async def replay_quarantined_event(
        self, request: HqRequest, quarantine_id: FromPath[int]
    ) -> QuarantineReplayed:
        """Replay one quarantined event (admin); an entry replayed before answers
        ``replayed_before`` and changes nothing."""
        c = central(request)
        scope = request.user.store_scope()
        now = c.clock()
        async with db.write(c.engine) as conn:
            out = await conn.run_sync(
                lambda s: quarantine.replay(s, scope=scope, now=now, quarantine_id=quarantine_id)
            )
        if not out.items:
            raise NotFound(f"no quarantined event {quarantine_id}")
        metrics.EVENTS_INGESTED.inc(out.applied)
        return out.items[0]

    @get("/stores/{store_id:str}/kpis", guards=[ANY_HQ_ROLE])
    async def kpis(
        self,
        request: HqRequest,
        store_id: FromPath[str],
        day: Annotated[
            date | None,
            QueryParameter(description="store-local day; default: the store's today"),
        ] = None,
    ) -> StoreKpisOut:
        """One store's KPIs of a day (今日指标), computed on central from what the store has
        synced, by the code the hall's node uses: the same figures its manager sees, as of the
        store's last upload (``GET /api/v1/hq/stores`` shows how far behind that is)."""
        c = central(request)
        now = c.clock()
        async with db.read(c.engine) as conn:
            await self._visible(conn, request.user, store_id)
            try:
                return await conn.run_sync(lambda s: store_kpis(s, store_id, now, day))
            except NotFound:
                raise NotFound(
                    f"store {store_id} has not synced its set-up yet", store_id=store_id
                ) from None

    @post(
        "/stores",
        guards=[ADMIN],
        status_code=201,
        opt=key_not_used(
            "central keeps only a hash of the enrollment code, so it cannot answer a retry "
            "with it; a retry is refused with 409 (the store exists) and adds nothing: get a "
            "new code with `POST /api/v1/hq/stores/{store_id}/enrollment-code`"
        ),
    )
    async def create_store(self, request: HqRequest, data: JSONBody[StoreIn]) -> EnrollmentCode:
        """Register a store and get its one-time enrollment code (admin)."""
        _scope(request.user, data.region)
        c = central(request)
        async with db.write(c.engine) as conn:
            await enrollment.create_store(
                conn, store_id=data.store_id, name=data.name, region=data.region, tz=data.tz
            )
            return await enrollment.issue_code(conn, data.store_id, now=c.clock())

    @post(
        "/stores/{store_id:str}/enrollment-code",
        guards=[ADMIN],
        status_code=201,
        opt=key_not_used(
            "each call issues a new code and retires the older ones, so after a retry one code "
            "works: the last one answered"
        ),
    )
    async def new_code(self, request: HqRequest, store_id: FromPath[str]) -> EnrollmentCode:
        """A new one-time code for a store, e.g. for a replaced node (admin). Older unused codes
        stop working."""
        c = central(request)
        async with db.write(c.engine) as conn:
            await self._visible(conn, request.user, store_id)
            return await enrollment.issue_code(conn, store_id, now=c.clock())

    @post(
        "/stores/{store_id:str}/revoke",
        guards=[ADMIN],
        status_code=200,
        opt=key_not_used("revoking a revoked store changes nothing; a retry answers the same"),
    )
    async def revoke(self, request: HqRequest, store_id: FromPath[str]) -> StoreSyncStatus:
        """Lock a store out of sync and restore for good (admin)."""
        c = central(request)
        now = c.clock()
        async with db.write(c.engine) as conn:
            await self._visible(conn, request.user, store_id)
            await enrollment.revoke(conn, store_id, now=now)
            row = (
                await conn.execute(
                    sa.select(central_stores).where(central_stores.c.store_id == store_id)
                )
            ).one()
        return store_status(row, now)

    @staticmethod
    async def _visible(conn: Any, user: HqUser, store_id: str) -> None:
        region = (
            await conn.execute(
                sa.select(central_stores.c.region).where(central_stores.c.store_id == store_id)
            )
        ).scalar()
        if region is None or not user.sees(region):
            raise NotFound(f"no store {store_id}")


ROUTES = [HqAuthController, HqStoresController]
