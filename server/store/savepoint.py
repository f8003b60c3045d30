"""One command of a write batch in its own SAVEPOINT: a command that fails is undone alone,
with the events (and ``seq`` numbers) it logged, and its failure becomes its answer while the
rest of the batch goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from server.domain.log import EventLog
from server.errors import HallsyncError, StorageError

log = logging.getLogger(__name__)

T = TypeVar("T")


def in_savepoint(conn: Connection, log_: EventLog, run: Callable[[], T]) -> T | BaseException:
    """``run()`` in a savepoint of the open transaction: its result once released, or what it
    raised once rolled back (a database error as a ``StorageError``; any failure but a
    ``HallsyncError`` logged). A failure to roll back is not caught: the transaction is then
    the writer's to abandon."""
    seq_before = log_.next_seq
    # A plain SAVEPOINT of a fixed name (one command at a time) straight on the driver:
    # ``begin_nested()`` compiles a uniquely named one for every command, which costs more
    # than the command's own statements. (A driver error here is not a SQLAlchemyError: the
    # writer then answers the batch with a StorageError and reloads the log.)
    sqlite = conn.connection.dbapi_connection
    assert sqlite is not None
    sqlite.execute("SAVEPOINT command")
    try:
        result = run()
        sqlite.execute("RELEASE SAVEPOINT command")
    except BaseException as exc:
        sqlite.execute("ROLLBACK TO SAVEPOINT command")
        sqlite.execute("RELEASE SAVEPOINT command")
        log_.rewind(seq_before)
        if isinstance(exc, SQLAlchemyError):
            log.exception("command failed in the database")
            wrapped = StorageError("the store database refused the write")
            wrapped.__cause__ = exc
            return wrapped
        if not isinstance(exc, HallsyncError):
            log.exception("command failed")
        return exc
    return result
