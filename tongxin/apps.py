from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TongxinConfig(AppConfig):
    """The project itself: home page, shared templates, the demo loader."""

    name = "tongxin"
    verbose_name = _("Tongxin")
