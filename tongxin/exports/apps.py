from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    """Large exports written in the background (后台导出) for the foundation layer: an app
    registers what it exports; a file too large to write while the user waits is written by
    the worker, kept a day for the one who asked, then deleted."""

    name = "tongxin.exports"
    label = "exports"
    verbose_name = _("Exports")
