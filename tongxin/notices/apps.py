from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    """The notification centre of the foundation layer: notifications, their e-mails and the
    unread count, written by any app with the link and text it chooses."""

    name = "tongxin.notices"
    label = "notices"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from tongxin.notices import panels  # noqa: F401  (registers the menu entry)
