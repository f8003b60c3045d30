"""What every route module uses: the write path, the read path, paging and the node state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from litestar import Request, Response
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy import Connection

from server import idempotency
from server.contact_hash import ContactHasher
from server.domain.context import Ctx
from server.domain.paging import MAX_LIMIT
from server.privacy import is_mobile
from server.store.auth import Roster, StaffUser
from server.store.db import Reader
from server.store.writer import Writer

T = TypeVar("T")

DEVICE_HEADER = "X-Device-Id"

AnyRequest = Request[StaffUser, Any, State]

SEARCH_RECORDS_NOTHING = (
    "a search records nothing (it is a POST only to keep the phone number out of URLs); a "
    "retry searches again"
)
"""What a retried search by phone number does."""


@dataclass
class Node:
    """Everything a request handler needs from the running store node."""

    store_id: str
    writer: Writer
    reader: Reader
    roster: Roster
    contact_key: ContactHasher
    """The chain's contact key: routes that take a phone number compute its token with it."""


def node(request: Request[Any, Any, State]) -> Node:
    n: Node = request.app.state.node
    return n


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


PagingDep = NamedDependency[Paging]
"""Declare a handler argument ``paging: PagingDep`` to get ``?limit=&offset=``."""


def provide_paging(
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="page size")] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=2**31 - 1, description="rows to skip")] = 0,
) -> Paging:
    """``?limit=&offset=`` on every list endpoint."""
    return Paging(limit=limit, offset=offset)


async def submit(
    request: AnyRequest,
    command: Callable[[Ctx], T],
    *,
    status_code: int = 201,
    fingerprinted: bytes | None = None,
) -> Response[T]:
    """Run a write command through the node's writer and answer with its result.

    With an ``Idempotency-Key`` header, a retry of the same request (same user, method, path
    and body) gets the first answer again, marked ``Idempotent-Replayed: true``, and records
    nothing new; the same key on a different request is refused with 422. A route whose body
    holds a phone number passes ``fingerprinted``: the body with the number replaced by its
    token (``idempotency.fingerprint_body``), because the stored fingerprint of the raw body
    would give the number away.
    """
    user = request.user
    idem = await idempotency.of_request(request, user.username, fingerprinted)
    device = request.headers.get(DEVICE_HEADER, "tablet")[:64]
    outcome = await node(request).writer.submit(
        command, actor=user.username, device=device, status_code=status_code, idempotency=idem
    )
    headers = idempotency.REPLAYED_HEADERS if outcome.replayed else {}
    return Response(
        content=outcome.body,  # type: ignore[arg-type]  # pre-encoded JSON of T
        status_code=outcome.status_code,
        media_type="application/json",
        headers=headers,
    )


async def read(request: Request[Any, Any, State], fn: Callable[[Connection], T]) -> T:
    """Run a read-only query function on a pooled connection, off the event loop."""
    return await node(request).reader.run(fn)


async def phone_token(request: Request[Any, Any, State], phone: str | None) -> str | None:
    """The matching token of a customer's phone number from a request, computed off the event
    loop with bounded concurrency (``server.contact_hash``); None for no number or one that is
    not a mobile number (the command then refuses it with 422 naming the field)."""
    if not phone or not is_mobile(phone):
        return None
    return await node(request).contact_key.token_async(phone)


def read_small(request: Request[Any, Any, State], fn: Callable[[Connection], T]) -> T:
    """Run a small, bounded read (one thing by its key, the live queue state) right away on
    the event loop: cheaper than a worker thread for so little work (``Reader.run_here``)."""
    return node(request).reader.run_here(fn)
