"""API of the child's risk level: ``GET /api/v1/children/<id>/risk`` and
``POST`` / ``DELETE /api/v1/children/<id>/risk/override``.

The same rules as the page: the roles that read files see it inside their scope (404 alike for
"not there" and "not yours"; every read audited); county officers and town supervisors set or
clear the override (a read-only role and a village director: 403); the service audits it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.accounts.decorators import signed_in_user as _user
from tongxin.registry import services as registry_services
from tongxin.registry.api_file import NOT_FOUND
from tongxin.registry.selectors import get_child_for_user
from tongxin.visits import services
from tongxin.visits.models import ChildRisk, RiskLevel
from tongxin.visits.views.risk import current_risk, may_override


class FactorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="e.g. both_parents_away, dropout, no_guardian")
    reason = serializers.CharField(help_text="the rule's reason, in Chinese")


class OverrideOutSerializer(serializers.Serializer[Any]):
    level = serializers.CharField()
    until = serializers.DateField(help_text="the override holds through this day")
    reason = serializers.CharField()
    by = serializers.CharField(help_text="the officer who set it")


class RiskSerializer(serializers.Serializer[Any]):
    child = serializers.UUIDField()
    level = serializers.CharField(help_text="low, medium or high: the one in force")
    computed_level = serializers.CharField()
    computed_on = serializers.DateField(allow_null=True)
    factors = FactorSerializer(many=True)
    override = OverrideOutSerializer(allow_null=True)


class OverrideInSerializer(serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=RiskLevel.choices)
    until = serializers.DateField(help_text="today or later")
    reason = serializers.CharField(max_length=500)


def risk_data(child_code: Any, risk: ChildRisk) -> dict[str, Any]:
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
    }


@extend_schema(
    operation_id="child_risk_retrieve",
    summary="A child's risk level",
    description=(
        "The level in force, the computed level with each factor's reason, and the officer's "
        "override if any. Every read is recorded in the audit log."
    ),
    responses={200: RiskSerializer, 404: NOT_FOUND},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def child_risk(request: Request, public_id: Any) -> Response:
    user = _user(request)
    child = get_child_for_user(user, public_id)
    registry_services.child_file_opened(actor=user, child=child, request=request._request)
    response = Response(RiskSerializer(risk_data(child.public_id, current_risk(child))).data)
    response["Cache-Control"] = "private, no-store"
    return response


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
        return Response(RiskSerializer(risk_data(child.public_id, risk)).data)
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
    return Response(RiskSerializer(risk_data(child.public_id, risk)).data)
