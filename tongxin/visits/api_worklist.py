"""API of the worklist, ``GET /api/v1/worklist?as_of=YYYY-MM-DD`` (issue 4): the same lines as
the page (``worklist.worklist_lines``), names masked."""

from __future__ import annotations

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

from tongxin.core.http import signed_in_user
from tongxin.core.paging import api_page
from tongxin.geo.models import Division
from tongxin.geo.scope import in_scope
from tongxin.lib.params import QueryParams
from tongxin.visits import rules
from tongxin.visits.worklist import WORKLIST_ROLES, worklist_lines
from tongxin.visits.worklist_sql import WorkLine

PAGE_SIZE = 100


class WorkLineSerializer(serializers.Serializer[WorkLine]):
    child = serializers.UUIDField(
        allow_null=True,
        help_text="the child's public code; null on a family line (`yearly_family_contact`)",
    )
    name = serializers.CharField(
        source="masked_name",
        help_text="masked (`王*明`); a family line joins its children's names with `、`",
    )
    household = serializers.UUIDField(help_text="the household's public code")
    village = serializers.CharField(help_text="12-digit division code")
    obligation = serializers.ChoiceField(choices=[o.value for o in rules.Obligation])
    last_contact = serializers.DateField(
        allow_null=True,
        help_text="the last contact that counts for the obligation, on or before as_of",
    )
    due = serializers.DateField(help_text="for `overdue`: the end of the first missed period")
    status = serializers.ChoiceField(choices=[s.value for s in rules.Status])
    risk = serializers.ChoiceField(
        choices=[r.value for r in rules.RiskLevel],
        allow_null=True,
        help_text=(
            "the child's risk level in force on as_of (an override set later does not count); "
            "null on a family line"
        ),
    )
    interval_days = serializers.IntegerField(
        allow_null=True,
        help_text="the rolling interval for a child at raised risk; null on a calendar line",
    )


class WorkLinePageSerializer(serializers.Serializer[Any]):
    as_of = serializers.DateField()
    count = serializers.IntegerField(help_text="matching lines, on all pages")
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WorkLineSerializer(many=True)


def _as_of(text: str) -> date:
    if not text:
        return timezone.localdate()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            {"as_of": [_("The date must be written as YYYY-MM-DD (for example 2024-06-30).")]}
        ) from None


@extend_schema(
    operation_id="worklist",
    summary="The caller's worklist",
    description=(
        "A village child director's worklist: one line per child in scope and obligation "
        "(`monthly_contact`, `quarterly_home_visit`; a rolling interval for children at "
        "raised risk). A town supervisor's: one line per household (`yearly_family_contact`). "
        "A county officer or auditor gets the worklist of the village or town given in "
        "`village` (none without it). Most urgent first (overdue, due within 7 days, due, "
        "done; then by due date), 100 a page. Contacts dated after `as_of` are ignored, and "
        "the risk level is the one in force on `as_of`. "
        "Other roles get 404."
    ),
    parameters=[
        OpenApiParameter(
            "as_of",
            OpenApiTypes.DATE,
            description="judge the worklist as of this day (YYYY-MM-DD); default today",
        ),
        OpenApiParameter(
            "village",
            OpenApiTypes.STR,
            description="a village code inside the caller's scope (a county role: or a town)",
        ),
        OpenApiParameter(
            "status",
            OpenApiTypes.STR,
            enum=[s.value for s in rules.Status],
            description="only lines with this status",
        ),
        OpenApiParameter("page", OpenApiTypes.INT, description="page number, from 1"),
    ],
    responses={
        200: WorkLinePageSerializer,
        400: OpenApiResponse(description="A malformed parameter, named in the answer."),
        401: OpenApiResponse(description="Not signed in."),
        404: OpenApiResponse(
            description="The role has no worklist, the village is not in scope, or no such page."
        ),
    },
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def worklist(request: Request) -> Response:
    user = signed_in_user(request)
    if user.role not in WORKLIST_ROLES:
        raise NotFound
    params = request.query_params
    as_of = _as_of(params.get("as_of", "").strip())
    read = QueryParams(params)
    status = read.choice("status", [s.value for s in rules.Status], label=_("Status"))
    read.raise_errors()
    village = params.get("village", "").strip() or None
    if village is not None and (
        not in_scope(user, village) or not Division.objects.filter(code=village).exists()
    ):
        raise NotFound
    lines = worklist_lines(user, as_of, village=village, status=status or None)
    page, envelope = api_page(request, lines, PAGE_SIZE)
    return Response(
        WorkLinePageSerializer({"as_of": as_of, **envelope, "results": list(page)}).data
    )
