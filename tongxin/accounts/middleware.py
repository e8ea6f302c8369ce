"""Hold a signed-in user at the steps their account still needs before any other page: setting
their own password in place of a one-time one, then the second factor (or its enrolment) where
the role needs one."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

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
