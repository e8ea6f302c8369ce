from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "tongxin.registry"
    verbose_name = _("Child registry")

    def ready(self) -> None:
        from tongxin.registry import panels  # noqa: F401  (registers its panels and menu entries)
