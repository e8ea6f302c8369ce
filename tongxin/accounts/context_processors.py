"""The navigation a user sees: the entries each app registered (``tongxin.core.panels``) that
show for the user, in order."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tongxin.core.panels import menu


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    return {"nav": menu(user)}
