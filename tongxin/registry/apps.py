from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "tongxin.registry"
    verbose_name = _("Child registry")

    def ready(self) -> None:
        from tongxin.exports.services import register_exporter
        from tongxin.registry import (
            exports,
            panels,  # noqa: F401  (registers its panels and menu entries)
        )

        register_exporter("children", title=_("List of children"), write=exports.children_write)
