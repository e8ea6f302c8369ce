"""Contacts and visits (任务9): who was in touch with which child, how and when; the cadence
policy versions; the stored risk level; the director's work log.

The pure rules live in ``visits/rules/``; the SQL that computes worklists
(``visits/worklist_sql.py``) and compliance (``visits/compliance.py``) reads the denormalised
``ContactCredit`` rows (one per child a contact counts for), so every question "when was this
child last contacted by a village director" is one index range scan.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from tongxin.geo.models import Division
from tongxin.geo.scope import scope_q
from tongxin.registry.models import Child, Household
from tongxin.visits import rules

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from tongxin.accounts.models import User


class ContactKind(models.TextChoices):
    PHONE = rules.ContactKind.PHONE.value, _("Phone call")
    VIDEO = rules.ContactKind.VIDEO.value, _("Video call")
    HOME_VISIT = rules.ContactKind.HOME_VISIT.value, _("Home visit")
    SCHOOL_VISIT = rules.ContactKind.SCHOOL_VISIT.value, _("School visit")
    OTHER = rules.ContactKind.OTHER.value, pgettext_lazy("contact kind", "Other")


class Check(models.TextChoices):
    GOOD = "good", pgettext_lazy("checklist", "Good")
    CONCERN = "concern", _("Concern")
    NOT_SEEN = "not_seen", _("Not seen")


# The checklist every contact records (field name, label): the order the form shows.
CHECKLIST: tuple[tuple[str, StrOrPromise], ...] = (
    ("check_living", _("Living conditions")),
    ("check_safety", _("Safety (water, fire, electricity, traffic)")),
    ("check_schooling", _("Schooling")),
    ("check_health", _("Health")),
    ("check_mood", _("Mood and behaviour")),
    ("check_caregiver", _("How the caregiver is coping")),
    ("check_parents_weekly", _("Parents in touch with the child at least weekly")),
    ("check_agreement", _("Care agreement followed")),
)
CHECKLIST_FIELDS = tuple(name for name, _label in CHECKLIST)


def _check_field(label: StrOrPromise) -> models.CharField[str, str]:
    return models.CharField(label, max_length=10, choices=Check.choices, default=Check.NOT_SEEN)


class ContactQuerySet(models.QuerySet["Contact"]):
    def visible_to(self, user: User) -> ContactQuerySet:
        if not user.is_authenticated or not user.reads_child_files:
            return self.none()
        return self.filter(scope_q(user, "household__village__code"))


class Contact(models.Model):
    """One contact with a child's family (联系/走访). A home visit counts for every child of the
    household (one visit, one entry, every sibling credited); another kind counts for the
    children it names. Only the author edits it, within ``EDIT_WINDOW_HOURS``; after that,
    an addendum is added instead."""

    EDIT_WINDOW_HOURS = 48

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="contacts")
    # The household's village when the contact was made: scope and the compliance breakdown.
    village = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", editable=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contacts", editable=False
    )
    # The author's role when the contact was made: it decides which obligation it meets.
    author_role = models.CharField(max_length=30, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=ContactKind.choices)
    day = models.DateField(_("date"))
    time = models.TimeField(_("time"), null=True, blank=True)
    met_child = models.BooleanField(_("met the child"), default=False)
    met_caregiver = models.BooleanField(_("met the caregiver"), default=False)
    met_parent = models.BooleanField(_("met a parent"), default=False)
    # A home visit that did not see the child says why (at school, in hospital …).
    child_not_seen_reason = models.CharField(
        _("why the child was not seen"), max_length=300, blank=True
    )
    check_living = _check_field(CHECKLIST[0][1])
    check_safety = _check_field(CHECKLIST[1][1])
    check_schooling = _check_field(CHECKLIST[2][1])
    check_health = _check_field(CHECKLIST[3][1])
    check_mood = _check_field(CHECKLIST[4][1])
    check_caregiver = _check_field(CHECKLIST[5][1])
    check_parents_weekly = _check_field(CHECKLIST[6][1])
    check_agreement = _check_field(CHECKLIST[7][1])
    notes = models.TextField(_("notes"), max_length=4000, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    # A phone that retries a request sends the same key: the second request records nothing.
    idempotency_key = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-day", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="contact_idempotency_key_once_per_author",
            )
        ]
        indexes = [
            models.Index(fields=["household", "day"]),
            models.Index(fields=["author", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.day}"


class ContactCredit(models.Model):
    """A child a contact counts for, with the contact's day, kind and author role copied so that
    the worklist and compliance queries read one narrow index (child, author_role, day)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="credits")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="contact_credits")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    author_role = models.CharField(max_length=30)
    home_visit = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "child"], name="contact_credit_once")
        ]
        indexes = [
            models.Index(
                fields=["child", "author_role", "home_visit", "day"], name="credit_child_role_day"
            ),
            models.Index(fields=["household", "author_role", "day"], name="credit_household_day"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} → {self.child_id}"


class ContactAddendum(models.Model):
    """A note added to a contact after its edit window closed (or by someone other than its
    author): the contact itself stays as recorded."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("addendum"), max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("addendum")

    def __str__(self) -> str:
        return self.text[:30]


class WorkKind(models.TextChoices):
    MEETING = "meeting", _("Meeting")
    TRAINING = "training", _("Training")
    ACTIVITY = "activity", _("Activity for children")
    CASE_WORK = "case_work", _("Case work")
    OTHER = "other", pgettext_lazy("work kind", "Other")


class WorkLogQuerySet(models.QuerySet["WorkLogEntry"]):
    def visible_to(self, user: User) -> WorkLogQuerySet:
        if not user.is_authenticated or not user.reads_child_files:
            return self.none()
        return self.filter(scope_q(user, "division__code"))


class WorkLogEntry(models.Model):
    """A director's work log (工作日志): meetings, training, activities. Listed on a child's
    file beside the contacts when it concerns the child."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=WorkKind.choices)
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), max_length=4000, blank=True)
    children = models.ManyToManyField(
        Child, verbose_name=_("children concerned"), blank=True, related_name="work_log"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkLogQuerySet.as_manager()

    class Meta:
        ordering = ["-day", "-created_at"]
        verbose_name = _("work log entry")
        verbose_name_plural = _("work log")

    def __str__(self) -> str:
        return self.title


class CadencePolicyVersion(models.Model):
    """A version of the contact cadence (the county's settings), in force from ``effective_from``
    until the next version. Past periods are judged by the version in force on their first day
    (rules.policy_on); versions are never edited, only added."""

    effective_from = models.DateField(_("in force from"), unique=True)
    monthly_contact = models.BooleanField(
        _("monthly contact by the village director"), default=True
    )
    quarterly_home_visit = models.BooleanField(
        _("quarterly home visit by the village director"), default=True
    )
    yearly_family_contact = models.BooleanField(
        _("yearly family contact by the town supervisor"), default=True
    )
    high_contact_days = models.PositiveSmallIntegerField(
        _("high risk: a contact every (days)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(rules.MAX_CONTACT_INTERVAL)],
    )
    high_visit_days = models.PositiveSmallIntegerField(
        _("high risk: a home visit every (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(rules.MAX_VISIT_INTERVAL)],
    )
    medium_visit_days = models.PositiveSmallIntegerField(
        _("medium risk: a home visit every (days)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(rules.MAX_VISIT_INTERVAL)],
    )
    due_soon_days = models.PositiveSmallIntegerField(
        _("'due soon' within (days)"),
        default=7,
        validators=[MinValueValidator(0), MaxValueValidator(27)],
    )
    escalate_after_days = models.PositiveSmallIntegerField(
        _("escalate to the town supervisor when overdue by more than (days)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    reason = models.CharField(_("reason for the change"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["effective_from"]
        verbose_name = _("contact cadence policy")

    def __str__(self) -> str:
        return f"{self.effective_from}"

    def as_rule(self) -> rules.CadencePolicy:
        return rules.CadencePolicy(
            effective_from=self.effective_from,
            monthly_contact=self.monthly_contact,
            quarterly_home_visit=self.quarterly_home_visit,
            yearly_family_contact=self.yearly_family_contact,
            high_contact_days=self.high_contact_days,
            high_visit_days=self.high_visit_days,
            medium_visit_days=self.medium_visit_days,
            due_soon_days=self.due_soon_days,
        )


class RiskLevel(models.TextChoices):
    LOW = rules.RiskLevel.LOW.value, _("Low")
    MEDIUM = rules.RiskLevel.MEDIUM.value, _("Medium")
    HIGH = rules.RiskLevel.HIGH.value, _("High")


class ChildRisk(models.Model):
    """The child's risk level today (风险等级), as data: the computed level with its reasons,
    and the officer's override in force when it was computed (the file, the lists). ``level`` is
    the effective one: the override while it holds, else the computed level. What held on
    another day is in the history: ``RiskSpan`` and ``RiskOverride`` (what the worklist and
    compliance read, for today too)."""

    child = models.OneToOneField(
        Child, on_delete=models.CASCADE, primary_key=True, related_name="risk"
    )
    stays_on_merge = True  # as RiskSpan: the kept file's level is recomputed
    level = models.CharField(max_length=10, choices=RiskLevel.choices, default=RiskLevel.LOW)
    computed_level = models.CharField(
        max_length=10, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    reasons = models.JSONField(default=list)
    factors = models.JSONField(default=list)
    computed_on = models.DateField(null=True)
    override = models.ForeignKey(
        "RiskOverride", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["level"])]
        verbose_name = _("risk level")

    def __str__(self) -> str:
        return self.level

    # The override in force, field by field (what the file's templates show).
    @property
    def override_level(self) -> str:
        return self.override.level if self.override else ""

    def get_override_level_display(self) -> str:
        return self.override.get_level_display() if self.override else ""

    @property
    def override_until(self) -> date | None:
        return self.override.ends_on if self.override else None

    @property
    def override_reason(self) -> str:
        return self.override.reason if self.override else ""

    @property
    def override_by(self) -> User | None:
        return self.override.set_by if self.override else None


class RiskSpan(models.Model):
    """A stretch of the child's computed risk level (风险等级记录): the level found from
    ``valid_from`` until ``valid_to`` (exclusive; open while it holds), with the factors and
    reasons found when it began. A new span is written only when the computed level changes;
    the worklist and compliance of a day read the span that held on it (decision 012)."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="risk_spans")
    # A merge of duplicate files leaves these with the closed file: the kept file's levels are
    # recomputed from its own facts (registry.duplicates).
    stays_on_merge = True
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("until"), null=True, blank=True)
    level = models.CharField(_("computed level"), max_length=10, choices=RiskLevel.choices)
    reasons = models.JSONField(default=list)
    factors = models.JSONField(default=list)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["child", "-valid_from"]
        verbose_name = _("computed risk level")
        constraints = [
            # Also the index of the range lookup "the span of child C on day D".
            models.UniqueConstraint(fields=["child", "valid_from"], name="risk_span_child_from"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="risk_span_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.valid_from}–{self.valid_to or ''}"

    def as_rule(self) -> rules.RiskSpan:
        return rules.RiskSpan(self.valid_from, self.valid_to, rules.RiskLevel(self.level))


class RiskOverride(models.Model):
    """An officer's decision on a child's risk level (人工调整风险等级), with its reason: it
    holds from the day it was set (never earlier) through ``ends_on``, unless it is cleared or
    replaced first (``cleared_on``, exclusive). Rows are kept after they end: the history."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="risk_overrides")
    # An officer's decision about one file does not carry over to another by a merge.
    stays_on_merge = True
    level = models.CharField(_("level set by an officer"), max_length=10, choices=RiskLevel.choices)
    starts_on = models.DateField(_("set on"))
    ends_on = models.DateField(_("override ends on"))
    reason = models.CharField(_("reason for the override"), max_length=500)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)
    cleared_on = models.DateField(_("cleared on"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["child", "-starts_on", "-id"]
        verbose_name = _("risk override")
        indexes = [models.Index(fields=["child", "starts_on"], name="risk_override_child_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="risk_override_ends_after"
            ),
            models.CheckConstraint(
                condition=Q(cleared_on__isnull=True) | Q(cleared_on__gte=models.F("starts_on")),
                name="risk_override_cleared_after",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.starts_on}–{self.ends_on}"

    def as_rule(self) -> rules.OverrideSpan:
        return rules.OverrideSpan(
            rules.RiskLevel(self.level), self.starts_on, self.ends_on, self.cleared_on
        )

    def holds_on(self, day: date) -> bool:
        return self.as_rule().holds_on(day)


def policy_versions() -> tuple[rules.CadencePolicy, ...]:
    """Every cadence version, oldest first, starting with the plan's defaults from
    ``date.min`` unless the county replaced them from the start."""
    stored = [v.as_rule() for v in CadencePolicyVersion.objects.order_by("effective_from")]
    if not stored or stored[0].effective_from > date.min:
        return rules.check_policies([*rules.DEFAULT_POLICIES, *stored])
    return rules.check_policies(stored)
