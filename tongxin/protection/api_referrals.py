"""API of referrals (转介):

- ``POST /api/v1/referrals`` — refer a problem or a mandatory report to a department;
- ``GET /api/v1/referrals/{id}`` — one referral, with the shared sections the caller may see;
- ``POST /api/v1/referrals/{id}/transitions`` — accept, decline, complete.

A referral the caller may not see answers 404, exactly as one that is not there (a receiving
department's officers, once the referral is declined or done, too). Every read is audited,
never with a text.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.accounts.models import Organisation
from tongxin.core.http import signed_in_user as _user
from tongxin.protection import (
    access,
    policy,
    problems,
    referral_reads,
    referrals,
    rules,
    selectors,
    services,
)
from tongxin.protection.api_problems import (
    CODE,
    NOT_FOUND,
    READ_ONLY,
    CodeNameSerializer,
    ProtectionConflictSerializer,
    conflict,
    errors,
    get_problem,
    ref,
)
from tongxin.protection.models import Referral, ReferralSection
from tongxin.workdays.services import work_calendar

# --- serializers -----------------------------------------------------------------------------


class SharedSerializer(serializers.Serializer[Any]):
    child = serializers.DictField(required=False, help_text="name, gender, birth date, village…")
    family = serializers.DictField(required=False, help_text="address, caregiver, parents…")
    problem = serializers.DictField(required=False)
    report = serializers.DictField(required=False, help_text="receipt, harms, facts…")


class ReferralOutSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    status = serializers.CharField(help_text="sent, accepted, declined, done")
    view = serializers.CharField(
        help_text="shared (the sections), record (the referral itself), exists (that it exists)"
    )
    department = CodeNameSerializer(help_text="code: the receiving organisation's code")
    area = CodeNameSerializer()
    sent_at = serializers.DateTimeField()
    acceptance_due_at = serializers.DateTimeField()
    acceptance_due_estimated = serializers.BooleanField(
        help_text="true: the deadline counts days of a year whose holidays are not in the "
        "working-day calendar (Monday to Friday counted as working days): an estimate"
    )
    overdue = serializers.BooleanField(help_text="not accepted by its deadline")
    decided_at = serializers.DateTimeField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    transitions = serializers.ListField(child=serializers.CharField())
    # A declared field (DRF takes it off the class), not the Field.source it shadows for mypy.
    source = serializers.DictField(  # type: ignore[assignment]
        required=False, help_text='{"type": "problem"|"report", "id"}'
    )
    reason = serializers.CharField(required=False)
    sections = serializers.ListField(child=serializers.CharField(), required=False)
    decline_reason = serializers.CharField(required=False)
    outcome = serializers.CharField(required=False)
    shared = SharedSerializer(required=False)


class ReferralInSerializer(serializers.Serializer[Any]):
    problem = serializers.UUIDField(required=False, help_text="the problem's code; or report")
    report = serializers.CharField(
        required=False, help_text="the report's code or receipt number; or problem"
    )
    department = serializers.UUIDField(help_text="the receiving organisation's code")
    reason = serializers.CharField(max_length=2000)
    sections = serializers.ListField(
        child=serializers.ChoiceField(choices=ReferralSection.choices),
        min_length=1,
        help_text="child, family, problem (a problem's referral), report (a report's referral)",
    )


class ReferralTransitionInSerializer(serializers.Serializer[Any]):
    transition = serializers.ChoiceField(
        choices=[(t.value, t.value) for t in rules.ReferralTransition],
        help_text="accept, decline (needs reason), complete (needs outcome)",
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    outcome = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


# --- building the answers --------------------------------------------------------------------


def referral_data(referral: Referral, view: access.ReferralView) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": referral.public_id,
        "status": referral.status,
        "view": view.level,
        "department": ref(referral.department),
        "area": {"code": referral.division_id, "name": referral.division.name},
        "sent_at": referral.sent_at,
        "acceptance_due_at": referral.acceptance_due_at,
        "acceptance_due_estimated": bool(
            referral_reads.referral_due_guessed_years(
                referral, work_calendar(), policy.clock_policy()
            )
        ),
        "overdue": referral_reads.referral_is_overdue(referral),
        "decided_at": referral.decided_at,
        "done_at": referral.done_at,
        "transitions": [t.value for t in view.transitions],
    }
    if view.record:
        source = referral.concern or referral.report
        assert source is not None
        data.update(
            source={
                "type": "problem" if referral.concern_id else "report",
                "id": str(source.public_id),
            },
            reason=referral.reason,
            sections=list(referral.sections),
            decline_reason=referral.decline_reason,
            outcome=referral.outcome,
        )
    if view.sections:
        shared = referral_reads.shared_sections(referral, view)
        data["shared"] = {k: v for k, v in dataclasses.asdict(shared).items() if v is not None}
    return data


def _referral_response(
    referral: Referral, view: access.ReferralView, code: int = status.HTTP_200_OK
) -> Response:
    response = Response(ReferralOutSerializer(referral_data(referral, view)).data, code)
    response["Cache-Control"] = "private, no-store"
    return response


def _get_referral(request: Request, code: Any) -> tuple[Referral, access.ReferralView]:
    user = _user(request)
    try:
        return referral_reads.get_referral_for_user(user, code)
    except Http404:
        referrals.referral_access_denied(actor=user, code=str(code), request=request._request)
        raise


# --- referrals -------------------------------------------------------------------------------


@extend_schema(
    operation_id="referrals_create",
    summary="Refer a problem or a mandatory report to a department",
    description=(
        "Give `problem` or `report`, the receiving department (education, police, court, "
        "procuratorate, health, women's federation, Youth League, disabled persons' "
        "federation, human resources of the county), the reason and the sections shared. "
        "The department sees only those sections, only while the referral is open. Problems "
        "are referred by county officers and town supervisors who keep the file; reports by "
        "county officers and the handling department. The department's officers are told at "
        "once; one not accepted within 3 working days (a setting) is escalated."
    ),
    request=ReferralInSerializer,
    responses={
        201: ReferralOutSerializer,
        400: OpenApiResponse(description="A field is invalid; the body names it."),
        403: READ_ONLY,
        404: OpenApiResponse(description="No such problem or report in your reach."),
        409: ProtectionConflictSerializer,
    },
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def referral_create(request: Request) -> Response:
    user = _user(request)
    if user.is_read_only:
        raise PermissionDenied
    data = ReferralInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    given = data.validated_data
    if bool(given.get("problem")) == bool(given.get("report")):
        raise DRFValidationError({"detail": [_("Refer either a problem or a report.")]})
    concern = report = None
    if given.get("problem"):
        concern, problem_view = get_problem(request, given["problem"])
        if not problem_view.refers:
            raise PermissionDenied
    else:
        try:
            report, _report_view = selectors.get_report_for_user(user, given["report"])
        except Http404:
            services.report_access_denied(
                actor=user, code=str(given["report"]), request=request._request
            )
            raise
        if not access.refers_report(user, report):
            raise PermissionDenied
    department = Organisation.objects.filter(public_id=given["department"]).first()
    if department is None:
        raise DRFValidationError(
            {"department": [_("Choose a department of this county to refer to.")]}
        )
    try:
        referral = referrals.referral_send(
            actor=user,
            department=department,
            reason=given["reason"],
            sections=list(given["sections"]),
            concern=concern,
            report=report,
            request=request._request,
        )
    except problems.Conflict as exc:
        return conflict(str(exc))
    except ValidationError as exc:
        raise errors(exc) from exc
    referral, view = referral_reads.get_referral_for_user(user, referral.public_id)
    return _referral_response(referral, view, status.HTTP_201_CREATED)


@extend_schema(
    operation_id="referrals_retrieve",
    summary="One referral, as the caller may see it",
    description=(
        "The receiving department's officers see the referral and its shared sections while "
        "it is sent or accepted, and 404 after; county officers see everything, the auditor "
        "too; the sender the referral itself; the child's village director and town "
        "supervisor that it exists. Every read is audited."
    ),
    parameters=[CODE],
    responses={200: ReferralOutSerializer, 404: NOT_FOUND},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def referral_detail(request: Request, code: Any) -> Response:
    user = _user(request)
    referral, view = _get_referral(request, code)
    referrals.referral_opened(actor=user, referral=referral, view=view, request=request._request)
    return _referral_response(referral, view)


@extend_schema(
    operation_id="referrals_transition",
    summary="Accept, decline or complete a referral",
    description=(
        "sent → accepted → done (with the outcome); sent → declined (with the reason). Only "
        "the receiving department's officers; 409 from another status."
    ),
    parameters=[CODE],
    request=ReferralTransitionInSerializer,
    responses={
        200: ReferralOutSerializer,
        400: OpenApiResponse(description="The reason or the outcome is missing."),
        403: READ_ONLY,
        404: NOT_FOUND,
        409: ProtectionConflictSerializer,
    },
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def referral_transitions(request: Request, code: Any) -> Response:
    user = _user(request)
    if user.is_read_only:
        raise PermissionDenied
    referral, view = _get_referral(request, code)
    if access.ReferralParty.RECEIVER not in view.parties:
        raise PermissionDenied  # sees it, may not move it: the receiving department does
    data = ReferralTransitionInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    given = data.validated_data
    try:
        moved = referrals.referral_transition(
            actor=user,
            referral=referral,
            transition=given["transition"],
            reason=given["reason"],
            outcome=given["outcome"],
            request=request._request,
        )
    except problems.Conflict as exc:
        return conflict(str(exc))
    except ValidationError as exc:
        raise errors(exc) from exc
    moved = Referral.objects.select_related(
        "department", "division", "sent_by", "report", "concern", "child"
    ).get(pk=moved.pk)
    # The answer shows what the caller may see now (a receiver: no sections once closed).
    return _referral_response(moved, access.referral_view(user, moved))
