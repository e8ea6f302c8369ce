"""Mandatory reports (强制报告, task 6): the report and its choices, its receipt counter,
harms, the departments it went to and the routing table that sends it, addenda, attachments,
timeline, follow-up tasks, and the record of cases that went unreported (发现未报).

A submitted report is immutable: its content columns are guarded by database triggers
(migration 0004), corrections are addenda. Only the workflow columns (status, handling
department, the clocks' moments, the result) change."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongxin.accounts.models import InstitutionType, Organisation
from tongxin.core.documents import StoredDocument
from tongxin.geo.models import Division
from tongxin.lib.fields import EncryptedPhoneField
from tongxin.protection import rules
from tongxin.registry.models import Child, Gender

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tongxin.accounts.models import User


class Harm(models.TextChoices):
    PHYSICAL_ABUSE = rules.Harm.PHYSICAL_ABUSE.value, _("Physical abuse")
    SEXUAL_ABUSE = rules.Harm.SEXUAL_ABUSE.value, _("Sexual abuse")
    NEGLECT = rules.Harm.NEGLECT.value, _("Neglect")
    ABANDONMENT = rules.Harm.ABANDONMENT.value, _("Abandonment")
    DOMESTIC_VIOLENCE = rules.Harm.DOMESTIC_VIOLENCE.value, _("Domestic violence")
    BULLYING = rules.Harm.BULLYING.value, _("Bullying")
    ACCIDENTAL_INJURY = rules.Harm.ACCIDENTAL_INJURY.value, _("Accidental injury")
    TRAFFICKING = rules.Harm.TRAFFICKING.value, _("Trafficking")
    OTHER_CRIME = rules.Harm.OTHER_CRIME.value, _("Other suspected crime")
    OTHER = rules.Harm.OTHER.value, pgettext_lazy("harm", "Other")


class Urgency(models.TextChoices):
    IMMINENT = rules.Urgency.IMMINENT.value, _("Imminent danger")
    URGENT = rules.Urgency.URGENT.value, _("Urgent")
    NORMAL = rules.Urgency.NORMAL.value, _("Normal")


class ReportStatus(models.TextChoices):
    RECEIVED = rules.Status.RECEIVED.value, _("Received")
    ACCEPTED = rules.Status.ACCEPTED.value, _("Accepted")
    VERIFYING = rules.Status.VERIFYING.value, _("Verification and handling")
    RESULT_RECORDED = rules.Status.RESULT_RECORDED.value, _("Result recorded")
    REPORTER_INFORMED = rules.Status.REPORTER_INFORMED.value, _("Reporter informed")
    CLOSED = rules.Status.CLOSED.value, _("Closed")
    REJECTED = rules.Status.REJECTED.value, _("Rejected")
    TRANSFERRED = rules.Status.TRANSFERRED.value, _("Transferred")


class Channel(models.TextChoices):
    ONLINE = "online", _("Filed in the system")
    PHONE = "phone", _("By phone")
    IN_PERSON = "in_person", _("In person")


class ReportingInstitutionType(models.TextChoices):
    """The kind of institution a report came from (报告主体类型), fixed at submission: an
    institution's own type, a government department (county departments, town governments), a
    village or community committee, or none given (an anonymous caller). What the statistics
    count reports by."""

    SCHOOL = InstitutionType.SCHOOL.value, InstitutionType.SCHOOL.label
    KINDERGARTEN = InstitutionType.KINDERGARTEN.value, InstitutionType.KINDERGARTEN.label
    MEDICAL = InstitutionType.MEDICAL.value, InstitutionType.MEDICAL.label
    WELFARE = InstitutionType.WELFARE.value, InstitutionType.WELFARE.label
    HOTEL = InstitutionType.HOTEL.value, InstitutionType.HOTEL.label
    OTHER = InstitutionType.OTHER.value, InstitutionType.OTHER.label
    GOVERNMENT = "government", _("Government department")
    VILLAGE_COMMITTEE = "village_committee", _("Village or community committee")
    NOT_GIVEN = "not_given", _("No institution given")


# The kinds an officer chooses for a caller's institution (a report recorded by phone or in
# person): every kind but "none given", which is what a caller who names no institution gets.
CALLER_INSTITUTION_TYPES = [
    (value, label)
    for value, label in ReportingInstitutionType.choices
    if value != ReportingInstitutionType.NOT_GIVEN
]


class ReportCounter(models.Model):
    """The last receipt number given in a county in a year (回执编号 GT-2024-000123)."""

    county_code = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["county_code", "year"], name="report_counter_once")
        ]

    def __str__(self) -> str:
        return f"{self.county_code}-{self.year}: {self.last}"


class MandatoryReportQuerySet(models.QuerySet["MandatoryReport"]):
    def visible_to(self, user: User | AnonymousUser) -> MandatoryReportQuerySet:
        """Reports the user may see listed (protection.access decides, in one place)."""
        from tongxin.protection.access import reports_q

        return self.filter(reports_q(user))

    def open(self) -> MandatoryReportQuerySet:
        return self.filter(status__in=[s.value for s in rules.OPEN])


class MandatoryReport(models.Model):
    """A mandatory report (强制报告): a school, hospital, village committee … that found a child
    harmed, suspected harm or danger reports it at once (task 6). The content is fixed at
    submission; the workflow runs received → accepted → verification → result → reporter
    informed → closed, with statutory clocks (protection.rules)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    receipt_no = models.CharField(_("receipt number"), max_length=32, unique=True, editable=False)
    # Every table that grows with the children carries the county (Citus distribution key).
    county_code = models.CharField(max_length=6, db_index=True, editable=False)
    # Where the child lives when known (the village), else where the reporter is: the scope.
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", editable=False
    )
    channel = models.CharField(
        _("how it was received"), max_length=10, choices=Channel.choices, default=Channel.ONLINE
    )
    reporting_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("reporting institution"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A caller's institution that has no account (phone or in-person reports).
    reporting_organisation_name = models.CharField(
        _("reporting institution"), max_length=100, blank=True
    )
    # Fixed at submission: from the reporting organisation, the submitter's role, or the
    # officer's choice for a caller's institution (services.report_submit).
    reporting_institution_type = models.CharField(
        _("kind of reporting institution"),
        max_length=20,
        choices=ReportingInstitutionType.choices,
        editable=False,
    )
    reporter_name = models.CharField(_("reporter"), max_length=50)
    reporter_phone = EncryptedPhoneField(_("reporter's phone"))
    keep_identity_confidential = models.BooleanField(
        _("keep my identity confidential"), default=False
    )
    child = models.ForeignKey(
        Child,
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mandatory_reports",
    )
    # The child as described when not (yet) linked to a file.
    child_name = models.CharField(_("child's name"), max_length=50, blank=True)
    child_age = models.PositiveSmallIntegerField(_("child's age"), null=True, blank=True)
    child_gender = models.CharField(
        _("child's gender"), max_length=6, choices=Gender.choices, blank=True
    )
    child_village = models.ForeignKey(
        Division,
        verbose_name=_("child's village"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    child_address = models.CharField(_("child's address"), max_length=200, blank=True)
    # The narrative: sensitive. Never written to a log or an audit entry.
    facts = models.TextField(_("what happened"), max_length=5000)
    discovered_at = models.DateTimeField(_("discovered at"))
    discovered_where = models.CharField(_("where"), max_length=200, blank=True)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    names_masked = models.BooleanField(default=False, editable=False)  # sexual abuse flagged
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    submitted_at = models.DateTimeField(_("submitted at"), editable=False)

    # The workflow: the only columns that change.
    status = models.CharField(
        _("status"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.RECEIVED
    )
    handling_department = models.ForeignKey(
        Organisation,
        verbose_name=_("handling department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    received_at = models.DateTimeField(editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    result_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    informed_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The running clocks' deadlines, fixed when each clock starts (the limit then in force),
    # so that lists and alerts find breaches in the database.
    acceptance_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    result_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    result = models.TextField(_("result of handling"), max_length=5000, blank=True)
    result_for_reporter = models.TextField(
        _("result told to the reporter"), max_length=2000, blank=True
    )

    objects = MandatoryReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("mandatory report")
        verbose_name_plural = _("mandatory reports")
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["county_code", "status"]),
            models.Index(fields=["handling_department", "status"]),
            models.Index(fields=["submitted_by", "submitted_at"]),
            models.Index(fields=["division", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return self.receipt_no

    @property
    def is_open(self) -> bool:
        return self.status in rules.OPEN

    @property
    def harm_values(self) -> list[str]:
        """The harms in the fixed order (prefetched ``harms`` when there)."""
        found = {h.harm for h in self.harms.all()}
        return [h for h in Harm.values if h in found]

    def times(self) -> rules.ReportTimes:
        return rules.ReportTimes(
            status=rules.Status(self.status),
            received_at=self.received_at,
            accepted_at=self.accepted_at,
            result_at=self.result_recorded_at,
            informed_at=self.informed_at,
            ended_at=self.ended_at,
        )


# The columns fixed at submission (migrations 0004 and 0007 guard them in the database).
# ``child`` may go once from empty to a file, when the described child is registered.
IMMUTABLE_COLUMNS = (
    "public_id",
    "receipt_no",
    "county_code",
    "division_id",
    "channel",
    "reporting_organisation_id",
    "reporting_organisation_name",
    "reporting_institution_type",
    "reporter_name",
    "reporter_phone",
    "keep_identity_confidential",
    "child_name",
    "child_age",
    "child_gender",
    "child_village_id",
    "child_address",
    "facts",
    "discovered_at",
    "discovered_where",
    "urgency",
    "names_masked",
    "submitted_by_id",
    "submitted_at",
)


class ReportHarm(models.Model):
    """One suspected harm of a report (a report names one or more)."""

    report = models.ForeignKey(MandatoryReport, on_delete=models.PROTECT, related_name="harms")
    harm = models.CharField(max_length=20, choices=Harm.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "harm"], name="report_harm_once"),
        ]
        indexes = [models.Index(fields=["harm", "report"])]

    def __str__(self) -> str:
        return self.get_harm_display()


class RecipientHow(models.TextChoices):
    ROUTED = "routed", _("By the routing table")
    CHOSEN = "chosen", _("Chosen by the officer recording it")
    TRANSFERRED = "transferred", _("Transferred")


class ReportRecipient(models.Model):
    """A department a mandatory report went to (报告分送), and when: at submission every
    department the routing table names for its harms (the police and civil affairs at the same
    moment for a suspected crime), later a department it is transferred to. Its officers read
    the report at once; the handling department's officers also move it. A transfer ends the
    old handling department's part (``passed_on_at``)."""

    report = models.ForeignKey(
        MandatoryReport, on_delete=models.PROTECT, related_name="recipients", editable=False
    )
    department = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", editable=False
    )
    sent_at = models.DateTimeField(_("sent at"), editable=False)
    how = models.CharField(max_length=12, choices=RecipientHow.choices, editable=False)
    passed_on_at = models.DateTimeField(_("passed on at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("department the report went to")
        verbose_name_plural = _("departments the report went to")
        ordering = ["sent_at", "pk"]
        indexes = [models.Index(fields=["department", "report"])]

    def __str__(self) -> str:
        return f"{self.report_id} → {self.department_id} {self.sent_at:%Y-%m-%d %H:%M}"

    @property
    def active(self) -> bool:
        return self.passed_on_at is None


class RoutingVersion(models.Model):
    """A version of the routing table of new mandatory reports (强制报告分送规则): for each
    kind of harm, and for imminent danger, the departments a new report goes to at once. The
    latest version is in force from when it was saved; versions are only added, so the table a
    past report was routed by stays on record (the report keeps whom it went to)."""

    # harm (or "imminent") → department keys (accounts.models.Department values)
    table = models.JSONField()
    reason = models.CharField(_("reason for the change"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("routing table version")
        verbose_name_plural = _("routing table versions")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M}"


class ReportAddendum(models.Model):
    """A correction or addition to a submitted report (补充说明): the report itself never
    changes. Sensitive like the facts."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(MandatoryReport, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("addendum"), max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.created_at:%Y-%m-%d %H:%M}"


class ReportAttachment(StoredDocument):
    """A photo or PDF sent with a report or an addendum. Stored under a random name (the
    uploaded one may carry a name), served only through the scoped, audited view."""

    download_stem = "attachment"

    report = models.ForeignKey(
        MandatoryReport, on_delete=models.PROTECT, related_name="attachments"
    )
    addendum = models.ForeignKey(
        ReportAddendum, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    file = models.FileField(upload_to="reports/%Y/")


class ReportEvent(models.Model):
    """One step of a report's timeline (处理记录): who did what, when, with the note."""

    report = models.ForeignKey(MandatoryReport, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # submit, a rules.Transition, addendum, child_linked, task_done
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    department = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(max_length=5000, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class TaskKind(models.TextChoices):
    REGISTER_CHILD = "register_child", _("Register the child and link the file")


class TaskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("task status", "Open")
    DONE = "done", _("Done")


class ReportTask(models.Model):
    """A follow-up a report gives to the child's village: register a child the report
    described but the registry does not hold (登记建档), and link the file to the report."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(MandatoryReport, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    # The village whose director does it (the county when the village is not known).
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    due_on = models.DateField(_("due on"))
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["division", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.report_id})"


class FollowUp(models.TextChoices):
    TALK = "talk", _("Reminder talk and training")
    CRITICISM = "criticism", _("Criticism and education")
    DISCIPLINE = "discipline", _("Referred for disciplinary action")
    PROSECUTION = "prosecution", _("Referred to the police or procuratorate")
    OTHER = "other", pgettext_lazy("follow-up", "Other")


class FailureToReportQuerySet(models.QuerySet["FailureToReport"]):
    def visible_to(self, user: User) -> FailureToReportQuerySet:
        from tongxin.protection.access import failures_q

        return self.filter(failures_q(user))


class FailureToReport(models.Model):
    """A case found later that should have been reported and was not (发现未报): who failed
    the duty, and what follow-up was taken. Counted in the statistics."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    county_code = models.CharField(max_length=6, db_index=True, editable=False)
    division = models.ForeignKey(
        Division, verbose_name=_("where"), on_delete=models.PROTECT, related_name="+"
    )
    report = models.ForeignKey(
        MandatoryReport,
        verbose_name=_("the report that brought it to light"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="failures",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("institution that failed to report"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    organisation_name = models.CharField(
        _("institution that failed to report"), max_length=100, blank=True
    )
    person = models.CharField(_("person who failed to report"), max_length=50, blank=True)
    found_on = models.DateField(_("found on"))
    summary = models.TextField(_("what should have been reported"), max_length=2000)
    follow_up = models.CharField(_("follow-up"), max_length=20, choices=FollowUp.choices)
    follow_up_note = models.TextField(_("follow-up: details"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = FailureToReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("failure to report")
        verbose_name_plural = _("failures to report")
        ordering = ["-found_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.found_on} {self.organisation_name or self.organisation_id}"
