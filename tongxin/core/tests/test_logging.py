"""Logs as JSON lines without personal data: an exception is logged by its type and frames,
never its text, and a failing request by its path, never its query string. The people here are
synthetic (an ID number with a valid check character, a phone number)."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from tongxin.core.logging import JSONFormatter, exception_summary
from tongxin.testing import Actors, web_client

ID_NUMBER = "110101200001011232"
PHONE = "13812345678"


def _failing() -> None:
    columns: dict[str, str] = {}
    try:
        columns["id_number"]
    except KeyError as exc:
        raise ValueError(f"Key (id_number)=({ID_NUMBER}) already exists; phone {PHONE}") from exc


def _record(message: str = "export %s failed", *args: object) -> logging.LogRecord:
    try:
        _failing()
    except ValueError:
        exc_info = sys.exc_info()
    return logging.LogRecord("tongxin.test", logging.ERROR, __file__, 1, message, args, exc_info)


def test_it_writes_one_json_object_a_line() -> None:
    line = JSONFormatter().format(_record("two\nlines: %s", "村"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "tongxin.test"
    assert entry["message"] == "two\nlines: 村"
    assert entry["time"].endswith("+00:00")


def test_an_exception_shows_its_types_and_frames_not_its_text() -> None:
    line = JSONFormatter().format(_record("export %s failed", 7))
    assert ID_NUMBER not in line
    assert PHONE not in line
    assert "already exists" not in line
    entry = json.loads(line)
    assert entry["message"] == "export 7 failed"
    # As Python prints a chain: the cause first, the exception raised from it last.
    assert [e["type"] for e in entry["exception"]] == ["KeyError", "ValueError"]
    assert any(frame.endswith("in _failing") for frame in entry["exception"][-1]["frames"])


def test_the_summary_names_the_type_and_where_only() -> None:
    try:
        _failing()
    except ValueError as exc:
        summary = exception_summary(exc)
    assert summary.startswith("ValueError at ")
    assert summary.endswith(" in _failing")
    assert ID_NUMBER not in summary
    assert PHONE not in summary


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the production handler would write for django.request."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


@pytest.mark.urls("tongxin.tests.failing_urls")
def test_a_server_error_is_logged_by_its_path_alone(actors: Actors, json_log: io.StringIO) -> None:
    client = web_client(actors.county_admin)
    client.raise_request_exception = False
    response = client.get("/boom/", {"q": ID_NUMBER, "phone": PHONE})
    assert response.status_code == 500
    lines = json_log.getvalue().splitlines()
    assert lines
    entries = [json.loads(line) for line in lines]
    assert entries[-1]["message"] == "Internal Server Error: /boom/"
    assert entries[-1]["exception"][-1]["type"] == "RuntimeError"
    assert ID_NUMBER not in json_log.getvalue()
    assert PHONE not in json_log.getvalue()
    assert "the 500 page must cover" not in json_log.getvalue()  # the exception's text


def test_a_query_string_in_a_message_is_cut() -> None:
    """As gunicorn logs a request that failed past Django (deploy/gunicorn.conf.py)."""
    record = logging.LogRecord(
        "gunicorn.error",
        logging.ERROR,
        __file__,
        1,
        "Error handling request %s %s",
        ("GET", f"/children/?q={ID_NUMBER}&phone={PHONE}"),
        None,
    )
    entry = json.loads(JSONFormatter().format(record))
    assert entry["message"] == "Error handling request GET /children/?…"
    assert "exception" not in entry


def test_gunicorn_logs_its_errors_through_the_formatter() -> None:
    from django.conf import settings

    config: dict[str, object] = {}
    exec((settings.BASE_DIR / "deploy" / "gunicorn.conf.py").read_text(), config)  # noqa: S102
    logging_config = config["logconfig_dict"]
    assert isinstance(logging_config, dict)
    formatter = logging_config["formatters"]["json"]["()"]
    assert formatter == f"{JSONFormatter.__module__}.{JSONFormatter.__name__}"
    assert "%(U)s" in str(config["access_log_format"])
    for leaky in ("%(r)s", "%(q)s", "%(f)s"):
        assert leaky not in str(config["access_log_format"])
