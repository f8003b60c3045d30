"""What the sync websocket is, said once: its path, and its description for central's OpenAPI
document (Litestar leaves websockets out of OpenAPI), made from the frames and errors themselves
so it cannot drift from them."""

from __future__ import annotations

from typing import Any, get_args

import msgspec

from sync.errors import BY_CODE
from sync.frames import MAX_FRAME, ClientFrame, ServerFrame

SYNC_PATH = "/sync/v1"
"""Where central serves the sync websocket."""


def _frames(union: Any) -> str:
    """One line per frame type of ``union``: its tag, fields and what it means."""
    lines = []
    for frame in get_args(union):
        fields = ", ".join(f.name for f in msgspec.structs.fields(frame))
        meaning = (frame.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        meaning = meaning.replace("``", "`")  # reStructuredText to Markdown
        lines.append(f"- `{frame.__struct_config__.tag}` ({fields}): {meaning}")
    return "\n".join(lines)


def _close_codes() -> str:
    return "\n".join(
        f"- {error.close_code} `{error.code}`{' (reconnect later)' if error.retryable else ''}"
        for error in BY_CODE.values()
    )


PROTOCOL = f"""The sync websocket of store nodes: this GET stands for its upgrade request
(Litestar leaves websockets out of OpenAPI). Sent without `Upgrade: websocket`, it answers 426.

**Authentication.** `Authorization: Bearer <credential>`, the store's sync credential from
`POST /api/v1/enroll`. An unknown or revoked credential refuses the upgrade with 401, and 503
when central cannot check credentials now: problem details where the server can answer a
websocket upgrade with an HTTP status, else a close code (4001, 1013) before any frame. A
credential revoked or replaced while connected closes the socket with 4001.

**Frames.** Binary messages, each one msgpack map whose `t` names its type, at most
{MAX_FRAME // (1024 * 1024)} MiB (a text message or a larger one closes the connection). The
store opens with `hello`, naming its protocol and event schema versions (central accepts its own
and the previous ones); central answers `welcome` with where the upload resumes. The store then
pushes its events in `seq` order (each event the msgpack bytes it logged) and central acks the
highest contiguous `seq` it holds durably, or asks for a resend from a gap. Central sends the HQ
events addressed to the store in `hq_batch` frames (`items`: `[cursor, event]` pairs), which
the store acks with `hq_ack` once applied. Unknown fields are ignored.

Store to central:
{_frames(ClientFrame)}

Central to store:
{_frames(ServerFrame)}

**Closing.** Either side may send `error` and close; the close code says why:
{_close_codes()}
"""
"""The websocket as central's OpenAPI document describes it (Markdown)."""
