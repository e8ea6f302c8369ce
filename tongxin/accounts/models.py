"""Users (用户), their role and division, and the organisations (单位) they work for."""

from __future__ import annotations

import uuid
from functools import cached_property
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongxin.accounts.roles import (
    ACCESS_LOG_ROLES,
    ACCOUNT_READER_ROLES,
    AUDIT_READER_ROLES,
    CHILD_FILE_ROLES,
    CHILD_FILE_WRITER_ROLES,
    GRANT_APPROVER_ROLES,
    ID_REVEAL_ROLES,
    READ_ONLY_ROLES,
    SECOND_FACTOR_ROLES,
    SECURITY_ADMIN_ROLES,
    USER_ADMIN_ROLES,
    Role,
)
from tongxin.geo.models import Division, code_prefix
from tongxin.geo.scope import scope_q
from tongxin.lib.fields import EncryptedPhoneField


class Department(models.TextChoices):
    """The seventeen units that signed the county action plan (实施方案), by function."""

    CIVIL_AFFAIRS = "civil_affairs", _("Civil Affairs Bureau")
    CYBERSPACE = "cyberspace", _("Cyberspace Affairs Office")
    COURT = "court", _("People's Court")
    PROCURATORATE = "procuratorate", _("People's Procuratorate")
    EDUCATION = "education", _("Education Bureau")
    POLICE = "police", _("Public Security Bureau")
    JUSTICE = "justice", _("Justice Bureau")
    FINANCE = "finance", _("Finance Bureau")
    HUMAN_RESOURCES = "human_resources", _("Human Resources and Social Security Bureau")
    HEALTH = "health", _("Health Commission")
    EMERGENCY = "emergency", _("Emergency Management Bureau")
    WATER = "water", _("Water Affairs Bureau")
    WOMEN_CHILDREN_COMMITTEE = "women_children_committee", _("Women and Children Working Committee")
    YOUTH_LEAGUE = "youth_league", _("Communist Youth League")
    WOMENS_FEDERATION = "womens_federation", _("Women's Federation")
    DISABLED_FEDERATION = "disabled_federation", _("Disabled Persons' Federation")
    FIRE_RESCUE = "fire_rescue", _("Fire and Rescue Brigade")


class OrganisationKind(models.TextChoices):
    DEPARTMENT = "department", _("County department")
    TOWN_GOVERNMENT = "town_government", _("Town government")
    VILLAGE_COMMITTEE = "village_committee", _("Village or community committee")
    INSTITUTION = "institution", _("Institution (school, hospital …)")


class InstitutionType(models.TextChoices):
    """The type of an institution with a duty to report (强制报告责任主体): what the report
    statistics count reports by."""

    SCHOOL = "school", _("School")
    KINDERGARTEN = "kindergarten", _("Kindergarten or childcare")
    MEDICAL = "medical", _("Medical institution")
    WELFARE = "welfare", _("Welfare or rescue institution")
    HOTEL = "hotel", _("Hotel or lodging")
    OTHER = "other", _("Other institution")


class OrganisationQuerySet(models.QuerySet["Organisation"]):
    def visible_to(self, user: User) -> OrganisationQuerySet:
        """Organisations a user administrator may see and keep: those inside their division."""
        if not user.is_authenticated or user.role not in USER_ADMIN_ROLES:
            return self.none()
        return self.filter(scope_q(user, "division__code"))


class Organisation(models.Model):
    """A unit people work for (单位): a county department that signed the plan, a town
    government, a village committee, or an institution with a duty to report (school,
    kindergarten, hospital …), registered with its type (``institution_type``), which its
    reporters' reports are counted under."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    department = models.CharField(
        _("department"), max_length=30, choices=Department.choices, blank=True
    )
    division = models.ForeignKey(
        Division, verbose_name=_("division"), on_delete=models.PROTECT, related_name="+"
    )
    # An institution's type (school, hospital …); empty for the other kinds.
    institution_type = models.CharField(
        _("institution type"), max_length=20, choices=InstitutionType.choices, blank=True
    )

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["division_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["division", "name"], name="organisation_unique_name"),
            models.UniqueConstraint(
                fields=["division", "department"],
                condition=~models.Q(department=""),
                name="organisation_one_department_per_division",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind=OrganisationKind.INSTITUTION) & ~models.Q(institution_type="")
                )
                | (~models.Q(kind=OrganisationKind.INSTITUTION) & models.Q(institution_type="")),
                name="organisation_institution_type_for_institutions",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UserQuerySet(models.QuerySet["User"]):
    def visible_to(self, user: User) -> UserQuerySet:
        """Accounts a user or security administrator may see: those attached inside their
        division."""
        if not user.is_authenticated or user.role not in ACCOUNT_READER_ROLES:
            return self.none()
        return self.filter(scope_q(user, "division__code"))


class TongxinUserManager(UserManager["User"]):
    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def visible_to(self, user: User) -> UserQuerySet:
        return self.get_queryset().visible_to(user)


class User(AbstractUser):
    """A person who signs in: a civil servant, a town supervisor (儿童督导员), a village child
    director (儿童主任), a department officer, a mandatory reporter, an auditor, a system
    administrator or a security administrator. The role and the division together decide what
    they see. An empty role is an account whose role awaits a second person's approval
    (``RoleGrant``): it sees nothing until then.

    An account created or reset by someone else signs in with a one-time password
    (``must_change_password``), good until ``one_time_password_expires_at``; until the person
    has set their own (and enrolled their authenticator where the role needs one) the account
    can do nothing else."""

    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = EncryptedPhoneField(_("phone"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    division = models.ForeignKey(
        Division,
        verbose_name=_("division"),
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    # Demo accounts skip the second factor, and only while settings.TONGXIN_DEMO is on.
    is_demo = models.BooleanField(default=False, editable=False)
    # The password was given by someone else (created or reset): the person sets their own at
    # the next sign-in, which the one-time password allows only until it expires.
    must_change_password = models.BooleanField(default=False, editable=False)
    one_time_password_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects: ClassVar[TongxinUserManager] = TongxinUserManager()

    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["division", "role"])]

    def __str__(self) -> str:
        return self.name or self.username

    @cached_property
    def scope_prefix(self) -> str | None:
        """The code prefix of the user's division (None: no division, sees nothing)."""
        if self.division_id is None:
            return None
        level = Division.objects.values_list("level", flat=True).get(code=self.division_id)
        return code_prefix(self.division_id, level)

    @property
    def needs_second_factor(self) -> bool:
        """Sign-in needs a TOTP code: the role asks for it, unless this is a demo account on a
        demo installation (settings.TONGXIN_DEMO)."""
        if self.is_demo and settings.TONGXIN_DEMO:
            return False
        return self.role in SECOND_FACTOR_ROLES

    @property
    def reads_child_files(self) -> bool:
        return self.role in CHILD_FILE_ROLES

    @property
    def keeps_child_files(self) -> bool:
        return self.role in CHILD_FILE_WRITER_ROLES

    @property
    def reveals_id_numbers(self) -> bool:
        return self.role in ID_REVEAL_ROLES

    @property
    def reads_access_log(self) -> bool:
        return self.role in ACCESS_LOG_ROLES

    @property
    def is_read_only(self) -> bool:
        return self.role in READ_ONLY_ROLES

    @property
    def manages_users(self) -> bool:
        return self.role in USER_ADMIN_ROLES

    @property
    def keeps_security(self) -> bool:
        """Unlocks accounts, resets second factors, revokes other people's API tokens."""
        return self.role in SECURITY_ADMIN_ROLES

    @property
    def reads_accounts(self) -> bool:
        return self.role in ACCOUNT_READER_ROLES

    @property
    def approves_grants(self) -> bool:
        return self.role in GRANT_APPROVER_ROLES and not self.is_read_only

    @property
    def reads_audit(self) -> bool:
        return self.role in AUDIT_READER_ROLES

    @property
    def reads_divisions(self) -> bool:
        """The division pages are for those who read files, manage users, or (department
        officers) need the names of the places their counts are broken down by."""
        return self.reads_child_files or self.manages_users or self.role == Role.DEPARTMENT_OFFICER

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__.pop("scope_prefix", None)
        super().refresh_from_db(*args, **kwargs)


class GrantState(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RoleGrantQuerySet(models.QuerySet["RoleGrant"]):
    def visible_to(self, user: User) -> RoleGrantQuerySet:
        """Grants a user or security administrator may see: to a division inside their own."""
        if not user.is_authenticated or user.role not in ACCOUNT_READER_ROLES:
            return self.none()
        return self.filter(scope_q(user, "division__code"))


class RoleGrant(models.Model):
    """A request to give an account a role that reads the whole county (or approves such
    requests) (角色授权申请): asked by one administrator, in force only once a second person of
    an allowed role approves it. Until then the account keeps the role it had (a new account
    has none)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        User, verbose_name=_("account"), on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    division = models.ForeignKey(
        Division, verbose_name=_("division"), on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    state = models.CharField(
        _("state"), max_length=10, choices=GrantState.choices, default=GrantState.PENDING
    )
    requested_by = models.ForeignKey(
        User, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(state="pending"),
                name="role_grant_one_pending_per_user",
            ),
            # The requester never approves their own request, whatever calls the database.
            models.CheckConstraint(
                condition=~models.Q(state="approved", decided_by=models.F("requested_by")),
                name="role_grant_second_person",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="approved", decided_by=models.F("user")),
                name="role_grant_not_to_oneself",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.role}"
