"""Sync on the store node: the ports of ``sync.ports`` over the node's database, and the
background service that keeps the node synced while ``hallsync store serve`` runs.

- ``NodeOutbox`` reads the node's own log (a read connection, never the writer).
- ``NodeHqSink`` applies an HQ batch as one writer command: ``hq_log`` rows, the fold of each
  HQ event into the projections (with ``store_id`` set to this store), and
  ``sync_state.hq_cursor``, all in one transaction. An HQ event the node cannot read is kept in
  ``hq_log`` and skipped, never allowed to wedge the node; one its own history makes illegal is
  kept there too, unapplied, and recorded as a conflict for review (``sync.conflict_recorded``
  in the node's log, which syncs up like any other store event).
- ``NodeProgress`` keeps ``sync_state`` (acked seq, last attempt/success/error, quarantined).
- ``SyncService`` runs ``run_forever`` as a task, wakes it on every commit and answers the
  status page.

The enrollment (central URL and credential) lives in ``node_meta``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection

from schema.api.sync import SyncStatusOut
from schema.events import Event, decode, tag_of
from schema.events.envelope import peek
from schema.tables.core import events, node_meta
from schema.tables.sync import hq_log, sync_state
from server.domain import conflicts
from server.domain.context import Ctx, load_settings
from server.settings import SyncSettings
from server.store.central_address import Enrollment
from server.store.db import Reader
from server.store.writer import Writer
from sync.frames import HqItem
from sync.ports import Ports
from sync.progress import LinkState, OnProgress, SyncOptions, SyncResult
from sync.store_ws import run_forever, run_once

log = logging.getLogger(__name__)

META_CENTRAL_URL = "central_url"
META_CREDENTIAL = "sync_credential"
ACTOR, DEVICE = "sync", "node"

Observer = Callable[[list[Event]], None]


# ------------------------------------------------------------------ enrollment


def read_enrollment(conn: Connection) -> Enrollment | None:
    """The node's enrollment from ``node_meta``; None when it was never enrolled."""
    rows = dict(
        conn.execute(
            sa.select(node_meta.c.key, node_meta.c.value).where(
                node_meta.c.key.in_([META_CENTRAL_URL, META_CREDENTIAL])
            )
        ).all()
    )
    if META_CENTRAL_URL not in rows or META_CREDENTIAL not in rows:
        return None
    return Enrollment(rows[META_CENTRAL_URL], rows[META_CREDENTIAL])


# ------------------------------------------------------------------ sync_state


def read_sync_state(conn: Connection, store_id: str) -> Any:
    """The node's ``sync_state`` row, or None before the first sync."""
    return conn.execute(sa.select(sync_state).where(sync_state.c.store_id == store_id)).first()


def save_sync_state(conn: Connection, store_id: str, **values: Any) -> None:
    """Update the node's ``sync_state`` row, creating it first if needed (in the caller's
    write transaction)."""
    if read_sync_state(conn, store_id) is None:
        conn.execute(
            sync_state.insert().values(store_id=store_id, acked_seq=0, hq_cursor=0, quarantined=0)
        )
    if values:
        conn.execute(sync_state.update().where(sync_state.c.store_id == store_id).values(values))


def max_seq(conn: Connection, store_id: str) -> int:
    newest = conn.execute(
        sa.select(sa.func.max(events.c.seq)).where(events.c.store_id == store_id)
    ).scalar()
    return int(newest or 0)


# ------------------------------------------------------------------ ports


class NodeOutbox:
    """The node's log as ``sync.ports.Outbox``, read on pooled read connections."""

    def __init__(self, reader: Reader, store_id: str) -> None:
        self.reader, self.store_id = reader, store_id

    def max_seq(self) -> int:
        return self.reader.run_sync(lambda c: max_seq(c, self.store_id))

    def read(self, after_seq: int, max_count: int, max_bytes: int) -> list[tuple[int, bytes]]:
        query = (
            sa.select(events.c.seq, events.c.body)
            .where(events.c.store_id == self.store_id, events.c.seq > after_seq)
            .order_by(events.c.seq)
            .limit(max_count)
        )
        rows = self.reader.run_sync(lambda c: c.execute(query).all())
        out: list[tuple[int, bytes]] = []
        size = 0
        for seq, body in rows:
            size += len(body)
            if out and size > max_bytes:
                break
            out.append((seq, bytes(body)))
        return out


def _raw_type(raw: bytes) -> str:
    """The ``type`` of an event the node cannot decode, if its msgpack map is readable."""
    kind = peek(raw).type
    return kind[:64] if kind else "unreadable"


def apply_hq_batch(ctx: Ctx, items: Iterable[HqItem], upto: int) -> list[Event]:
    """Writer command: record and fold HQ events, and move ``hq_cursor`` to ``upto``.

    Items at or below the stored cursor were applied before and are skipped, so a batch
    delivered twice changes nothing. An HQ event the store's own history makes illegal is not
    folded: it is recorded as a conflict (``server.domain.conflicts``), in this transaction.
    Returns the events folded (for the node's observers).
    """
    conn, store_id = ctx.conn, ctx.store_id
    state = read_sync_state(conn, store_id)
    cursor = state.hq_cursor if state is not None else 0
    if upto <= cursor:
        return []
    folded: list[Event] = []
    for item in items:
        if item.cursor <= cursor:
            continue
        raw = bytes(item.event)
        after_seq = ctx.log.next_seq - 1  # a conflict recorded for an earlier item moved it
        try:
            event: Event | None = msgspec.structs.replace(decode(raw), store_id=store_id)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            event = None
            log.warning(
                "HQ event at cursor %d not understood, kept unapplied: %s", item.cursor, exc
            )
        kind = tag_of(event) if event is not None else _raw_type(raw)
        if event is not None:
            # Whatever the store does next happened after this HQ fact: order it so (HLC).
            ctx.log.clock.observe(event.hlc, int(ctx.now.timestamp() * 1000))
            if conflicts.apply_hq_event(ctx, event, item.cursor):
                folded.append(event)
        conn.execute(
            hq_log.insert().values(
                store_id=store_id,
                cursor=item.cursor,
                type=kind,
                body=raw,
                applied_at=ctx.now,
                applied_after_seq=after_seq,
                hlc=event.hlc if event is not None else None,
            )
        )
    save_sync_state(conn, store_id, hq_cursor=upto)
    return folded


class NodeHqSink:
    """``sync.ports.HqSink`` over the node's writer."""

    def __init__(self, writer: Writer, reader: Reader, observers: Iterable[Observer] = ()) -> None:
        self.writer, self.reader = writer, reader
        self.observers = list(observers)
        """Told of folded HQ events after commit, like ``Writer.on_commit`` (roster, board)."""

    def cursor(self) -> int:
        state = self.reader.run_sync(lambda c: read_sync_state(c, self.writer.store_id))
        return int(state.hq_cursor) if state is not None else 0

    async def apply(self, items: list[HqItem], upto: int) -> None:
        folded: list[Event] = []

        def command(ctx: Ctx) -> None:
            folded.clear()
            folded.extend(apply_hq_batch(ctx, items, upto))

        await self.writer.submit(command, actor=ACTOR, device=DEVICE)
        for observer in self.observers if folded else ():
            try:
                observer(folded)
            except Exception:
                log.exception("observer of HQ events failed")


class NodeProgress:
    """``sync.ports.SyncProgress`` that keeps the node's ``sync_state`` row."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    async def _save(self, fn: Callable[[Ctx, Any], dict[str, Any]]) -> None:
        def command(ctx: Ctx) -> None:
            state = read_sync_state(ctx.conn, ctx.store_id)
            save_sync_state(ctx.conn, ctx.store_id, **fn(ctx, state))

        await self.writer.submit(command, actor=ACTOR, device=DEVICE)

    async def attempted(self) -> None:
        await self._save(lambda ctx, _s: {"last_attempt_at": ctx.now})

    async def saved(
        self, acked_seq: int, hq_cursor: int, quarantined: int, *, caught_up: bool
    ) -> None:
        def values(ctx: Ctx, state: Any) -> dict[str, Any]:
            out: dict[str, Any] = {"acked_seq": acked_seq}
            if quarantined:
                out["quarantined"] = (state.quarantined if state is not None else 0) + quarantined
            if caught_up:
                out.update(last_success_at=ctx.now, last_error=None)
            return out

        await self._save(values)

    async def failed(self, error: BaseException) -> None:
        code = getattr(error, "code", type(error).__name__)
        message = f"{code}: {error}"[:1000]
        await self._save(lambda _c, _s: {"last_error": message})


# ------------------------------------------------------------------ the service


def read_status(
    conn: Connection, store_id: str, enrollment: Enrollment | None, connected: bool
) -> SyncStatusOut:
    local = max_seq(conn, store_id)
    state = read_sync_state(conn, store_id)
    acked = int(state.acked_seq) if state is not None else 0
    return SyncStatusOut(
        enrolled=enrollment is not None,
        central_url=enrollment.central_url if enrollment is not None else None,
        local_seq=local,
        acked_seq=acked,
        pending=max(0, local - acked),
        hq_cursor=int(state.hq_cursor) if state is not None else 0,
        last_success_at=state.last_success_at if state is not None else None,
        last_attempt_at=state.last_attempt_at if state is not None else None,
        last_error=state.last_error if state is not None else None,
        quarantined=int(state.quarantined) if state is not None else 0,
        connected=connected,
    )


class SyncService:
    """Keeps an enrolled node synced: one background task, woken by the node's commits."""

    def __init__(
        self,
        writer: Writer,
        reader: Reader,
        enrollment: Enrollment,
        *,
        settings: SyncSettings | None = None,
        observers: Iterable[Observer] = (),
        options: SyncOptions | None = None,
    ) -> None:
        self.writer, self.reader, self.enrollment = writer, reader, enrollment
        self.store_id = writer.store_id
        self.settings = settings or SyncSettings()
        self.options = options or SyncOptions()
        self.link = LinkState()
        self.ports = Ports(
            store_id=self.store_id,
            outbox=NodeOutbox(reader, self.store_id),
            hq=NodeHqSink(writer, reader, observers),
            progress=NodeProgress(writer),
        )
        self._wake: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def on_commit(self, _events: list[Event]) -> None:
        """``Writer.on_commit`` hook: new events are in the log, upload them now."""
        if self._wake is not None:
            self._wake.set()

    async def run_once(self, on_progress: OnProgress | None = None) -> SyncResult:
        """Sync until caught up (``hallsync store sync --once``); raises on failure."""
        return await run_once(
            self.enrollment.sync_url,
            self.enrollment.credential,
            self.ports,
            options=self.options,
            on_progress=on_progress,
            state=self.link,
        )

    async def start(self) -> None:
        """Start the background task (a no-op when the settings turn sync off)."""
        if self.settings.mode == "off" or self._task is not None:
            return
        tz = (await self.reader.run(lambda c: load_settings(c, self.store_id))).tz
        self._wake, self._stop = asyncio.Event(), asyncio.Event()
        self._task = asyncio.create_task(
            run_forever(
                self.enrollment.sync_url,
                self.enrollment.credential,
                self.ports,
                schedule=self.settings.schedule(tz),
                wake=self._wake,
                stop=self._stop,
                options=self.options,
                state=self.link,
            ),
            name="hallsync-sync",
        )
        log.info("syncing store %s with %s", self.store_id, self.enrollment.central_url)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop the background task: close the connection cleanly, or cancel it."""
        task, self._task = self._task, None
        if task is None:
            return
        assert self._stop is not None
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except Exception:
            log.exception("the sync task failed")
        log.info("stopped syncing store %s", self.store_id)

    async def status(self) -> SyncStatusOut:
        return await self.reader.run(
            lambda c: read_status(c, self.store_id, self.enrollment, self.link.connected)
        )
