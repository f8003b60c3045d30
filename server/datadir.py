"""A node's data directory is private to the user who runs the node.

Everything in it is secret or personal: the database (with its ``-wal`` and ``-shm`` files)
holds the token signing secret, the chain's contact key, the store's sync credential and the
staff's password hashes; central's ``central.toml`` may hold a database password. Anyone who
can read them can forge a manager's token. So the directory is ``0700`` and every entry in it
``0600`` (a subdirectory ``0700``), whatever the umask:

- made that way: ``private_dir``, ``create_private_file`` and ``write_private_file`` give the
  mode explicitly. An SQLite database is created empty at ``0600`` before SQLite opens it,
  because SQLite gives the ``-wal``, ``-shm`` and ``-journal`` files it makes later the mode of
  the database file.
- checked at every start (``secure``): an entry group or others may use is made private
  again, with a one-line warning naming it; an entry owned by another user is refused
  (``UnsafeDataDir``): this user could not repair it, and a node's data belonging to someone
  else (``init`` run as root, a copied directory) is a mistake to fix before serving.

Only the directory and its direct entries are checked, not what lies below a subdirectory: a
data directory is the node's own, and a wrongly given one (a home directory) should not have
its whole tree rewritten.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from server.errors import HallsyncError

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
OTHERS = 0o077
"""Permission bits of group and others: none may be set on anything in a data directory."""


class UnsafeDataDir(HallsyncError):
    """Something in the data directory belongs to another user; the node will not use it."""

    code, title = "unsafe_data_dir", "Data directory not private"


def private_dir(path: Path) -> None:
    """Create the data directory (``0700``) if needed, and make sure it and its entries are
    private (see ``secure``)."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    secure(path)


def create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only; fails if it exists. Used for an SQLite
    database before SQLite first opens it (an empty file is an empty database)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.close(fd)


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only from its first byte (a file
    written first and restricted afterwards is readable in between)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(fd, FILE_MODE)  # it may have existed with a wider mode
        out.write(text)


def secure(data_dir: Path) -> list[Path]:
    """Check the data directory and each entry in it: repair any that group or others may
    use, refuse any owned by another user. Returns what was repaired (each also logged as a
    warning). Call before a node opens its data."""
    entries = [data_dir]
    entries.extend(sorted(data_dir.iterdir()))
    return secure_paths(entries)


def secure_paths(paths: Iterable[Path]) -> list[Path]:
    """``secure`` for given paths (e.g. an SQLite database kept outside the data directory and
    its ``-wal``/``-shm`` files); paths that do not exist are skipped."""
    uid = os.geteuid()
    repaired: list[Path] = []
    for path in paths:
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if st.st_uid != uid:
            raise UnsafeDataDir(
                f"{path} belongs to user id {st.st_uid}, not to the user running hallsync "
                f"({uid}); give it to this user (chown) or run hallsync as its owner"
            )
        mode = stat.S_IMODE(st.st_mode)
        if mode & OTHERS:
            private = mode & ~OTHERS
            path.chmod(private)
            log.warning(
                "%s was open to other users (mode %04o); made it %04o: a node's data directory "
                "holds its secrets",
                path,
                mode,
                private,
            )
            repaired.append(path)
    return repaired


def sqlite_files(db: Path) -> list[Path]:
    """An SQLite database and the files SQLite keeps beside it."""
    return [db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]
