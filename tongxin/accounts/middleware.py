"""Hold a signed-in user whose role needs a second factor at the 2FA page until they pass it."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

# Paths a user may reach before the second factor: the 2FA pages themselves, sign-out, assets
# and the language switch.
_OPEN_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/static/", "/i18n/", "/api/")


def second_factor_pending(request: HttpRequest) -> bool:
    user = request.user
    if not user.is_authenticated or not user.needs_second_factor:
        return False
    return not user.is_verified()  # type: ignore[attr-defined]  # set by OTPMiddleware


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if second_factor_pending(request) and not request.path.startswith(_OPEN_PREFIXES):
            return redirect(reverse("second_factor"))
        return self.get_response(request)
