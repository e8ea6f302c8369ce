"""Hot pages kept rendered until the data changes (decision 024).

``keep_until_data_changes`` wraps a read-only page view (the worklist, the child list). A page
is kept for one user, one address, one language, one browser's CSRF secret and one day, under
the data generation read *before* the page is made (``tongxin.core.generation``): any write to
the county's data moves the generation and every kept page is made again on its next request.
A kept page is served with a fresh CSRF mask, so no two answers carry the same token.

Never kept: anything but a GET, a request without a CSRF cookie yet, a request with messages
waiting to be shown (they are part of the page), an ID search (``idq``: its session token
expires), an answer other than a plain 200 HTML page, an answer that sets a cookie. Kept pages
live in the process's memory (the ``pages`` cache, ``TIMEOUT`` seconds at most), so each server
worker keeps its own; nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation

from tongxin.core import generation

CACHE = "pages"
TIMEOUT = 600
# Headers of an answer worth keeping with it (the rest are added by the middleware each time).
_KEPT_HEADERS = ("Content-Type", "Vary", "Content-Language")
_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')
# Parameters whose pages are never kept.
_NEVER = ("idq",)


@dataclass(frozen=True)
class KeptPage:
    content: bytes
    headers: tuple[tuple[str, str], ...]
    token: bytes


def _key(request: HttpRequest) -> str | None:
    if not settings.TONGXIN_PAGE_CACHE or request.method != "GET":
        return None
    secret = request.META.get("CSRF_COOKIE")
    if not secret or any(name in request.GET for name in _NEVER):
        return None
    if len(get_messages(request)):
        return None
    user = request.user
    htmx = sorted((k, v) for k, v in request.META.items() if k.startswith("HTTP_HX_"))
    parts = (
        request.path,
        request.META.get("QUERY_STRING", ""),
        str(user.pk),
        str(getattr(user, "role", "")),
        str(getattr(user, "division_id", "")),
        translation.get_language() or "",
        repr(htmx),
        secret,
        timezone.localdate().isoformat(),
        str(generation.current(connection)),
    )
    return "page:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _keep(response: HttpResponse) -> KeptPage | None:
    if (
        response.status_code != 200
        or response.streaming
        or response.cookies
        or not response.get("Content-Type", "").startswith("text/html")
    ):
        return None
    content = response.content
    tokens = set(_TOKEN.findall(content))
    if len(tokens) > 1:
        return None
    headers = tuple((h, response[h]) for h in _KEPT_HEADERS if response.has_header(h))
    return KeptPage(content, headers, next(iter(tokens), b""))


def _replay(request: HttpRequest, kept: KeptPage) -> HttpResponse:
    content = kept.content
    if kept.token:
        content = content.replace(kept.token, get_token(request).encode())
    response = HttpResponse(content)
    for header, value in kept.headers:
        response[header] = value
    return response


def keep_until_data_changes[V: Callable[..., HttpResponse]](view: V) -> V:
    """Keep the view's page until the data changes (see the module's note)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = _key(request)
        if key is None:
            return view(request, *args, **kwargs)
        pages = caches[CACHE]
        kept = pages.get(key)
        if kept is not None:
            return _replay(request, kept)
        response = view(request, *args, **kwargs)
        if (page := _keep(response)) is not None:
            pages.set(key, page, TIMEOUT)
        return response

    return wrapped  # type: ignore[return-value]


def forget_all() -> None:
    """Drop every kept page of this process (tests start from none)."""
    caches[CACHE].clear()


@receiver(setting_changed)
def _forget_on_new_settings(**kwargs: Any) -> None:
    # Settings change only in tests (override_settings); a page made under others is not kept.
    forget_all()
