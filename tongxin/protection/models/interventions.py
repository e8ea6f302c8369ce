"""Guardianship interventions (监护干预, tasks 6/7) recorded on a child's file: the
intervention with its choices, its assessments (评估) and its documents."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongxin.core.documents import StoredDocument
from tongxin.protection.models.reports import MandatoryReport
from tongxin.registry.models import Child

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tongxin.accounts.models import User


class InterventionKind(models.TextChoices):
    TEMPORARY_GUARDIANSHIP = "temporary_guardianship", _("Temporary guardianship")
    POLICE_ADMONITION = "police_admonition", _("Police admonition")
    FAMILY_EDUCATION_ORDER = "family_education_order", _("Family-education guidance order")
    PROTECTION_ORDER = "protection_order", _("Personal-safety protection order")
    GUARDIANSHIP_REVOCATION = "guardianship_revocation", _("Revocation of guardianship")
    SUPPORTED_SUIT = "supported_suit", _("Procuratorate support of a suit")
    PUBLIC_INTEREST_LITIGATION = "public_interest_litigation", _("Public-interest litigation")
    JUDICIAL_SUGGESTION = "judicial_suggestion", _("Judicial suggestion")
    PROCURATORIAL_SUGGESTION = "procuratorial_suggestion", _("Procuratorial suggestion")


class Placement(models.TextChoices):
    """Where a child under temporary guardianship lives (临时监护的安置方式)."""

    KIN_CARE = "kin_care", _("Kin care")
    FOSTER_FAMILY = "foster_family", _("Foster family")
    RESCUE_PROTECTION = "rescue_protection", _("Rescue-protection institution")
    WELFARE_INSTITUTION = "welfare_institution", _("Child welfare institution")


class AssessmentConclusion(models.TextChoices):
    RETURN_TO_GUARDIAN = "return_to_guardian", _("The guardian can take the child back")
    LONG_TERM_GUARDIANSHIP = "long_term_guardianship", _("Long-term guardianship by civil affairs")
    NEW_GUARDIAN = "new_guardian", _("Another guardian takes over")
    CONTINUE = "continue", _("Temporary guardianship to continue")
    OTHER = "other", pgettext_lazy("assessment", "Other")


class InterventionQuerySet(models.QuerySet["Intervention"]):
    def readable_by(self, user: User | AnonymousUser) -> InterventionQuerySet:
        """Interventions the user may read in full (protection.access decides, in one place)."""
        from tongxin.protection.access import interventions_q

        return self.filter(interventions_q(user))


class Intervention(models.Model):
    """A guardianship intervention (监护干预) recorded on a child's file: temporary guardianship
    (临时监护) with the placement, a police admonition (训诫), a family-education guidance
    order (家庭教育指导令), a personal-safety protection order (人身安全保护令), revocation of
    guardianship (撤销监护人资格), a suit supported by the procuratorate (支持起诉),
    public-interest litigation (公益诉讼), a judicial or procuratorial suggestion (司法建议、
    检察建议). Sensitive: the county, the handling department of its report and the auditor
    read it; the village director knows only that one exists."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    county_code = models.CharField(max_length=6, db_index=True, editable=False)
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, related_name="interventions", editable=False
    )
    report = models.ForeignKey(
        MandatoryReport,
        verbose_name=_("mandatory report"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="interventions",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=InterventionKind.choices)
    placement = models.CharField(
        _("placement"), max_length=20, choices=Placement.choices, blank=True
    )
    # Sensitive: the relative, the foster family or the institution the child lives with.
    placed_with = models.CharField(_("placed with"), max_length=100, blank=True)
    decided_on = models.DateField(_("decided on"))
    decision_maker = models.CharField(_("decision maker"), max_length=100)
    document_number = models.CharField(_("document number"), max_length=60, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("planned end"), null=True, blank=True)
    notes = models.TextField(_("notes"), max_length=5000, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True, editable=False)
    end_reason = models.TextField(_("why it ended"), max_length=2000, blank=True, editable=False)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = InterventionQuerySet.as_manager()

    class Meta:
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")
        ordering = ["-decided_on", "-pk"]
        constraints = [
            # A placement goes with a temporary guardianship, and only with it.
            models.CheckConstraint(
                condition=(models.Q(kind="temporary_guardianship") & ~models.Q(placement=""))
                | (~models.Q(kind="temporary_guardianship") & models.Q(placement="")),
                name="intervention_placement_with_temporary_guardianship",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gte=models.F("starts_on")),
                name="intervention_ends_after_it_starts",
            ),
        ]
        indexes = [
            models.Index(fields=["child", "kind"]),
            models.Index(fields=["county_code", "decided_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.decided_on}"


class InterventionAssessment(models.Model):
    """An assessment (评估) of a child under an intervention: before a temporary guardianship
    ends, whether the guardian can take the child back, or who else should care for them."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    intervention = models.ForeignKey(
        Intervention, on_delete=models.PROTECT, related_name="assessments", editable=False
    )
    assessed_on = models.DateField(_("assessed on"))
    assessor = models.CharField(_("assessed by"), max_length=100)
    conclusion = models.CharField(
        _("conclusion"), max_length=30, choices=AssessmentConclusion.choices
    )
    summary = models.TextField(_("assessment"), max_length=5000)  # sensitive
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["assessed_on", "pk"]

    def __str__(self) -> str:
        return f"{self.assessed_on} {self.conclusion}"


class InterventionDocument(StoredDocument):
    """A decision, order, judgment or assessment report (PDF or photo) of an intervention.
    Stored under a random name, served only through the scoped, audited view."""

    download_stem = "document"

    intervention = models.ForeignKey(
        Intervention, on_delete=models.PROTECT, related_name="documents"
    )
    file = models.FileField(upload_to="interventions/%Y/")
