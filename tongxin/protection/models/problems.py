"""Problems found (问题和解决方案) about a child: the problem with its proposed solution,
owner and deadline, and its timeline of actions (处理记录)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from tongxin.accounts.models import Organisation
from tongxin.geo.scope import scope_q
from tongxin.protection.rules import (
    OPEN_STATUSES,
    ConcernCategory,
    ConcernStatus,
    ProblemStatus,
    Severity,
    problem_overdue,
)
from tongxin.registry.models import Child

if TYPE_CHECKING:
    from tongxin.accounts.models import User


class ConcernQuerySet(models.QuerySet["Concern"]):
    def visible_to(self, user: User) -> ConcernQuerySet:
        if not user.is_authenticated or not user.reads_child_files:
            return self.none()
        return self.filter(scope_q(user, "child__village__code"))

    def open(self) -> ConcernQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Concern(models.Model):
    """A problem found (发现的问题) about a child, with the proposed solution (解决方案), who
    owns it and by when. Usually raised from a contact's checklist item marked "concern"."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="concerns")
    contact = models.ForeignKey(
        "visits.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="concerns",
        editable=False,
    )
    # The checklist item it came from (visits.models.CHECKLIST), "" when raised on its own.
    checklist_item = models.CharField(max_length=30, blank=True, editable=False)
    category = models.CharField(_("category"), max_length=20, choices=ConcernCategory.choices)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM
    )
    description = models.TextField(_("problem found"), max_length=2000)
    solution = models.TextField(_("proposed solution"), max_length=2000, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_concerns",
    )
    # Or a department owns it (its officers see and act on the problem itself).
    owner_department = models.ForeignKey(
        Organisation,
        verbose_name=_("owning department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ConcernStatus.choices, default=ConcernStatus.OPEN
    )
    outcome = models.TextField(_("outcome"), max_length=2000, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    # The mandatory report that raised it: it stays open until the report ends.
    report = models.ForeignKey(
        "protection.MandatoryReport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="concerns",
        editable=False,
    )
    history = HistoricalRecords()

    objects = ConcernQuerySet.as_manager()

    class Meta:
        verbose_name = _("problem found")
        verbose_name_plural = _("problems found")
        indexes = [
            models.Index(fields=["child", "status"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["owner_department", "status"]),
            models.Index(fields=["status", "due_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.description[:30]}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, today: date) -> bool:
        return problem_overdue(ProblemStatus(self.status), self.due_on, today)


class ActionKind(models.TextChoices):
    ACTION = "action", _("Action taken")
    STATUS = "status", _("Status changed")
    ASSIGN = "assign", _("Owner changed")
    REFERRAL = "referral", _("Referred to a department")


class ConcernAction(models.Model):
    """One entry of a problem's timeline (处理记录): who did what about it, and when — an
    action taken, a change of status (with the solution or the reason), a new owner, a
    referral to a department."""

    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="actions")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ActionKind.choices, default=ActionKind.ACTION)
    text = models.TextField(_("what was done"), max_length=2000, blank=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    # The new owner, on a change of owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner_department = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("action on a problem")
        verbose_name_plural = _("actions on problems")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"
