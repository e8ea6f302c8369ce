"""The error pages that Django's defaults would render without the signed-in user's navigation,
or in English. 403, 404 and 500 use Django's own handlers with our templates (403.html and
404.html extend base.html with the navigation; 500.html stands alone: whatever failed may be the
database the navigation needs)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400: with the navigation where the request allows it. A request refused for its host or
    a damaged session may not survive the context processors: the page is then drawn without
    them (still in Chinese, still with the way home)."""
    try:
        body = render_to_string("400.html", request=request)
    except Exception:
        logger.warning("400 page drawn without the request's context", exc_info=True)
        body = render_to_string("400.html")
    return HttpResponse(body, status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a refused form token (CSRF_FAILURE_VIEW): why in plain words, never the
    technical reason (which says nothing a user can act on)."""
    return HttpResponse(render_to_string("403_csrf.html", request=request), status=403)
