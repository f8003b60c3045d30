"""The store node's HTTP calls to central: enrolling, and reading back the store's own log.

Everything the node asks central outside the sync websocket goes through ``CentralClient``:
the base URL (``central_address.http_url``), the credential, the timeout, the wire types of
``schema.api.enrollment``, and one translation of failures into hallsync errors:

- central cannot be reached, or fails (5xx): ``CentralUnreachable`` (retryable);
- central refuses the credential or code (401, 403): ``Unauthorized``;
- any other refusal, or an answer the node cannot read: ``CentralRefused``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

import httpx
import msgspec

from schema.api.enrollment import ENROLL_PATH, RESTORE_PATH, EnrollIn, EnrollOut, RestorePage
from server.errors import CentralRefused, CentralUnreachable, Unauthorized
from server.store.central_address import Enrollment, http_url
from server.store.node import STORE_ID

TIMEOUT = 60.0
"""Seconds a call may take: a restore page of thousands of events on a slow link."""

_enroll_out = msgspec.json.Decoder(EnrollOut)
_restore_page = msgspec.msgpack.Decoder(RestorePage)
_enroll_in = msgspec.json.Encoder()
_JSON = {"Content-Type": "application/json"}


class CentralClient:
    """A connection to central for a node's HTTP calls; use it as a context manager.

    ``credential`` is the node's sync credential, needed for everything but ``enroll``.
    ``transport`` replaces the network in tests (``httpx.MockTransport``).
    """

    def __init__(
        self,
        central_url: str,
        *,
        credential: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.base_url = http_url(central_url)
        self._credential = credential
        self._http = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout)

    @classmethod
    def enrolled(
        cls, enrollment: Enrollment, *, transport: httpx.BaseTransport | None = None
    ) -> CentralClient:
        """A client for the central a node is enrolled with, signed in with its credential."""
        return cls(enrollment.central_url, credential=enrollment.credential, transport=transport)

    def __enter__(self) -> CentralClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------ the calls

    def enroll(
        self, code: str, *, restore: bool = False, existing: tuple[str, str] | None = None
    ) -> EnrollOut:
        """Trade a one-time enrollment code for the store's identity and sync credential.

        ``existing`` is ``(store_id, tz)`` of a node that already is a store: central refuses a
        code of another store, or a store it registered in another time zone."""
        store_id, tz = existing if existing is not None else (None, None)
        body = _enroll_in.encode(EnrollIn(code=code, restore=restore, store_id=store_id, tz=tz))
        try:
            response = self._call(
                "enrollment", lambda: self._http.post(ENROLL_PATH, content=body, headers=_JSON)
            )
        except CentralRefused as exc:
            if exc.extra.get("status") in (404, 405):
                raise CentralRefused(f"enrollment: {self._not_central()}") from exc
            raise
        try:
            out = _enroll_out.decode(response.content)
        except msgspec.DecodeError as exc:  # ValidationError is one
            raise CentralRefused(f"enrollment: central's answer is unreadable ({exc})") from exc
        if not STORE_ID.match(out.store_id):
            raise CentralRefused(f"enrollment: central sent an invalid store id {out.store_id!r}")
        return out

    def restore_page(self, after: int, limit: int) -> RestorePage:
        """Up to ``limit`` events of the node's store after seq ``after``, as central holds
        them, and how far central holds the store's log (``high_water``)."""
        if self._credential is None:
            raise RuntimeError("restore_page needs the node's credential")
        headers = {"Authorization": f"Bearer {self._credential}"}
        params = {"after": after, "limit": limit}
        response = self._call(
            "restore", lambda: self._http.get(RESTORE_PATH, params=params, headers=headers)
        )
        try:
            return _restore_page.decode(response.content)
        except msgspec.DecodeError as exc:
            raise CentralRefused(f"restore: central's page is unreadable ({exc})") from exc

    # ------------------------------------------------------------ failures

    @staticmethod
    def _call(what: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        """Run one request, turning its failures into hallsync errors."""
        try:
            response = send()
        except httpx.TransportError as exc:
            raise CentralUnreachable(f"{what}: central cannot be reached ({exc})") from exc
        if response.is_success:
            return response
        try:
            detail = str(response.json().get("detail") or response.text)
        except (ValueError, AttributeError):
            detail = response.text
        detail = f"{what}: {detail[:300] or response.reason_phrase} (HTTP {response.status_code})"
        if response.status_code in (401, 403):
            raise Unauthorized(detail)
        if response.status_code >= 500:
            raise CentralUnreachable(detail)
        raise CentralRefused(detail, status=response.status_code)

    def _not_central(self) -> str:
        """Why a server without central's enrollment route is not central: most often the URL
        of a store node (its ``/ready`` names its store), given by mistake."""
        try:
            ready = self._http.get("/ready").json()
        except (httpx.HTTPError, ValueError):
            ready = None
        if isinstance(ready, dict) and ready.get("store_id"):
            return f"{self._http.base_url} is store node {ready['store_id']}, not central"
        return f"{self._http.base_url} is not a hallsync central (it has no enrollment endpoint)"
