"""The store node's single writer: every write, in order, with group commit.

SQLite allows one writer at a time, and each durable commit costs an fsync. So one writer owns
the write connection; requests queue their commands, and the writer runs whatever has queued up
in one transaction: each command inside its own SAVEPOINT (a failing command is undone alone),
then one COMMIT, then every waiting request is answered. Under load many commands share one
fsync; with a single request the latency is one transaction, as before.

The commands run on the event loop the requests arrive on (the loop of the first ``submit``),
one batch at a time; only the calls that may block go to a helper thread (``write_thread``):
``BEGIN IMMEDIATE`` (it may wait for another process's write lock) and ``COMMIT`` (the
fsync). While a batch commits there, the loop keeps serving and the next batch queues up.
Commands are Python and hold the GIL, so a writer thread of their own bought no parallelism,
only a GIL handover with the event loop around each of the dozen SQLite calls a command makes
(SQLite releases the GIL), which cost more than the commands themselves. A long command holds
up the loop meanwhile, as it held up everything else by holding the GIL before.

The events a batch's commands log, and the answers kept for their Idempotency-Keys, are
inserted with one statement each just before the COMMIT; a command that fails takes its own
back with its savepoint (``savepoint``). A tablet hears 2xx only after that COMMIT returned,
so every acknowledged write is on disk (WAL, ``synchronous=FULL``). The log's ``seq`` stays
gapless because it is assigned here and rolled back with the savepoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from schema.events import Event
from schema.tables.core import idempotency_keys
from server.contact_hash import ContactHasher
from server.domain.context import Ctx
from server.domain.log import EventLog
from server.errors import StorageError
from server.idempotency import KEY_TTL, Idempotency
from server.store.db import begin_immediate
from server.store.metrics import count_batch
from server.store.savepoint import in_savepoint
from server.store.write_thread import WriteThread

log = logging.getLogger(__name__)

MAX_BATCH = 256
_INSERT_KEY = idempotency_keys.insert()
_FIND_KEY = sa.select(idempotency_keys).where(
    idempotency_keys.c.username == sa.bindparam("username"),
    idempotency_keys.c.key == sa.bindparam("key"),
)
PRUNE_EVERY_SECONDS = 3600.0
_json = msgspec.json.Encoder()

Command = Callable[[Ctx], Any]
"""A write: reads state through ``ctx.conn``, emits events, returns the response struct."""


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


def _deliver(jobs: list[_Job]) -> None:
    """On the jobs' event loop: resolve their futures with their results."""
    for job in jobs:
        if job.future.done():  # the request was cancelled (the future is shielded, though)
            continue
        if isinstance(job.result, BaseException):
            job.future.set_exception(job.result)
        else:
            job.future.set_result(job.result)  # type: ignore[arg-type]


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Writer:
    """Owns the write connection and runs queued commands in group-committed batches."""

    def __init__(
        self,
        engine: Engine,
        store_id: str,
        *,
        contact_key: ContactHasher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.store_id = store_id
        self.contact_key = contact_key
        self.clock = clock
        self.on_commit: list[Callable[[list[Event]], None]] = []
        """Called on the event loop after each commit, with the events it made durable."""
        self._pending: deque[_Job] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        """The event loop the commands run on: the one that submitted the first of them."""
        self._draining: asyncio.Task[None] | None = None
        self._io: WriteThread | None = None
        """One thread for what may block: BEGIN IMMEDIATE, COMMIT, recovery. In order."""
        self._conn: Connection | None = None
        self._tx: Any = None
        self._reloading: asyncio.Future[Any] | None = None
        """The helper's reload of the log state after an unexpected failure, if under way."""
        self._new_keys: dict[tuple[str, str], dict[str, Any]] = {}
        """Idempotency-Keys the current batch answered, stored together before it commits."""
        self._log: EventLog | None = None
        self.batches = 0
        self.commands = 0
        self._next_prune = 0.0
        self._batch_committed = False

    # ------------------------------------------------------------ lifecycle

    @property
    def alive(self) -> bool:
        """Whether the writer is started and takes commands."""
        return self._io is not None

    def start(self) -> None:
        self._conn = self.engine.connect()
        with begin_immediate(self._conn):
            self._log = EventLog.load(self._conn, self.store_id)
            self._prune_keys(self._conn)
        self._log.buffered = True
        self._io = WriteThread()

    async def wait_idle(self) -> None:
        """Wait until every command submitted so far is committed (or has failed)."""
        while self._draining is not None and not self._draining.done():
            await asyncio.wait({self._draining})

    def stop(self) -> None:
        """Stop taking commands and close the connection (after ``wait_idle``, when serving:
        commands still queued are answered with a StorageError)."""
        io, self._io = self._io, None
        if io is not None:
            io.close()  # a BEGIN or COMMIT under way finishes
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                if self._conn.in_transaction():
                    self._conn.rollback()
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
        self._enqueue(job, loop)
        # Shielded: a client that disconnects must not leave us unsure what was committed.
        return await asyncio.shield(job.future)

    def _enqueue(self, job: _Job, loop: asyncio.AbstractEventLoop) -> None:
        owner = self._loop
        if owner is None or owner.is_closed() or (owner is not loop and not owner.is_running()):
            owner = self._loop = loop  # first use, or the old loop is gone (tests)
        if owner is not loop:  # submitted from another thread's loop: hand it over
            owner.call_soon_threadsafe(self._enqueue, job, owner)
            return
        self._pending.append(job)
        if self._draining is None or self._draining.done():
            self._draining = loop.create_task(self._drain())

    def run_now(self, command: Command, *, actor: str, device: str) -> Any:
        """Run one command synchronously on the caller's thread (CLI set-up, writer stopped)."""
        if self._io is not None:
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

    # ------------------------------------------------------------ the batches

    async def _drain(self) -> None:
        """Run batches until nothing is queued: whatever queued up while the last batch ran
        and committed is the next batch."""
        while self._pending:
            if not self.alive:
                err = StorageError("the store node is not accepting writes")
                for job in self._pending:
                    job.result = err
                self._answer(list(self._pending))
                self._pending.clear()
                return
            n = min(len(self._pending), MAX_BATCH)
            batch = [self._pending.popleft() for _ in range(n)]
            await self._write(batch)

    async def _in_io(self, fn: Callable[[], Any]) -> Any:
        assert self._io is not None
        return await self._io.run(fn)

    def _begin(self) -> None:
        """In the helper thread: take the write lock (waiting for it if another process holds
        it), and forget old Idempotency-Keys now and then."""
        assert self._conn is not None
        self._tx = begin_immediate(self._conn)
        if time.monotonic() >= self._next_prune:
            self._prune_keys(self._conn)

    def _commit(self) -> None:
        """In the helper thread: COMMIT, which returns once the batch is on disk; then, when
        commands queued up meanwhile (as they do under load), BEGIN the next batch's
        transaction right away, which saves that batch a trip to this thread and back."""
        assert self._conn is not None
        tx, self._tx = self._tx, None
        tx.commit()
        if self._pending:  # only the event loop takes from it: they will run next
            try:
                self._begin()
            except SQLAlchemyError:
                # Not this batch's failure (it is committed): the next batch begins on its own
                # and meets the error there.
                log.warning("could not begin the next write transaction", exc_info=True)
                self._tx = None
                with contextlib.suppress(SQLAlchemyError):
                    if self._conn.in_transaction():
                        self._conn.rollback()

    def _reload(self) -> None:
        """In the helper thread, after a failure: roll back whatever is open and reload the
        log state from disk, so whatever did or did not commit, the next seq is right. (A
        COMMIT can fail after its pages reached the disk: trust the disk, not memory.)"""
        assert self._conn is not None
        self._tx = None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
            with begin_immediate(self._conn):
                self._log = EventLog.load(self._conn, self.store_id)
            self._log.buffered = True
        except Exception:
            log.exception("could not reload the event log after a failure")

    async def _write(self, batch: list[_Job]) -> None:
        """Run one batch: BEGIN (helper thread, unless the last COMMIT did), the commands
        (here), COMMIT (helper thread), then tell the observers and answer every request."""
        self._batch_committed = False
        started = time.perf_counter()
        try:
            try:
                if self._reloading is not None:  # after a failure: the log state is reloaded
                    reloading, self._reloading = self._reloading, None
                    await reloading  # (``_reload`` logs its own failures; it never raises)
                if self._tx is None:  # else the last COMMIT began it
                    await self._in_io(self._begin)
                self._run_batch(batch)
                await self._in_io(self._commit)
                self._batch_committed = True
            except SQLAlchemyError as exc:
                log.exception("write transaction failed; %d commands not applied", len(batch))
                err = StorageError("the store database could not commit; retry")
                err.__cause__ = exc
                for job in batch:
                    job.result = err
                await self._in_io(self._reload)
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                log.exception("write batch failed unexpectedly")
            self._recover(batch, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        committed = [
            event for job in batch if isinstance(job.result, Outcome) for event in job.result.events
        ]
        self.batches += 1
        self.commands += len(batch)
        ok = sum(1 for job in batch if isinstance(job.result, Outcome))
        count_batch(time.perf_counter() - started, len(batch), ok, committed)
        # Observers (the roster, the display board) learn of the commit before any request
        # is answered, so a client's next request already sees e.g. a deactivated user gone.
        if committed and self.on_commit:
            self._notify(committed)
        self._answer(batch)

    def _recover(self, batch: list[_Job], exc: BaseException) -> None:
        """After an unexpected failure: answer every waiting request, and have the helper
        thread reload the log state before it begins anything else."""
        err = StorageError("the store node could not complete the write; retry")
        err.__cause__ = exc
        for job in batch:
            if job.result is None or (
                isinstance(job.result, Outcome) and not self._batch_committed
            ):
                job.result = err
        self._answer(batch)
        # Whatever transaction is open is the reload's to roll back (a COMMIT still under way
        # may even begin one): the next batch waits for the reload, then begins its own.
        self._tx = None
        if self._io is not None:
            self._reloading = self._io.submit(self._reload)  # after what the helper does now

    def _run_batch(self, batch: list[_Job]) -> None:
        """Run each command of the batch in its savepoint, in the open transaction."""
        assert self._conn is not None and self._log is not None
        conn, log_ = self._conn, self._log
        self._new_keys.clear()
        for job in batch:
            self._run_job(conn, log_, job)
        # What the commands logged, and the answers to remember, go in with one statement
        # each: a command that failed took its rows back with its savepoint.
        log_.write(conn)
        if self._new_keys:
            conn.execute(_INSERT_KEY, list(self._new_keys.values()))
            self._new_keys.clear()

    def _run_job(self, conn: Connection, log_: EventLog, job: _Job) -> None:
        done = in_savepoint(conn, log_, lambda: self._execute(conn, log_, job))
        if isinstance(done, BaseException):
            job.result = done
            return
        job.result, key = done
        if key is not None:
            self._new_keys[key["username"], key["key"]] = key

    def _execute(
        self, conn: Connection, log_: EventLog, job: _Job
    ) -> tuple[Outcome, dict[str, Any] | None]:
        """Run the job's command (or replay the answer its key got); the outcome, and the
        Idempotency-Key row to store if the command ran."""
        idem = job.idempotency
        if idem is not None:
            known: Mapping[Any, Any] | None = self._new_keys.get((idem.username, idem.key))
            if known is None:  # not answered earlier in this batch: maybe before
                row = conn.execute(_FIND_KEY, {"key": idem.key, "username": idem.username})
                known = row.mappings().first()
            if known is not None:
                idem.check_replay(known["fingerprint"])
                return Outcome(known["status_code"], known["body"], replayed=True, events=[]), None
        now = job.now or self.clock()
        ctx = Ctx(
            conn=conn,
            log=log_,
            actor=job.actor,
            device=job.device,
            now=now,
            contact_key=None,  # a token would stall every request: routes compute them first
        )
        result = job.command(ctx)
        body = _json.encode(result)
        key = None
        if idem is not None:
            key = {
                "key": idem.key,
                "username": idem.username,
                "fingerprint": idem.fingerprint,
                "status_code": job.status_code,
                "body": body,
                "created_at": now,
            }
        return Outcome(job.status_code, body, replayed=False, events=ctx.emitted), key

    def _prune_keys(self, conn: Connection) -> None:
        """Forget Idempotency-Keys older than ``KEY_TTL`` (inside the caller's transaction)."""
        cutoff = self.clock() - KEY_TTL
        conn.execute(idempotency_keys.delete().where(idempotency_keys.c.created_at < cutoff))
        self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS

    @staticmethod
    def _answer(batch: list[_Job]) -> None:
        """Hand each job's result to its waiting request: right away on this event loop, or
        with one wake-up of each other loop for all of its jobs."""
        here = _running_loop()
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        for job in batch:
            by_loop.setdefault(job.loop, []).append(job)
        for loop, jobs in by_loop.items():
            if loop is here:
                _deliver(jobs)
                continue
            with contextlib.suppress(RuntimeError):  # the caller's loop is gone: nobody waits
                loop.call_soon_threadsafe(_deliver, jobs)

    def _notify(self, events: list[Event]) -> None:
        for callback in self.on_commit:
            try:
                callback(events)
            except Exception:
                log.exception("on_commit callback failed")
