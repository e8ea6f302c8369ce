"""API of the programmes and enrolments: ``GET /api/v1/benefits/programmes`` (the catalogue with
the standards in force) and ``GET /api/v1/children/<id>/enrolments`` (the child's and its
household's enrolments).

The catalogue holds no personal data: any signed-in user reads it. A child's enrolments follow
the file's rules: the roles that read files, inside their scope (404 alike for "not there" and
"not yours"), every read audited as an opening of the file."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.benefits import rules, selectors
from tongxin.benefits.api import ProgrammeField, RateField
from tongxin.benefits.models import BenefitEnrolment, EndReason
from tongxin.core.api import NOT_FOUND
from tongxin.core.api_fields import named_choices
from tongxin.core.http import signed_in_user as _user
from tongxin.lib import plausible
from tongxin.registry import services as registry_services
from tongxin.registry.selectors import get_child_for_user

EndReasonField = named_choices(list(EndReason.choices), "EnrolmentEndReason")


class StandardOutSerializer(serializers.Serializer[Any]):
    rate = RateField(allow_null=True, help_text="null for a programme without rates")
    monthly_amount = serializers.DecimalField(
        max_digits=8, decimal_places=2, allow_null=True, help_text="yuan; null: not set"
    )
    effective_from = serializers.DateField(
        allow_null=True, help_text="the day the standard in force took effect"
    )
    note = serializers.CharField()


class ProgrammeOutSerializer(serializers.Serializer[Any]):
    code = ProgrammeField()
    name = serializers.CharField(help_text="the Chinese name")
    computed = serializers.BooleanField(
        help_text="decided by the eligibility rules (else a means test or another "
        "department's decision)"
    )
    household = serializers.BooleanField(help_text="enrolled for the household (dibao)")
    standards = StandardOutSerializer(
        many=True, help_text="one per rate (the allowances) or one without a rate"
    )


class ProgrammesOutSerializer(serializers.Serializer[Any]):
    as_of = serializers.DateField()
    programmes = ProgrammeOutSerializer(many=True)


def _as_of(request: Request) -> date:
    raw = request.query_params.get("as_of")
    if not raw:
        return timezone.localdate()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        message = _("The date must be written as YYYY-MM-DD (for example 2024-06-30).")
        raise ValidationError({"as_of": [message]}) from None
    if error := plausible.plan_date_error(day, today=timezone.localdate()):
        raise ValidationError({"as_of": [error]})
    return day


@extend_schema(
    operation_id="benefit_programmes",
    summary="The programme catalogue with the standards in force",
    description=(
        "Every programme with its fixed code and Chinese name, and for each rate the monthly "
        "standard in force on the first day of the month of `as_of` (default today)."
    ),
    parameters=[OpenApiParameter("as_of", date, required=False)],
    responses={
        200: ProgrammesOutSerializer,
        400: OpenApiResponse(description="`as_of` is not a plausible date; the body names it."),
    },
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def programmes(request: Request) -> Response:
    as_of = _as_of(request)
    by_programme: dict[str, list[dict[str, Any]]] = {}
    for line in selectors.standard_lines(as_of):
        current = line.current
        by_programme.setdefault(line.programme.value, []).append(
            {
                "rate": line.rate or None,
                "monthly_amount": current.monthly_amount if current else None,
                "effective_from": current.effective_from if current else None,
                "note": current.note if current else "",
            }
        )
    data = {
        "as_of": as_of,
        "programmes": [
            {
                "code": p.value,
                "name": rules.PROGRAMME_LABELS[p],
                "computed": p in rules.COMPUTED,
                "household": p == rules.Programme.DIBAO,
                "standards": by_programme[p.value],
            }
            for p in rules.Programme
        ],
    }
    return Response(ProgrammesOutSerializer(data).data)


class EnrolmentOutSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="public_id")
    programme = ProgrammeField()
    household = serializers.BooleanField(help_text="the household's (dibao), not the child's own")
    rate = RateField(allow_null=True)
    monthly_amount = serializers.DecimalField(max_digits=8, decimal_places=2)
    start_month = serializers.DateField(help_text="the first month, as its first day")
    end_month = serializers.DateField(
        allow_null=True, help_text="the last month paid, as its first day; null: still open"
    )
    document_number = serializers.CharField(help_text="批准文号")
    end_reason = EndReasonField(allow_null=True)
    end_note = serializers.CharField()
    version = serializers.IntegerField()


def _enrolment(e: BenefitEnrolment) -> dict[str, Any]:
    return {
        "public_id": e.public_id,
        "programme": e.programme,
        "household": e.household_id is not None,
        "rate": e.rate or None,
        "monthly_amount": e.monthly_amount,
        "start_month": e.start_month,
        "end_month": e.end_month,
        "document_number": e.document_number,
        "end_reason": e.end_reason or None,
        "end_note": e.end_note,
        "version": e.version,
    }


@extend_schema(
    operation_id="child_enrolments",
    summary="A child's benefit enrolments",
    description=(
        "The child's enrolments and its household's (dibao), newest first. Every read is "
        "recorded in the audit log."
    ),
    responses={200: EnrolmentOutSerializer(many=True), 404: NOT_FOUND},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def child_enrolments(request: Request, public_id: Any) -> Response:
    user = _user(request)
    child = get_child_for_user(user, public_id)
    registry_services.child_file_opened(actor=user, child=child, request=request._request)
    rows = [_enrolment(e) for e in selectors.child_enrolments(child)]
    response = Response(EnrolmentOutSerializer(rows, many=True).data)
    response["Cache-Control"] = "private, no-store"
    return response
