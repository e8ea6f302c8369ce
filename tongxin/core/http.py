"""Requests and responses: the signed-in user of a request (``signed_in_user``), the view
guards, and the one rule for answering an htmx request with a fragment and any other with the
whole page.

View guards. Order matters: anonymous → sign-in page; read-only role on a write → 403;
a role with no business on the page → 404, the same answer as for a page that is not there.

Core sits below the accounts app, so the user model is fetched with ``get_user_model()`` at run
time and named only for the type checker."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers

if TYPE_CHECKING:
    from rest_framework.request import Request

    from tongxin.accounts.models import User

V = TypeVar("V", bound=Callable[..., HttpResponse])


def staff_view(
    *, allow: Callable[[User], bool] | None = None, write: bool = False
) -> Callable[[V], V]:
    """Guard an HTML view. ``write`` marks views that change data (any method): read-only
    roles get 403 there. ``allow`` says which users the page is for; others get 404."""

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = signed_in_user(request)
            if write and user.is_read_only:
                raise PermissionDenied
            if allow is not None and not allow(user):
                raise Http404
            return view(request, *args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorator


def signed_in_user(request: HttpRequest | Request) -> User:
    """The user behind a request that ``staff_view`` or the API's authentication has let in."""
    user = request.user
    assert isinstance(user, get_user_model())
    return user


def wants_fragment(request: HttpRequest) -> bool:
    """True for an htmx request that swaps part of the page. A history restore (the browser
    going back to an address htmx pushed) asks for the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def render_page_or_fragment(
    request: HttpRequest,
    template: str,
    fragment: str,
    context: Mapping[str, Any],
    *,
    status: int | None = None,
) -> HttpResponse:
    """The fragment (``"app/page.html#part"``) for an htmx request, the page otherwise. The same
    address answers both, so the response varies on ``HX-Request`` for caches."""
    response = render(
        request, fragment if wants_fragment(request) else template, context, status=status
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


_PLACEHOLDER = uuid.UUID(int=0)


def url_pattern(name: str) -> Callable[[uuid.UUID | str], str]:
    """The address of the view ``name`` (one code argument) for any code, reversed once: a list
    page links each of its rows, and ``reverse`` per row was a visible part of its time."""
    template = reverse(name, args=[_PLACEHOLDER])
    placeholder = str(_PLACEHOLDER)
    return lambda code: template.replace(placeholder, str(code))
