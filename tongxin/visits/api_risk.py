"""API of the child's risk level: ``GET /api/v1/children/<id>/risk`` and
``POST`` / ``DELETE /api/v1/children/<id>/risk/override``.

The same rules as the page: the roles that read files see it inside their scope (404 alike for
"not there" and "not yours"; every read audited); county officers and town supervisors set or
clear the override (a read-only role and a village director: 403); the service audits it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.core.api import NOT_FOUND
from tongxin.core.http import signed_in_user as _user
from tongxin.registry import services as registry_services
from tongxin.registry.models import Child
from tongxin.registry.selectors import get_child_for_user
from tongxin.visits import services
from tongxin.visits.models import ChildRisk, RiskLevel, RiskOverride
from tongxin.visits.risk import ChildRiskHistory, child_risk_history
from tongxin.visits.views.risk import current_risk, may_override


class FactorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="e.g. both_parents_away, dropout, no_guardian")
    reason = serializers.CharField(help_text="the rule's reason, in Chinese")


class OverrideOutSerializer(serializers.Serializer[Any]):
    level = serializers.CharField()
    until = serializers.DateField(help_text="the override holds through this day")
    reason = serializers.CharField()
    by = serializers.CharField(help_text="the officer who set it")


class OverrideRecordSerializer(serializers.Serializer[Any]):
    level = serializers.CharField()
    set_on = serializers.DateField(help_text="the day it was set: it holds from this day")
    until = serializers.DateField(help_text="the day it was to end (inclusive)")
    cleared_on = serializers.DateField(
        allow_null=True,
        help_text="the day it was cleared or replaced: from this day on it no longer held",
    )
    reason = serializers.CharField()
    by = serializers.CharField(help_text="the officer who set it")
    cleared_by = serializers.CharField(help_text="the officer who cleared it, or empty")


class HistoryEntrySerializer(serializers.Serializer[Any]):
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(
        allow_null=True, help_text="the last day (inclusive); null: still in force"
    )
    level = serializers.CharField(help_text="low, medium or high: the one in force those days")
    computed_level = serializers.CharField(
        allow_null=True, help_text="the computed level those days; null: none computed yet"
    )
    override = OverrideRecordSerializer(
        allow_null=True, help_text="the officer's override in force those days, if any"
    )


class RiskSerializer(serializers.Serializer[Any]):
    child = serializers.UUIDField()
    level = serializers.CharField(help_text="low, medium or high: the one in force")
    computed_level = serializers.CharField()
    computed_on = serializers.DateField(allow_null=True)
    factors = FactorSerializer(many=True)
    override = OverrideOutSerializer(allow_null=True)
    history = HistoryEntrySerializer(
        many=True,
        help_text=(
            "the level in force over time, newest first: one entry per stretch of days with "
            "the same level, computed level and override (a worklist or compliance report of "
            "a past day uses the level of that day)"
        ),
    )
    overrides = OverrideRecordSerializer(many=True, help_text="every override set, newest first")


class OverrideInSerializer(serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=RiskLevel.choices)
    until = serializers.DateField(help_text="today or later")
    reason = serializers.CharField(max_length=500)


def _override_record(override: RiskOverride) -> dict[str, Any]:
    return {
        "level": override.level,
        "set_on": override.starts_on,
        "until": override.ends_on,
        "cleared_on": override.cleared_on,
        "reason": override.reason,
        "by": str(override.set_by) if override.set_by else "",
        "cleared_by": str(override.cleared_by) if override.cleared_by else "",
    }


def risk_data(child_code: Any, risk: ChildRisk, record: ChildRiskHistory) -> dict[str, Any]:
    override = None
    if risk.override_level:
        override = {
            "level": risk.override_level,
            "until": risk.override_until,
            "reason": risk.override_reason,
            "by": str(risk.override_by) if risk.override_by else "",
        }
    return {
        "child": child_code,
        "level": risk.level,
        "computed_level": risk.computed_level,
        "computed_on": risk.computed_on,
        "factors": [
            {"code": code, "reason": reason}
            for code, reason in zip(risk.factors, risk.reasons, strict=False)
        ],
        "override": override,
        "history": [
            {
                "valid_from": entry.start,
                "valid_until": entry.end - timedelta(days=1) if entry.end is not None else None,
                "level": entry.level.value,
                "computed_level": entry.computed.value if entry.computed is not None else None,
                "override": _override_record(o) if (o := record.override_of(entry)) else None,
            }
            for entry in record.timeline
        ],
        "overrides": [_override_record(o) for o in record.overrides],
    }


def _answer(child: Child, risk: ChildRisk) -> Response:
    data = risk_data(child.public_id, risk, child_risk_history(child))
    response = Response(RiskSerializer(data).data)
    response["Cache-Control"] = "private, no-store"
    return response


@extend_schema(
    operation_id="child_risk_retrieve",
    summary="A child's risk level",
    description=(
        "The level in force, the computed level with each factor's reason, the officer's "
        "override if any, and the history: the level in force over time and every override "
        "set. Every read is recorded in the audit log."
    ),
    responses={200: RiskSerializer, 404: NOT_FOUND},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def child_risk(request: Request, public_id: Any) -> Response:
    user = _user(request)
    child = get_child_for_user(user, public_id)
    registry_services.child_file_opened(actor=user, child=child, request=request._request)
    return _answer(child, current_risk(child))


FORBIDDEN = OpenApiResponse(
    description="Your role may not set a risk override (read-only roles, village directors)."
)


@extend_schema(
    methods=["POST"],
    operation_id="child_risk_override_set",
    summary="Override a child's risk level",
    description=(
        "Sets the level until `until` (inclusive) with a reason; the computed level stays "
        "beside it. County officers and town supervisors only. Audited."
    ),
    request=OverrideInSerializer,
    responses={
        200: RiskSerializer,
        400: OpenApiResponse(description="A field is invalid; the body names it."),
        403: FORBIDDEN,
        404: NOT_FOUND,
    },
)
@extend_schema(
    methods=["DELETE"],
    operation_id="child_risk_override_clear",
    summary="Clear the override of a child's risk level",
    description="The computed level applies again. Audited.",
    request=None,
    responses={200: RiskSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
)
@api_view(["POST", "DELETE"])
@permission_classes([IsAuthenticated])
def child_risk_override(request: Request, public_id: Any) -> Response:
    user = _user(request)
    if user.is_read_only:
        raise PermissionDenied
    if not user.reads_child_files:
        raise NotFound
    child = get_child_for_user(user, public_id)
    if not may_override(user):
        raise PermissionDenied
    if request.method == "DELETE":
        risk = services.risk_override_clear(actor=user, child=child, request=request._request)
        return _answer(child, risk)
    data = OverrideInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        risk = services.risk_override_set(
            actor=user,
            child=child,
            level=data.validated_data["level"],
            until=data.validated_data["until"],
            reason=data.validated_data["reason"],
            request=request._request,
        )
    except ValidationError as exc:
        return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
    return _answer(child, risk)
