from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "tongxin.benefits"
    verbose_name = _("Benefits")

    def ready(self) -> None:
        # The payment rolls' models live in a module of their own (decision 023); its menu
        # entries are registered beside them.
        from tongxin.benefits import roll_models, roll_panels  # noqa: F401
