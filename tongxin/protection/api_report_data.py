"""The shape of the mandatory reports' API (强制报告): the serializers of what it takes and
answers (one schema component each) and the answer built from a report as the caller may see
it. The endpoints are in ``api``."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tongxin.accounts.models import User
from tongxin.core.plausible_fields import DateKind, PersonNameField, PlausibleDateTimeField
from tongxin.protection import access, rules, selectors
from tongxin.protection.models import (
    CALLER_INSTITUTION_TYPES,
    Channel,
    Harm,
    MandatoryReport,
    ReportAddendum,
    ReportAttachment,
    ReportEvent,
    Urgency,
)
from tongxin.protection.services import MAX_ATTACHMENTS

STATUS_HELP = "one of: " + ", ".join(s.value for s in rules.Status)

# --- serializers -----------------------------------------------------------------------------


class ReportIntakeSerializer(serializers.Serializer[Any]):
    urgency = serializers.ChoiceField(
        choices=Urgency.choices, help_text="imminent danger, urgent or normal"
    )
    harms = serializers.ListField(
        child=serializers.ChoiceField(choices=Harm.choices),
        min_length=1,
        help_text="one or more suspected harms",
    )
    facts = serializers.CharField(max_length=5000, help_text="what happened (sensitive)")
    child = serializers.UUIDField(
        required=False,
        help_text="a registered child's file code (roles that read files only); "
        "else describe the child with the child_* fields",
    )
    child_name = PersonNameField(required=False, allow_blank=True, help_text="不详 when not known")
    child_age = serializers.IntegerField(min_value=0, max_value=17, required=False)
    child_gender = serializers.CharField(
        max_length=6, required=False, allow_blank=True, help_text="male or female"
    )
    child_village = serializers.CharField(
        max_length=12, required=False, allow_blank=True, help_text="12-digit village code"
    )
    child_address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    discovered_at = PlausibleDateTimeField(
        kind=DateKind.EVENT,
        required=False,
        help_text="default: now; not in the future nor before a linked child's birth",
    )
    discovered_where = serializers.CharField(max_length=200, required=False, allow_blank=True)
    reporter_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True, help_text="default: the account's name"
    )
    reporter_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="default: the account's phone"
    )
    reporting_organisation_name = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="the caller's institution (reports recorded by phone or in person)",
    )
    reporting_institution_type = serializers.ChoiceField(
        choices=CALLER_INSTITUTION_TYPES,
        required=False,
        allow_blank=True,
        help_text="the kind of the caller's institution: required with "
        "reporting_organisation_name (reports recorded by phone or in person)",
    )
    keep_identity_confidential = serializers.BooleanField(required=False, default=False)
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        default=Channel.ONLINE,
        help_text="phone and in_person: officers recording a report received so",
    )
    handling_department = serializers.UUIDField(
        required=False,
        help_text="an organisation's code (officers only); default: routed by the harms",
    )


ATTACHMENTS_HELP = (
    f"photos or documents: PDF, JPEG or PNG (told by their first bytes), at most "
    f"{MAX_ATTACHMENTS} files of 5 MB each; one form field per file, each named attachments"
)


class ReportIntakeUploadSerializer(ReportIntakeSerializer):
    """The intake sent as multipart/form-data, with photos or documents (for the schema: the
    files themselves are checked by the service, as the page's are)."""

    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, help_text=ATTACHMENTS_HELP
    )


class ReportReceiptSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="the report's code")
    receipt_no = serializers.CharField(help_text="the receipt number, e.g. GT-2024-000123")
    status = serializers.CharField(help_text=STATUS_HELP)
    submitted_at = serializers.DateTimeField()


class ReportAreaSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()


class ReportClockSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(help_text="acceptance or result")
    state = serializers.CharField(
        help_text="not_started, running, breached (running past its limit), met, met_late"
    )
    limit = serializers.CharField(help_text="24h, 15d, 3wd …")
    started_at = serializers.DateTimeField(allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    estimated = serializers.BooleanField(
        help_text="true: the deadline counts days of a year whose holidays are not in the "
        "working-day calendar (Monday to Friday counted as working days): an estimate"
    )
    guessed_years = serializers.ListField(
        child=serializers.IntegerField(), help_text="the years whose holidays were guessed"
    )


class ReportRecipientSerializer(serializers.Serializer[Any]):
    code = serializers.UUIDField(help_text="the department's organisation code")
    name = serializers.CharField()
    sent_at = serializers.DateTimeField(help_text="when the report went to it")
    how = serializers.CharField(help_text="routed (by the routing table), chosen, transferred")
    handling = serializers.BooleanField(help_text="it handles the report now")
    passed_on_at = serializers.DateTimeField(
        allow_null=True, help_text="when a transfer ended its part"
    )


class ReportReporterSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    phone = serializers.CharField()
    institution = serializers.CharField()
    institution_type = serializers.CharField(
        help_text="school, kindergarten, medical, welfare, hotel, other, government, "
        "village_committee or not_given (fixed at submission)"
    )


class ReportEventSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    action = serializers.CharField(help_text="submit, a transition, addendum, child_linked")
    by = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    department = serializers.CharField(help_text="the department transferred to")
    note = serializers.CharField()


class ReportAddendumOutSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    text = serializers.CharField()


class ReportAttachmentOutSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(
        help_text="the attachment's code: GET /api/v1/reports/{code}/attachments/{id}"
    )
    kind = serializers.CharField(help_text="pdf, jpg or png")
    size = serializers.IntegerField(help_text="bytes")
    uploaded_at = serializers.DateTimeField()
    addendum = serializers.UUIDField(
        allow_null=True, help_text="the addendum it came with; null: with the report itself"
    )


class ReportAddendumCreatedSerializer(ReportAddendumOutSerializer):
    attachments = ReportAttachmentOutSerializer(many=True)


class ReportTaskOutSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    due_on = serializers.DateField()


class ReportOutSerializer(serializers.Serializer[Any]):
    """A report as the caller may see it: fields the caller may not see are left out."""

    id = serializers.UUIDField()
    receipt_no = serializers.CharField()
    status = serializers.CharField(help_text=STATUS_HELP)
    view = serializers.CharField(
        help_text="what the caller sees: full, status (its reporter) or exists (the village)"
    )
    urgency = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    area = ReportAreaSerializer()
    child_name = serializers.CharField(help_text="*** in reports of suspected sexual abuse")
    result_for_reporter = serializers.CharField(
        required=False, help_text="the result told to the reporter (reporter and full view)"
    )
    harms = serializers.ListField(child=serializers.CharField(), required=False)
    facts = serializers.CharField(required=False)
    discovered_at = serializers.DateTimeField(required=False)
    discovered_where = serializers.CharField(required=False)
    reporter = ReportReporterSerializer(required=False)
    handling_department = ReportAreaSerializer(required=False, help_text="code: organisation code")
    sent_to = ReportRecipientSerializer(
        many=True,
        required=False,
        help_text="the departments the report went to and when (full view and its reporter)",
    )
    clocks = ReportClockSerializer(many=True, required=False)
    result = serializers.CharField(required=False)
    timeline = ReportEventSerializer(many=True, required=False)
    addenda = ReportAddendumOutSerializer(many=True, required=False)
    attachments = ReportAttachmentOutSerializer(many=True, required=False)
    tasks = ReportTaskOutSerializer(many=True, required=False)
    transitions = serializers.ListField(
        child=serializers.CharField(), help_text="the steps the caller may take now"
    )


class ReportListSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    results = ReportOutSerializer(many=True, help_text="summary fields only")


class ReportTransitionInSerializer(serializers.Serializer[Any]):
    transition = serializers.ChoiceField(
        choices=[(t.value, t.value) for t in rules.Transition],
        help_text="accept, start_verification, record_result (needs result), inform_reporter "
        "(needs result_for_reporter), close, reject (needs reason), transfer (needs "
        "department and reason)",
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    department = serializers.UUIDField(required=False, help_text="organisation code (transfer)")
    result = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    result_for_reporter = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )


class ReportAddendumInSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=5000)


class ReportAddendumUploadSerializer(ReportAddendumInSerializer):
    """An addendum sent as multipart/form-data, with photos or documents (for the schema: the
    files themselves are checked by the service, as the page's are)."""

    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, help_text=ATTACHMENTS_HELP
    )


class ReportConflictSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


# --- building the answer ---------------------------------------------------------------------


def _clock(clock: rules.Clock) -> dict[str, Any]:
    return {
        "name": clock.name.value,
        "state": clock.state.value,
        "limit": str(clock.limit),
        "started_at": clock.started_at,
        "deadline": clock.deadline,
        "stopped_at": clock.stopped_at,
        "estimated": clock.estimated,
        "guessed_years": list(clock.guessed_years),
    }


def _sent_to(report: MandatoryReport) -> list[dict[str, Any]]:
    return [
        {
            "code": r.department.public_id,
            "name": r.department.name,
            "sent_at": r.sent_at,
            "how": r.how,
            "handling": r.active and r.department_id == report.handling_department_id,
            "passed_on_at": r.passed_on_at,
        }
        for r in selectors.recipients_of(report)
    ]


def report_data(row: selectors.Row, *, detail: bool, user: User) -> dict[str, Any]:
    """The report as the row's viewer may see it; ``detail`` adds the narrative parts."""
    report, view = row.report, row.view
    data: dict[str, Any] = {
        "id": report.public_id,
        "receipt_no": report.receipt_no,
        "status": report.status,
        "view": view.level,
        "urgency": report.urgency,
        "submitted_at": report.submitted_at,
        "area": {"code": report.division_id, "name": report.division.name},
        "child_name": row.child_name,
        "transitions": [t.value for t in view.transitions],
    }
    if view.result_told and report.result_for_reporter:
        data["result_for_reporter"] = report.result_for_reporter
    if detail and (view.narrative or rules.Party.REPORTER in view.parties):
        data["sent_to"] = _sent_to(report)
    if not view.narrative:
        if detail and view.tasks:
            data["tasks"] = [_task(t) for t in selectors.open_tasks_for(user, report)]
        return data
    department = report.handling_department
    data.update(
        harms=report.harm_values,
        handling_department=(
            {"code": str(department.public_id), "name": department.name} if department else None
        ),
        clocks=[_clock(row.acceptance), _clock(row.result)],
    )
    if not detail:
        return data
    data.update(
        facts=report.facts,
        discovered_at=report.discovered_at,
        discovered_where=report.discovered_where,
        result=report.result,
        timeline=[
            {
                "at": e.at,
                "action": e.action,
                "by": str(e.actor) if e.actor else "",
                "from_status": e.from_status,
                "to_status": e.to_status,
                "department": e.department.name if e.department else "",
                "note": e.note,
            }
            for e in ReportEvent.objects.filter(report=report).select_related("actor", "department")
        ],
        addenda=[
            {"id": a.public_id, "created_at": a.created_at, "text": a.text}
            for a in ReportAddendum.objects.filter(report=report)
        ],
        attachments=[
            attachment_data(a)
            for a in ReportAttachment.objects.filter(report=report).select_related("addendum")
        ],
        tasks=[_task(t) for t in report.tasks.all()],
    )
    if view.reporter_identity:
        organisation = report.reporting_organisation
        data["reporter"] = {
            "name": access.shown_name(report.reporter_name, view),
            "phone": report.reporter_phone,
            "institution": organisation.name
            if organisation
            else report.reporting_organisation_name,
            "institution_type": report.reporting_institution_type,
        }
    return data


def attachment_data(attachment: ReportAttachment) -> dict[str, Any]:
    addendum = attachment.addendum
    return {
        "id": attachment.public_id,
        "kind": attachment.kind,
        "size": attachment.size,
        "uploaded_at": attachment.uploaded_at,
        "addendum": addendum.public_id if addendum else None,
    }


def _task(task: Any) -> dict[str, Any]:
    return {"id": task.public_id, "kind": task.kind, "status": task.status, "due_on": task.due_on}
