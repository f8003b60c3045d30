"""One process per data directory: an OS lock on ``DATA_DIR/hallsync.lock``.

A store node keeps state about its own database in memory (the next ``seq`` of its log, the
sync position), so a second process writing the same SQLite file would collide with it on
every append. ``store serve``, ``store sync`` and ``store init`` hold the lock for as long as
they run; so does ``central serve`` on its embedded SQLite (replicas on PostgreSQL are many
by design and take no lock). ``central enroll-store`` and ``revoke-store`` are single
transactions that SQLite serialises, so they may run beside a serving central.

The lock is ``flock``: the kernel releases it when the process ends however it ends (even on
SIGKILL), so a stale lock file is harmless and never needs deleting. The holder writes its PID
and command into the file, so the refusal can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from server.errors import Conflict

LOCK_FILE = "hallsync.lock"


class DataDirInUse(Conflict):
    code, title = "data_dir_in_use", "Data directory in use"


class DataDirLock:
    """A held lock on a data directory; ``release`` (or the process's end) frees it."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def lock_data_dir(data_dir: Path, command: str) -> DataDirLock:
    """Take ``data_dir``'s lock for ``command`` (e.g. "store serve") or refuse, naming the
    process that holds it. The directory must exist."""
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 256).decode("utf-8", "replace").strip()
        os.close(fd)
        pid, _, what = holder.partition(" ")
        by = f"`hallsync {what}` (PID {pid})" if pid else "another hallsync process"
        raise DataDirInUse(
            f"{data_dir} is in use by {by}; one process at a time may run on a data directory",
            holder_pid=int(pid) if pid.isdigit() else None,
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {command}\n".encode(), 0)
    return DataDirLock(fd, path)
