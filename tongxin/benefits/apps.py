from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "tongxin.benefits"
    verbose_name = _("Benefits")

    def ready(self) -> None:
        # What the app adds to pages it does not own: menu entries, the file's section; the
        # payment rolls' entries beside their models (decision 023).
        from tongxin.benefits import panels, roll_panels  # noqa: F401
