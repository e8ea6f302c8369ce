"""What the notification centre adds to pages it does not own: the navigation's last entry,
"Notifications" with the unread count."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from tongxin.core.panels import register_menu_entry
from tongxin.notices.services import unread_count


class NotificationsLabel:
    """The notifications link's label with the unread count, read once, when first rendered:
    one COUNT per page."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def text(self) -> str:
        count = unread_count(self.user)
        if not count:
            return str(_("Notifications"))
        return str(_("Notifications (%(count)d)") % {"count": count})

    def __str__(self) -> str:
        return self.text


# Every signed-in user has a notification centre (it may be empty).
register_menu_entry(
    "notifications",
    order=180,
    url=lambda: reverse("notices:notification_list"),
    label=NotificationsLabel,
    shows=lambda user: True,
)
