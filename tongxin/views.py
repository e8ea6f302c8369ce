"""The home page: each role's "my work", the panels the apps that own the work registered
(``tongxin.core.panels``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tongxin.accounts.views import login_view
from tongxin.core.http import signed_in_user, staff_view
from tongxin.core.panels import home_panels
from tongxin.protection import selectors as protection_selectors


def home(request: HttpRequest) -> HttpResponse:
    """Signed in: my work. Not signed in: the sign-in page itself, at the address people type."""
    if not request.user.is_authenticated:
        return login_view(request)
    return _my_work(request)


@staff_view()
def _my_work(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    panels = home_panels(user)
    # Deadlines counted over a year whose holidays are missing: said before any panel.
    warning = protection_selectors.calendar_warning(user)
    return render(request, "home.html", {"panels": panels, "calendar_warning": warning})
