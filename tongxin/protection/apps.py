from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtectionConfig(AppConfig):
    name = "tongxin.protection"
    verbose_name = _("Child protection")

    def ready(self) -> None:
        # The receivers connect other apps' signals; panels registers what the app adds to
        # pages it does not own (home panels, menu entries, file sections).
        from tongxin.protection import panels, receivers  # noqa: F401
