"""The notification centre: the signed-in user's own notifications, unread first, and marking
them read. Every signed-in user has one (it may be empty); a key that is not yours changes
nothing, exactly as one that is not there."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tongxin.core.http import signed_in_user as _user
from tongxin.core.http import staff_view
from tongxin.notices import services as notifications

PAGE_SIZE = 30


@staff_view()
def notification_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = Paginator(notifications.notifications_for(user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notices/notifications.html",
        {"page": page, "unread": notifications.unread_count(user)},
    )


@staff_view()
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``key``) or all of them (no key) read. With ``open``, go on to
    the notification's own page."""
    user = _user(request)
    key = request.POST.get("key") or None
    notifications.mark_read(user=user, key=key)
    back = reverse("notices:notification_list")
    if key is not None and request.POST.get("open"):
        note = notifications.notifications_for(user).filter(key=key).first()
        if note is not None and url_has_allowed_host_and_scheme(
            note.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(note.url or back)
    return redirect(back)


urlpatterns: list[URLPattern] = [
    path("", notification_list, name="notification_list"),
    path("read/", notification_read, name="notification_read"),
]
