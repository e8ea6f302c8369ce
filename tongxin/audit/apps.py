from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "tongxin.audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from tongxin.audit import panels  # noqa: F401  (registers its menu entry)
