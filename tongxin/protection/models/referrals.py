"""Referrals between departments (转介): a problem or a mandatory report sent to another
department with the reason and only the sections of the file it needs."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongxin.accounts.models import Organisation
from tongxin.geo.models import Division
from tongxin.protection import rules
from tongxin.protection.models.problems import Concern
from tongxin.protection.models.reports import MandatoryReport
from tongxin.registry.models import Child

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tongxin.accounts.models import User


class ReferralSection(models.TextChoices):
    """The parts of the file a referral shares (最少必要信息): only these are shown to the
    receiving department, and only while the referral is open."""

    CHILD = "child", _("Basic information on the child")
    FAMILY = "family", _("Family and guardians")
    PROBLEM = "problem", _("The problem found")
    REPORT = "report", _("The report: what happened")


class ReferralStatus(models.TextChoices):
    SENT = rules.ReferralStatus.SENT.value, _("Sent, awaiting acceptance")
    ACCEPTED = rules.ReferralStatus.ACCEPTED.value, pgettext_lazy("referral", "Accepted")
    DECLINED = rules.ReferralStatus.DECLINED.value, _("Declined")
    DONE = rules.ReferralStatus.DONE.value, pgettext_lazy("referral", "Done")


class ReferralQuerySet(models.QuerySet["Referral"]):
    def visible_to(self, user: User | AnonymousUser) -> ReferralQuerySet:
        """Referrals the user may see listed (protection.access decides, in one place)."""
        from tongxin.protection.access import referrals_q

        return self.filter(referrals_q(user))

    def open(self) -> ReferralQuerySet:
        return self.filter(status__in=[s.value for s in rules.REFERRAL_OPEN])


class Referral(models.Model):
    """A referral (转介) of a problem or a mandatory report to another department — education,
    police, court, procuratorate, health, women's federation … — with the reason and only the
    sections of the file it needs. sent → accepted / declined (with the reason) → done (with
    the outcome); the receiving department sees the shared sections while it is open."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    county_code = models.CharField(max_length=6, db_index=True, editable=False)
    # The child's village (or the report's area): the scope.
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", editable=False
    )
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    concern = models.ForeignKey(
        Concern, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    report = models.ForeignKey(
        MandatoryReport, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    department = models.ForeignKey(
        Organisation,
        verbose_name=_("receiving department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("reason for the referral"), max_length=2000)
    sections = models.JSONField(_("sections shared"), default=list)  # ReferralSection values
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    sent_at = models.DateTimeField(_("sent at"), editable=False)
    # Fixed when sent, with the limit then in force (3 working days by default).
    acceptance_due_at = models.DateTimeField(_("to be accepted by"), editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), max_length=2000, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(_("outcome"), max_length=2000, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(concern__isnull=False, report__isnull=True)
                | models.Q(concern__isnull=True, report__isnull=False),
                name="referral_of_a_problem_or_a_report",
            )
        ]
        indexes = [
            models.Index(fields=["department", "status"]),
            models.Index(fields=["county_code", "status"]),
            models.Index(fields=["status", "acceptance_due_at"]),
            models.Index(fields=["division", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.sent_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.status in rules.REFERRAL_OPEN
