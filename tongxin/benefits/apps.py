from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "tongxin.benefits"
    verbose_name = _("Benefits")

    def ready(self) -> None:
        # What the app adds to pages it does not own: menu entries, the file's section.
        from tongxin.benefits import panels  # noqa: F401
