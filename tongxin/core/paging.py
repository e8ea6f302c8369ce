"""One page of a JSON list: the envelope every list endpoint of /api/v1/ answers with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.paginator import InvalidPage, Page, Paginator
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param


def api_page(
    request: Request, items: Sequence[Any] | Any, size: int
) -> tuple[Page[Any], dict[str, Any]]:
    """The page the ``page`` parameter asks for (404 past the end) and its envelope: ``count``,
    ``page``, ``num_pages``, ``next`` and ``previous`` (absolute links, None at the ends; the
    first page's link has no ``page`` parameter). The caller adds ``results``."""
    paginator = Paginator(items, size)
    try:
        page = paginator.page(request.query_params.get("page") or 1)
    except InvalidPage as exc:
        raise NotFound from exc
    url = request.build_absolute_uri()
    previous = None
    if page.has_previous():
        number = page.previous_page_number()
        previous = (
            replace_query_param(url, "page", number)
            if number > 1
            else remove_query_param(url, "page")
        )
    return page, {
        "count": paginator.count,
        "page": page.number,
        "num_pages": paginator.num_pages,
        "next": replace_query_param(url, "page", page.next_page_number())
        if page.has_next()
        else None,
        "previous": previous,
    }
