"""API of problems found (问题和解决方案):

- ``GET``/``POST /api/v1/children/{id}/problems`` — the child's problems; record one;
- ``GET``/``PATCH /api/v1/problems/{id}`` — one problem; change it (``If-Match`` with its
  ``ETag``: 428 without, 412 when stale, with what changed meanwhile).

A problem the caller may not see answers 404, exactly as one that is not there. Every read is
audited, never with a text. The answers' shared parts (a code and a name, a conflict, the
schema's 404 and 403) are the referrals API's too (``api_referrals``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.accounts.models import Organisation, User
from tongxin.core.api import IF_MATCH, StaleSerializer, if_match, stale_response
from tongxin.core.http import signed_in_user as _user
from tongxin.core.plausible_fields import DateKind, PlausibleDateField
from tongxin.core.versions import StaleEdit
from tongxin.protection import access, problems
from tongxin.protection.fields import SeverityField
from tongxin.protection.models import Concern
from tongxin.protection.rules import ConcernCategory, ConcernStatus, Severity
from tongxin.registry.selectors import get_child_for_user

# --- serializers -----------------------------------------------------------------------------


class CodeNameSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()


class ProblemActionSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="action, status, assign or referral")
    by = serializers.CharField()
    text = serializers.CharField(help_text="what was done; the solution or reason; the reason")
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    owner = CodeNameSerializer(allow_null=True, help_text="the new owner (a person)")
    owner_department = CodeNameSerializer(
        allow_null=True, help_text="the new owner (a department), or the department referred to"
    )


class ProblemDetailSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    version = serializers.IntegerField(help_text='also sent as the ETag header: "<version>"')
    child = CodeNameSerializer(help_text="code: the child's file code")
    village = CodeNameSerializer()
    category = serializers.CharField()
    severity = serializers.CharField(help_text="low, medium or high")
    description = serializers.CharField()
    solution = serializers.CharField()
    status = serializers.CharField(help_text="open, in_progress, resolved, not_resolvable")
    outcome = serializers.CharField(help_text="the solution, or why it cannot be resolved")
    owner = CodeNameSerializer(allow_null=True, help_text="code: the user's code")
    owner_department = CodeNameSerializer(
        allow_null=True, help_text="code: the organisation's code"
    )
    due_on = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField()
    closed_on = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    report = serializers.CharField(
        allow_null=True, help_text="the receipt number of the mandatory report that holds it open"
    )
    timeline = ProblemActionSerializer(many=True, required=False)


class ProblemListSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    results = ProblemDetailSerializer(many=True, help_text="without the timeline")


class ProblemCreateSerializer(serializers.Serializer[Any]):
    category = serializers.ChoiceField(choices=ConcernCategory.choices)
    severity = SeverityField(default=Severity.MEDIUM)
    description = serializers.CharField(max_length=2000)
    solution = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    owner = serializers.UUIDField(
        required=False, allow_null=True, help_text="a user's code: someone who keeps the file"
    )
    owner_department = serializers.UUIDField(
        required=False, allow_null=True, help_text="an organisation's code: a county department"
    )
    due_on = PlausibleDateField(kind=DateKind.PLAN, required=False, allow_null=True)


class ProblemPatchSerializer(ProblemCreateSerializer):
    """Send only what changes. ``status`` with ``text``: the solution (resolved), the reason
    (not_resolvable, or reopening)."""

    status = serializers.ChoiceField(choices=ConcernStatus.choices)
    text = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ProtectionConflictSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


# --- building the answers --------------------------------------------------------------------


def ref(obj: Any) -> dict[str, str] | None:
    if obj is None:
        return None
    return {"code": str(obj.public_id), "name": str(getattr(obj, "name", "") or obj)}


def problem_data(concern: Concern, *, timeline: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": concern.public_id,
        "version": concern.version,
        "child": ref(concern.child),
        "village": {"code": concern.child.village_id, "name": concern.child.village.name},
        "category": concern.category,
        "severity": concern.severity,
        "description": concern.description,
        "solution": concern.solution,
        "status": concern.status,
        "outcome": concern.outcome,
        "owner": ref(concern.owner),
        "owner_department": ref(concern.owner_department),
        "due_on": concern.due_on,
        "overdue": concern.is_overdue(timezone.localdate()),
        "closed_on": concern.closed_on,
        "created_at": concern.created_at,
        "report": concern.report.receipt_no if concern.report_id else None,  # type: ignore[union-attr]
    }
    if timeline:
        data["timeline"] = [
            {
                "at": a.at,
                "kind": a.kind,
                "by": str(a.actor),
                "text": a.text,
                "from_status": a.from_status,
                "to_status": a.to_status,
                "owner": ref(a.owner),
                "owner_department": ref(a.owner_department),
            }
            for a in problems.problem_timeline(concern)
        ]
    return data


def _problem_response(concern: Concern, code: int = status.HTTP_200_OK) -> Response:
    response = Response(ProblemDetailSerializer(problem_data(concern, timeline=True)).data, code)
    response["ETag"] = f'"{concern.version}"'
    response["Cache-Control"] = "private, no-store"
    return response


def errors(exc: ValidationError) -> DRFValidationError:
    if hasattr(exc, "error_dict"):
        return DRFValidationError(exc.message_dict)
    return DRFValidationError({"detail": exc.messages})


def conflict(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_409_CONFLICT)


def get_problem(request: Request, code: Any) -> tuple[Concern, access.ProblemView]:
    user = _user(request)
    try:
        return problems.get_problem_for_user(user, code)
    except Http404:
        problems.problem_access_denied(actor=user, code=str(code), request=request._request)
        raise


def _owner_fields(given: dict[str, Any]) -> dict[str, Any]:
    """The owner's codes → the user or the organisation (an unknown code: 400)."""
    fields = dict(given)
    if "owner" in fields:
        code = fields["owner"]
        fields["owner"] = None if code is None else User.objects.filter(public_id=code).first()
        if code is not None and fields["owner"] is None:
            raise DRFValidationError(
                {"owner": [_("The owner must be someone who keeps this child's file.")]}
            )
    if "owner_department" in fields:
        code = fields["owner_department"]
        department = None if code is None else Organisation.objects.filter(public_id=code).first()
        if code is not None and department is None:
            raise DRFValidationError(
                {"owner_department": [_("Choose a department of this county.")]}
            )
        fields["owner_department"] = department
    return fields


NOT_FOUND = OpenApiResponse(description="Not there, or not yours to see (the same answer).")
READ_ONLY = OpenApiResponse(description="Your role is read-only, or may not do this.")
CODE = OpenApiParameter("code", OpenApiTypes.UUID, OpenApiParameter.PATH)


# --- problems --------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    operation_id="child_problems_list",
    summary="The child's problems found",
    description="Open ones first (the nearest due first), then the closed. The read is audited.",
    responses={200: ProblemListSerializer, 404: NOT_FOUND},
)
@extend_schema(
    methods=["POST"],
    operation_id="child_problems_create",
    summary="Record a problem found on the child's file",
    description=(
        "For those who keep the file (village director, town supervisor, county officer). The "
        "owner is a person who keeps the file or a county department, not both. A high "
        "severity raises the child's risk level at once."
    ),
    request=ProblemCreateSerializer,
    responses={
        201: ProblemDetailSerializer,
        400: OpenApiResponse(description="A field is invalid; the body names it."),
        403: READ_ONLY,
        404: NOT_FOUND,
    },
)
@api_view(["GET", "POST"])
@permission_classes([IsAuthenticated])
def child_problems(request: Request, public_id: Any) -> Response:
    user = _user(request)
    if request.method == "POST" and user.is_read_only:
        raise PermissionDenied
    child = get_child_for_user(user, public_id)
    if request.method == "GET":
        listed = list(problems.child_problems(child).select_related("child__village", "report"))
        problems.problem_list_opened(
            actor=user, count=len(listed), child=child, request=request._request
        )
        body = {
            "count": len(listed),
            "results": [problem_data(p, timeline=False) for p in listed],
        }
        response = Response(ProblemListSerializer(body).data)
        response["Cache-Control"] = "private, no-store"
        return response
    if not access.raises_problems(user, child.village_id):
        raise PermissionDenied
    data = ProblemCreateSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    fields = _owner_fields(data.validated_data)
    try:
        concern = problems.problem_raise(
            actor=user, child=child, fields=fields, request=request._request
        )
    except ValidationError as exc:
        raise errors(exc) from exc
    concern, _view = problems.get_problem_for_user(user, concern.public_id)
    return _problem_response(concern, status.HTTP_201_CREATED)


@extend_schema(
    methods=["GET"],
    operation_id="problems_retrieve",
    summary="One problem found, with its timeline",
    description=(
        "For those who read the child's file in their area, and for the problem's owner (a "
        "person, or a department's officers). The `ETag` header holds its version. Audited."
    ),
    parameters=[CODE],
    responses={200: ProblemDetailSerializer, 404: NOT_FOUND},
)
@extend_schema(
    methods=["PATCH"],
    operation_id="problems_partial_update",
    summary="Change a problem: owner, due date, severity …, or its status",
    description=(
        "Send only what changes, with `If-Match` naming the version it is based on: 428 "
        "without it, 412 when stale (with what changed meanwhile; nothing saved). Those who "
        "keep the file change any field; the owner changes the status only. Status: open → "
        "in_progress → resolved (text: the solution) / not_resolvable (text: the reason); "
        "reopened to open with a reason; 409 for a move the workflow does not allow, or for a "
        "problem a mandatory report holds open. Closing or reopening refreshes the child's "
        "risk level."
    ),
    parameters=[CODE, IF_MATCH],
    request=ProblemPatchSerializer,
    responses={
        200: ProblemDetailSerializer,
        400: OpenApiResponse(description="A field is invalid; the body names it."),
        403: READ_ONLY,
        404: NOT_FOUND,
        409: ProtectionConflictSerializer,
        412: StaleSerializer,
        428: OpenApiResponse(description="If-Match is missing."),
    },
)
@api_view(["GET", "PATCH"])
@permission_classes([IsAuthenticated])
def problem_detail(request: Request, code: Any) -> Response:
    user = _user(request)
    if request.method == "PATCH" and user.is_read_only:
        raise PermissionDenied
    concern, view = get_problem(request, code)
    if request.method == "GET":
        problems.problem_opened(actor=user, concern=concern, request=request._request)
        return _problem_response(concern)
    if not view.acts:
        raise PermissionDenied
    version = if_match(request)
    if version is None:
        return Response(
            {"detail": _("If-Match is required: send the ETag of the version you changed.")},
            status=status.HTTP_428_PRECONDITION_REQUIRED,
        )
    detail = _("The problem changed since your version; nothing was saved.")
    if version != concern.version:
        return stale_response(concern.version, problems.problem_changes(concern, version), detail)
    data = ProblemPatchSerializer(data=request.data, partial=True)
    data.is_valid(raise_exception=True)
    given = _owner_fields(data.validated_data)
    new_status = given.pop("status", None)
    text = given.pop("text", "")
    try:
        problems.problem_update(
            actor=user,
            concern=concern,
            version=version,
            changes=given,
            status=new_status,
            text=text,
            request=request._request,
        )
    except StaleEdit as exc:
        return stale_response(exc.current_version, exc.changes, detail)
    except problems.Conflict as exc:
        return conflict(str(exc))
    except ValidationError as exc:
        raise errors(exc) from exc
    concern, _view = problems.get_problem_for_user(user, concern.public_id)
    return _problem_response(concern)
