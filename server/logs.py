"""How every hallsync process logs: one line per record on stderr, as logfmt-style text or JSON.

Every command of both apps configures logging as it starts (:func:`start_logging`): from
``HALLSYNC_LOG_LEVEL`` and ``HALLSYNC_LOG_FORMAT``, or a long-running command's ``--log-level``
and ``--log-format`` (:func:`log_options`). Each record is then one line, whatever it holds::

    ts=2026-12-03T19:00:00.123Z level=info logger=server.serving msg="store node S001 stopped"
    {"ts": "2026-12-03T19:00:00.123Z", "level": "info", "logger": "server.serving", "msg": …}

The record's ``extra=`` fields follow ``msg``; an exception's traceback is the ``exc`` field with
its newlines escaped, so a log collector never splits one record into several.

Both formats are made here from the same fields with the standard library's ``json`` (a JSON
value, and a logfmt value that needs quotes, are the same escaped string); a JSON-logging package
would be a second place deciding which fields a record has, to keep in step with the text one.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO, TypeVar

import click

from server.settings import LOG_FORMATS, LOG_LEVELS, LogSettings

F = TypeVar("F", bound=Callable[..., Any])

CHATTY = ("uvicorn.error", "alembic", "httpx")
"""Loggers whose INFO lines are a library's set-up and per-connection chatter (uvicorn's four
start-up lines and its "connection open", alembic's "Context impl SQLiteImpl", httpx's line per
request): shown at debug only. Their warnings and errors always show."""
NEVER_DEBUG = ("websockets", "aiosqlite")
"""Loggers kept at info even at debug, as their debug lines hold secrets and personal data:
websockets logs every frame and handshake header (the store's bearer credential among them),
aiosqlite every statement with its parameters."""

# Everything a LogRecord carries by itself; whatever else a record holds came from ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# The fields every line has; an ``extra`` field of the same name is written as ``extra.NAME``.
_OWN_FIELDS = frozenset({"ts", "level", "logger", "msg", "exc", "stack"})
# uvicorn attaches a coloured copy of its messages for its own formatter.
_NOT_FIELDS = frozenset({"color_message"})
# Characters that ``json.dumps(..., ensure_ascii=False)`` leaves as they are but that some
# readers (Python's str.splitlines among them) take for line breaks.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
# A logfmt value written without quotes.
_BARE = re.compile(r'[^\s="\\]+')


class _Fields(logging.Formatter):
    """A record as ordered fields: ts, level, logger, msg, the ``extra`` fields, exc, stack."""

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        at = datetime.fromtimestamp(record.created, UTC)
        fields: dict[str, Any] = {
            "ts": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in _NOT_FIELDS:
                fields[f"extra.{key}" if key in _OWN_FIELDS else key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            fields["exc"] = record.exc_text
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return fields


class TextFormatter(_Fields):
    """``key=value`` pairs (logfmt), values quoted and escaped where they need it."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_logfmt(value)}" for key, value in self.fields(record).items())


class JsonFormatter(_Fields):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        return _json(self.fields(record))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str).translate(_LINE_BREAKS)


def _logfmt(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, bool | int | float | list | tuple | dict):
        text = _json(value)
    else:
        text = str(value)  # a UUID, a path, …
    if _BARE.fullmatch(text) and text.isprintable():
        return text
    return _json(text)


class StderrHandler(logging.StreamHandler[TextIO]):
    """hallsync's handler on the root logger. Writes to ``sys.stderr`` as it is at each record
    (a test runner swaps it for each command it invokes)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # under the handler's lock: handle() holds it around emit()
        super().emit(record)


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    """Send this process's log records at ``level`` and above to stderr, one line each, as
    ``fmt`` ("text" or "json"); Python warnings become records too. Called when a command
    starts, and again to change level or format: it replaces the handler an earlier call
    installed and leaves any other (a test runner's) alone. Raises ValueError for a level or
    format it does not know."""
    level, fmt = level.lower(), fmt.lower()
    if level not in LOG_LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(LOG_LEVELS)}")
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r} is not one of {', '.join(LOG_FORMATS)}")
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # A uvicorn configured in this process before (its default log config) gave these
        # loggers handlers of their own and stopped them propagating: their lines would not
        # be in this format.
        uvicorn_logger = logging.getLogger(name)
        for own in list(uvicorn_logger.handlers):
            uvicorn_logger.removeHandler(own)
        uvicorn_logger.propagate = True
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if level == "debug" else logging.WARNING)
    for name in NEVER_DEBUG:
        logging.getLogger(name).setLevel(logging.INFO if level == "debug" else logging.NOTSET)
    logging.captureWarnings(True)


def log_options(command: F) -> F:
    """``--log-level`` and ``--log-format``, for a command that runs until stopped (a server, a
    syncer); it passes them to :func:`start_logging`."""
    level = click.option(
        "--log-level",
        type=click.Choice(LOG_LEVELS, case_sensitive=False),
        default=None,
        help="Log records of this severity and above [HALLSYNC_LOG_LEVEL, else info].",
    )
    fmt = click.option(
        "--log-format",
        type=click.Choice(LOG_FORMATS, case_sensitive=False),
        default=None,
        help="One line per record: key=value text, or a JSON object "
        "[HALLSYNC_LOG_FORMAT, else text].",
    )
    return level(fmt(command))


def start_logging(level: str | None = None, fmt: str | None = None) -> None:
    """Configure logging as a command starts: from its ``--log-level`` and ``--log-format``
    when given, else from the environment. A bad environment value is a usage error (one line)."""
    try:
        settings = LogSettings.from_env(level=level, fmt=fmt)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    configure_logging(settings.level, settings.format)
