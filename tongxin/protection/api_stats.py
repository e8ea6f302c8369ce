"""API of the statistics of mandatory reports: ``GET /api/v1/reports/stats?division=&period=``,
the figures of the statistics page (protection/stats.py) for other systems."""

from __future__ import annotations

import re
from typing import Any

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
from tongxin.protection import access
from tongxin.protection.stats import default_period, report_stats, stats_data
from tongxin.protection.views_stats import stats_read

_CODE = re.compile(rf"\d{{{CODE_LENGTH}}}", re.ASCII)  # \d alone takes ６ and ٣


class StatsBucketSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    name = serializers.CharField(help_text="in the caller's language")
    count = serializers.IntegerField()


class StatsDivisionSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(
        help_text="12-digit division code; empty for the reports placed in no division below "
        "(filed at the level of the division asked for)"
    )
    name = serializers.CharField()
    count = serializers.IntegerField()


class StatsMonthSerializer(serializers.Serializer[Any]):
    month = serializers.CharField(help_text="`2024-06`")
    count = serializers.IntegerField()


class StatsClockSerializer(serializers.Serializer[Any]):
    limit = serializers.CharField(help_text="the limit in force now: `24h`, `15d`, `3wd` …")
    measured = serializers.IntegerField(
        help_text="reports whose time was measured: accepted (acceptance), or with a result "
        "recorded (result)"
    )
    median_hours = serializers.FloatField(
        allow_null=True,
        help_text="median time in hours: from receipt by the department that accepted the "
        "report to acceptance; from acceptance to the result. Null when none was measured.",
    )
    decided = serializers.IntegerField(
        help_text="clocks decided by now: stopped (accepted, a result recorded, the report "
        "rejected) or run out while still running; clocks still inside their limit wait"
    )
    within = serializers.IntegerField(help_text="of those, stopped within the limit")
    share = serializers.FloatField(
        allow_null=True, help_text="within / decided (0–1); null when none was decided"
    )


class ReportStatsSerializer(serializers.Serializer[Any]):
    division = serializers.CharField(help_text="12-digit division code")
    name = serializers.CharField()
    period = serializers.CharField(help_text="as asked, normalised: `2024-06`, `2024-Q2`, `2024`")
    start = serializers.DateField()
    end = serializers.DateField()
    scope = serializers.ChoiceField(
        choices=["area", "department"],
        help_text="area: every report of the division (county officers, auditors); "
        "department: the reports the caller's department handles now",
    )
    total = serializers.IntegerField(help_text="reports submitted in the period")
    by_harm = StatsBucketSerializer(
        many=True, help_text="every suspected harm; a report naming two counts under each"
    )
    by_institution = StatsBucketSerializer(
        many=True,
        help_text="the kind of reporting institution: school, kindergarten, medical, welfare, "
        "village_committee, hotel, government, other, not_given",
    )
    by_division = StatsDivisionSerializer(many=True, help_text="each division one level down")
    by_month = StatsMonthSerializer(many=True, help_text="each month of the period")
    acceptance = StatsClockSerializer(help_text="acceptance (default limit 24 hours)")
    result = StatsClockSerializer(help_text="a result after acceptance (default limit 15 days)")
    outcomes = StatsBucketSerializer(many=True, help_text="the reports by their status now")
    failures_to_report = serializers.IntegerField(
        allow_null=True,
        help_text="cases found unreported (发现未报) in the period, by the day found; null for "
        "a department officer",
    )


def _division(user: User, code: str) -> Division:
    if not code:
        code = user.division_id or ""
    elif not _CODE.fullmatch(code):
        raise ValidationError({"division": [_("A division code is 12 digits.")]})
    return get_for_user_or_404(Division.objects.visible_to(user), code=code)


def _period(text: str) -> periods.Period:
    if not text:
        return default_period()
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
    operation_id="reports_stats",
    summary="Statistics of mandatory reports for a division and a period",
    description=(
        "The reports submitted in the period in the division: by suspected harm, by kind of "
        "reporting institution, by division one level down and by month; the median time to "
        "acceptance and to a result, and the share of clocks within their limits; the "
        "outcomes (status now); and the cases found unreported (发现未报). County officers "
        "and auditors count every report of their area; a department officer the reports "
        "their department handles now (no cases found unreported). Computed in the database; "
        "the read is audited. A division outside the caller's own, or another role: 404."
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
            description="a month `2024-06`, a quarter `2024-Q2` or a year `2024`; default the "
            "current year",
        ),
    ],
    responses={
        200: ReportStatsSerializer,
        400: OpenApiResponse(
            description="A bad `period` or `division`: the field is named, e.g. "
            '`{"period": ["…"]}`.'
        ),
        401: OpenApiResponse(description="Not signed in."),
        404: OpenApiResponse(
            description="No such division in the caller's scope, or a role that does not read "
            "the statistics."
        ),
    },
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def report_stats_view(request: Request) -> Response:
    user = signed_in_user(request)
    if not access.reads_report_stats(user):
        raise NotFound
    params = request.query_params
    division = _division(user, params.get("division", "").strip())
    period = _period(params.get("period", "").strip())
    stats = report_stats(user, division, period)
    stats_read(actor=user, stats=stats, request=request._request)
    response = Response(ReportStatsSerializer(stats_data(stats)).data)
    response["Cache-Control"] = "private, no-store"
    return response
