"""View guards. Order matters: anonymous → sign-in page; read-only role on a write → 403;
a role with no business on the page → 404, the same answer as for a page that is not there."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from tongxin.accounts.models import User

if TYPE_CHECKING:
    from rest_framework.request import Request

V = TypeVar("V", bound=Callable[..., HttpResponse])


def staff_view(
    *, allow: Callable[[User], bool] | None = None, write: bool = False
) -> Callable[[V], V]:
    """Guard an HTML view. ``write`` marks views that change data (any method): read-only
    roles get 403 there. ``allow`` says which users the page is for; others get 404."""

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            assert isinstance(user, User)
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
    assert isinstance(user, User)
    return user
