from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtectionConfig(AppConfig):
    name = "tongxin.protection"
    verbose_name = _("Child protection")

    def ready(self) -> None:
        from tongxin.protection import receivers  # noqa: F401  (connects core's signals)
