"""API of compliance (履职统计): ``GET /api/v1/compliance?division=CODE&period=2024-Q2``, the
figures of the compliance page (visits/compliance.py) for other systems."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.accounts.models import User
from tongxin.core import periods
from tongxin.core.http import signed_in_user
from tongxin.geo.models import CODE_LENGTH, Division
from tongxin.geo.scope import get_for_user_or_404
from tongxin.visits import rules
from tongxin.visits.compliance import ALL_OBLIGATIONS, ComplianceReport, compliance_report
from tongxin.visits.rules import Obligation
from tongxin.visits.views.compliance import COMPLIANCE_ROLES

_CODE = re.compile(rf"\d{{{CODE_LENGTH}}}", re.ASCII)  # \d alone takes ６ and ٣


class CompliancePeriodSerializer(serializers.Serializer[Any]):
    period = serializers.CharField(help_text="`2024-06`, `2024-Q2` or `2024`")
    counted = serializers.IntegerField()
    met = serializers.IntegerField()


class ComplianceRiskSerializer(serializers.Serializer[Any]):
    level = serializers.CharField(help_text="low, medium or high")
    counted = serializers.IntegerField()
    met = serializers.IntegerField()


class ComplianceDivisionSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="12-digit division code")
    name = serializers.CharField()
    counted = serializers.IntegerField()
    met = serializers.IntegerField()


class ComplianceObligationSerializer(serializers.Serializer[Any]):
    unit = serializers.ChoiceField(
        choices=["child", "household"],
        help_text="what `counted` and `met` count: children, or households for the yearly contact",
    )
    counted = serializers.IntegerField(
        help_text="units counted for at least one obligation period judged"
    )
    met = serializers.IntegerField(
        help_text="units counted that met the obligation in every period they were counted for"
    )
    periods = CompliancePeriodSerializer(
        many=True,
        help_text=(
            "each obligation period judged, in order (the months of a quarter; for the yearly "
            "contact in a shorter report, its year judged so far); periods not begun and "
            "periods the policy switched off are left out"
        ),
    )
    divisions = ComplianceDivisionSerializer(many=True, help_text="each division one level down")
    risk_levels = ComplianceRiskSerializer(
        many=True,
        help_text=(
            "a per-child obligation: the children counted and met by their risk level in force "
            "on `risk_day` (low, medium, high; they add up to `counted` and `met`); empty for "
            "the yearly contact"
        ),
    )
    unmet = serializers.ListField(
        child=serializers.UUIDField(),
        help_text=(
            "public codes of the children who missed it; for the yearly contact, the children "
            "counted in the households that missed it"
        ),
    )
    unmet_households = serializers.ListField(
        child=serializers.UUIDField(),
        help_text="the yearly contact: public codes of the households that missed it; else empty",
    )


class ComplianceObligationsSerializer(serializers.Serializer[Any]):
    monthly_contact = ComplianceObligationSerializer(
        help_text="the village director's contact, any kind, each month, per child"
    )
    quarterly_home_visit = ComplianceObligationSerializer(
        help_text="the village director's home visit, each quarter, per child"
    )
    yearly_family_contact = ComplianceObligationSerializer(
        help_text="the town supervisor's contact, any kind, each year, per household"
    )


class ComplianceSerializer(serializers.Serializer[Any]):
    division = serializers.CharField(help_text="12-digit division code")
    name = serializers.CharField()
    period = serializers.CharField(help_text="as asked, normalised: `2024-06`, `2024-Q2`, `2024`")
    start = serializers.DateField()
    end = serializers.DateField()
    as_of = serializers.DateField(help_text="the day judged on: today")
    risk_day = serializers.DateField(
        help_text="the day whose risk levels file the children in `risk_levels`: the period's "
        "end, or today when earlier"
    )
    obligations = ComplianceObligationsSerializer()


def _figures(report: ComplianceReport, ob: Obligation) -> dict[str, Any]:
    result = report.obligations[ob]
    return {
        "unit": "household" if result.per_household else "child",
        "counted": result.total.counted,
        "met": result.total.met,
        "periods": [
            {"period": periods.format_period(p.period), "counted": p.counted, "met": p.met}
            for p in result.by_period
        ],
        "divisions": [
            {
                "code": row.division.code,
                "name": row.division.name,
                "counted": row.figures[ob].counted,
                "met": row.figures[ob].met,
            }
            for row in report.rows
        ],
        "risk_levels": [
            {"level": level.value, "counted": figures.counted, "met": figures.met}
            for level, figures in result.by_risk.items()
        ],
        "unmet": [miss.child for miss in result.unmet],
        "unmet_households": list(result.unmet_households),
    }


def _division(user: User, code: str) -> Division:
    if not code:
        code = user.division_id or ""
    elif not _CODE.fullmatch(code):
        raise ValidationError({"division": [_("A division code is 12 digits.")]})
    return get_for_user_or_404(Division.objects.visible_to(user), code=code)


def _period(text: str) -> periods.Period:
    if not text:
        raise ValidationError({"period": [_("Give the period: 2024-06, 2024-Q2 or 2024.")]})
    try:
        return periods.parse_period(text)
    except ValueError as exc:
        raise ValidationError(
            {
                "period": [
                    _("The period must be a month (2024-06), a quarter (2024-Q2) or a year (2024).")
                ]
            }
        ) from exc


@extend_schema(
    operation_id="compliance",
    summary="Compliance with the contact cadence for a division and a period",
    description=(
        "The plan's minimum contacts (任务9), as the compliance page shows them: for each "
        "obligation, the units counted and those that met it, overall and per division one "
        "level down, and who missed it. A child is counted for an obligation period when it "
        "was registered on or before its first day and, on its last day (today, for the "
        "current one), is active and in a category; over a longer report period (the months "
        "of a quarter) a child is met only when it met every period it was counted for. "
        "Judged as of today, by the cadence policy in force on each period's first day. "
        "The per-child obligations are also broken down by each child's risk level in force "
        "on the period's last day judged (never a level set later). "
        "For county officers, town supervisors and auditors; a division outside the caller's "
        "own, or another role: 404."
    ),
    parameters=[
        OpenApiParameter(
            "division",
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            description="12-digit division code; default the caller's own division",
        ),
        OpenApiParameter(
            "period",
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            required=True,
            description="a month `2024-06`, a quarter `2024-Q2` or a year `2024`",
        ),
    ],
    responses={
        200: ComplianceSerializer,
        400: OpenApiResponse(
            description="A bad `period` or `division`: the field is named, e.g. "
            '`{"period": ["…"]}`.'
        ),
        401: OpenApiResponse(description="Not signed in."),
        404: OpenApiResponse(
            description="No such division in the caller's scope, or a role "
            "that does not read compliance."
        ),
    },
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def compliance(request: Request) -> Response:
    user = signed_in_user(request)
    if user.role not in COMPLIANCE_ROLES or not user.reads_child_files:
        raise NotFound
    params = request.query_params
    division = _division(user, params.get("division", "").strip())
    period = _period(params.get("period", "").strip())
    today: date = timezone.localdate()
    report = compliance_report(division, period, as_of=today)
    return Response(
        ComplianceSerializer(
            {
                "division": division.code,
                "name": division.name,
                "period": periods.format_period(period),
                "start": period.start,
                "end": period.end,
                "as_of": today,
                "risk_day": rules.report_day(period, today),
                "obligations": {ob.value: _figures(report, ob) for ob in ALL_OBLIGATIONS},
            }
        ).data
    )
