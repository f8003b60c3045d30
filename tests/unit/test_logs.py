"""Log lines an operator and a log collector can read: one line per record whatever the record
holds (a message with newlines, a traceback), in key=value text or JSON, with the record's
extra fields, UTC timestamps, and the level asked for."""

from __future__ import annotations

import json
import logging
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from uuid import UUID

import pytest

from server.logs import JsonFormatter, StderrHandler, TextFormatter, configure_logging

TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def record(msg: str, *args: object, failing: bool = False, **extra: object) -> logging.LogRecord:
    """A record as ``logger.error(msg, *args, exc_info=failing, extra=extra)`` makes it."""
    exc_info = None
    if failing:
        try:
            raise ValueError("the store's\nclock is off")
        except ValueError:
            exc_info = sys.exc_info()
    logger = logging.getLogger("server.store.sync_service")
    return logger.makeRecord(
        logger.name, logging.ERROR, __file__, 1, msg, args, exc_info, extra=extra
    )


def test_a_text_record_is_one_line_of_key_values_even_with_newlines_and_a_traceback() -> None:
    line = TextFormatter().format(
        record("upload of %s failed:\nsecond line", "S001", failing=True, store_id="S001")
    )
    assert "\n" not in line
    ts, level, logger, rest = line.split(" ", 3)
    assert TS.fullmatch(ts.removeprefix("ts="))
    assert (level, logger) == ("level=error", "logger=server.store.sync_service")
    msg = 'msg="upload of S001 failed:\\nsecond line"'
    assert rest.startswith(f'{msg} store_id=S001 exc="Traceback')
    assert "ValueError: the store's\\nclock is off" in rest


def test_text_values_are_quoted_only_when_they_need_it() -> None:
    line = TextFormatter().format(
        record(
            "store node S001 ready",
            data_dir="/srv/hallsync/S001",
            hall="人民路营业厅 2",
            quote='say "hi"',
            empty="",
            count=3,
            ok=True,
            none=None,
            id=UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
        )
    )
    assert line.endswith(
        ' msg="store node S001 ready" data_dir=/srv/hallsync/S001 hall="人民路营业厅 2" '
        'quote="say \\"hi\\"" empty="" count=3 ok=true none=null '
        "id=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    )


def test_a_json_record_is_one_object_per_line_with_extra_fields() -> None:
    line = JsonFormatter().format(
        record("upload failed:\r\nline\u2028two", failing=True, store_id="S001", seq=42)
    )
    assert len(line.splitlines()) == 1  # splitlines breaks at \u2028 too: it is escaped
    fields = json.loads(line)
    assert list(fields) == ["ts", "level", "logger", "msg", "store_id", "seq", "exc"]
    assert TS.fullmatch(fields["ts"])
    assert fields["level"] == "error" and fields["logger"] == "server.store.sync_service"
    assert fields["msg"] == "upload failed:\r\nline\u2028two"
    assert (fields["store_id"], fields["seq"]) == ("S001", 42)
    assert fields["exc"].startswith("Traceback (most recent call last):\n")
    assert fields["exc"].endswith("ValueError: the store's\nclock is off")


def test_an_extra_field_named_like_a_line_field_does_not_replace_it() -> None:
    fields = json.loads(JsonFormatter().format(record("hello", level="loud", ts="now")))
    assert fields["level"] == "error" and fields["extra.level"] == "loud"
    assert fields["ts"] != "now" and fields["extra.ts"] == "now"


def test_uvicorns_coloured_copy_of_its_message_is_not_a_field() -> None:
    fields = json.loads(JsonFormatter().format(record("Started", color_message="\x1b[1mStarted")))
    assert "color_message" not in fields


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """What was written to stderr so far, where hallsync's handler writes once configured."""
    written: list[str] = []

    def read() -> str:
        written.append(capsys.readouterr().err)
        return "".join(written)

    yield read
    logging.captureWarnings(False)


def test_configure_logging_keeps_the_level_and_quiets_chatter(stderr: Callable[[], str]) -> None:
    configure_logging("WARNING", "json")
    logging.getLogger("server.store.app").info("store node S001 ready")
    logging.getLogger("uvicorn.error").info("Waiting for application startup.")
    logging.getLogger("server.datadir").warning("%s was open to other users", "/srv/S001")
    assert [json.loads(line)["msg"] for line in stderr().splitlines()] == [
        "/srv/S001 was open to other users"
    ]

    configure_logging("info", "text")  # again: replaces its handler, adds none
    assert sum(isinstance(h, StderrHandler) for h in logging.getLogger().handlers) == 1
    logging.getLogger("uvicorn.error").info("Started server process [1]")
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("server.serving").info("store node S001 listening on http://127.0.0.1:8100")
    second = stderr().splitlines()[1:]
    assert len(second) == 1
    assert second[0].endswith(
        'level=info logger=server.serving msg="store node S001 listening on http://127.0.0.1:8100"'
    )


def test_at_debug_libraries_speak_but_never_log_credentials(stderr: Callable[[], str]) -> None:
    configure_logging("debug")
    logging.getLogger("uvicorn.error").info("Started server process [1]")
    logging.getLogger("websockets.client").debug("> Authorization: Bearer hs1.S001.secret")
    logging.getLogger("aiosqlite").debug("executing partial(execute, 'INSERT …', ('secret',))")
    out = stderr()
    assert "Started server process" in out and "secret" not in out


def test_warnings_become_log_lines(stderr: Callable[[], str]) -> None:
    logging.captureWarnings(False)  # as a fresh process has it, whatever an earlier test left
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        configure_logging("info", "json")
        warnings.warn("old\nway", DeprecationWarning, stacklevel=1)
    fields = json.loads(stderr())
    assert fields["logger"] == "py.warnings" and "DeprecationWarning: old\nway" in fields["msg"]


def test_an_unknown_level_or_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log level 'loud'"):
        configure_logging("loud")
    with pytest.raises(ValueError, match="log format 'xml'"):
        configure_logging("info", "xml")
