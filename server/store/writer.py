"""The store node's single writer: every write, in order, with group commit.

SQLite allows one writer at a time, and each durable commit costs an fsync. So one thread owns
the write connection; requests queue their commands, and the thread runs whatever has queued up
in one transaction: each command inside its own SAVEPOINT (a failing command is undone alone),
then one COMMIT, then every waiting request is answered. Under load many commands share one
fsync; with a single request the latency is one transaction, as before.

A tablet hears 2xx only after that COMMIT returned, so every acknowledged write is on disk
(WAL, ``synchronous=FULL``). The log's ``seq`` stays gapless because it is assigned here and
rolled back with the savepoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from schema.events import Event, tag_of
from schema.tables.core import idempotency_keys
from server.domain.context import Ctx
from server.domain.log import EventLog
from server.errors import HallsyncError, IdempotencyMismatch, StorageError
from server.store.db import begin_immediate
from server.store.metrics import BATCH_SIZE, COMMANDS, COMMIT_SECONDS, EVENTS_APPENDED

log = logging.getLogger(__name__)

MAX_BATCH = 256
_INSERT_KEY = idempotency_keys.insert()
_FIND_KEY = sa.select(idempotency_keys).where(
    idempotency_keys.c.username == sa.bindparam("username"),
    idempotency_keys.c.key == sa.bindparam("key"),
)
KEY_TTL = timedelta(days=7)
"""How long an Idempotency-Key is remembered: far longer than any tablet retries."""
PRUNE_EVERY_SECONDS = 3600.0
_json = msgspec.json.Encoder()

Command = Callable[[Ctx], Any]
"""A write: reads state through ``ctx.conn``, emits events, returns the response struct."""


@dataclass(frozen=True)
class Idempotency:
    """The ``Idempotency-Key`` of a request and what makes two requests "the same"."""

    key: str
    username: str
    fingerprint: str

    @staticmethod
    def of(key: str, username: str, method: str, path: str, body: bytes) -> Idempotency:
        digest = hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()
        return Idempotency(key=key, username=username, fingerprint=digest)


@dataclass(frozen=True)
class Outcome:
    """What a write produced: the JSON body to send, and whether it is a replayed answer."""

    status_code: int
    body: bytes
    replayed: bool
    events: list[Event]


@dataclass
class _Job:
    command: Command
    actor: str
    device: str
    status_code: int
    idempotency: Idempotency | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Outcome]
    now: datetime | None = None
    result: Outcome | BaseException | None = field(default=None)


class Writer:
    """Owns the write connection and runs queued commands in group-committed batches."""

    def __init__(
        self,
        engine: Engine,
        store_id: str,
        *,
        contact_key: bytes,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.store_id = store_id
        self.contact_key = contact_key
        self.clock = clock
        self.on_commit: list[Callable[[list[Event]], None]] = []
        """Called on the event loop after each commit, with the events it made durable."""
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None
        self._log: EventLog | None = None
        self.batches = 0
        self.commands = 0
        self._next_prune = 0.0
        self._batch_committed = False

    # ------------------------------------------------------------ lifecycle

    @property
    def alive(self) -> bool:
        """Whether the writer thread runs and takes commands."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._conn = self.engine.connect()
        with begin_immediate(self._conn):
            self._log = EventLog.load(self._conn, self.store_id)
            self._prune_keys(self._conn)
        self._thread = threading.Thread(target=self._run, name="hallsync-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------ API

    async def submit(
        self,
        command: Command,
        *,
        actor: str,
        device: str,
        status_code: int = 201,
        idempotency: Idempotency | None = None,
    ) -> Outcome:
        """Queue a command and wait until it is committed (or has failed)."""
        if not self.alive:
            raise StorageError("the store node is not accepting writes")
        loop = asyncio.get_running_loop()
        job = _Job(command, actor, device, status_code, idempotency, loop, loop.create_future())
        self._queue.put(job)
        # Shielded: a client that disconnects must not leave us unsure what was committed.
        return await asyncio.shield(job.future)

    def run_now(self, command: Command, *, actor: str, device: str) -> Any:
        """Run one command synchronously on the caller's thread (CLI set-up, writer stopped)."""
        if self._thread is not None:
            raise RuntimeError("run_now is for a stopped writer")
        with self.engine.connect() as conn, begin_immediate(conn):
            log_ = EventLog.load(conn, self.store_id)
            ctx = Ctx(
                conn=conn,
                log=log_,
                actor=actor,
                device=device,
                now=self.clock(),
                contact_key=self.contact_key,
            )
            return command(ctx)

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
            try:
                self._run_batch(batch)
            except BaseException as exc:
                log.exception("write batch failed unexpectedly")
                self._recover(batch, exc)
            if stopping:
                return

    def _recover(self, batch: list[_Job], exc: BaseException) -> None:
        """After an unexpected failure: answer every waiting request and reload the log state
        from disk, so whatever did or did not commit, the next seq is right."""
        err = StorageError("the store node could not complete the write; retry")
        err.__cause__ = exc
        for job in batch:
            if job.result is None or (
                isinstance(job.result, Outcome) and not self._batch_committed
            ):
                job.result = err
            self._resolve(job)
        try:
            assert self._conn is not None
            if self._conn.in_transaction():
                self._conn.rollback()
            with begin_immediate(self._conn):
                self._log = EventLog.load(self._conn, self.store_id)
        except Exception:
            log.exception("could not reload the event log after a failure")

    def _run_batch(self, batch: list[_Job]) -> None:
        assert self._conn is not None and self._log is not None
        conn, log_ = self._conn, self._log
        self._batch_committed = False
        committed: list[Event] = []
        started = time.perf_counter()
        try:
            with begin_immediate(conn):
                if time.monotonic() >= self._next_prune:
                    self._prune_keys(conn)
                for job in batch:
                    self._run_job(conn, log_, job)
                    if isinstance(job.result, Outcome):
                        committed.extend(job.result.events)
            self._batch_committed = True
        except SQLAlchemyError as exc:
            log.exception("write transaction failed; %d commands not applied", len(batch))
            err = StorageError("the store database could not commit; retry")
            err.__cause__ = exc
            for job in batch:
                job.result = err
            committed = []
            # A COMMIT can fail after its pages reached the disk: trust the disk, not memory.
            if conn.in_transaction():
                conn.rollback()
            with begin_immediate(conn):
                self._log = EventLog.load(conn, self.store_id)
        self.batches += 1
        self.commands += len(batch)
        COMMIT_SECONDS.observe(time.perf_counter() - started)
        BATCH_SIZE.observe(len(batch))
        for job in batch:
            COMMANDS.labels("ok" if isinstance(job.result, Outcome) else "error").inc()
        for event in committed:
            EVENTS_APPENDED.labels(tag_of(event)).inc()
        # Observers (the roster, the display board) learn of the commit before any request
        # is answered, so a client's next request already sees e.g. a deactivated user gone.
        if committed and self.on_commit:
            with contextlib.suppress(RuntimeError):  # the event loop is gone: nobody to tell
                batch[0].loop.call_soon_threadsafe(self._notify, committed)
        for job in batch:
            self._resolve(job)

    def _run_job(self, conn: Connection, log_: EventLog, job: _Job) -> None:
        seq_before = log_.next_seq
        savepoint = conn.begin_nested()
        try:
            job.result = self._execute(conn, log_, job)
            savepoint.commit()
        except BaseException as exc:
            savepoint.rollback()
            log_.next_seq = seq_before
            if isinstance(exc, SQLAlchemyError):
                log.exception("command failed in the database")
                wrapped = StorageError("the store database refused the write")
                wrapped.__cause__ = exc
                job.result = wrapped
            else:
                if not isinstance(exc, HallsyncError):
                    log.exception("command failed")
                job.result = exc

    def _execute(self, conn: Connection, log_: EventLog, job: _Job) -> Outcome:
        idem = job.idempotency
        if idem is not None:
            row = conn.execute(_FIND_KEY, {"key": idem.key, "username": idem.username}).first()
            if row is not None:
                if row.fingerprint != idem.fingerprint:
                    raise IdempotencyMismatch(
                        "this Idempotency-Key was already used for a different request"
                    )
                return Outcome(row.status_code, row.body, replayed=True, events=[])
        now = job.now or self.clock()
        ctx = Ctx(
            conn=conn,
            log=log_,
            actor=job.actor,
            device=job.device,
            now=now,
            contact_key=self.contact_key,
        )
        result = job.command(ctx)
        body = _json.encode(result)
        if idem is not None:
            conn.execute(
                _INSERT_KEY,
                {
                    "key": idem.key,
                    "username": idem.username,
                    "fingerprint": idem.fingerprint,
                    "status_code": job.status_code,
                    "body": body,
                    "created_at": now,
                },
            )
        return Outcome(job.status_code, body, replayed=False, events=ctx.emitted)

    def _prune_keys(self, conn: Connection) -> None:
        """Forget Idempotency-Keys older than ``KEY_TTL`` (inside the caller's transaction)."""
        cutoff = self.clock() - KEY_TTL
        conn.execute(idempotency_keys.delete().where(idempotency_keys.c.created_at < cutoff))
        self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS

    @staticmethod
    def _resolve(job: _Job) -> None:
        result = job.result

        def deliver() -> None:
            if job.future.done():
                return
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)  # type: ignore[arg-type]

        with contextlib.suppress(RuntimeError):  # the caller's loop is gone: nobody waits
            job.loop.call_soon_threadsafe(deliver)

    def _notify(self, events: list[Event]) -> None:
        for callback in self.on_commit:
            try:
                callback(events)
            except Exception:
                log.exception("on_commit callback failed")
