"""The child's file (一人一档): the child, the household they live in, the parents and their
migration spells, the care agreement, and the categories computed from those facts."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from tongxin.geo.models import Division
from tongxin.geo.scope import scope_q
from tongxin.lib.fields import EncryptedPhoneField

if TYPE_CHECKING:
    from tongxin.accounts.models import User


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class ParentRole(models.TextChoices):
    FATHER = "father", _("Father")
    MOTHER = "mother", _("Mother")


class ParentStatus(models.TextChoices):
    ALIVE = "alive", _("Alive")
    DECEASED = "deceased", _("Deceased")
    DECLARED_DEAD = "declared_dead", _("Declared dead")
    DECLARED_MISSING = "declared_missing", _("Declared missing")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    UNKNOWN = "unknown", _("Unknown")


class Capacity(models.TextChoices):
    """Guardianship capacity (监护能力)."""

    FULL = "full", _("Full capacity")
    SERIOUS_ILLNESS = "serious_illness", _("Serious illness")
    SERIOUS_DISABILITY = "serious_disability", _("Serious disability")
    IMPRISONED = "imprisoned", _("Imprisoned")
    COMPULSORY_DETOX = "compulsory_detox", _("Compulsory drug rehabilitation")
    RESTRICTED_FREEDOM = "restricted_freedom", _("Other restriction of freedom")


class Destination(models.TextChoices):
    IN_COUNTY = "in_county", _("Within the county")
    OUT_OF_COUNTY = "out_of_county", _("Out of the county, within the province")
    OUT_OF_PROVINCE = "out_of_province", _("Out of the province")


class Enrolment(models.TextChoices):
    IN_SCHOOL = "in_school", _("In school")
    DROPPED_OUT = "dropped_out", _("Dropped out")
    NOT_ENROLLED = "not_enrolled", _("Not enrolled")
    GRADUATED = "graduated", _("Graduated")


class SchoolStage(models.TextChoices):
    """就学情况 as the national registration form lists it."""

    KINDERGARTEN = "kindergarten", _("Kindergarten")
    NOT_IN_KINDERGARTEN = "not_in_kindergarten", _("Not in kindergarten")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior secondary")
    SENIOR = "senior", _("Senior secondary")
    VOCATIONAL = "vocational", _("Secondary vocational")
    DROPPED_OUT = "dropped_out", _("Dropped out")
    NOT_IN_SCHOOL = "not_in_school", _("Not in school")


class Health(models.TextChoices):
    HEALTHY = "healthy", _("Healthy")
    DISABLED = "disabled", _("Disabled")
    ILL = "ill", _("Ill")


class ChildStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("child status", "Active")
    TRANSFERRED_OUT = "transferred_out", _("Transferred out")
    AGED_OUT = "aged_out", _("Aged out")
    DECEASED = "deceased", _("Deceased")
    CLOSED = "closed", _("Closed")


class IdMissingReason(models.TextChoices):
    NOT_REGISTERED = "not_registered", _("Household registration not yet done (未落户)")
    NOT_ISSUED = "not_issued", _("Number not yet issued")
    UNKNOWN = "unknown", _("Not known to the reporter")
    OTHER = "other", _("Other")


class GuardianshipAssessment(models.TextChoices):
    """监护情况评估."""

    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")


class CaregiverCapacity(models.TextChoices):
    CAPABLE = "capable", _("Capable")
    LIMITED = "limited", _("Limited")
    INCAPABLE = "incapable", _("Lacks capacity")


class CategoryCode(models.TextChoices):
    """The categories the classification rules compute (registry/rules.py)."""

    LEFT_BEHIND = "left_behind", _("Rural left-behind child")
    ORPHAN = "orphan", _("Orphan")
    DE_FACTO_UNSUPPORTED = "de_facto_unsupported", _("De facto unsupported child")
    DIBAO_FAMILY = "dibao_family", _("Child of a dibao family")
    TEKUN = "tekun", _("Child in tekun support")
    DISABLED = "disabled", _("Disabled child")
    SERIOUSLY_ILL = "seriously_ill", _("Seriously ill child")
    SINGLE_PARENT = "single_parent", _("Single-parent child")


class HouseholdQuerySet(models.QuerySet["Household"]):
    def visible_to(self, user: User) -> HouseholdQuerySet:
        if not user.is_authenticated or not user.reads_child_files:
            return self.none()
        return self.filter(scope_q(user, "village__code"))


class Household(models.Model):
    """The family a child lives in (家庭): where it lives, its benefits, its daily caregiver,
    the grandparents. Parents and the care agreement hang on it; siblings share it, so facts of
    the family are entered once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    village = models.ForeignKey(
        Division, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = EncryptedPhoneField(_("phone"))
    parents_divorced = models.BooleanField(_("parents divorced"), default=False)
    # Undated facts carry the day they were recorded: category history counts from then.
    dibao = models.BooleanField(_("dibao (minimum living allowance)"), default=False)
    dibao_since = models.DateField(_("dibao recorded on"), null=True, blank=True)
    tekun = models.BooleanField(_("tekun (extreme-poverty support)"), default=False)
    tekun_since = models.DateField(_("tekun recorded on"), null=True, blank=True)
    income_source = models.CharField(_("main source of income"), max_length=100, blank=True)
    assistance = models.JSONField(_("assistance received"), default=list, blank=True)
    caregiver_name = models.CharField(_("daily caregiver"), max_length=50, blank=True)
    caregiver_relation = models.CharField(_("caregiver's relation"), max_length=20, blank=True)
    caregiver_birth_year = models.PositiveSmallIntegerField(
        _("caregiver's year of birth"), null=True, blank=True
    )
    caregiver_health = models.CharField(_("caregiver's health"), max_length=50, blank=True)
    caregiver_capacity = models.CharField(
        _("caregiver's capacity"),
        max_length=10,
        choices=CaregiverCapacity.choices,
        blank=True,
    )
    caregiver_phone = EncryptedPhoneField(_("caregiver's phone"))
    # The national form's 委托监护人 公民身份证号码 and 居住地地址: the ledger gives them beside the
    # caregiver's name and phone, without an agreement's signing date (registry/ledger/).
    caregiver_id_enc = models.BinaryField(null=True, editable=False)
    caregiver_id_hash = models.CharField(max_length=64, blank=True, editable=False)
    caregiver_address = models.CharField(_("caregiver's address"), max_length=200, blank=True)
    grandparents = models.CharField(_("grandparents"), max_length=100, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return str(self.public_id)


class Parent(models.Model):
    """A parent (父亲/母亲) of the household's children: status, guardianship capacity and
    the migration spells that decide whether the children are left behind."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="parents")
    role = models.CharField(_("father or mother"), max_length=6, choices=ParentRole.choices)
    name = models.CharField(_("name"), max_length=50, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    id_number_enc = models.BinaryField(null=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone = EncryptedPhoneField(_("phone"))
    status = models.CharField(
        _("status"), max_length=20, choices=ParentStatus.choices, default=ParentStatus.ALIVE
    )
    capacity = models.CharField(
        _("guardianship capacity"), max_length=20, choices=Capacity.choices, default=Capacity.FULL
    )
    capacity_note = models.CharField(_("capacity: details"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("parent")
        verbose_name_plural = _("parents")
        constraints = [
            models.UniqueConstraint(fields=["household", "role"], name="parent_one_per_role")
        ]

    def __str__(self) -> str:
        return self.get_role_display()


class Migration(models.Model):
    """A spell of work away from home (外出务工): left on, returned on (open while away),
    where. An unknown start (the national form has no departure date) is null, with the date
    the spell became known."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    parent = models.ForeignKey(Parent, on_delete=models.CASCADE, related_name="migrations")
    left_on = models.DateField(_("left on"), null=True, blank=True)
    known_since = models.DateField(_("known since"), null=True, blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    destination = models.CharField(_("destination"), max_length=20, choices=Destination.choices)
    work_place = models.CharField(_("work place"), max_length=100, blank=True)
    phone = EncryptedPhoneField(_("phone while away"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("migration spell")
        verbose_name_plural = _("migration spells")
        ordering = ["left_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(left_on__isnull=False) | models.Q(known_since__isnull=False),
                name="migration_start_or_known_since",
            ),
            models.CheckConstraint(
                condition=models.Q(returned_on__isnull=True)
                | models.Q(left_on__isnull=True)
                | models.Q(returned_on__gte=models.F("left_on")),
                name="migration_returns_after_leaving",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.left_on or '?'} → {self.returned_on or '…'}"


class ChildQuerySet(models.QuerySet["Child"]):
    def visible_to(self, user: User) -> ChildQuerySet:
        """Children whose village lies inside the user's division, for roles that read files."""
        if not user.is_authenticated or not user.reads_child_files:
            return self.none()
        return self.filter(scope_q(user, "village__code"))


class Child(models.Model):
    """A child with a file (一人一档): a rural left-behind child or a child in difficulty, or a
    child being assessed. The file is this record plus everything linked to it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="children")
    # The household's village, copied here so that every scoped list is one indexed prefix test
    # on the child table (no join); only household_transfer changes it (decision 005).
    village = models.ForeignKey(
        Division, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=50)
    name_pinyin = models.CharField(max_length=200, blank=True, db_index=True, editable=False)
    name_initials = models.CharField(max_length=50, blank=True, db_index=True, editable=False)
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True, default="汉族")
    birth_date = models.DateField(_("birth date"))
    id_number_enc = models.BinaryField(null=True, editable=False)
    # NULL, not "", for "no number": uniqueness must not count the files without one.
    id_number_hash = models.CharField(max_length=64, null=True, editable=False, unique=True)  # noqa: DJ001
    id_missing_reason = models.CharField(
        _("why no ID number"), max_length=20, choices=IdMissingReason.choices, blank=True
    )
    hukou_registered = models.BooleanField(_("household registration done"), default=True)
    hukou_place = models.CharField(_("place of household registration"), max_length=200, blank=True)
    phone = EncryptedPhoneField(_("phone"))
    school = models.CharField(_("school"), max_length=100, blank=True)
    grade = models.CharField(_("grade"), max_length=20, blank=True)
    school_stage = models.CharField(
        _("schooling"), max_length=20, choices=SchoolStage.choices, blank=True
    )
    enrolment = models.CharField(
        _("enrolment"), max_length=20, choices=Enrolment.choices, default=Enrolment.IN_SCHOOL
    )
    boarding = models.BooleanField(_("boards at school"), default=False)
    health = models.CharField(
        _("health"), max_length=10, choices=Health.choices, default=Health.HEALTHY
    )
    disability_type = models.CharField(_("disability type"), max_length=30, blank=True)
    disability_grade = models.PositiveSmallIntegerField(
        _("disability grade"), null=True, blank=True, choices=[(g, str(g)) for g in range(1, 5)]
    )
    disability_certificate = models.CharField(
        _("disability certificate no."), max_length=30, blank=True
    )
    disability_certificate_expiry = models.DateField(
        _("certificate valid until"), null=True, blank=True
    )
    disability_since = models.DateField(_("disability recorded on"), null=True, blank=True)
    serious_illness = models.BooleanField(_("serious illness"), default=False)
    illness = models.CharField(_("illness"), max_length=100, blank=True)
    illness_since = models.DateField(_("illness recorded on"), null=True, blank=True)
    guardianship_assessment = models.CharField(
        _("guardianship assessment"),
        max_length=10,
        choices=GuardianshipAssessment.choices,
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ChildStatus.choices, default=ChildStatus.ACTIVE
    )
    status_reason = models.CharField(_("status: reason"), max_length=200, blank=True)
    status_since = models.DateField(_("status since"))
    registered_on = models.DateField(_("registered on"))
    # The day retention removed the personal values of this closed file (decision 019): what is
    # left is what the county's statistics need.
    archived_on = models.DateField(_("archived on"), null=True, editable=False)
    # Current categories, as data, so that lists filter on them with an index.
    left_behind = models.BooleanField(default=False, editable=False)
    in_difficulty = models.BooleanField(default=False, editable=False)
    categories = models.JSONField(default=list, editable=False)  # [{"code", "reason"}]
    classified_on = models.DateField(null=True, editable=False)
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
    history = HistoricalRecords(excluded_fields=["updated_at", "name_pinyin", "name_initials"])

    objects = ChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        indexes = [
            models.Index(fields=["village", "status"]),
            models.Index(fields=["birth_date"]),
            models.Index(fields=["name"]),
            # The fuzzy-duplicate join (duplicates.candidate_pairs) and the pinyin search.
            models.Index(fields=["name_pinyin", "birth_date"]),
        ]

    def __str__(self) -> str:
        return self.shown_name

    @property
    def shown_name(self) -> str:
        """The name, or for an archived file (its name removed) the day it was archived."""
        if self.archived_on is None:
            return self.name
        return str(_("Archived on %(day)s")) % {"day": self.archived_on.isoformat()}

    @property
    def category_codes(self) -> list[str]:
        return [c["code"] for c in self.categories]


class CategorySpan(models.Model):
    """A stretch of time a child was in a category, derived from the dated facts (reports on
    past periods read these)."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="category_spans")
    code = models.CharField(max_length=30, choices=CategoryCode.choices)
    start = models.DateField()
    end = models.DateField(null=True, blank=True)  # exclusive; null = still in it

    class Meta:
        ordering = ["start", "code"]
        indexes = [models.Index(fields=["code", "start"])]

    def __str__(self) -> str:
        return f"{self.code} {self.start}–{self.end or ''}"


class ManualDecision(models.Model):
    """An officer's decision on a category against (or beside) the computed result, with the
    reason. The computed result stays visible beside it."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="manual_decisions")
    code = models.CharField(_("category"), max_length=30, choices=CategoryCode.choices)
    include = models.BooleanField(_("in the category"))
    reason = models.CharField(_("reason"), max_length=500)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.code} {'+' if self.include else '-'}"


class AgreementStatus(models.TextChoices):
    IN_FORCE = "in_force", _("In force")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


class CareAgreement(models.Model):
    """A written care agreement (委托照护协议, task 5): the parents away entrust the children
    to a caregiver (被委托人). Archived with a scan."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="agreements")
    entrusted_by = models.CharField(
        _("entrusted by"),
        max_length=10,
        choices=[("father", _("Father")), ("mother", _("Mother")), ("both", _("Both parents"))],
    )
    caregiver_name = models.CharField(_("entrusted caregiver"), max_length=50)
    caregiver_relation = models.CharField(_("relation to the child"), max_length=20)
    caregiver_phone = EncryptedPhoneField(_("caregiver's phone"))
    caregiver_id_enc = models.BinaryField(null=True, editable=False)
    caregiver_address = models.CharField(_("caregiver's address"), max_length=200, blank=True)
    signed_on = models.DateField(_("signed on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    document = models.FileField(_("scanned agreement"), upload_to="agreements/%Y/", blank=True)
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    caregiver_lacks_capacity = models.BooleanField(_("caregiver lacks capacity"), default=False)
    parents_told_on = models.DateField(_("parents told on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("care agreement")
        verbose_name_plural = _("care agreements")
        ordering = ["-signed_on"]

    def __str__(self) -> str:
        return f"{self.caregiver_name} {self.signed_on}"


# --- duplicates and transfer requests (issue 3, "Duplicates") -------------------------------


class MatchedField(models.TextChoices):
    """What two files have in common, as the duplicate review queue lists it."""

    NAME = "name", _("Same name")
    NAME_PINYIN = "name_pinyin", _("Same name in pinyin")
    NAME_SIMILAR = "name_similar", _("Similar name")
    BIRTH_DATE = "birth_date", _("Same birth date")
    GENDER = "gender", _("Same gender")
    TOWN = "town", _("Same town")
    VILLAGE = "village", _("Same village")


class CandidateStatus(models.TextChoices):
    OPEN = "open", _("To review")
    MERGED = "merged", _("Merged")
    DISTINCT = "distinct", _("Different children")


class DuplicateCandidate(models.Model):
    """Two files that may be the same child (疑似重复档案): found by the duplicate rules, then
    merged or marked distinct by an officer. A pair is stored once (``child_a`` is the older
    file), so a pair marked distinct is not proposed again."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    child_a = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    child_b = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    # The county of the older file (every table that grows with the children carries it).
    county_code = models.CharField(max_length=6, db_index=True)
    matched_fields = models.JSONField(_("matched fields"), default=list)  # MatchedField values
    found_at = models.DateTimeField(_("found on"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided on"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["-found_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["child_a", "child_b"], name="duplicate_pair_once"),
            models.CheckConstraint(
                condition=models.Q(child_a__lt=models.F("child_b")),
                name="duplicate_pair_ordered",
            ),
        ]
        indexes = [models.Index(fields=["status", "county_code"])]

    def __str__(self) -> str:
        return f"{self.child_a_id}~{self.child_b_id}"


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class TransferRequest(models.Model):
    """A request to move a child's family to the requester's village (转移申请), filed when the
    child is already registered outside the requester's area. The requester learns only that
    the request exists and its outcome; a county officer whose area covers both sides decides."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="transfer_requests")
    county_code = models.CharField(max_length=6, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested on"), auto_now_add=True)
    from_village = models.ForeignKey(
        Division, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+"
    )
    to_village = models.ForeignKey(
        Division, verbose_name=_("to village"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(
        _("status"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided on"), null=True, blank=True)
    decision_reason = models.CharField(_("reason for the decision"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("transfer request")
        verbose_name_plural = _("transfer requests")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "to_village"])]

    def __str__(self) -> str:
        return str(self.public_id)
