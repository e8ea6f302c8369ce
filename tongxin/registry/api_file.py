"""API of the child's file: ``GET`` and ``PATCH /api/v1/children/<id>``.

The file carries its version as an ``ETag``; a change must name the version it was based on in
``If-Match`` (428 without it, 412 with a stale one, listing what changed meanwhile), so that no
system overwrites an edit it has not seen."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.accounts.models import User
from tongxin.registry import services
from tongxin.registry.api import CategoryOutSerializer
from tongxin.registry.models import (
    Child,
    Enrolment,
    Gender,
    GuardianshipAssessment,
    Health,
    IdMissingReason,
    SchoolStage,
)
from tongxin.registry.selectors import FieldChange, child_changes, get_child_for_user, masked_id


class DivisionRefSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()


class MigrationOutSerializer(serializers.Serializer[Any]):
    left_on = serializers.DateField(allow_null=True, help_text="null: start unknown")
    known_since = serializers.DateField(allow_null=True)
    returned_on = serializers.DateField(allow_null=True, help_text="null: still away")
    destination = serializers.CharField()
    work_place = serializers.CharField()


class ParentOutSerializer(serializers.Serializer[Any]):
    role = serializers.CharField(help_text="father or mother")
    status = serializers.CharField()
    capacity = serializers.CharField(help_text="guardianship capacity (监护能力)")
    migrations = MigrationOutSerializer(many=True)


class HouseholdOutSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    village = DivisionRefSerializer()
    address = serializers.CharField()
    parents_divorced = serializers.BooleanField()
    dibao = serializers.BooleanField()
    tekun = serializers.BooleanField()
    caregiver_name = serializers.CharField()
    caregiver_relation = serializers.CharField()
    parents = ParentOutSerializer(many=True)


class ChildFileSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    version = serializers.IntegerField(help_text='also sent as the ETag header: "<version>"')
    name = serializers.CharField()
    gender = serializers.CharField()
    ethnicity = serializers.CharField()
    birth_date = serializers.DateField()
    id_number = serializers.CharField(help_text="masked: 620724********123X; empty when none")
    id_missing_reason = serializers.CharField()
    hukou_registered = serializers.BooleanField()
    hukou_place = serializers.CharField()
    phone = serializers.CharField()
    school = serializers.CharField()
    grade = serializers.CharField()
    school_stage = serializers.CharField()
    enrolment = serializers.CharField()
    boarding = serializers.BooleanField()
    health = serializers.CharField()
    disability_type = serializers.CharField()
    disability_grade = serializers.IntegerField(allow_null=True)
    serious_illness = serializers.BooleanField()
    guardianship_assessment = serializers.CharField()
    status = serializers.CharField()
    status_reason = serializers.CharField()
    status_since = serializers.DateField()
    registered_on = serializers.DateField()
    village = DivisionRefSerializer()
    left_behind = serializers.BooleanField()
    in_difficulty = serializers.BooleanField()
    categories = CategoryOutSerializer(many=True, help_text="current categories with reasons")
    classified_on = serializers.DateField(allow_null=True)
    household = HouseholdOutSerializer()


class ChildPatchSerializer(serializers.Serializer[Any]):
    """The child's own facts; send only those that change."""

    name = serializers.CharField(max_length=50)
    gender = serializers.ChoiceField(choices=Gender.choices)
    ethnicity = serializers.CharField(max_length=20, allow_blank=True)
    birth_date = serializers.DateField()
    id_number = serializers.CharField(
        max_length=40, write_only=True, help_text="a new full ID number (GB 11643)"
    )
    id_missing_reason = serializers.ChoiceField(choices=IdMissingReason.choices, allow_blank=True)
    hukou_registered = serializers.BooleanField()
    hukou_place = serializers.CharField(max_length=200, allow_blank=True)
    phone = serializers.CharField(max_length=20, allow_blank=True)
    school = serializers.CharField(max_length=100, allow_blank=True)
    grade = serializers.CharField(max_length=20, allow_blank=True)
    school_stage = serializers.ChoiceField(choices=SchoolStage.choices, allow_blank=True)
    enrolment = serializers.ChoiceField(choices=Enrolment.choices)
    boarding = serializers.BooleanField()
    health = serializers.ChoiceField(choices=Health.choices)
    disability_type = serializers.CharField(max_length=30, allow_blank=True)
    disability_grade = serializers.IntegerField(min_value=1, max_value=4, allow_null=True)
    disability_certificate = serializers.CharField(max_length=30, allow_blank=True)
    disability_certificate_expiry = serializers.DateField(allow_null=True)
    serious_illness = serializers.BooleanField()
    illness = serializers.CharField(max_length=100, allow_blank=True)
    guardianship_assessment = serializers.ChoiceField(
        choices=GuardianshipAssessment.choices, allow_blank=True
    )
    registered_on = serializers.DateField()


class FieldChangeSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    by = serializers.CharField()
    record = serializers.CharField()
    field = serializers.CharField()
    # A declared field (DRF takes it off the class), not the Field.label it shadows for mypy.
    label = serializers.CharField()  # type: ignore[assignment]
    old = serializers.CharField()
    new = serializers.CharField()


class StaleSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    current_version = serializers.IntegerField()
    changes = FieldChangeSerializer(many=True, help_text="what changed after your version")


class PatchResultSerializer(ChildFileSerializer):
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="ID number warnings (soft, not blocking)"
    )


# The output fields read straight off the child.
_CHILD_ATTRIBUTES = tuple(
    name
    for name in ChildFileSerializer._declared_fields
    if name not in {"id", "id_number", "village", "household", "categories"}
)


def file_data(child: Child) -> dict[str, Any]:
    """The file as the API shows it (the ID number masked)."""
    household = child.household
    parents = sorted(household.parents.all(), key=lambda p: p.role != "father")
    data: dict[str, Any] = {name: getattr(child, name) for name in _CHILD_ATTRIBUTES}
    data.update(
        id=child.public_id,
        id_number=masked_id(child.id_number_enc),
        village={"code": child.village_id, "name": child.village.name},
        categories=child.categories,
        household={
            "id": household.public_id,
            "version": household.version,
            "village": {"code": household.village_id, "name": child.village.name},
            "address": household.address,
            "parents_divorced": household.parents_divorced,
            "dibao": household.dibao,
            "tekun": household.tekun,
            "caregiver_name": household.caregiver_name,
            "caregiver_relation": household.caregiver_relation,
            "parents": [
                {
                    "role": p.role,
                    "status": p.status,
                    "capacity": p.capacity,
                    "migrations": list(p.migrations.all()),
                }
                for p in parents
            ],
        },
    )
    return data


_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def _if_match(request: Request) -> int | None:
    """The version named in If-Match, or None when the header is missing; -1 when it names
    no version of ours (``*`` or garbage), which never matches."""
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        return None
    found = _ETAG.match(header)
    return int(found.group(1)) if found else -1


def _changes(changes: list[FieldChange]) -> list[dict[str, Any]]:
    return [c.__dict__ for c in changes]


def _stale(current: int, changes: list[FieldChange]) -> Response:
    body = StaleSerializer(
        {
            "detail": _("The file changed since your version; nothing was saved."),
            "current_version": current,
            "changes": _changes(changes),
        }
    ).data
    response = Response(body, status=status.HTTP_412_PRECONDITION_FAILED)
    response["ETag"] = f'"{current}"'
    return response


def _file_response(child: Child, *, warnings: tuple[str, ...] | None = None) -> Response:
    data = file_data(child)
    if warnings is None:
        body = ChildFileSerializer(data).data
    else:
        body = PatchResultSerializer({**data, "warnings": list(warnings)}).data
    response = Response(body)
    response["ETag"] = f'"{child.version}"'
    response["Cache-Control"] = "private, no-store"
    return response


NOT_FOUND = OpenApiResponse(description="No such child, or not in your area (the same answer).")
READ_ONLY = OpenApiResponse(description="Your role may read files but not change them.")
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag of the version your change is based on, e.g. `"3"`.',
)


@extend_schema(
    methods=["GET"],
    operation_id="child_retrieve",
    summary="A child's file",
    description=(
        "The child's file: facts, the masked ID number, current categories with their "
        'reasons, and a household summary. The `ETag` header holds the version (`"3"`). '
        "Every read is recorded in the audit log."
    ),
    responses={200: ChildFileSerializer, 404: NOT_FOUND},
)
@extend_schema(
    methods=["PATCH"],
    operation_id="child_partial_update",
    summary="Change the child's own facts",
    description=(
        "Send only the fields that change, with `If-Match` naming the version the change is "
        "based on. A stale version answers 412 with what changed meanwhile and saves nothing; "
        "a missing `If-Match` answers 428. The child is reclassified at once."
    ),
    parameters=[IF_MATCH],
    request=ChildPatchSerializer,
    responses={
        200: PatchResultSerializer,
        400: OpenApiResponse(description="A field is invalid; the body names it."),
        403: READ_ONLY,
        404: NOT_FOUND,
        409: OpenApiResponse(description="The ID number is already on another file."),
        412: StaleSerializer,
        428: OpenApiResponse(description="If-Match is missing."),
    },
)
@api_view(["GET", "PATCH"])
@permission_classes([IsAuthenticated])
def child_detail(request: Request, public_id: Any) -> Response:
    user = request.user
    assert isinstance(user, User)
    if request.method == "PATCH" and user.is_read_only:
        raise PermissionDenied
    child = get_child_for_user(user, public_id)
    if request.method == "GET":
        services.child_file_opened(actor=user, child=child, request=request._request)
        return _file_response(child)
    if not user.keeps_child_files:
        raise NotFound
    version = _if_match(request)
    if version is None:
        return Response(
            {"detail": _("If-Match is required: send the ETag of the version you changed.")},
            status=status.HTTP_428_PRECONDITION_REQUIRED,
        )
    if version != child.version:
        return _stale(child.version, child_changes(child, version) if version > 0 else [])
    data = ChildPatchSerializer(data=request.data, partial=True)
    data.is_valid(raise_exception=True)
    changes = dict(data.validated_data)
    id_number = changes.pop("id_number", None)
    try:
        saved = services.child_update(
            actor=user,
            child=child,
            version=version,
            changes=changes,
            id_number=id_number,
            request=request._request,
        )
    except services.StaleEdit as exc:
        return _stale(exc.current_version, exc.changes)
    except services.DuplicateIdNumber as exc:
        body: dict[str, Any] = {"id_number": [_("This ID number is already on another file.")]}
        if exc.child is not None:
            body["existing"] = str(exc.child.public_id)
        else:
            body["detail"] = _("The child is already registered elsewhere; ask for a transfer.")
        return Response(body, status=status.HTTP_409_CONFLICT)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(errors, status=status.HTTP_400_BAD_REQUEST)
    child = get_child_for_user(user, public_id)
    return _file_response(child, warnings=saved.warnings)
