from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "tongxin.audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from tongxin.audit import panels  # noqa: F401  (registers its menu entry)
        from tongxin.audit.database import after_migrate

        # Once per migrate (sent for each app; this app's is enough), after every migration.
        post_migrate.connect(after_migrate, sender=self, dispatch_uid="tongxin.audit.database")
