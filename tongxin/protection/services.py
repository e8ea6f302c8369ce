"""Writes of mandatory reports (强制报告): intake with a receipt number at once, the workflow's
transitions, addenda, follow-up tasks, records of cases that went unreported, and the alerts
of breached clocks. Each write is one transaction with its audit entry.

The narrative (facts, addenda, notes, results) is never written to a log, an audit entry, a
notification or an e-mail: those carry codes, statuses and counts only."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tongxin.accounts.models import Department, Organisation, OrganisationKind, User
from tongxin.accounts.roles import Role
from tongxin.audit.models import Result
from tongxin.audit.services import audit_denied, audit_object, audit_record
from tongxin.core.documents import StoredDocument, document_kind
from tongxin.geo.models import Division, Level, code_prefix
from tongxin.geo.scope import in_scope
from tongxin.notices import services as notifications
from tongxin.protection import access, policy, rules
from tongxin.protection.models import (
    CALLER_INSTITUTION_TYPES,
    Channel,
    Concern,
    FailureToReport,
    FollowUp,
    Harm,
    MandatoryReport,
    RecipientHow,
    ReportAddendum,
    ReportAttachment,
    ReportCounter,
    ReportEvent,
    ReportHarm,
    ReportingInstitutionType,
    ReportRecipient,
    ReportTask,
    RoutingVersion,
    TaskKind,
    TaskStatus,
    Urgency,
)
from tongxin.protection.rules import OPEN_STATUSES, ConcernStatus, Severity
from tongxin.protection.signals import problems_changed
from tongxin.registry.models import Child, Gender
from tongxin.workdays.rules import EMPTY
from tongxin.workdays.services import work_calendar

if TYPE_CHECKING:
    from tongxin.visits.models import Contact

MAX_ATTACHMENTS = 5
# Staff whose reports filed online without an organisation count for the government.
GOVERNMENT_ROLES = frozenset({Role.COUNTY_ADMIN, Role.DEPARTMENT_OFFICER, Role.TOWN_SUPERVISOR})
# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = timedelta(minutes=5)
OBJECT_TYPE = "mandatoryreport"


class ReportConflict(Exception):
    """The report is not in a state that allows this (the API answers 409)."""


@dataclass(frozen=True)
class ChildDescription:
    """A child the report describes rather than links (not registered, or not known to the
    reporter's account)."""

    name: str = ""
    age: int | None = None
    gender: str = ""
    village: Division | None = None
    address: str = ""


def _in_chinese[T](fn: Callable[[], T]) -> T:
    """Stored texts (notifications, problems) are written in the county's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return fn()


# --- intake ----------------------------------------------------------------------------------


def _next_receipt_no(county_code: str, year: int) -> str:
    """GT-2024-000123: one counter row per county and year, locked while it counts."""
    counter, _created = ReportCounter.objects.select_for_update().get_or_create(
        county_code=county_code, year=year
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{policy.receipt_prefix(county_code)}-{year}-{counter.last:06d}"


def departments_of(county_code: str, keys: Iterable[str]) -> list[Organisation]:
    """The county's departments with these keys, in the keys' order (one query); a key the
    county has no department for is left out."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, Organisation] = {}
    for organisation in Organisation.objects.filter(
        kind=OrganisationKind.DEPARTMENT,
        department__in=wanted,
        division_id=f"{county_code}000000",
    ).order_by("pk"):
        found.setdefault(organisation.department, organisation)
    return [found[k] for k in wanted if k in found]


def check_uploads(uploads: Sequence[UploadedFile[Any]], *, field: str, most: int) -> list[str]:
    """The kind of each upload (as the care agreement's scan is checked: PDF, JPEG or PNG by
    their first bytes, at most 5 MB each), at most ``most`` of them; ValidationError on
    ``field``. Report attachments and intervention documents alike."""
    if len(uploads) > most:
        raise ValidationError({field: [_("At most %(n)d files can be attached.") % {"n": most}]})
    kinds = []
    for upload in uploads:
        try:
            kinds.append(document_kind(upload))
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}) from exc
    return kinds


def store_uploads[F: StoredDocument](
    uploads: Sequence[UploadedFile[Any]],
    kinds: list[str],
    build: Callable[[str, int], F],
) -> list[F]:
    """Save each checked upload as the row ``build(kind, size)`` makes, under a random name;
    if one fails, the files already saved are deleted again."""
    stored: list[F] = []
    try:
        for upload, kind in zip(uploads, kinds, strict=True):
            item = build(kind, upload.size or 0)
            item.store(upload)
            item.save()
            stored.append(item)
    except Exception:
        for item in stored:
            item.file.delete(save=False)
        raise
    return stored


def _check_attachments(uploads: Sequence[UploadedFile[Any]]) -> list[str]:
    return check_uploads(uploads, field="attachments", most=MAX_ATTACHMENTS)


def _store_attachments(
    report: MandatoryReport,
    uploads: Sequence[UploadedFile[Any]],
    kinds: list[str],
    actor: User,
    addendum: ReportAddendum | None = None,
) -> list[ReportAttachment]:
    return store_uploads(
        uploads,
        kinds,
        lambda kind, size: ReportAttachment(
            report=report, addendum=addendum, kind=kind, size=size, uploaded_by=actor
        ),
    )


def _check_intake(
    actor: User,
    *,
    harms: Iterable[str],
    facts: str,
    urgency: str,
    child: Child | None,
    described: ChildDescription,
    discovered_at: datetime,
    now: datetime,
) -> list[str]:
    errors: dict[str, list[str]] = {}
    chosen = list(dict.fromkeys(harms))
    if not chosen:
        errors["harms"] = [_("Choose at least one kind of harm.")]
    elif any(h not in Harm.values for h in chosen):
        errors["harms"] = [_("Choose the kinds of harm from the list.")]
    if not facts.strip():
        errors["facts"] = [_("Say what happened, in a few words.")]
    if urgency not in Urgency.values:
        errors["urgency"] = [_("Choose how urgent it is.")]
    if child is None:
        if not described.name.strip():
            errors["child_name"] = [
                _("Give the child's name, or write 不详 if you do not know it.")
            ]
        if described.age is not None and not 0 <= described.age <= 17:
            errors["child_age"] = [_("A child is under 18.")]
        if described.gender and described.gender not in Gender.values:
            errors["child_gender"] = [_("Choose the gender from the list.")]
        village = described.village
        if village is not None and (
            village.level not in (Level.VILLAGE, Level.COMMUNITY)
            or actor.division_id is None
            or not village.code.startswith(actor.division_id[:6])
        ):
            errors["child_village"] = [_("Choose a village of this county.")]
    if discovered_at > now + CLOCK_SKEW:
        errors["discovered_at"] = [_("The time cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
    return [h for h in Harm.values if h in chosen]


@transaction.atomic
def report_submit(
    *,
    actor: User,
    harms: Iterable[str],
    facts: str,
    urgency: str,
    child: Child | None = None,
    described: ChildDescription | None = None,
    discovered_at: datetime | None = None,
    discovered_where: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    reporting_organisation_name: str = "",
    reporting_institution_type: str = "",
    keep_identity_confidential: bool = False,
    channel: str = Channel.ONLINE,
    handling_department: Organisation | None = None,
    attachments: Sequence[UploadedFile[Any]] = (),
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> MandatoryReport:
    """File a mandatory report; it gets its receipt number at once. A reporter files for their
    institution; an officer may record one received by phone or in person, for a caller, with
    the kind of the caller's institution (``reporting_institution_type``), and choose the
    handling department (else ``rules.handling_department`` routes it)."""
    if not access.may_submit(actor) or actor.division_id is None:
        raise PermissionDenied
    now = now or timezone.now()
    described = described or ChildDescription()
    recording = access.records_for_others(actor)
    if child is not None and not (
        access.links_children(actor) and in_scope(actor, child.village_id)
    ):
        raise PermissionDenied
    if channel not in Channel.values or (channel != Channel.ONLINE and not recording):
        raise PermissionDenied
    if handling_department is not None and not recording:
        raise PermissionDenied
    ordered = _check_intake(
        actor,
        harms=harms,
        facts=facts,
        urgency=urgency,
        child=child,
        described=described,
        discovered_at=discovered_at or now,
        now=now,
    )
    kinds = _check_attachments(attachments)

    # Who reports: the account's own person and institution, unless recording for a caller.
    organisation = actor.organisation
    if channel == Channel.ONLINE:
        reporter_name = reporter_name.strip() or actor.name or actor.username
        reporter_phone = reporter_phone.strip() or actor.phone
        # An institution's reporter must be reachable; staff are reachable through the system.
        if not reporter_phone and actor.role == Role.REPORTER:
            raise ValidationError({"reporter_phone": [_("Give a phone number to reach you.")]})
        reporting_organisation_name = ""
    else:
        organisation = None
        reporter_name = reporter_name.strip()
        if not reporter_name and not reporting_organisation_name.strip():
            raise ValidationError({"reporter_name": [_("Give the caller's name or institution.")]})
        reporter_name = reporter_name or _("(not given)")
    institution_type = _institution_type(
        actor,
        organisation,
        channel=channel,
        named=reporting_organisation_name.strip(),
        chosen=reporting_institution_type,
    )

    if child is not None:
        division_code = child.village_id
    elif described.village is not None:
        division_code = described.village.code
    else:
        division_code = actor.division_id
    county_code = division_code[:6]
    if handling_department is not None and (
        handling_department.kind != OrganisationKind.DEPARTMENT
        or not handling_department.division_id.startswith(county_code)
    ):
        raise ValidationError({"handling_department": [_("Choose a department of this county.")]})
    # Every department the routing table names hears of it at once and reads it; the first
    # (or the one the recording officer chose) handles it.
    routing = rules.route(
        [rules.Harm(h) for h in ordered],
        rules.Urgency(urgency),
        policy.routing_table(),
        policy.setting("LEAD_ORDER"),
    )
    recipients = departments_of(county_code, routing.departments) or departments_of(
        county_code, [rules.CIVIL_AFFAIRS]
    )
    if handling_department is not None:
        recipients = [handling_department, *(d for d in recipients if d != handling_department)]
    department = recipients[0] if recipients else None
    clock_policy = policy.clock_policy()
    local_now = timezone.localtime(now)
    report = MandatoryReport.objects.create(
        receipt_no=_next_receipt_no(county_code, local_now.year),
        county_code=county_code,
        division_id=division_code,
        channel=channel,
        reporting_organisation=organisation,
        reporting_organisation_name=reporting_organisation_name.strip(),
        reporting_institution_type=institution_type,
        reporter_name=reporter_name[:50],
        reporter_phone=reporter_phone.strip()[:20],
        keep_identity_confidential=keep_identity_confidential,
        child=child,
        child_name="" if child else described.name.strip(),
        child_age=None if child else described.age,
        child_gender="" if child else described.gender,
        child_village=None if child else described.village,
        child_address="" if child else described.address.strip(),
        facts=facts.strip(),
        discovered_at=discovered_at or now,
        discovered_where=discovered_where.strip(),
        urgency=urgency,
        names_masked=rules.masks_names(rules.Harm(h) for h in ordered),
        submitted_by=actor,
        submitted_at=now,
        status=rules.Status.RECEIVED,
        handling_department=department,
        received_at=now,
        acceptance_due_at=_deadline(now, clock_policy.acceptance, clock_policy),
    )
    ReportRecipient.objects.bulk_create(
        [
            ReportRecipient(
                report=report,
                department=d,
                sent_at=now,
                how=RecipientHow.CHOSEN if d == handling_department else RecipientHow.ROUTED,
            )
            for d in recipients
        ]
    )
    ReportHarm.objects.bulk_create([ReportHarm(report=report, harm=h) for h in ordered])
    stored = _store_attachments(report, attachments, kinds, actor)
    ReportEvent.objects.create(
        report=report,
        at=now,
        actor=actor,
        action="submit",
        to_status=report.status,
        department=department,
    )
    audit_object(
        actor,
        "report.submit",
        report,
        request=request,
        detail={
            "receipt_no": report.receipt_no,
            "urgency": urgency,
            "harms": ordered,
            "channel": channel,
            "child_linked": child is not None,
            "attachments": len(stored),
            "sent_to": [str(d.public_id) for d in recipients],
        },
    )
    if child is not None:
        _raise_concerns(actor, report, child, request)
    else:
        _registration_task(report, described, now)
    _notify_new(report, recipients)
    return report


def _deadline(start: datetime, limit: rules.Limit, clock_policy: rules.ClockPolicy) -> datetime:
    """A clock's deadline, fixed when it starts; the county's calendar is read only when the
    limit counts days (a limit in hours needs none)."""
    calendar = EMPTY if limit.unit == rules.Unit.HOURS else work_calendar()
    return rules.deadline(start, limit, clock_policy.tz, calendar)


def _institution_type(
    actor: User, organisation: Organisation | None, *, channel: str, named: str, chosen: str
) -> str:
    """The kind of the reporting institution, fixed at submission: the reporting organisation's
    (a department or town government counts as the government); for a report filed online
    without one, the submitter's role; for a caller, the kind the officer chose for the
    institution the caller named (required with the name), or "none given"."""
    if channel == Channel.ONLINE:
        if organisation is not None:
            if organisation.kind == OrganisationKind.INSTITUTION:
                return organisation.institution_type or ReportingInstitutionType.OTHER
            if organisation.kind == OrganisationKind.VILLAGE_COMMITTEE:
                return ReportingInstitutionType.VILLAGE_COMMITTEE
            return ReportingInstitutionType.GOVERNMENT
        if actor.role == Role.VILLAGE_DIRECTOR:
            return ReportingInstitutionType.VILLAGE_COMMITTEE
        if actor.role in GOVERNMENT_ROLES:
            return ReportingInstitutionType.GOVERNMENT
        return ReportingInstitutionType.NOT_GIVEN
    if chosen and chosen not in dict(CALLER_INSTITUTION_TYPES):
        raise ValidationError(
            {"reporting_institution_type": [_("Choose a kind of institution from the list.")]}
        )
    if named and not chosen:
        raise ValidationError(
            {"reporting_institution_type": [_("Choose the kind of the caller's institution.")]}
        )
    if chosen and not named:
        raise ValidationError(
            {
                "reporting_organisation_name": [
                    _("Give the name of the caller's institution, or leave its kind empty.")
                ]
            }
        )
    return chosen or ReportingInstitutionType.NOT_GIVEN


def _registration_task(
    report: MandatoryReport, described: ChildDescription, now: datetime
) -> ReportTask:
    """The child is not linked to a file: the village registers (or finds) them."""
    if described.village is not None:
        division_id = described.village.code
    else:
        division_id = f"{report.county_code}000000"
    return ReportTask.objects.create(
        report=report,
        kind=TaskKind.REGISTER_CHILD,
        division_id=division_id,
        due_on=timezone.localdate(now) + timedelta(days=int(policy.setting("TASK_DAYS"))),
        created_at=now,
    )


def _raise_concerns(
    actor: User, report: MandatoryReport, child: Child, request: HttpRequest | None
) -> None:
    """A child in a report has a high-severity problem (one per category its harms raise)
    until the report ends; the problem names the receipt, never the facts or the harm."""
    description = _in_chinese(
        lambda: (
            _("Mandatory report %(receipt)s: the child is under protection until it is closed.")
            % {"receipt": report.receipt_no}
        )
    )
    for category in rules.concern_categories(rules.Harm(h) for h in report.harm_values):
        concern = Concern(
            child=child,
            category=category,
            severity=Severity.HIGH,
            description=description,
            created_by=actor,
            report=report,
        )
        concern._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
        concern.save()
        audit_record(
            actor=actor,
            action="concern.raise",
            object_type="concern",
            object_code=str(concern.public_id),
            division_code=child.village_id,
            request=request,
            detail={
                "child": str(child.public_id),
                "category": category,
                "severity": Severity.HIGH,
                "report": str(report.public_id),
            },
        )
    problems_changed.send(sender=Concern, children=(child,))


@dataclass(frozen=True)
class ContactProblem:
    """A problem found during a contact (联系/走访中发现的问题), from one checklist item marked
    "concern", about the children it names (each gets its own problem to follow up)."""

    children: Sequence[Child]
    checklist_item: str
    category: str
    description: str
    solution: str = ""
    severity: str = Severity.MEDIUM
    owner: User | None = None
    due_on: date | None = None


def contact_problems_raise(
    *,
    actor: User,
    contact: Contact,
    problems: Sequence[ContactProblem],
    request: HttpRequest | None = None,
) -> list[Concern]:
    """Record the problems found during ``contact`` (in its transaction: the caller records the
    contact), then tell of the children concerned, each once. Only children of the contact's
    household; the author must keep their files, as for any problem raised."""
    raised: list[Concern] = []
    for problem in problems:
        for child in problem.children:
            if child.household_id != contact.household_id:
                raise ValueError("a contact's problem is about a child of its household")
            if not access.raises_problems(actor, child.village_id):
                raise PermissionDenied
            concern = Concern(
                child=child,
                contact=contact,
                checklist_item=problem.checklist_item,
                category=problem.category,
                severity=problem.severity,
                description=problem.description.strip(),
                solution=problem.solution.strip(),
                owner=problem.owner,
                due_on=problem.due_on,
                created_by=actor,
            )
            concern._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
            concern.save()
            audit_record(
                actor=actor,
                action="concern.raise",
                object_type="concern",
                object_code=str(concern.public_id),
                division_code=child.village_id,
                request=request,
                detail={
                    "child": str(child.public_id),
                    "category": concern.category,
                    "severity": concern.severity,
                    "contact": str(contact.public_id),
                },
            )
            raised.append(concern)
    if raised:
        children = tuple({c.child_id: c.child for c in raised}.values())
        problems_changed.send(sender=Concern, children=children)
    return raised


def _end_concerns(actor: User, report: MandatoryReport) -> None:
    outcome = _in_chinese(
        lambda: _("The mandatory report %(receipt)s ended.") % {"receipt": report.receipt_no}
    )
    today = timezone.localdate()
    for concern in Concern.objects.filter(report=report, status__in=OPEN_STATUSES):
        concern.status = ConcernStatus.RESOLVED
        concern.outcome = outcome
        concern.closed_on = today
        concern.version += 1
        concern._history_user = actor  # type: ignore[attr-defined]
        concern.save(update_fields=["status", "outcome", "closed_on", "version"])
    if report.child is not None:
        problems_changed.send(sender=Concern, children=(report.child,))


# --- notifications ---------------------------------------------------------------------------


def _recipients(county_code: str, departments: Iterable[Organisation | None]) -> list[User]:
    """The active officers of these departments, and the county's civil-affairs officers."""
    ids = [d.pk for d in departments if d is not None]
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(organisation_id__in=ids, role__in=access.HANDLER_ROLES)
            | Q(role=Role.COUNTY_ADMIN, division_id=f"{county_code}000000")
        )
        .order_by("pk")
    )


def _send(notes: list[Any]) -> None:
    """E-mail after the commit: a mail server down must not lose the report."""
    if notes:
        transaction.on_commit(partial(notifications.email_pending, notes))


def _notify_new(report: MandatoryReport, departments: list[Organisation]) -> None:
    """The departments the report went to and the county's civil-affairs officers hear of it
    at once: in the app, and by e-mail. Codes only, no facts, no names."""
    url = reverse("reports:report_detail", args=[report.public_id])
    handler = report.handling_department

    def texts() -> tuple[str, str]:
        title = _("New mandatory report %(receipt)s (%(urgency)s)") % {
            "receipt": report.receipt_no,
            "urgency": report.get_urgency_display(),
        }
        body = _("Handling department: %(department)s. Area: %(area)s.") % {
            "department": handler.name if handler else "—",
            "area": report.division.name,
        }
        return title, body

    title, body = _in_chinese(texts)
    notes = []
    for user in _recipients(report.county_code, departments):
        note, created = notifications.notify(
            recipient=user,
            kind="report_received",
            title=title,
            body=body,
            url=url,
            key=f"report:{report.public_id}:received",
        )
        if created:
            notes.append(note)
    _send(notes)


def _notify_transfer(report: MandatoryReport) -> None:

    title = _in_chinese(
        lambda: (
            _("Mandatory report %(receipt)s transferred to your department")
            % {"receipt": report.receipt_no}
        )
    )
    notes = []
    for user in _recipients(report.county_code, [report.handling_department]):
        note, created = notifications.notify(
            recipient=user,
            kind="report_transferred",
            title=title,
            url=reverse("reports:report_detail", args=[report.public_id]),
            key=f"report:{report.public_id}:transfer:{report.received_at.isoformat()}",
        )
        if created:
            notes.append(note)
    _send(notes)


# --- the workflow ----------------------------------------------------------------------------


def _required(needs: frozenset[rules.Input], **given: str) -> None:
    messages = {
        rules.Input.REASON: ("reason", _("Give the reason.")),
        rules.Input.RESULT: ("result", _("Record the result of the verification and handling.")),
        rules.Input.RESULT_FOR_REPORTER: (
            "result_for_reporter",
            _("Write what the reporter is told."),
        ),
    }
    errors = {
        field: [message]
        for need, (field, message) in messages.items()
        if need in needs and not given.get(field, "").strip()
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def report_transition(
    *,
    actor: User,
    report: MandatoryReport,
    transition: str,
    reason: str = "",
    department: Organisation | None = None,
    result: str = "",
    result_for_reporter: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> MandatoryReport:
    """Move the report one step (rules.STEPS). Refused: by role or party → PermissionDenied;
    from this status → ReportConflict; a missing reason, result … → ValidationError."""
    if actor.is_read_only:
        raise PermissionDenied
    try:
        step = rules.Transition(transition)
    except ValueError as exc:
        raise ValidationError({"transition": [_("Not a step of the workflow.")]}) from exc
    locked = (
        MandatoryReport.objects.select_for_update(of=("self",))
        .select_related("handling_department", "child")
        .get(pk=report.pk)
    )
    before = rules.Status(locked.status)
    try:
        target = rules.check_transition(before, step, access.parties_for(actor, locked))
    except rules.TransitionRefused as exc:
        if exc.refusal == rules.Refusal.PARTY:
            raise PermissionDenied from exc
        raise ReportConflict(
            _("This step is not possible while the report is “%(status)s”.")
            % {"status": locked.get_status_display()}
        ) from exc
    needs = rules.STEPS[step].needs
    _required(needs, reason=reason, result=result, result_for_reporter=result_for_reporter)
    if rules.Input.DEPARTMENT in needs:
        if (
            department is None
            or department.kind != OrganisationKind.DEPARTMENT
            or not department.division_id.startswith(locked.county_code)
        ):
            raise ValidationError({"department": [_("Choose a department of this county.")]})
        if department.pk == locked.handling_department_id:
            raise ValidationError(
                {"department": [_("The report is already with this department.")]}
            )
    now = now or timezone.now()
    times = rules.times_after(locked.times(), step, now)
    clock_policy = policy.clock_policy()
    locked.status = target
    locked.received_at = times.received_at
    locked.accepted_at = times.accepted_at
    locked.result_recorded_at = times.result_at
    locked.informed_at = times.informed_at
    locked.ended_at = times.ended_at
    fields = [
        "status",
        "received_at",
        "accepted_at",
        "result_recorded_at",
        "informed_at",
        "ended_at",
    ]
    # A clock's deadline is fixed when it starts, with the limit then in force.
    if step == rules.Transition.TRANSFER:
        assert department is not None
        _pass_on(locked, department, now)
        locked.handling_department = department
        locked.acceptance_due_at = _deadline(now, clock_policy.acceptance, clock_policy)
        locked.result_due_at = None
        fields += ["handling_department", "acceptance_due_at", "result_due_at"]
    elif step == rules.Transition.ACCEPT:
        locked.result_due_at = _deadline(now, clock_policy.result, clock_policy)
        fields.append("result_due_at")
    elif step == rules.Transition.RECORD_RESULT:
        locked.result = result.strip()
        fields.append("result")
    elif step == rules.Transition.INFORM_REPORTER:
        locked.result_for_reporter = result_for_reporter.strip()
        fields.append("result_for_reporter")
    locked.save(update_fields=fields)
    ReportEvent.objects.create(
        report=locked,
        at=now,
        actor=actor,
        action=step,
        from_status=before,
        to_status=target,
        department=department if step == rules.Transition.TRANSFER else None,
        note=reason.strip(),
    )
    extra: dict[str, Any] = {"from": before.value, "to": target.value}
    if department is not None and step == rules.Transition.TRANSFER:
        extra["department"] = str(department.public_id)
    audit_object(
        actor,
        f"report.{step.value}",
        locked,
        request=request,
        detail={"receipt_no": locked.receipt_no, **extra},
    )
    if target in rules.ENDED:
        _end_concerns(actor, locked)
    if step == rules.Transition.TRANSFER:
        _notify_transfer(locked)
    return locked


def _pass_on(report: MandatoryReport, department: Organisation, now: datetime) -> None:
    """A transfer: the old handling department's part ends; the new one receives the report
    now, unless it already had it (a department it went to at submission)."""
    ReportRecipient.objects.filter(
        report=report, department_id=report.handling_department_id, passed_on_at__isnull=True
    ).update(passed_on_at=now)
    if not ReportRecipient.objects.filter(
        report=report, department=department, passed_on_at__isnull=True
    ).exists():
        ReportRecipient.objects.create(
            report=report, department=department, sent_at=now, how=RecipientHow.TRANSFERRED
        )


@transaction.atomic
def report_addendum_add(
    *,
    actor: User,
    report: MandatoryReport,
    text: str,
    attachments: Sequence[UploadedFile[Any]] = (),
    request: HttpRequest | None = None,
) -> ReportAddendum:
    """A correction or addition: the report stays as submitted, the addendum is kept beside
    it. By its reporter, the county officer or the handling department."""
    view = access.report_view(actor, report)
    if not view.adds_addenda:
        raise PermissionDenied
    if not text.strip():
        raise ValidationError({"text": [_("Write the addendum.")]})
    kinds = _check_attachments(attachments)
    addendum = ReportAddendum.objects.create(report=report, author=actor, text=text.strip())
    stored = _store_attachments(report, attachments, kinds, actor, addendum)
    ReportEvent.objects.create(
        report=report, at=addendum.created_at, actor=actor, action="addendum"
    )
    audit_object(
        actor,
        "report.addendum",
        report,
        request=request,
        detail={"receipt_no": report.receipt_no, "attachments": len(stored)},
    )
    return addendum


def report_edit_refused(
    *, actor: User, report: MandatoryReport, request: HttpRequest | None = None
) -> None:
    """Someone tried to change a submitted report (it is immutable): on the record."""
    audit_object(
        actor,
        "report.edit",
        report,
        request=request,
        result=Result.DENIED,
        detail={"receipt_no": report.receipt_no},
    )


# --- reads (audited) -------------------------------------------------------------------------


def report_opened(
    *,
    actor: User,
    report: MandatoryReport,
    view: access.ReportView,
    request: HttpRequest | None = None,
) -> None:
    """Every opening of a report is attributable, with the view shown (never its content)."""
    audit_object(
        actor,
        "report.view",
        report,
        request=request,
        detail={"receipt_no": report.receipt_no, "view": view.level},
    )


def report_attachment_opened(
    *,
    actor: User,
    report: MandatoryReport,
    attachment: ReportAttachment,
    request: HttpRequest | None = None,
) -> None:
    audit_object(
        actor,
        "report.attachment_view",
        report,
        request=request,
        detail={"receipt_no": report.receipt_no, "attachment": str(attachment.public_id)},
    )


def report_attachment_denied(
    *,
    actor: User,
    report: MandatoryReport,
    code: str,
    request: HttpRequest | None = None,
) -> None:
    """An attachment asked for and not shown (not there, or the user's view of the report does
    not show attachments): the attempt is kept, with the code as given."""
    audit_object(
        actor,
        "report.attachment_view",
        report,
        request=request,
        result=Result.DENIED,
        detail={"receipt_no": report.receipt_no, "attachment": code[:64]},
    )


def report_access_denied(*, actor: User, code: str, request: HttpRequest | None = None) -> None:
    """A report asked for and not shown (not there, or not the user's): attempts are kept."""
    audit_denied(
        actor=actor, action="report.view", object_type=OBJECT_TYPE, code=code, request=request
    )


def list_opened(
    *, actor: User, action: str, object_type: str, count: int, request: HttpRequest | None
) -> None:
    """A list the actor opened, of reports, problems or referrals: how many rows it showed,
    filed under the actor's own division (never which rows)."""
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        division_code=actor.division_id or "",
        request=request,
        detail={"count": count},
    )


def report_list_opened(*, actor: User, count: int, request: HttpRequest | None = None) -> None:
    list_opened(
        actor=actor, action="report.list", object_type=OBJECT_TYPE, count=count, request=request
    )


# --- follow-up tasks -------------------------------------------------------------------------


@transaction.atomic
def report_task_complete(
    *,
    actor: User,
    task: ReportTask,
    child: Child,
    request: HttpRequest | None = None,
) -> ReportTask:
    """The described child is registered (or found registered): link the file to the report.
    The child then has the report's high-severity problem, as a linked child has."""
    if not access.does_task(actor, task) or not in_scope(actor, child.village_id):
        raise PermissionDenied
    locked = ReportTask.objects.select_for_update().select_related("division").get(pk=task.pk)
    if locked.status != TaskStatus.OPEN:
        raise ReportConflict(_("This task is already done."))
    if not child.village_id.startswith(code_prefix(locked.division_id, locked.division.level)):
        raise ValidationError({"child": [_("The child's file is in another village.")]})
    now = timezone.now()
    locked.status, locked.done_at, locked.done_by = TaskStatus.DONE, now, actor
    locked.save(update_fields=["status", "done_at", "done_by"])
    report = MandatoryReport.objects.select_for_update().get(pk=locked.report_id)
    audit_object(
        actor,
        "report.task_done",
        report,
        request=request,
        detail={"receipt_no": report.receipt_no, "task": str(locked.public_id)},
    )
    if report.child_id is None:
        report.child = child
        report.save(update_fields=["child"])
        ReportEvent.objects.create(report=report, at=now, actor=actor, action="child_linked")
        if report.is_open:
            _raise_concerns(actor, report, child, request)
    return locked


# --- failures to report (发现未报) -------------------------------------------------------------


FAILURE_FIELDS = {
    "division",
    "report",
    "organisation",
    "organisation_name",
    "person",
    "found_on",
    "summary",
    "follow_up",
    "follow_up_note",
}


@transaction.atomic
def failure_record(
    *, actor: User, fields: dict[str, Any], request: HttpRequest | None = None
) -> FailureToReport:
    """Record a case found later that should have been reported and was not."""
    if not access.records_failures(actor):
        raise PermissionDenied
    if unknown := set(fields) - FAILURE_FIELDS:
        raise ValueError(f"not failure fields: {sorted(unknown)}")
    division: Division | None = fields.get("division")
    if division is None or not in_scope(actor, division.code):
        raise ValidationError({"division": [_("Choose a town or village of your area.")]})
    errors: dict[str, list[str]] = {}
    if not (
        fields.get("organisation")
        or str(fields.get("organisation_name", "")).strip()
        or str(fields.get("person", "")).strip()
    ):
        errors["organisation_name"] = [_("Say who failed to report: an institution or a person.")]
    found_on = fields.get("found_on")
    if found_on is None:
        errors["found_on"] = [_("Give the date it was found.")]
    elif found_on > timezone.localdate():
        errors["found_on"] = [_("The date cannot be in the future.")]
    if not str(fields.get("summary", "")).strip():
        errors["summary"] = [_("Say what should have been reported.")]
    if fields.get("follow_up") not in FollowUp.values:
        errors["follow_up"] = [_("Choose the follow-up taken.")]
    if errors:
        raise ValidationError(errors)
    failure = FailureToReport(
        recorded_by=actor, county_code=division.code[:6], **{**fields, "division": division}
    )
    failure.full_clean(exclude=["recorded_by", "report", "organisation"])
    failure.save()
    audit_record(
        actor=actor,
        action="report.failure_record",
        object_type="failuretoreport",
        object_code=str(failure.public_id),
        division_code=division.code,
        request=request,
        detail={"follow_up": failure.follow_up},
    )
    return failure


# --- clocks ----------------------------------------------------------------------------------


def report_clock_alerts(*, now: datetime | None = None) -> int:
    """Alert the handling department and the county of each breached clock, once per clock
    (``manage.py report_clocks``, run every hour); returns the notifications written."""
    now = now or timezone.now()
    breached = MandatoryReport.objects.select_related("handling_department").filter(
        Q(status__in=rules.AWAITING_ACCEPTANCE, acceptance_due_at__lt=now)
        | Q(
            status__in=[rules.Status.ACCEPTED, rules.Status.VERIFYING],
            result_due_at__lt=now,
        )
    )
    written: list[Any] = []
    recipients: dict[tuple[str, int | None], list[User]] = {}
    for report in breached.order_by("pk"):
        awaiting = report.status in rules.AWAITING_ACCEPTANCE
        clock = rules.ClockName.ACCEPTANCE if awaiting else rules.ClockName.RESULT
        due = report.acceptance_due_at if awaiting else report.result_due_at
        assert due is not None

        def text(report: MandatoryReport = report, awaiting: bool = awaiting) -> str:
            if awaiting:
                return _("Mandatory report %(receipt)s: not accepted in time") % {
                    "receipt": report.receipt_no
                }
            return _("Mandatory report %(receipt)s: no result in time") % {
                "receipt": report.receipt_no
            }

        title = _in_chinese(text)
        group = (report.county_code, report.handling_department_id)
        if group not in recipients:
            recipients[group] = _recipients(report.county_code, [report.handling_department])
        for user in recipients[group]:
            note, created = notifications.notify(
                recipient=user,
                kind="report_clock",
                title=title,
                url=reverse("reports:report_detail", args=[report.public_id]),
                key=f"report:{report.public_id}:breach:{clock.value}:{due.isoformat()}",
            )
            if created:
                written.append(note)
    notifications.email_pending(written)
    return len(written)


def _span_q(start: str, end: str, years: Iterable[int]) -> Q:
    """Clocks whose days, from ``start`` to the stored deadline ``end``, may include one of
    ``years`` (local years; a superset is fine: each is counted again exactly)."""
    wanted = sorted(years)
    return Q(**{f"{start}__year__lte": wanted[-1], f"{end}__year__gte": wanted[0]})


@transaction.atomic
def deadlines_refresh(*, years: Iterable[int]) -> int:
    """The working-day calendar changed for ``years``: the stored deadlines of the running
    clocks that count days of those years are counted again, with the limits in force now
    (as the report's page counts them), so that the lists, the alerts and the statistics read
    the deadline the page shows. Returns how many deadlines moved."""
    wanted = set(years)
    clock_policy = policy.clock_policy()
    if not wanted:
        return 0
    calendar = work_calendar()
    moved = 0
    running = (
        ("acceptance_due_at", "received_at", clock_policy.acceptance, rules.AWAITING_ACCEPTANCE),
        (
            "result_due_at",
            "accepted_at",
            clock_policy.result,
            frozenset({rules.Status.ACCEPTED, rules.Status.VERIFYING}),
        ),
    )
    for due_field, start_field, limit, statuses in running:
        if limit.unit == rules.Unit.HOURS:
            continue
        clocks = MandatoryReport.objects.filter(
            _span_q(start_field, due_field, wanted), status__in=statuses
        ).values_list("pk", start_field, due_field)
        for pk, start, stored in clocks:
            counted = rules.deadline(start, limit, clock_policy.tz, calendar)
            if counted != stored:
                MandatoryReport.objects.filter(pk=pk).update(**{due_field: counted})
                moved += 1
    return moved


# --- the routing table -----------------------------------------------------------------------


def may_change_routing(user: User) -> bool:
    return user.is_authenticated and user.role == Role.COUNTY_ADMIN and not user.is_read_only


def reads_routing(user: User) -> bool:
    return user.is_authenticated and user.role in (Role.COUNTY_ADMIN, Role.AUDITOR)


@transaction.atomic
def routing_version_add(
    *,
    actor: User,
    table: dict[str, list[str]],
    reason: str,
    request: HttpRequest | None = None,
) -> RoutingVersion:
    """A new routing table, in force from now for new reports (a report keeps whom it went to).
    Every row names a department; a suspected crime's row, and imminent danger's, the police."""
    if not may_change_routing(actor):
        raise PermissionDenied
    rows = {key: list(dict.fromkeys(table.get(key, ()))) for key in rules.ROUTE_KEYS}
    messages = {
        rules.RoutingProblem.MISSING: _("Choose at least one department."),
        rules.RoutingProblem.UNKNOWN: _("Choose the departments from the list."),
        rules.RoutingProblem.POLICE: _(
            "A suspected crime, or imminent danger, goes to the police at once: keep the police."
        ),
    }
    errors = {
        f"route_{key}": [messages[problem]]
        for key, problem in rules.routing_problems(rows, Department.values).items()
    }
    if not reason.strip():
        errors["reason"] = [_("Give the reason for the change.")]
    if errors:
        raise ValidationError(errors)
    before = policy.routing_table()
    version = RoutingVersion.objects.create(table=rows, reason=reason.strip(), created_by=actor)
    audit_record(
        actor=actor,
        action="report.routing_change",
        object_type="routingversion",
        object_code=str(version.pk),
        division_code=actor.division_id or "",
        request=request,
        detail={
            "changed": {
                key: {"from": list(before[key]), "to": rows[key]}
                for key in rules.ROUTE_KEYS
                if list(before[key]) != rows[key]
            }
        },
    )
    return version
