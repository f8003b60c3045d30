"""The baseline: a bare Litestar JSON endpoint, served the same way as the store node."""

from __future__ import annotations

from litestar import Litestar, get, post


@get("/ping", sync_to_thread=False)
def ping() -> dict[str, object]:
    return {"ok": True, "n": 1}


@post("/ping", sync_to_thread=False, status_code=201)
def ping_post(data: dict[str, object]) -> dict[str, object]:
    return data


app = Litestar(route_handlers=[ping, ping_post])
