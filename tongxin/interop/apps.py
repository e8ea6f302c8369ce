from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteropConfig(AppConfig):
    name = "tongxin.interop"
    verbose_name = _("Data exchange")

    def ready(self) -> None:
        from tongxin.interop import panels  # noqa: F401  (registers its menu entry)
