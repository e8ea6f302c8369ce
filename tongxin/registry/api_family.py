"""API of the parents and their spells of work away on the child's file: ``GET`` and ``PATCH``
of ``/api/v1/children/<id>/parents/<role>`` and ``/api/v1/children/<id>/migrations/<spell>``,
and ``POST /api/v1/children/<id>/parents/<role>/migrations`` (a new spell).

A parent and a spell have no version column: their version is the id of their latest history
entry (``versions.record_version``, which every write makes, the ledger import's too), sent as
the ETag like the file's version. The same rules as the file's (``api_file``): 428 without
If-Match, 412 when stale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.core.api import NOT_FOUND, tagged
from tongxin.core.plausible_fields import BORN_ON, DateKind, PersonNameField, PlausibleDateField
from tongxin.core.versions import record_changes_since, record_version
from tongxin.registry import services
from tongxin.registry.api_file import (
    IF_MATCH_ANSWERS,
    READ_ONLY,
    SEND_CHANGES,
    MigrationOutSerializer,
    caller,
    errors,
    patch,
    patch_schema,
)
from tongxin.registry.models import (
    Capacity,
    Destination,
    Migration,
    Parent,
    ParentRole,
    ParentStatus,
)
from tongxin.registry.selectors import get_child_for_user, masked_id


class ParentDetailSerializer(serializers.Serializer[Any]):
    role = serializers.CharField(help_text="father or mother")
    version = serializers.IntegerField(help_text='also sent as the ETag header: "<version>"')
    name = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)
    id_number = serializers.CharField(help_text="masked: 620724********123X; empty when none")
    phone = serializers.CharField()
    status = serializers.CharField()
    capacity = serializers.CharField(help_text="guardianship capacity (监护能力)")
    capacity_note = serializers.CharField()
    migrations = MigrationOutSerializer(many=True)


class ParentPatchSerializer(serializers.Serializer[Any]):
    """The parent's facts; send only those that change. A parent not yet recorded is created
    by a change with ``If-Match: "0"``."""

    name = PersonNameField(allow_blank=True)
    birth_date = PlausibleDateField(kind=DateKind.PERSON_BIRTH, allow_null=True)
    id_number = serializers.CharField(
        max_length=40, write_only=True, help_text="a new full ID number (GB 11643)"
    )
    phone = serializers.CharField(max_length=20, allow_blank=True)
    status = serializers.ChoiceField(choices=ParentStatus.choices)
    capacity = serializers.ChoiceField(choices=Capacity.choices)
    capacity_note = serializers.CharField(max_length=200, allow_blank=True)


class MigrationDetailSerializer(MigrationOutSerializer):
    version = serializers.IntegerField(help_text='also sent as the ETag header: "<version>"')
    role = serializers.CharField(source="parent.role", help_text="whose spell: father or mother")
    phone = serializers.CharField()


class MigrationPatchSerializer(serializers.Serializer[Any]):
    """A spell's facts; send only those that change (all but ``destination`` may be null).
    The dates lie neither in the future nor before the parent's birth (context ``born_on``):
    a spell may begin before the children were born."""

    left_on = PlausibleDateField(
        kind=DateKind.EVENT, allow_null=True, required=False, help_text="null: start unknown"
    )
    returned_on = PlausibleDateField(
        kind=DateKind.EVENT, allow_null=True, required=False, help_text="null: still away"
    )
    destination = serializers.ChoiceField(choices=Destination.choices)
    work_place = serializers.CharField(max_length=100, allow_blank=True, required=False)
    phone = serializers.CharField(max_length=20, allow_blank=True, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        left_on, returned_on = attrs.get("left_on"), attrs.get("returned_on")
        if left_on and returned_on and returned_on < left_on:
            raise serializers.ValidationError(
                {"returned_on": [_("The return cannot come before the departure.")]}
            )
        return attrs


class MigrationCreateSerializer(MigrationPatchSerializer):
    destination = serializers.ChoiceField(choices=Destination.choices, required=True)


def _role_or_404(role: str) -> ParentRole:
    if role not in ParentRole.values:
        raise NotFound
    return ParentRole(role)


def _patch_record(
    request: Request,
    model: type[Parent] | type[Migration],
    pk: int | None,
    label: str,
    serializer_class: type[serializers.Serializer[Any]],
    save: Callable[[dict[str, Any], int], Response],
    context: dict[str, Any] | None = None,
) -> Response:
    """A change of a parent or a spell (``pk`` None: a parent not yet recorded, version 0),
    based on its ``record_version``."""
    return patch(
        request,
        serializer_class,
        current=record_version(model, pk),
        changes_since=lambda version: record_changes_since(model, pk, version, label),
        save=save,
        stale_detail=_("The record changed since your version; nothing was saved."),
        context=context,
    )


def _parent_response(parent: Parent) -> Response:
    version = record_version(Parent, parent.pk)
    data = {
        "role": parent.role,
        "version": version,
        "name": parent.name,
        "birth_date": parent.birth_date,
        "id_number": masked_id(parent.id_number_enc),
        "phone": parent.phone,
        "status": parent.status,
        "capacity": parent.capacity,
        "capacity_note": parent.capacity_note,
        "migrations": list(parent.migrations.all()),
    }
    return tagged(ParentDetailSerializer(data).data, version)


def _spell_response(spell: Migration, code: int = status.HTTP_200_OK) -> Response:
    version = record_version(Migration, spell.pk)
    spell.version = version  # type: ignore[attr-defined]  # for the serializer
    return tagged(MigrationDetailSerializer(spell).data, version, code)


@extend_schema(
    methods=["GET"],
    operation_id="child_parent_retrieve",
    summary="A parent on the child's file",
    description=(
        "The father's or mother's record (the ID number masked) with the spells of work away. "
        "The `ETag` header holds its version. 404 when not recorded. Every read is audited."
    ),
    responses={200: ParentDetailSerializer, 404: NOT_FOUND},
)
@patch_schema(
    operation_id="child_parent_partial_update",
    summary="Change (or record) a parent",
    description=(
        f'{SEND_CHANGES} (`"0"` to record a parent not yet on file). {IF_MATCH_ANSWERS} '
        "The family's children are reclassified at once."
    ),
    request=ParentPatchSerializer,
    result=ParentDetailSerializer,
)
@api_view(["GET", "PATCH"])
@permission_classes([IsAuthenticated])
def child_parent(request: Request, public_id: Any, role: str) -> Response:
    user = caller(request)
    child = get_child_for_user(user, public_id)
    parent_role = _role_or_404(role)
    household = child.household
    parent = Parent.objects.filter(household=household, role=parent_role).first()
    if request.method == "GET":
        if parent is None:
            raise NotFound
        services.child_file_opened(actor=user, child=child, request=request._request)
        return _parent_response(parent)

    def save(fields: dict[str, Any], version: int) -> Response:
        id_number = fields.pop("id_number", None)
        saved = services.parent_save(
            actor=user,
            household=household,
            role=parent_role,
            fields=fields,
            version=version,
            id_number=id_number,
            request=request._request,
        )
        return _parent_response(saved)

    pk = parent.pk if parent else None
    label = str(parent_role.label)
    return _patch_record(request, Parent, pk, label, ParentPatchSerializer, save)


@extend_schema(
    methods=["GET"],
    operation_id="child_migration_retrieve",
    summary="A spell of work away on the child's file",
    description="One parent's spell of work away; the `ETag` header holds its version.",
    responses={200: MigrationDetailSerializer, 404: NOT_FOUND},
)
@patch_schema(
    operation_id="child_migration_partial_update",
    summary="Change a spell of work away",
    description=(
        f"{SEND_CHANGES}. {IF_MATCH_ANSWERS} The family's children are reclassified at once."
    ),
    request=MigrationPatchSerializer,
    result=MigrationDetailSerializer,
)
@api_view(["GET", "PATCH"])
@permission_classes([IsAuthenticated])
def child_migration(request: Request, public_id: Any, spell: Any) -> Response:
    user = caller(request)
    child = get_child_for_user(user, public_id)
    migration = (
        Migration.objects.filter(parent__household=child.household, public_id=spell)
        .select_related("parent__household")
        .first()
    )
    if migration is None:
        raise NotFound
    if request.method == "GET":
        services.child_file_opened(actor=user, child=child, request=request._request)
        return _spell_response(migration)

    def save(fields: dict[str, Any], version: int) -> Response:
        saved = services.migration_save(
            actor=user,
            parent=migration.parent,
            migration=migration,
            fields=fields,
            version=version,
            request=request._request,
        )
        return _spell_response(saved)

    label = _("Work away: %(parent)s") % {"parent": ParentRole(migration.parent.role).label}
    context = {BORN_ON: migration.parent.birth_date}
    return _patch_record(
        request, Migration, migration.pk, label, MigrationPatchSerializer, save, context
    )


@extend_schema(
    operation_id="child_migration_create",
    summary="Record a spell of work away",
    description=(
        "A new spell of work away of the father or mother (who must be on file). A new spell "
        "changes no earlier version, so no `If-Match` is needed; the answer's `ETag` is the "
        "spell's first version."
    ),
    request=MigrationCreateSerializer,
    responses={
        201: MigrationDetailSerializer,
        400: OpenApiResponse(description="A field is invalid; the body names it."),
        403: READ_ONLY,
        404: NOT_FOUND,
    },
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def parent_migration_create(request: Request, public_id: Any, role: str) -> Response:
    user = caller(request)
    child = get_child_for_user(user, public_id)
    parent_role = _role_or_404(role)
    parent = (
        Parent.objects.filter(household=child.household, role=parent_role)
        .select_related("household")
        .first()
    )
    if parent is None:
        raise NotFound
    data = MigrationCreateSerializer(data=request.data, context={BORN_ON: parent.birth_date})
    data.is_valid(raise_exception=True)
    try:
        saved = services.migration_save(
            actor=user,
            parent=parent,
            fields=dict(data.validated_data),
            version=0,
            request=request._request,
        )
    except ValidationError as exc:
        return errors(exc)
    return _spell_response(saved, status.HTTP_201_CREATED)
