from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "tongxin.visits"
    verbose_name = _("Contacts and visits")

    def ready(self) -> None:
        # The receivers connect other apps' signals; panels registers what the app adds to
        # pages it does not own (home panels, menu entries, file sections).
        from tongxin.visits import (
            panels,  # noqa: F401
            receivers,  # noqa: F401  (their signals: registry, protection)
        )
