"""API of the registry: the policy calculator, ``POST /api/v1/classify``."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.core.api_fields import named_choices
from tongxin.core.plausible_fields import DateKind, PlausibleDateField
from tongxin.registry import policy, rules


def _choices(enum: type[StrEnum], labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(member.value, labels[member]) for member in enum]


def _enum_field(
    enum: type[StrEnum], labels: dict[str, str], component: str
) -> Callable[..., serializers.ChoiceField]:
    """A choice field over ``enum``, documented as one named schema component.

    Naming the component here keeps the contract's enums apart from other ``status`` or
    ``code`` fields of the API (drf-spectacular would otherwise name them by field name).
    """
    return named_choices(_choices(enum, labels), component)


DestinationField = _enum_field(rules.Destination, rules.DESTINATION_LABELS, "MigrationDestination")
ParentStatusField = _enum_field(rules.ParentStatus, rules.STATUS_LABELS, "ParentStatus")
CapacityField = _enum_field(rules.Capacity, rules.CAPACITY_LABELS, "GuardianshipCapacity")
ResidenceField = _enum_field(rules.Residence, rules.RESIDENCE_LABELS, "Residence")
CategoryCodeField = _enum_field(rules.CategoryCode, rules.CATEGORY_LABELS, "CategoryCode")


# The calculator takes facts as they may be on another day, ahead as well as back: each date
# lies within the window of a planned date (25 years back, 10 ahead), never 0001 nor 9999.
def _calculator_date(**kwargs: Any) -> PlausibleDateField:
    return PlausibleDateField(kind=DateKind.PLAN, **kwargs)


class MigrationInSerializer(serializers.Serializer[Any]):
    left_on = _calculator_date()
    returned_on = _calculator_date(
        required=False, allow_null=True, default=None, help_text="null (or absent): still away"
    )
    destination = DestinationField()


class ParentInSerializer(serializers.Serializer[Any]):
    status = ParentStatusField()
    capacity = CapacityField(help_text="guardianship capacity (监护能力)")
    migrations = MigrationInSerializer(many=True, help_text="spells of work away (外出务工)")


class ClassifyInSerializer(serializers.Serializer[Any]):
    as_of = _calculator_date(help_text="the date the classification is for")
    birth_date = _calculator_date()
    lives_in = ResidenceField(help_text="village (村) or urban community (社区)")
    father = ParentInSerializer()
    mother = ParentInSerializer()
    parents_divorced = serializers.BooleanField()
    dibao = serializers.BooleanField(help_text="the family receives dibao (低保)")
    tekun = serializers.BooleanField(help_text="tekun support (特困供养)")
    disability_grade = serializers.IntegerField(
        min_value=1, max_value=4, allow_null=True, help_text="disability grade 1–4, or null"
    )
    serious_illness = serializers.BooleanField()

    def to_facts(self) -> rules.ChildFacts:
        data = self.validated_data
        return rules.ChildFacts(
            birth_date=data["birth_date"],
            lives_in=rules.Residence(data["lives_in"]),
            father=_parent(data["father"]),
            mother=_parent(data["mother"]),
            parents_divorced=data["parents_divorced"],
            dibao=data["dibao"],
            tekun=data["tekun"],
            disability_grade=data["disability_grade"],
            serious_illness=data["serious_illness"],
        )


def _parent(data: dict[str, Any]) -> rules.ParentFacts:
    return rules.ParentFacts(
        status=rules.ParentStatus(data["status"]),
        capacity=rules.Capacity(data["capacity"]),
        migrations=tuple(
            rules.MigrationSpell(
                left_on=m["left_on"],
                returned_on=m["returned_on"],
                destination=rules.Destination(m["destination"]),
            )
            for m in data["migrations"]
        ),
    )


class CategoryOutSerializer(serializers.Serializer[Any]):
    code = CategoryCodeField()
    reason = serializers.CharField(help_text="why, in Chinese, naming the facts used")


class ClassificationOutSerializer(serializers.Serializer[Any]):
    as_of = serializers.DateField()
    categories = CategoryOutSerializer(many=True)
    in_difficulty = serializers.BooleanField(
        help_text="any category but left_behind applies (困境儿童)"
    )


EXAMPLE_REQUEST = {
    "as_of": "2024-06-30",
    "birth_date": "2012-05-01",
    "lives_in": "village",
    "father": {
        "status": "alive",
        "capacity": "full",
        "migrations": [
            {"left_on": "2024-01-10", "returned_on": None, "destination": "out_of_province"}
        ],
    },
    "mother": {
        "status": "alive",
        "capacity": "full",
        "migrations": [
            {"left_on": "2023-12-01", "returned_on": None, "destination": "out_of_county"}
        ],
    },
    "parents_divorced": False,
    "dibao": True,
    "tekun": False,
    "disability_grade": None,
    "serious_illness": False,
}
EXAMPLE_RESPONSE = {
    "as_of": "2024-06-30",
    "categories": [
        {
            "code": "left_behind",
            "reason": "父母均跨县外出务工满3个月（父亲自2024年1月10日起在省外务工，"
            "母亲自2023年12月1日起在省内县外务工）；儿童居住在农村，未满16周岁（2012年5月1日出生）",
        },
        {
            "code": "dibao_family",
            "reason": "家庭享受最低生活保障（低保）；儿童未满18周岁（2012年5月1日出生）",
        },
    ],
    "in_difficulty": True,
}

DESCRIPTION = """\
Evaluates the policy's categories (服务对象) from the facts given, as of `as_of`, and stores
nothing: a calculator for officers and other departments' systems. Any signed-in user may call it.

- `left_behind` (农村留守儿童): lives in a village, under 16 on `as_of`, and both parents have an
  open `out_of_county`/`out_of_province` spell that began at least 3 calendar months before
  `as_of` (left on 2024-01-10 counts from 2024-04-10), or one does and the other lacks
  guardianship capacity (capacity other than `full`, or status other than `alive`). A spell that
  ended (`returned_on`) on or before `as_of` does not count; `in_county` spells never count.
- `orphan` (孤儿): both parents `deceased`, `declared_dead` or `declared_missing`.
- `de_facto_unsupported` (事实无人抚养儿童): each parent has a capacity other than `full` or is
  `lost_contact`; or one parent is `deceased`, `declared_dead` or `declared_missing` and the
  other has a capacity other than `full` or is `lost_contact`. Never with `orphan`.
- `dibao_family`, `tekun`, `disabled` (a `disability_grade`), `seriously_ill`.
- `single_parent`: one parent `alive` and the other not, or the parents are divorced; not with
  `orphan` or `de_facto_unsupported`.
- Every category except `left_behind` needs the child under 18 on `as_of`. `in_difficulty` is
  true when any of them applies. A child has no category before the birth date.

The thresholds (16, 18, 3 months) are the county's settings; the plan's values are the
defaults. Missing or invalid fields answer 400 with the errors keyed by field (nested for the
parents: `{"father": {"status": [...]}}`).
"""


@extend_schema(
    operation_id="classify",
    summary="Classify a child from facts (stores nothing)",
    description=DESCRIPTION,
    request=ClassifyInSerializer,
    responses={
        200: ClassificationOutSerializer,
        400: OpenApiResponse(description="A field is missing or invalid; the body names it."),
    },
    examples=[
        OpenApiExample("Both parents away, dibao family", value=EXAMPLE_REQUEST, request_only=True),
        OpenApiExample(
            "Both parents away, dibao family", value=EXAMPLE_RESPONSE, response_only=True
        ),
    ],
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def classify(request: Request) -> Response:
    data = ClassifyInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    result = rules.classify(data.to_facts(), data.validated_data["as_of"], policy.thresholds())
    return Response(ClassificationOutSerializer(result).data)
