"""Hold a signed-in user at the steps their account still needs before any other page: setting
their own password in place of a one-time one, then the second factor (or its enrolment) where
the role needs one. And keep a session alive while it is used (the idle timeout)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from tongxin.accounts.sessions import SAVED_AT

# Paths a user reaches whatever step they are held at: sign-out, assets, the language switch,
# the API (which signs in by token, and refuses a token to an account held here), and the
# monitor's health check.
_OPEN_PREFIXES = ("/accounts/logout/", "/static/", "/i18n/", "/api/", "/healthz")
_SECOND_FACTOR_PREFIX = "/accounts/2fa/"


def password_change_pending(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.must_change_password)


def second_factor_pending(request: HttpRequest) -> bool:
    user = request.user
    if not user.is_authenticated or not user.needs_second_factor:
        return False
    return not user.is_verified()  # type: ignore[attr-defined]  # set by OTPMiddleware


class SignInStepsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(_OPEN_PREFIXES):
            if password_change_pending(request):
                page = reverse("accounts:password")
                if request.path != page:
                    return redirect(page)
            elif second_factor_pending(request) and not request.path.startswith(
                _SECOND_FACTOR_PREFIX
            ):
                return redirect(reverse("second_factor"))
        return self.get_response(request)


def renewal_interval() -> int:
    """Seconds between two renewals of a session in use: a minute, or a thirtieth of the idle
    timeout where that is shorter."""
    return max(1, min(60, settings.SESSION_COOKIE_AGE // 30))


class SessionRenewalMiddleware:
    """The idle timeout, renewed at most once a ``renewal_interval()``: a session's expiry
    (``SESSION_COOKIE_AGE`` after its last save) is pushed back by marking it modified, which
    the session middleware saves. Saving on every request (``SESSION_SAVE_EVERY_REQUEST``) was a
    database write per page view, a write transaction on SQLite (issue 12); this way a session
    ends between ``SESSION_COOKIE_AGE - renewal_interval()`` and ``SESSION_COOKIE_AGE`` seconds
    after its last request. The session engine (``tongxin.accounts.sessions``) notes when each
    session was saved."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = request.session
        # Only a session the request used (a page signed in by it; not the API's token requests,
        # whose answers must not start to vary on the cookie), and not one that turned out empty
        # (a cookie naming no live session: no new session is made for it).
        if (
            session.accessed
            and not session.modified
            and not session.is_empty()
            and int(time.time()) - session.get(SAVED_AT, 0) >= renewal_interval()
        ):
            session.modified = True
        return response
