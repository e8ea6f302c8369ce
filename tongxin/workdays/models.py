"""The working-day calendar as data the county keeps (see docs/decisions/011)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongxin.workdays import rules


class DayKind(models.TextChoices):
    DAY_OFF = rules.DayKind.DAY_OFF.value, _("Day off")
    WORKDAY = rules.DayKind.WORKDAY.value, _("Make-up working day")


class Source(models.TextChoices):
    CHINESE_CALENDAR = "chinese_calendar", _("Loaded from chinese-calendar")
    COUNTY = "county", _("Entered by the county")


class CalendarDay(models.Model):
    """A day of the State Council's holiday arrangement (节假日安排): a public holiday's day off
    (放假), or a Saturday or Sunday made a working day in exchange (调休上班). Every other day
    follows the week. Clocks counted in working days or ending on a rest day read these."""

    day = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("holiday"), max_length=40)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.COUNTY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("holiday or make-up working day")
        verbose_name_plural = _("holidays and make-up working days")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.name}"


class CalendarYear(models.Model):
    """A year whose holiday arrangement is in the table in full (节假日安排已录入): its working
    days are known. A deadline that counts a day of a year without this row is an estimate
    (Monday to Friday counted as working days) and is shown as one."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.COUNTY)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("year with its holidays loaded")
        verbose_name_plural = _("years with their holidays loaded")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
