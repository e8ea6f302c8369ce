from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    """The county's working-day calendar (decision 011): the holidays and make-up working days
    every clock counted in working days reads, kept as data and edited on /settings/workdays/."""

    name = "tongxin.workdays"
    label = "workdays"
    verbose_name = _("Working-day calendar")
