"""Programmes' standards and enrolments (救助保障标准、纳入保障): what the county pays per month
for each programme and rate, and who receives which programme from which month (decision 022).

Months are first days: an enrolment runs from ``start_month`` through ``end_month`` (both the
first day of their month, the end inclusive; no end: still open), and a standard is the one in
force on a month's first day (``standard_for``)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from tongxin.benefits import rules
from tongxin.geo.scope import scope_q
from tongxin.registry.models import Child, Household

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from tongxin.accounts.models import User

# The largest monthly amount either record takes (yuan): far above any programme's standard,
# so that a typing slip (an amount in fen, an extra zero or three) is refused.
MAX_MONTHLY_AMOUNT = Decimal("20000.00")
MIN_MONTHLY_AMOUNT = Decimal("0.01")

PROGRAMME_CHOICES = [(p.value, rules.PROGRAMME_LABELS[p]) for p in rules.Programme]
RATE_CHOICES = [(r.value, rules.RATE_LABELS[r]) for r in rules.Rate]
# The programmes paid at a rate (机构集中养育 / 社会散居): the two allowances.
RATED = frozenset(p.value for p in rules.ALLOWANCES)
# The family benefit: enrolled for the household, never for one child.
HOUSEHOLD_PROGRAMMES = frozenset({rules.Programme.DIBAO.value})


def month_start(day: date) -> date:
    return day.replace(day=1)


def _amount_field(verbose_name: StrOrPromise) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(
        verbose_name,
        max_digits=8,
        decimal_places=2,
        validators=[
            MinValueValidator(MIN_MONTHLY_AMOUNT),
            MaxValueValidator(MAX_MONTHLY_AMOUNT),
        ],
    )


class Standard(models.Model):
    """A version of a programme's monthly standard (保障标准) at one rate, in force from
    ``effective_from`` until the next version of the same programme and rate. A month is judged
    by the version in force on its first day; versions are never edited, only added."""

    programme = models.CharField(_("programme"), max_length=40, choices=PROGRAMME_CHOICES)
    rate = models.CharField(_("rate"), max_length=20, choices=RATE_CHOICES, blank=True)
    monthly_amount = _amount_field(_("monthly amount (yuan)"))
    effective_from = models.DateField(_("in force from"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["programme", "rate", "effective_from"]
        verbose_name = _("benefit standard")
        verbose_name_plural = _("benefit standards")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "rate", "effective_from"], name="standard_one_per_day"
            ),
            models.CheckConstraint(
                condition=Q(monthly_amount__gt=0), name="standard_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(programme__in=sorted(RATED), rate__in=[r.value for r in rules.Rate])
                | (~Q(programme__in=sorted(RATED)) & Q(rate="")),
                name="standard_rate_only_for_allowances",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme}/{self.rate or '-'}@{self.effective_from}"


class EndReason(models.TextChoices):
    """Why an enrolment ended (停发原因)."""

    AGED_OUT = "aged_out", _("Aged out")
    PARENT_RETURNED = "parent_returned", _("A parent was released or returned")
    ADOPTED = "adopted", _("Adopted")
    DIED = "died", _("Died")
    MOVED_OUT = "moved_out", _("Moved out of the county")
    NOT_ELIGIBLE = "not_eligible", _("Stopped as no longer eligible")
    DECLINED = "declined", _("The family declined")
    OTHER = "other", _("Other")


class BenefitEnrolmentQuerySet(models.QuerySet["BenefitEnrolment"]):
    def visible_to(self, user: User) -> BenefitEnrolmentQuerySet:
        """Enrolments of children (or households) whose village lies in the user's division,
        for the roles that read files."""
        if not user.is_authenticated or not user.reads_child_files:
            return self.none()
        return self.filter(
            scope_q(user, "child__village__code") | scope_q(user, "household__village__code")
        )


class BenefitEnrolment(models.Model):
    """An enrolment in a programme (纳入保障): a child — or, for dibao, the household — receives
    the programme at a rate and a monthly amount from ``start_month`` through ``end_month``
    (open while null), on the approving document (批准文号); an ended one says why."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    child = models.ForeignKey(
        Child,
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="benefit_enrolments",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="benefit_enrolments",
    )
    programme = models.CharField(_("programme"), max_length=40, choices=PROGRAMME_CHOICES)
    rate = models.CharField(_("rate"), max_length=20, choices=RATE_CHOICES, blank=True)
    monthly_amount = _amount_field(_("monthly amount (yuan)"))
    start_month = models.DateField(_("from (month)"))
    end_month = models.DateField(_("through (month)"), null=True, blank=True)
    document_number = models.CharField(_("approving document no."), max_length=60, blank=True)
    end_reason = models.CharField(
        _("reason it ended"), max_length=20, choices=EndReason.choices, blank=True
    )
    end_note = models.CharField(_("end: details"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = BenefitEnrolmentQuerySet.as_manager()

    class Meta:
        ordering = ["-start_month", "programme"]
        verbose_name = _("benefit enrolment")
        verbose_name_plural = _("benefit enrolments")
        indexes = [models.Index(fields=["programme", "start_month"])]
        constraints = [
            # Exactly one of child and household; the household for dibao alone.
            models.CheckConstraint(
                condition=(
                    Q(programme__in=sorted(HOUSEHOLD_PROGRAMMES))
                    & Q(child__isnull=True, household__isnull=False)
                )
                | (
                    ~Q(programme__in=sorted(HOUSEHOLD_PROGRAMMES))
                    & Q(child__isnull=False, household__isnull=True)
                ),
                name="enrolment_child_or_household",
            ),
            models.CheckConstraint(
                condition=Q(monthly_amount__gt=0), name="enrolment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(end_month__isnull=True) | Q(end_month__gte=models.F("start_month")),
                name="enrolment_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(end_month__isnull=True, end_reason="")
                | (Q(end_month__isnull=False) & ~Q(end_reason="")),
                name="enrolment_end_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(programme__in=sorted(RATED), rate__in=[r.value for r in rules.Rate])
                | (~Q(programme__in=sorted(RATED)) & Q(rate="")),
                name="enrolment_rate_only_for_allowances",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.start_month}–{self.end_month or ''}"

    @property
    def village_id(self) -> str:
        """The village the enrolment's child or household lives in (its scope)."""
        if self.child_id is not None:
            return self.child.village_id  # type: ignore[union-attr]
        return self.household.village_id  # type: ignore[union-attr]

    @property
    def is_open(self) -> bool:
        return self.end_month is None

    def covers(self, month: date) -> bool:
        month = month_start(month)
        return self.start_month <= month and (self.end_month is None or month <= self.end_month)


# The payment rolls' models live in a module of their own (decision 023); named here so that
# Django loads them with the app's other models.
from tongxin.benefits.roll_models import PaymentLine, PaymentRoll  # noqa: E402

__all__ = ["BenefitEnrolment", "PaymentLine", "PaymentRoll", "Standard"]
