"""API of benefits: the eligibility calculator, ``POST /api/v1/eligibility`` (issue 13)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from enum import StrEnum
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
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

from tongxin.benefits import policy, rules
from tongxin.core.api_fields import named_choices
from tongxin.lib import plausible


def _enum_field(
    members: Iterable[StrEnum], labels: dict[str, str], component: str
) -> Callable[..., serializers.ChoiceField]:
    """A choice field over ``members``, documented as one named schema component (as the
    registry's and the visits' APIs do), so the contract's enums keep their own names."""
    return named_choices([(member.value, labels[member]) for member in members], component)


ParentStateField = _enum_field(rules.ParentState, rules.STATE_LABELS, "ParentLegalState")
SchoolingField = _enum_field(rules.Schooling, rules.SCHOOLING_LABELS, "Schooling")
DisabilityCategoryField = _enum_field(
    rules.DisabilityCategory, rules.DISABILITY_LABELS, "DisabilityCategory"
)
ProgrammeField = _enum_field(rules.Programme, rules.PROGRAMME_LABELS, "ProgrammeCode")
ComputedProgrammeField = _enum_field(
    rules.COMPUTED, rules.PROGRAMME_LABELS, "ComputedProgrammeCode"
)
RateField = _enum_field(rules.Rate, rules.RATE_LABELS, "AllowanceRate")


class StrictSerializer(serializers.Serializer[Any]):
    """Refuses keys it does not know, naming them: a misspelt ``until`` would otherwise be
    read as "no end" and change the answer without a word."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


def _legal_fact_date(value: date | None) -> date | None:
    if value is not None:
        error = plausible.legal_fact_date_error(value, today=timezone.localdate())
        if error:
            raise serializers.ValidationError(error)
    return value


def _calculator_date(value: date) -> date:
    error = plausible.plan_date_error(value, today=timezone.localdate())
    if error:
        raise serializers.ValidationError(error)
    return value


# --- input -----------------------------------------------------------------------------------


class EligibilityDisabilityInSerializer(StrictSerializer):
    """A disability certificate (残疾人证): category and grade."""

    category = DisabilityCategoryField()
    grade = serializers.IntegerField(
        min_value=1, max_value=4, help_text="1 (most severe) to 4, as on the certificate"
    )


def _disability(data: dict[str, Any] | None) -> rules.Disability | None:
    if data is None:
        return None
    return rules.Disability(rules.DisabilityCategory(data["category"]), data["grade"])


class EligibilityParentInSerializer(StrictSerializer):
    """A parent's legal state with its dates (only `state` is always required)."""

    state = ParentStateField()
    since = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="the day the state began; for `lost_contact` the day the police accepted the "
        "report (null: no report). Required for the restrictions of freedom, "
        "`guardianship_revoked` and `deported`",
    )
    until = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="the day it ends (a sentence's end, a release); the state is over on that day",
    )
    disability = EligibilityDisabilityInSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="the certificate's category and grade; required for `severe_disability`",
    )

    def validate_since(self, value: date | None) -> date | None:
        return _legal_fact_date(value)

    def validate_until(self, value: date | None) -> date | None:
        return _legal_fact_date(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        state, since, until = attrs["state"], attrs["since"], attrs["until"]
        errors: dict[str, list[str]] = {}
        if state in rules.SINCE_REQUIRED and since is None:
            errors["since"] = [_("This state needs the date it began.")]
        if state == rules.ParentState.SEVERE_DISABILITY and attrs["disability"] is None:
            errors["disability"] = [
                _("A severe disability needs the certificate's category and grade.")
            ]
        if since is not None and until is not None and until < since:
            errors["until"] = [_("It cannot end before it started.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def _parent(data: dict[str, Any]) -> rules.ParentFacts:
    return rules.ParentFacts(
        state=rules.ParentState(data["state"]),
        since=data["since"],
        until=data["until"],
        disability=_disability(data["disability"]),
    )


class EligibilityHouseholdInSerializer(StrictSerializer):
    """What the family or the child receives now (means-tested, not computed here)."""

    dibao = serializers.BooleanField(help_text="the family receives dibao (低保)")
    low_income = serializers.BooleanField(help_text="a low-income family (低收入/低保边缘)")
    tekun = serializers.BooleanField(help_text="the child receives tekun (特困供养)")


class EligibilityInSerializer(StrictSerializer):
    """The facts of one child, as of `as_of`."""

    as_of = serializers.DateField(help_text="the date the decision is for")
    birth_date = serializers.DateField()
    in_institution = serializers.BooleanField(help_text="lives in a welfare institution")
    schooling = SchoolingField(help_text="the level of full-time schooling now")
    adopted = serializers.BooleanField()
    deceased = serializers.BooleanField()
    hukou_in_county = serializers.BooleanField(
        help_text="household registration (户籍) still in the county"
    )
    disability = EligibilityDisabilityInSerializer(
        allow_null=True, help_text="the child's disability certificate, or null"
    )
    household = EligibilityHouseholdInSerializer()
    enrolled = serializers.ListField(
        child=ProgrammeField(),
        allow_empty=True,
        max_length=len(rules.Programme),
        help_text="the programme codes the child receives now (tekun included)",
    )
    father = EligibilityParentInSerializer()
    mother = EligibilityParentInSerializer()

    # A calculator takes facts as they may be on another day, ahead as well as back (as
    # ``POST /api/v1/classify`` does): the date and the birth date each lie within the window of
    # a planned date (25 years back, 10 ahead), never 0001 nor 9999.
    def validate_as_of(self, value: date) -> date:
        return _calculator_date(value)

    def validate_birth_date(self, value: date) -> date:
        return _calculator_date(value)

    def to_facts(self) -> rules.ChildFacts:
        data = self.validated_data
        household = data["household"]
        return rules.ChildFacts(
            birth_date=data["birth_date"],
            father=_parent(data["father"]),
            mother=_parent(data["mother"]),
            in_institution=data["in_institution"],
            schooling=rules.Schooling(data["schooling"]),
            adopted=data["adopted"],
            deceased=data["deceased"],
            hukou_in_county=data["hukou_in_county"],
            disability=_disability(data["disability"]),
            household=rules.Household(
                dibao=household["dibao"],
                low_income=household["low_income"],
                tekun=household["tekun"],
            ),
            enrolled=frozenset(rules.Programme(code) for code in data["enrolled"]),
        )


# --- output ----------------------------------------------------------------------------------


class EligibilityProgrammeOutSerializer(serializers.Serializer[Any]):
    eligible = serializers.BooleanField()
    reason = serializers.CharField(help_text="why, in Chinese, naming the facts used")


class EligibilityAllowanceOutSerializer(EligibilityProgrammeOutSerializer):
    rate = RateField(allow_null=True, help_text="null when not eligible")
    top_up = serializers.BooleanField(
        help_text="paid as the difference (补差发放): an eligible de facto allowance of a dibao "
        "family or a child receiving the disability living subsidy; false otherwise"
    )


class EligibilityProgrammesOutSerializer(serializers.Serializer[Any]):
    orphan_allowance = EligibilityAllowanceOutSerializer(help_text="孤儿基本生活费")
    de_facto_allowance = EligibilityAllowanceOutSerializer(help_text="事实无人抚养儿童基本生活补贴")
    disability_living_subsidy = EligibilityProgrammeOutSerializer(help_text="困难残疾人生活补贴")
    disability_care_subsidy = EligibilityProgrammeOutSerializer(help_text="重度残疾人护理补贴")
    rehab_assistance = EligibilityProgrammeOutSerializer(help_text="残疾儿童康复救助")


class EligibilityOutSerializer(serializers.Serializer[Any]):
    programmes = EligibilityProgrammesOutSerializer(help_text="one entry per computed programme")
    conflicts = serializers.ListField(
        child=serializers.ListField(child=ProgrammeField(), min_length=2, max_length=2),
        help_text="pairs from `enrolled` that must not be received together; each pair sorted, "
        "the list sorted",
    )
    eligible_not_enrolled = serializers.ListField(
        child=ComputedProgrammeField(), help_text="sorted"
    )
    enrolled_not_eligible = serializers.ListField(
        child=ComputedProgrammeField(), help_text="sorted"
    )


def _out(result: rules.Eligibility) -> dict[str, Any]:
    programmes: dict[str, dict[str, Any]] = {}
    for p in result.programmes:
        entry: dict[str, Any] = {"eligible": p.eligible, "reason": p.reason}
        if p.code in rules.ALLOWANCES:
            entry |= {"rate": p.rate, "top_up": p.top_up}
        programmes[p.code] = entry
    return {
        "programmes": programmes,
        "conflicts": [list(pair) for pair in result.conflicts],
        "eligible_not_enrolled": list(result.eligible_not_enrolled),
        "enrolled_not_eligible": list(result.enrolled_not_eligible),
    }


EXAMPLE_REQUEST: dict[str, Any] = {
    "as_of": "2024-06-30",
    "birth_date": "2012-05-01",
    "in_institution": False,
    "schooling": "primary",
    "adopted": False,
    "deceased": False,
    "hukou_in_county": True,
    "disability": {"category": "physical", "grade": 3},
    "household": {"dibao": True, "low_income": False, "tekun": False},
    "enrolled": ["dibao", "orphan_allowance"],
    "father": {"state": "imprisoned", "since": "2023-03-01", "until": "2025-03-01"},
    "mother": {"state": "deceased", "since": "2020-08-15"},
}
EXAMPLE_RESPONSE: dict[str, Any] = {
    "programmes": {
        "orphan_allowance": {
            "eligible": False,
            "reason": "父亲服刑在押（2023年3月1日起，刑期2年，至2025年3月1日），"
            "母亲已故（2020年8月15日）：父母并非均已死亡、被宣告死亡、被宣告失踪或查找不到",
            "rate": None,
            "top_up": False,
        },
        "de_facto_allowance": {
            "eligible": True,
            "reason": "父亲服刑在押（2023年3月1日起，刑期2年，至2025年3月1日），"
            "母亲已故（2020年8月15日）；儿童社会散居；儿童未满18周岁（2012年5月1日出生）；"
            "家庭享受最低生活保障，按差额补齐（补差发放）",
            "rate": "scattered",
            "top_up": True,
        },
        "disability_living_subsidy": {
            "eligible": True,
            "reason": "儿童持残疾人证（肢体残疾三级）；家庭享受最低生活保障；"
            "不符合孤儿基本生活费条件；未享受特困人员救助供养；未在福利机构生活；"
            "儿童未满18周岁（2012年5月1日出生）",
        },
        "disability_care_subsidy": {
            "eligible": False,
            "reason": "儿童持残疾人证（肢体残疾三级），未达到二级及以上",
        },
        "rehab_assistance": {
            "eligible": False,
            "reason": "儿童已满7周岁（2012年5月1日出生）",
        },
    },
    "conflicts": [],
    "eligible_not_enrolled": ["de_facto_allowance", "disability_living_subsidy"],
    "enrolled_not_eligible": ["orphan_allowance"],
}

DESCRIPTION = """\
Decides the five computed programmes from the facts given, as of `as_of`, and stores nothing:
a calculator for officers and other departments' systems. Any signed-in user may call it.

Parents: a state is in force from `since` (inclusive; null: no known start) until `until`
(exclusive: on `until` the state is over; null: no end).
- **gone**: `deceased`, `declared_dead`, `declared_missing`, `unknown`.
- **cannot support**: `severe_disability` (grade 1–2, or 3–4 in the `intellectual` or `mental`
  category); `serious_illness`; `imprisoned`, `compulsory_detox`, `restricted_freedom` lasting
  6 calendar months or more in all (`since` + 6 months ≤ `until`; no `until` is long enough);
  `lost_contact` once `as_of` ≥ `since` + 6 months (`since`: the police accepted the report;
  null: no report, never counts); `guardianship_revoked`, `deported`.
- `able`, a state not in force, or a restriction shorter than 6 months: able.

Programmes:
- `orphan_allowance`: both parents gone.
- `de_facto_allowance`: not both gone; each parent gone or cannot support. `top_up` is true
  when eligible and the family receives dibao or `enrolled` holds `disability_living_subsidy`.
- Both allowances: `rate` is `institutional` in a welfare institution, else `scattered`; null
  when not eligible. They end at 18, except while in full-time schooling below postgraduate
  (`preschool` to `college`; not `none`, not `postgraduate`).
- `disability_living_subsidy`: a disability, the family receives dibao, not eligible for the
  orphan allowance, no tekun, not in an institution, under 18.
- `disability_care_subsidy`: disability grade 1 or 2, no tekun, under 18.
- `rehab_assistance`: before the 7th birthday, a disability category other than `mental`, and
  dibao, low income, tekun, eligible for either allowance, or in an institution.
- An adopted or deceased child, or one whose household registration left the county, is
  eligible for nothing. Dibao and tekun count when `household` says so or `enrolled` holds them.

`conflicts`: the pairs in `enrolled` that must not be received together (orphan + de facto,
orphan + tekun, de facto + tekun, orphan + living subsidy, tekun + either disability subsidy).
Ages use birthdays (a child born on 29 February turns a year older on 1 March in a common
year). The thresholds are the county's settings with these defaults. Missing or invalid fields,
unknown enum values and unknown keys answer 400 with the errors keyed by field (nested for the
parents: `{"father": {"since": [...]}}`).
"""


@extend_schema(
    operation_id="eligibility",
    summary="Decide benefit eligibility from facts (stores nothing)",
    description=DESCRIPTION,
    request=EligibilityInSerializer,
    responses={
        200: EligibilityOutSerializer,
        400: OpenApiResponse(description="A field is missing or invalid; the body names it."),
    },
    examples=[
        OpenApiExample(
            "Father imprisoned, mother deceased", value=EXAMPLE_REQUEST, request_only=True
        ),
        OpenApiExample(
            "Father imprisoned, mother deceased", value=EXAMPLE_RESPONSE, response_only=True
        ),
    ],
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def eligibility(request: Request) -> Response:
    data = EligibilityInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    result = rules.eligibility(data.to_facts(), data.validated_data["as_of"], policy.thresholds())
    return Response(EligibilityOutSerializer(_out(result)).data)
