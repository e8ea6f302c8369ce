"""Logs without personal data: one JSON object a line (settings.LOG_FORMAT=json, the production
default), and a summary of an exception that names its type and where it was raised.

An exception's message can quote the data that broke it: a database error quotes the row
("Key (id_number)=(…) already exists"), a ledger reader the cell, an SMTP error the address.
So neither the formatter nor ``exception_summary`` ever writes it: the type, and the frames
(file, line, function), say where to look; the data stays in the database. Query strings are
never logged either (a search by ID number travels in one): Django's request loggers name the
path only, and so does the access log (deploy/gunicorn.conf.py).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime
from types import TracebackType

# How many of the innermost frames a log line carries.
FRAMES = 12
# A query string inside a message (gunicorn's "Error handling request GET /children/?q=…").
_QUERY = re.compile(r"\?[^\s'\"]+")


def without_query(message: str) -> str:
    """``message`` with every query string cut to ``?…``."""
    return _QUERY.sub("?…", message)


def _frames(tb: TracebackType | None) -> list[str]:
    return [
        f"{frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(tb)[-FRAMES:]
    ]


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or during, innermost last (as Python prints)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return chain[::-1]


def exception_type(exc: BaseException) -> str:
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def exception_summary(exc: BaseException) -> str:
    """``ValueError at tongxin/x.py:12 in f``: the type and the innermost frame, no message."""
    frames = _frames(exc.__traceback__)
    where = f" at {frames[-1]}" if frames else ""
    return f"{exception_type(exc)}{where}"


class JSONFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message (any query string
    in it cut) and, for an exception, its type and frames (``exception``), never its text.
    Django's loggers use it (settings.LOGGING), and so do gunicorn's (deploy/gunicorn.conf.py)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": without_query(record.getMessage()),
        }
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = [
                {"type": exception_type(e), "frames": _frames(e.__traceback__)}
                for e in _chain(record.exc_info[1])
            ]
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)
