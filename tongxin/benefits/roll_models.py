"""Payment rolls (发放花名册): the monthly rolls of the civil-affairs finance office, imported
with a preview, all or nothing, and the lines they paid (decision 023).

The models live in a module of their own (loaded by ``BenefitsConfig.ready``), beside the
standards and enrolments of ``benefits.models``; the programme is its code from ``rules``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.roles import Role
from tongxin.benefits.rules import PROGRAMME_LABELS, Programme
from tongxin.geo.scope import NOTHING, scope_q

if TYPE_CHECKING:
    from tongxin.accounts.models import User

PROGRAMME_CHOICES = [(p.value, PROGRAMME_LABELS[p]) for p in Programme]
# Who reads rolls (the county's officers, read-only auditors) and who reads the lines that match
# no file (the children to register): also the town supervisors and village directors, in their
# own division.
ROLL_READER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.AUDITOR})
UNMATCHED_READER_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.AUDITOR, Role.TOWN_SUPERVISOR, Role.VILLAGE_DIRECTOR}
)


class RollStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Checked: ready to apply")
    REFUSED = "refused", _("Refused: nothing was written")
    APPLIED = "applied", _("Applied")


class PaymentRollQuerySet(models.QuerySet["PaymentRoll"]):
    def visible_to(self, user: User) -> PaymentRollQuerySet:
        """The rolls of the user's division, for the roles that read rolls."""
        if not user.is_authenticated or user.role not in ROLL_READER_ROLES:
            return self.none()
        return self.filter(scope_q(user, "county_code"))


class PaymentRoll(models.Model):
    """One upload of a monthly payment roll (发放花名册) from the civil-affairs finance office:
    the file's SHA-256, the preview of every row, its status and counts. The file itself is not
    kept: the preview's rows (ID numbers as keyed hashes, masked, and encrypted only for the
    lines that match no file) are what the apply writes."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # The county the roll pays in (the uploader's division): its scope.
    county_code = models.CharField(_("county"), max_length=12, db_index=True)
    file_name = models.CharField(_("file"), max_length=200)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    months = models.JSONField(_("months"), default=list, blank=True)  # ["2024-06", …]
    status = models.CharField(
        _("status"), max_length=10, choices=RollStatus.choices, default=RollStatus.PREVIEWED
    )
    message = models.TextField(_("message"), blank=True)
    counts = models.JSONField(default=dict, blank=True)  # kind → lines, "total", "errors"
    rows = models.JSONField(default=list, blank=True)  # the preview, one dict per row
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    objects = PaymentRollQuerySet.as_manager()

    class Meta:
        app_label = "benefits"
        verbose_name = _("payment roll")
        verbose_name_plural = _("payment rolls")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} {self.sha256[:12]}"


class PaymentLineQuerySet(models.QuerySet["PaymentLine"]):
    def current(self) -> PaymentLineQuerySet:
        """Lines in force: not replaced by a later roll's line for the same month."""
        return self.filter(in_force=True)

    def unmatched_visible_to(self, user: User) -> PaymentLineQuerySet:
        """Lines in force that match no file, in the user's division (the children to
        register), for the roles that read them."""
        if not user.is_authenticated or user.role not in UNMATCHED_READER_ROLES:
            return self.filter(NOTHING)
        return self.current().filter(child__isnull=True).filter(scope_q(user, "village__code"))


class PaymentLine(models.Model):
    """One line of a payment roll (发放明细): a programme's payment for one month to one
    person, linked to the child's file by the ID number's keyed hash, or to no file (a child
    the registry is missing: 未建档). A later roll's line for the same person, programme and
    month with another amount replaces it (``replaced_by``); the old line stays as history."""

    roll = models.ForeignKey(PaymentRoll, on_delete=models.PROTECT, related_name="lines")
    line = models.PositiveIntegerField(_("row"))
    child = models.ForeignKey(
        "registry.Child", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    id_hash = models.CharField(max_length=64, editable=False)
    id_masked = models.CharField(_("ID number"), max_length=24)
    # The full number, encrypted with the data key, only while the line matches no file: the
    # village director registers the child from it (decision 023).
    id_enc = models.BinaryField(null=True, editable=False)
    name = models.CharField(_("name"), max_length=50)
    programme = models.CharField(_("programme"), max_length=30, choices=PROGRAMME_CHOICES)
    month = models.DateField(_("month"))  # the first day of the month paid
    amount = models.DecimalField(_("amount"), max_digits=9, decimal_places=2)
    town = models.ForeignKey(
        "geo.Division", on_delete=models.PROTECT, related_name="+", verbose_name=_("town")
    )
    village = models.ForeignKey(
        "geo.Division", on_delete=models.PROTECT, related_name="+", verbose_name=_("village")
    )
    in_force = models.BooleanField(default=True)
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = PaymentLineQuerySet.as_manager()

    class Meta:
        app_label = "benefits"
        verbose_name = _("payment line")
        verbose_name_plural = _("payment lines")
        ordering = ["roll", "line"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_hash", "programme", "month"],
                condition=Q(in_force=True),
                name="payment_line_one_in_force",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_line_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["child", "month"], name="payment_line_child_month"),
            models.Index(fields=["village", "month"], name="payment_line_village_month"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.month:%Y-%m} {self.amount}"
