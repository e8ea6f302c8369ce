from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenefitsConfig(AppConfig):
    name = "tongxin.benefits"
    verbose_name = _("Benefits")

    def ready(self) -> None:
        # The payment rolls' models live in a module of their own (decision 023).
        from tongxin.benefits import roll_models  # noqa: F401
