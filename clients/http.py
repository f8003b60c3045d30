"""The HTTP core of hallsync's typed clients: JSON in and out as msgspec types, problem details
as exceptions, and safe retries of writes through ``Idempotency-Key``."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import httpx
import msgspec
from uuid_utils.compat import uuid7

from schema.api.common import Problem

T = TypeVar("T")

_encoder = msgspec.json.Encoder()
_KEYED = frozenset({"POST", "PATCH"})
"""Writes: each carries an Idempotency-Key, so sending one again cannot apply it twice."""
_RETRYABLE = _KEYED | {"GET"}


class ApiError(Exception):
    """The server answered with an RFC 9457 problem; ``problem.code`` is stable."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.status} {problem.code}: {problem.detail}")
        self.problem = problem

    @property
    def status(self) -> int:
        return self.problem.status

    @property
    def code(self) -> str:
        return self.problem.code


class HttpCore:
    """Typed requests against one hallsync server.

    Every write (POST, PATCH) carries an ``Idempotency-Key``; on a network error or a 503 the
    same request is sent again with the same key, so a retry can never record a write twice.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        device: str = "tablet",
        retries: int = 3,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.token = token
        self.retries = retries
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            headers={"X-Device-Id": device},
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self: Any) -> Any:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if extra:
            h.update(extra)
        return h

    async def request(
        self,
        method: str,
        path: str,
        out: type[T],
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> T:
        """Send one request and decode the answer as ``out``; raise ``ApiError`` on a problem."""
        extra: dict[str, str] = {}
        content = None
        if body is not None:
            content = _encoder.encode(body)
            extra["Content-Type"] = "application/json"
        if method in _KEYED:
            extra["Idempotency-Key"] = idempotency_key or str(uuid7())
        query = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = await self._http.request(
                    method, path, content=content, params=query, headers=self._headers(extra)
                )
            except httpx.TransportError:
                if attempt > self.retries or method not in _RETRYABLE:
                    raise
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            if resp.status_code == 503 and attempt <= self.retries and method in _RETRYABLE:
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            break
        if resp.status_code >= 400:
            try:
                problem = msgspec.json.decode(resp.content, type=Problem)
            except msgspec.DecodeError:
                problem = Problem(
                    type="about:blank",
                    title=resp.reason_phrase,
                    status=resp.status_code,
                    detail=resp.text[:500],
                    code="http_error",
                    retryable=resp.status_code in (429, 503),
                )
            raise ApiError(problem)
        return msgspec.json.decode(resp.content, type=out)
