"""API of the registry: the list of children in the caller's scope, ``GET /api/v1/children``,
and the search by ID number, ``POST /api/v1/children/search`` (a number never goes in a URL)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.core.http import signed_in_user
from tongxin.core.paging import api_page
from tongxin.registry.api import CategoryCodeField
from tongxin.registry.models import CategoryCode, Child, ChildStatus, Enrolment, Gender
from tongxin.registry.selectors import (
    RISK_LEVELS,
    UMBRELLA_CATEGORIES,
    ChildFilters,
    children_for_list,
    id_search_hash,
    masked_id,
)

PAGE_SIZE = 50


class ChildListItemSerializer(serializers.Serializer[Child]):
    id = serializers.UUIDField(source="public_id", help_text="the file's public code")
    name = serializers.CharField()
    gender = serializers.ChoiceField(choices=Gender.choices)
    birth_date = serializers.DateField()
    id_number = serializers.SerializerMethodField(
        help_text="masked (`620724********123X`); empty when no number is on file"
    )
    village = serializers.CharField(source="village_id", help_text="12-digit division code")
    status = serializers.ChoiceField(choices=ChildStatus.choices)
    enrolment = serializers.ChoiceField(choices=Enrolment.choices)
    categories = serializers.ListField(
        child=CategoryCodeField(), source="category_codes", help_text="current categories"
    )
    left_behind = serializers.BooleanField(help_text="农村留守儿童")
    in_difficulty = serializers.BooleanField(help_text="困境儿童")
    version = serializers.IntegerField(help_text="the file's version (for If-Match on edits)")

    def get_id_number(self, child: Child) -> str:
        return masked_id(child.id_number_enc)


class ChildListPageSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(help_text="matching children, on all pages")
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ChildListItemSerializer(many=True)


def _param(name: str, description: str, enum: list[str] | None = None) -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=description, enum=enum
    )


@extend_schema(
    operation_id="children_list",
    summary="List the children in the caller's scope",
    description=(
        "Children whose village lies inside the caller's division, 50 a page, ordered by "
        "village and name. Only roles that read children's files (county officers, town "
        "supervisors, village directors, auditors) may call it; others get 404. ID numbers "
        "are always masked here. A parameter whose value is not one it takes (an unknown "
        "status, an age written other than with the digits 0-9) answers 400 naming it."
    ),
    parameters=[
        _param("division", "a town or village code (12 digits) inside the caller's scope"),
        _param(
            "category",
            "`left_behind`, `in_difficulty`, or a category code",
            list(dict.fromkeys([*UMBRELLA_CATEGORIES, *CategoryCode.values])),
        ),
        _param(
            "status",
            "file status; default `active`, empty for any",
            ["", *ChildStatus.values],
        ),
        _param("enrolment", "school enrolment", list(Enrolment.values)),
        _param("risk", "the child's risk level", list(RISK_LEVELS)),
        OpenApiParameter(
            "age_from", OpenApiTypes.INT, description="age in years, at least (0 to 25)"
        ),
        OpenApiParameter("age_to", OpenApiTypes.INT, description="age in years, at most (0 to 25)"),
        _param("age", "an age band, `6-11` or `16-` (when age_from and age_to are absent)"),
        _param(
            "q",
            "a name in Chinese, its full pinyin (`zhangsan`) or initials (`zs`). An ID number "
            "(or most of one) answers 400: search by number with `POST /api/v1/children/search`, "
            "so that it lands in no access log",
        ),
        OpenApiParameter("page", OpenApiTypes.INT, description="page number, from 1"),
    ],
    responses={
        200: ChildListPageSerializer,
        400: OpenApiResponse(
            description="A parameter's value is not one it takes: the body names the "
            "parameter and, for a choice, the values it takes; `q` holding an ID number."
        ),
        401: OpenApiResponse(description="Not signed in."),
        404: OpenApiResponse(description="The role does not read files, or no such page."),
    },
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def child_list(request: Request) -> Response:
    user = signed_in_user(request)
    if not user.reads_child_files:
        raise NotFound
    filters = ChildFilters.from_params(request.query_params)
    children = children_for_list(user, filters)
    page, envelope = api_page(request, children, PAGE_SIZE)
    return Response(ChildListPageSerializer({**envelope, "results": list(page)}).data)


class ChildSearchSerializer(serializers.Serializer[Any]):
    id_number = serializers.CharField(
        max_length=40, help_text="a full 18-character ID number (exact match only)"
    )
    status = serializers.ChoiceField(
        choices=["", *ChildStatus.values],
        required=False,
        help_text="file status; default `active`, empty for any",
    )
    division = serializers.CharField(
        required=False, max_length=12, help_text="a town or village code inside the scope"
    )


@extend_schema(
    operation_id="children_search",
    summary="Find a child in the caller's scope by ID number",
    description=(
        "The search by ID number of `GET /api/v1/children`, by POST so that the number is in "
        "the body, never in a URL (access logs, proxies). The children in the caller's scope "
        "whose file carries the number (at most one, as a number is on one file only), in "
        "the list's envelope; the number in the answer is masked. Roles that read no files "
        "get 404."
    ),
    request=ChildSearchSerializer,
    responses={
        200: ChildListPageSerializer,
        400: OpenApiResponse(description="A field's value is not one it takes."),
        401: OpenApiResponse(description="Not signed in."),
        404: OpenApiResponse(description="The role does not read files."),
    },
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def child_search(request: Request) -> Response:
    user = signed_in_user(request)
    if not user.reads_child_files:
        raise NotFound
    data = ChildSearchSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    fields = dict(data.validated_data)
    filters = ChildFilters.from_params(
        {k: v for k, v in fields.items() if k in ("status", "division")}
    )
    filters = replace(filters, id_hash=id_search_hash(fields["id_number"]))
    children = list(children_for_list(user, filters)[:PAGE_SIZE])
    envelope = {"count": len(children), "page": 1, "num_pages": 1, "next": None, "previous": None}
    return Response(ChildListPageSerializer({**envelope, "results": children}).data)
