"""Test-run guard: no full ID number in any page body, API answer or log record.

Every response the test clients receive, and every log record, is scanned for a string that
*is* a valid 18-character ID number (GB 11643 check character included); one found fails the
test at that request. An address the answer sends the browser to (``Location``, htmx's
headers) may hold none at all. Allowed: the reveal endpoint (its purpose), and a number the request
itself carried (a form shown again with what the user typed).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

from django.test.client import Client
from django.urls import Resolver404

from tongxin.lib.idcard import check_character

_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])([1-8]\d{16}[\dX])(?![0-9A-Za-z])")
ALLOWED_VIEWS = frozenset({"registry:child_reveal_id"})
_SCANNED_TYPES = ("text/html", "application/json", "text/plain", "text/csv")
_URL_HEADERS = ("Location", "HX-Location", "HX-Push-Url", "HX-Redirect", "HX-Replace-Url")


def full_id_numbers(text: str) -> set[str]:
    return {m for m in _CANDIDATE.findall(text) if check_character(m[:17]) == m[17]}


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:
            return
        if numbers := full_id_numbers(message):
            self.found.append(f"{record.name}: {sorted(numbers)}")


def _sent(environ: dict[str, Any]) -> str:
    """What the request itself carried (query string and body), as text."""
    payload = environ.get("wsgi.input")
    # FakePayload keeps what it will send in a private buffer; read it without consuming it.
    buffer = getattr(payload, "_FakePayload__content", None)
    body = buffer.getvalue() if buffer is not None else b""
    return str(environ.get("QUERY_STRING", "")) + body.decode("utf-8", "replace")


@contextmanager
def guard() -> Iterator[None]:
    original = Client.request

    def request(self: Client, **kwargs: Any) -> Any:
        response = original(self, **kwargs)
        # An address the answer sends the browser to lands in its history and the next access
        # log line: never a full number, even one the request carried.
        for header in _URL_HEADERS:
            if numbers := full_id_numbers(unquote(response.get(header, ""))):
                raise AssertionError(
                    f"full ID number(s) {sorted(numbers)} in the {header} of the answer to "
                    f"{kwargs.get('PATH_INFO')}"
                )
        content_type = response.get("Content-Type", "")
        if getattr(response, "streaming", False) or not content_type.startswith(_SCANNED_TYPES):
            return response
        try:
            # resolver_match resolves lazily: on first use, not when it is read.
            view_name = response.resolver_match.view_name
        except Resolver404:  # a path no URL pattern matches
            view_name = None
        if view_name in ALLOWED_VIEWS:
            return response
        sent = _sent(kwargs)
        body = response.content.decode("utf-8", "replace")
        leaked = {n for n in full_id_numbers(body) if n not in sent}
        if leaked:
            raise AssertionError(
                f"full ID number(s) {sorted(leaked)} in the answer to {kwargs.get('PATH_INFO')}"
            )
        return response

    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    Client.request = request  # type: ignore[method-assign]
    try:
        yield
    finally:
        Client.request = original  # type: ignore[method-assign]
        root.removeHandler(collector)
    if collector.found:
        raise AssertionError(f"full ID number(s) in log records: {collector.found}")
