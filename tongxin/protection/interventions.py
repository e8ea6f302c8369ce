"""Guardianship interventions (监护干预, tasks 6/7) on a child's file: the rules (which kinds
last and end, the state on a day, what ending needs), the writes (record, assess, end — each one
transaction with its audit entry) and the reads (the scoped fetches, every read audited).

Who sees and does what is decided in ``protection.access``. The narrative (notes, where the
child is placed, the assessment, the reason it ended) is never written to a log or an audit
entry: those carry codes, kinds and counts only.

Ending a temporary guardianship needs a recorded assessment (评估) — whether the guardian can
take the child back, or who will care for the child — made on or before the day it ends, and
the latest one must not say that the guardianship should continue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongxin.accounts.models import User
from tongxin.accounts.roles import Role
from tongxin.audit.services import audit_denied, audit_object, audit_record
from tongxin.protection import access
from tongxin.protection.models import (
    AssessmentConclusion,
    Intervention,
    InterventionAssessment,
    InterventionDocument,
    InterventionKind,
    MandatoryReport,
    Placement,
)
from tongxin.protection.services.uploads import check_uploads, store_uploads
from tongxin.registry.models import Child

OBJECT_TYPE = "intervention"
MAX_DOCUMENTS = 5

# --- rules -----------------------------------------------------------------------------------

# Kinds that last for a time and end; the others are single acts (an admonition, a
# judgment, a suggestion …), recorded once.
LASTING = frozenset(
    {
        InterventionKind.TEMPORARY_GUARDIANSHIP,
        InterventionKind.PROTECTION_ORDER,
        InterventionKind.FAMILY_EDUCATION_ORDER,
    }
)


class State(StrEnum):
    IN_FORCE = "in_force"
    EXPIRED = "expired"  # its planned end has passed (a protection order runs out)
    ENDED = "ended"
    RECORDED = "recorded"  # a single act


STATE_LABELS = {
    State.IN_FORCE: gettext_lazy("In force"),
    State.EXPIRED: gettext_lazy("Expired"),
    State.ENDED: gettext_lazy("Ended"),
    State.RECORDED: gettext_lazy("Recorded"),
}


def intervention_state(
    kind: str, *, ends_on: date | None, ended_on: date | None, today: date
) -> State:
    """A temporary guardianship stays in force until it is ended (with an assessment), even
    past its planned end; an order runs out on its planned end."""
    if kind not in LASTING:
        return State.RECORDED
    if ended_on is not None and ended_on <= today:
        return State.ENDED
    if kind != InterventionKind.TEMPORARY_GUARDIANSHIP and ends_on is not None and ends_on < today:
        return State.EXPIRED
    return State.IN_FORCE


def in_force_q(today: date) -> Q:
    """``intervention_state(...) == IN_FORCE`` as a database filter."""
    return (
        Q(kind__in=list(LASTING))
        & (Q(ended_on__isnull=True) | Q(ended_on__gt=today))
        & (
            Q(kind=InterventionKind.TEMPORARY_GUARDIANSHIP)
            | Q(ends_on__isnull=True)
            | Q(ends_on__gte=today)
        )
    )


def state_of(intervention: Intervention, today: date | None = None) -> State:
    return intervention_state(
        intervention.kind,
        ends_on=intervention.ends_on,
        ended_on=intervention.ended_on,
        today=today or timezone.localdate(),
    )


def may_end(intervention: Intervention) -> bool:
    """A lasting intervention not yet ended (an expired order may still be closed)."""
    return intervention.kind in LASTING and intervention.ended_on is None


def needs_assessment(kind: str) -> bool:
    return kind == InterventionKind.TEMPORARY_GUARDIANSHIP


class InterventionConflict(Exception):
    """The intervention is not in a state that allows this (already ended, a single act)."""


@dataclass(frozen=True)
class AssessmentInput:
    assessed_on: date | None
    assessor: str
    conclusion: str
    summary: str


INTERVENTION_FIELDS = {
    "kind",
    "placement",
    "placed_with",
    "decided_on",
    "decision_maker",
    "document_number",
    "starts_on",
    "ends_on",
    "notes",
}


def _check_fields(fields: dict[str, Any], today: date) -> dict[str, Any]:
    """The fields cleaned, or ValidationError naming each field that is wrong."""
    if unknown := set(fields) - INTERVENTION_FIELDS:
        raise ValueError(f"not intervention fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    kind = fields.get("kind") or ""
    placement = fields.get("placement") or ""
    if kind not in InterventionKind.values:
        errors["kind"] = [_("Choose the kind of intervention.")]
    elif kind == InterventionKind.TEMPORARY_GUARDIANSHIP:
        if placement not in Placement.values:
            errors["placement"] = [
                _("Choose where the child lives during the temporary guardianship.")
            ]
    elif placement:
        errors["placement"] = [_("A placement goes with a temporary guardianship only.")]
    decided_on: date | None = fields.get("decided_on")
    if decided_on is None:
        errors["decided_on"] = [_("Give the date of the decision.")]
    elif decided_on > today:
        errors["decided_on"] = [_("The date cannot be in the future.")]
    if not str(fields.get("decision_maker") or "").strip():
        errors["decision_maker"] = [_("Say who decided it: the authority or the person.")]
    starts_on: date | None = fields.get("starts_on") or decided_on
    ends_on: date | None = fields.get("ends_on")
    if ends_on is not None:
        if kind and kind not in LASTING:
            errors["ends_on"] = [_("A single act has no planned end.")]
        elif starts_on is not None and ends_on < starts_on:
            errors["ends_on"] = [_("The planned end cannot be before the start.")]
    if errors:
        raise ValidationError(errors)
    return {
        "kind": kind,
        "placement": placement if kind == InterventionKind.TEMPORARY_GUARDIANSHIP else "",
        "placed_with": str(fields.get("placed_with") or "").strip()
        if kind == InterventionKind.TEMPORARY_GUARDIANSHIP
        else "",
        "decided_on": decided_on,
        "decision_maker": str(fields["decision_maker"]).strip(),
        "document_number": str(fields.get("document_number") or "").strip(),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "notes": str(fields.get("notes") or "").strip(),
    }


def _check_assessment(given: AssessmentInput, today: date) -> None:
    errors: dict[str, list[str]] = {}
    if given.assessed_on is None:
        errors["assessed_on"] = [_("Give the date of the assessment.")]
    elif given.assessed_on > today:
        errors["assessed_on"] = [_("The date cannot be in the future.")]
    if not given.assessor.strip():
        errors["assessor"] = [_("Say who made the assessment.")]
    if given.conclusion not in AssessmentConclusion.values:
        errors["conclusion"] = [_("Choose the conclusion of the assessment.")]
    if not given.summary.strip():
        errors["summary"] = [_("Write what the assessment found.")]
    if errors:
        raise ValidationError(errors)


def _check_documents(uploads: Sequence[UploadedFile[Any]]) -> list[str]:
    return check_uploads(uploads, field="documents", most=MAX_DOCUMENTS)


def _store_documents(
    intervention: Intervention,
    uploads: Sequence[UploadedFile[Any]],
    kinds: list[str],
    actor: User,
) -> list[InterventionDocument]:
    return store_uploads(
        uploads,
        kinds,
        lambda kind, size: InterventionDocument(
            intervention=intervention, kind=kind, size=size, uploaded_by=actor
        ),
    )


def _writer_check(actor: User, intervention: Intervention) -> None:
    report = intervention.report
    if not access.records_interventions(
        actor,
        village_code=intervention.child.village_id,
        report_department_id=report.handling_department_id if report else None,
    ):
        raise PermissionDenied


# --- writes ----------------------------------------------------------------------------------


@transaction.atomic
def intervention_record(
    *,
    actor: User,
    child: Child,
    fields: dict[str, Any],
    report: MandatoryReport | None = None,
    documents: Sequence[UploadedFile[Any]] = (),
    request: HttpRequest | None = None,
    today: date | None = None,
) -> Intervention:
    """Record an intervention on the child's file, with its decision documents. A county
    officer may link it to a report about the child; a handling department's officer must
    link it to one of their department's reports."""
    if not access.records_interventions(
        actor,
        village_code=child.village_id,
        report_department_id=report.handling_department_id if report else None,
    ):
        raise PermissionDenied
    today = today or timezone.localdate()
    if report is not None and report.child_id != child.pk:
        raise ValidationError({"report": [_("The report is about another child.")]})
    cleaned = _check_fields(fields, today)
    kinds = _check_documents(documents)
    intervention = Intervention.objects.create(
        county_code=child.village_id[:6],
        child=child,
        report=report,
        recorded_by=actor,
        **cleaned,
    )
    stored = _store_documents(intervention, documents, kinds, actor)
    audit_object(
        actor,
        "intervention.record",
        intervention,
        request=request,
        detail={
            "child": str(intervention.child.public_id),
            "kind": intervention.kind,
            "placement": intervention.placement,
            "report": str(report.public_id) if report else "",
            "documents": len(stored),
        },
    )
    return intervention


def _add_assessment(
    actor: User, intervention: Intervention, given: AssessmentInput, today: date
) -> InterventionAssessment:
    _check_assessment(given, today)
    assert given.assessed_on is not None
    if given.assessed_on < intervention.starts_on:
        raise ValidationError(
            {"assessed_on": [_("The assessment cannot be before the intervention started.")]}
        )
    return InterventionAssessment.objects.create(
        intervention=intervention,
        assessed_on=given.assessed_on,
        assessor=given.assessor.strip(),
        conclusion=given.conclusion,
        summary=given.summary.strip(),
        recorded_by=actor,
    )


def _locked(intervention: Intervention) -> Intervention:
    return (
        Intervention.objects.select_for_update(of=("self",))
        .select_related("child", "report")
        .get(pk=intervention.pk)
    )


@transaction.atomic
def intervention_assess(
    *,
    actor: User,
    intervention: Intervention,
    assessment: AssessmentInput,
    documents: Sequence[UploadedFile[Any]] = (),
    request: HttpRequest | None = None,
    today: date | None = None,
) -> InterventionAssessment:
    """Record an assessment of a lasting intervention still running (a temporary
    guardianship's, before it ends)."""
    _writer_check(actor, intervention)
    locked = _locked(intervention)
    if not may_end(locked):
        raise InterventionConflict(_("Only a running temporary guardianship or order is assessed."))
    today = today or timezone.localdate()
    kinds = _check_documents(documents)
    recorded = _add_assessment(actor, locked, assessment, today)
    stored = _store_documents(locked, documents, kinds, actor)
    audit_object(
        actor,
        "intervention.assess",
        locked,
        request=request,
        detail={
            "child": str(locked.child.public_id),
            "kind": locked.kind,
            "assessment": str(recorded.public_id),
            "conclusion": recorded.conclusion,
            "documents": len(stored),
        },
    )
    return recorded


ASSESSMENT_NEEDED = gettext_lazy(
    "A temporary guardianship ends only after an assessment is recorded: record whether the "
    "guardian can take the child back, or who will care for the child, first."
)


@transaction.atomic
def intervention_end(
    *,
    actor: User,
    intervention: Intervention,
    ended_on: date | None,
    reason: str,
    assessment: AssessmentInput | None = None,
    documents: Sequence[UploadedFile[Any]] = (),
    request: HttpRequest | None = None,
    today: date | None = None,
) -> Intervention:
    """End a lasting intervention. A temporary guardianship needs a recorded assessment made
    on or before that day (given here, or recorded before) whose conclusion is not that it
    should continue; refused otherwise (ValidationError on ``assessment``)."""
    _writer_check(actor, intervention)
    locked = _locked(intervention)
    if locked.kind not in LASTING:
        raise InterventionConflict(_("A single act is recorded once; it does not end."))
    if locked.ended_on is not None:
        raise InterventionConflict(_("This intervention has already ended."))
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if ended_on is None:
        errors["ended_on"] = [_("Give the date it ended.")]
    elif ended_on > today:
        errors["ended_on"] = [_("The date cannot be in the future.")]
    elif ended_on < locked.starts_on:
        errors["ended_on"] = [_("It cannot end before it started.")]
    if not reason.strip():
        errors["reason"] = [_("Say why it ends.")]
    if errors:
        raise ValidationError(errors)
    assert ended_on is not None
    kinds = _check_documents(documents)
    added = _add_assessment(actor, locked, assessment, today) if assessment else None
    if needs_assessment(locked.kind):
        latest = (
            InterventionAssessment.objects.filter(intervention=locked, assessed_on__lte=ended_on)
            .order_by("-assessed_on", "-pk")
            .first()
        )
        if latest is None:
            raise ValidationError({"assessment": [ASSESSMENT_NEEDED]})
        if latest.conclusion == AssessmentConclusion.CONTINUE:
            raise ValidationError(
                {
                    "assessment": [
                        _(
                            "The latest assessment says the temporary guardianship should "
                            "continue: record a new assessment before ending it."
                        )
                    ]
                }
            )
    locked.ended_on = ended_on
    locked.end_reason = reason.strip()
    locked.ended_by = actor
    locked.save(update_fields=["ended_on", "end_reason", "ended_by"])
    stored = _store_documents(locked, documents, kinds, actor)
    audit_object(
        actor,
        "intervention.end",
        locked,
        request=request,
        detail={
            "child": str(locked.child.public_id),
            "kind": locked.kind,
            "assessment": str(added.public_id) if added else "",
            "documents": len(stored),
        },
    )
    return locked


# --- reads -----------------------------------------------------------------------------------


def _handles_a_report(user: User, child: Child) -> bool:
    if user.role != Role.DEPARTMENT_OFFICER:
        return False
    return MandatoryReport.objects.filter(access.handled_reports_q(user), child=child).exists()


def child_level(user: User, child: Child) -> str:
    return access.child_interventions_level(
        user, village_code=child.village_id, handles_a_report=_handles_a_report(user, child)
    )


def get_child_for_interventions(user: User, public_id: Any) -> tuple[Child, str]:
    """The child and what the user sees of its interventions (full, exists), or 404 alike for
    "not there" and "not yours". Handling departments' officers do not read files: the child
    is fetched here, and the level decides."""
    try:
        child = Child.objects.select_related("village").get(public_id=public_id)
    except (Child.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    level = child_level(user, child)
    if level == access.INTERVENTION_NONE:
        raise Http404
    return child, level


def interventions_of(user: User, child: Child) -> QuerySet[Intervention]:
    """The child's interventions the user reads in full, the latest decision first."""
    return (
        Intervention.objects.readable_by(user)
        .filter(child=child)
        .select_related("report", "child")
        .annotate(document_count=Count("documents"))
    )


def intervention_exists(child: Child) -> bool:
    return Intervention.objects.filter(child=child).exists()


def get_intervention_for_user(user: User, public_id: Any) -> Intervention:
    """One intervention the user reads in full, or 404."""
    try:
        return (
            Intervention.objects.readable_by(user)
            .select_related("child", "child__village", "report", "recorded_by", "ended_by")
            .get(public_id=public_id)
        )
    except (Intervention.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def linkable_reports(user: User, child: Child) -> QuerySet[MandatoryReport]:
    """The reports about the child an intervention the user records may be linked to: any the
    county officer sees; for a department officer, their department's."""
    if user.role == Role.COUNTY_ADMIN:
        reports = MandatoryReport.objects.visible_to(user)
    else:
        reports = MandatoryReport.objects.filter(access.handled_reports_q(user))
    return reports.filter(child=child).order_by("-submitted_at", "-pk")


@dataclass(frozen=True)
class FileSection:
    """The interventions section of the child's file: the level, and the counts for full
    readers (nothing more is shown on the file)."""

    level: str
    total: int = 0
    in_force: int = 0
    records: bool = False


def file_section(user: User, child: Child, today: date | None = None) -> FileSection:
    """One query: the counts the user may see."""
    level = child_level(user, child)
    if level == access.INTERVENTION_NONE:
        return FileSection(level)
    today = today or timezone.localdate()
    if level == access.INTERVENTION_EXISTS:
        return FileSection(level, total=int(intervention_exists(child)))
    counts = (
        Intervention.objects.readable_by(user)
        .filter(child=child)
        .aggregate(total=Count("pk"), in_force=Count("pk", filter=in_force_q(today)))
    )
    return FileSection(
        level,
        total=counts["total"],
        in_force=counts["in_force"],
        records=user.role == Role.COUNTY_ADMIN and not user.is_read_only,
    )


# --- audited reads ---------------------------------------------------------------------------


def interventions_listed(
    *, actor: User, child: Child, level: str, count: int, request: HttpRequest | None = None
) -> None:
    """Every look at a child's interventions is attributable (the level shown, the count)."""
    audit_record(
        actor=actor,
        action="intervention.list",
        object_type="child",
        object_code=str(child.public_id),
        division_code=child.village_id,
        request=request,
        detail={"view": level, "count": count},
    )


def intervention_opened(
    *, actor: User, intervention: Intervention, request: HttpRequest | None = None
) -> None:
    audit_object(
        actor,
        "intervention.view",
        intervention,
        request=request,
        detail={"child": str(intervention.child.public_id), "kind": intervention.kind},
    )


def intervention_document_opened(
    *,
    actor: User,
    intervention: Intervention,
    document: InterventionDocument,
    request: HttpRequest | None = None,
) -> None:
    audit_object(
        actor,
        "intervention.document_view",
        intervention,
        request=request,
        detail={
            "child": str(intervention.child.public_id),
            "kind": intervention.kind,
            "document": str(document.public_id),
        },
    )


def intervention_access_denied(
    *, actor: User, object_type: str, code: str, request: HttpRequest | None = None
) -> None:
    """An intervention (or a child's interventions) asked for and not shown: kept."""
    audit_denied(
        actor=actor, action="intervention.view", object_type=object_type, code=code, request=request
    )
