"""A data directory is private to the user running the node: made so whatever the umask, and
repaired (or refused) at start when it is not."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.datadir import (
    UnsafeDataDir,
    create_private_file,
    private_dir,
    secure,
    write_private_file,
)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems give a login: files 0644, directories 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_and_directories_are_made_private_under_the_usual_umask(
    tmp_path: Path, usual_umask: None
) -> None:
    d = tmp_path / "data"
    private_dir(d)
    create_private_file(d / "db")
    write_private_file(d / "key", "secret")
    assert (mode(d), mode(d / "db"), mode(d / "key")) == (0o700, 0o600, 0o600)
    assert (d / "key").read_text() == "secret"


def test_rewriting_a_world_readable_file_makes_it_private(tmp_path: Path) -> None:
    path = tmp_path / "central.toml"
    path.write_text("old")
    path.chmod(0o644)
    write_private_file(path, "new")
    assert (mode(path), path.read_text()) == (0o600, "new")


def test_an_open_directory_and_its_files_are_repaired_with_a_warning_naming_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    d = tmp_path / "data"
    d.mkdir(mode=0o755)
    d.chmod(0o755)
    (d / "store.sqlite3").write_bytes(b"")
    (d / "store.sqlite3").chmod(0o644)
    (d / "store.sqlite3-wal").write_bytes(b"")
    (d / "store.sqlite3-wal").chmod(0o660)
    (d / "contact.key").write_bytes(b"")
    (d / "contact.key").chmod(0o600)  # already private: left alone
    (d / "sub").mkdir()
    (d / "sub").chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="server.datadir"):
        repaired = secure(d)
    assert set(repaired) == {d, d / "store.sqlite3", d / "store.sqlite3-wal", d / "sub"}
    assert mode(d) == 0o700 and mode(d / "sub") == 0o700
    assert mode(d / "store.sqlite3") == 0o600 and mode(d / "store.sqlite3-wal") == 0o600
    assert mode(d / "contact.key") == 0o600
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 4 and all("\n" not in m for m in warned)
    assert any(str(d / "store.sqlite3") in m and "0644" in m for m in warned)
    assert secure(d) == []  # nothing left to repair


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "data"
    private_dir(d)
    foreign = d / "store.sqlite3"
    foreign.write_bytes(b"")
    os.chown(foreign, 65534, 65534)
    with pytest.raises(UnsafeDataDir) as refused:
        secure(d)
    assert str(foreign) in refused.value.detail and "65534" in refused.value.detail
