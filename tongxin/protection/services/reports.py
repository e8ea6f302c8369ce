"""Writes of mandatory reports (强制报告): intake with a receipt number at once, the workflow's
transitions, addenda, and the audit entries of reports opened or refused. Each write is one
transaction with its audit entry.

The narrative (facts, addenda, notes, results) is never written to a log, an audit entry, a
notification or an e-mail: those carry codes, statuses and counts only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongxin.accounts.models import Organisation, OrganisationKind, User
from tongxin.accounts.roles import Role
from tongxin.audit.models import Result
from tongxin.audit.services import audit_object
from tongxin.geo.models import Division, Level
from tongxin.geo.scope import in_scope
from tongxin.protection import access, policy, rules
from tongxin.protection.models import (
    CALLER_INSTITUTION_TYPES,
    Channel,
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
    TaskKind,
    Urgency,
)
from tongxin.protection.services.common import departments_of
from tongxin.protection.services.problems import end_report_problems, raise_report_problems
from tongxin.protection.services.report_notices import notify_new_report, notify_report_passed_on
from tongxin.protection.services.uploads import check_uploads, store_uploads
from tongxin.registry.models import Child, Gender
from tongxin.workdays.rules import EMPTY
from tongxin.workdays.services import work_calendar

MAX_ATTACHMENTS = 5
# Staff whose reports filed online without an organisation count for the government.
GOVERNMENT_ROLES = frozenset({Role.COUNTY_ADMIN, Role.DEPARTMENT_OFFICER, Role.TOWN_SUPERVISOR})
# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = timedelta(minutes=5)


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


# --- intake ----------------------------------------------------------------------------------


def _next_receipt_no(county_code: str, year: int) -> str:
    """GT-2024-000123: one counter row per county and year, locked while it counts."""
    counter, _created = ReportCounter.objects.select_for_update().get_or_create(
        county_code=county_code, year=year
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{policy.receipt_prefix(county_code)}-{year}-{counter.last:06d}"


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
        raise_report_problems(actor, report, child, request)
    else:
        _registration_task(report, described, now)
    notify_new_report(report, recipients)
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
        end_report_problems(actor, locked)
    if step == rules.Transition.TRANSFER:
        notify_report_passed_on(locked)
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
