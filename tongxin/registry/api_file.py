"""API of the child's file: ``GET`` and ``PATCH /api/v1/children/<id>``.

The file carries its version as an ``ETag``; a change must name the version it was based on in
``If-Match`` (428 without it, 412 with a stale one, listing what changed meanwhile), so that no
system overwrites an edit it has not seen. That way of changing (``patch``, its schema
``patch_schema``) is shared with the API of the parents and their spells (``api_family``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.accounts.models import User
from tongxin.core.api import (
    IF_MATCH,
    NOT_FOUND,
    StaleSerializer,
    precondition,
    stale_response,
    tagged,
)
from tongxin.core.http import signed_in_user
from tongxin.core.plausible_fields import DateKind, PersonNameField, PlausibleDateField, date_error
from tongxin.core.versions import FieldChange, StaleEdit
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
from tongxin.registry.selectors import child_changes, get_child_for_user, masked_id


class DivisionRefSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()


class MigrationOutSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="public_id", help_text="the spell's code, for its endpoint")
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
    caregiver_id_number = serializers.CharField(help_text="masked; empty when none")
    caregiver_address = serializers.CharField()
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
    """The child's own facts; send only those that change. Context ``birth_date``: the one on
    file, which the registration date may not precede unless a new one is sent."""

    name = PersonNameField(
        help_text="Chinese characters (· between the parts of a minority name) or Latin letters"
    )
    gender = serializers.ChoiceField(choices=Gender.choices)
    ethnicity = serializers.CharField(max_length=20, allow_blank=True)
    birth_date = PlausibleDateField(
        kind=DateKind.BIRTH,
        help_text="not in the future, at most 25 years back, and the one in the ID number",
    )
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
    disability_certificate_expiry = PlausibleDateField(kind=DateKind.PLAN, allow_null=True)
    serious_illness = serializers.BooleanField()
    illness = serializers.CharField(max_length=100, allow_blank=True)
    guardianship_assessment = serializers.ChoiceField(
        choices=GuardianshipAssessment.choices, allow_blank=True
    )
    registered_on = PlausibleDateField(
        kind=DateKind.EVENT, help_text="not in the future nor before the birth date"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        registered_on = attrs.get("registered_on")
        born = attrs.get("birth_date", self.context.get("birth_date"))
        if (
            registered_on is not None
            and born is not None
            and (error := date_error(DateKind.EVENT, registered_on, not_before=born))
        ):
            raise serializers.ValidationError({"registered_on": [error]})
        return attrs


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
            "caregiver_id_number": masked_id(household.caregiver_id_enc),
            "caregiver_address": household.caregiver_address,
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


def _file_response(child: Child, *, warnings: tuple[str, ...] | None = None) -> Response:
    data = file_data(child)
    if warnings is None:
        body = ChildFileSerializer(data).data
    else:
        body = PatchResultSerializer({**data, "warnings": list(warnings)}).data
    return tagged(body, child.version)


def caller(request: Request) -> User:
    """The user; for a change, one that keeps files (read-only roles 403, roles that keep no
    files 404)."""
    user = signed_in_user(request)
    if request.method != "GET":
        if user.is_read_only:
            raise PermissionDenied
        if not user.keeps_child_files:
            raise NotFound
    return user


def errors(exc: ValidationError) -> Response:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    return Response(errors, status=status.HTTP_400_BAD_REQUEST)


def patch(
    request: Request,
    serializer_class: type[serializers.Serializer[Any]],
    *,
    current: int,
    changes_since: Callable[[int], list[FieldChange]],
    save: Callable[[dict[str, Any], int], Response],
    stale_detail: str | None = None,
    context: dict[str, Any] | None = None,
) -> Response:
    """A change based on a version, one way for the file, a parent and a spell: If-Match must
    name the ``current`` version (428, 412); the fields sent are validated (400), then
    ``save(fields, version)`` saves and answers. Someone saving first in between: 412 with
    ``stale_detail``; a service's ValidationError: 400."""
    checked = precondition(request, current, changes_since)
    if isinstance(checked, Response):
        return checked
    data = serializer_class(data=request.data, partial=True, context=context or {})
    data.is_valid(raise_exception=True)
    try:
        return save(dict(data.validated_data), checked)
    except StaleEdit as exc:
        return stale_response(exc.current_version, exc.changes, stale_detail)
    except ValidationError as exc:
        return errors(exc)


READ_ONLY = OpenApiResponse(description="Your role may read files but not change them.")
SEND_CHANGES = (
    "Send only the fields that change, with `If-Match` naming the version the change is based on"
)
IF_MATCH_ANSWERS = (
    "A stale version answers 412 with what changed meanwhile and saves nothing; a missing "
    "`If-Match` answers 428."
)


def patch_schema[F: Callable[..., Any]](
    *,
    operation_id: str,
    summary: str,
    description: str,
    request: type[serializers.Serializer[Any]],
    result: type[serializers.Serializer[Any]],
    conflict: str = "",
) -> Callable[[F], F]:
    """The schema of a change based on a version (``If-Match``): the same answers for the
    file, a parent and a spell; a 409 only where a ``conflict`` is possible."""
    responses: dict[int, Any] = {
        200: result,
        400: OpenApiResponse(description="A field is invalid; the body names it."),
        403: READ_ONLY,
        404: NOT_FOUND,
    }
    if conflict:
        responses[409] = OpenApiResponse(description=conflict)
    responses[412] = StaleSerializer
    responses[428] = OpenApiResponse(description="If-Match is missing.")
    return extend_schema(
        methods=["PATCH"],
        operation_id=operation_id,
        summary=summary,
        description=description,
        parameters=[IF_MATCH],
        request=request,
        responses=responses,
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
@patch_schema(
    operation_id="child_partial_update",
    summary="Change the child's own facts",
    description=f"{SEND_CHANGES}. {IF_MATCH_ANSWERS} The child is reclassified at once.",
    request=ChildPatchSerializer,
    result=PatchResultSerializer,
    conflict="The ID number is already on another file.",
)
@api_view(["GET", "PATCH"])
@permission_classes([IsAuthenticated])
def child_detail(request: Request, public_id: Any) -> Response:
    user = caller(request)
    child = get_child_for_user(user, public_id)
    if request.method == "GET":
        services.child_file_opened(actor=user, child=child, request=request._request)
        return _file_response(child)

    def save(changes: dict[str, Any], version: int) -> Response:
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
        except services.DuplicateIdNumber as exc:
            body: dict[str, Any] = {"id_number": [_("This ID number is already on another file.")]}
            if exc.child is not None:
                body["existing"] = str(exc.child.public_id)
            else:
                body["detail"] = _("The child is already registered elsewhere; ask for a transfer.")
            return Response(body, status=status.HTTP_409_CONFLICT)
        return _file_response(get_child_for_user(user, public_id), warnings=saved.warnings)

    return patch(
        request,
        ChildPatchSerializer,
        current=child.version,
        changes_since=lambda version: child_changes(child, version),
        save=save,
        context={"birth_date": child.birth_date},
    )
