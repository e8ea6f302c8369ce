"""A population as planned (plain data, no database): the places it lives in, its households
with their parents, migration spells, care agreements and children; and the facts the rules
take for a planned child."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from tongxin.registry import rules


@dataclass(frozen=True, slots=True)
class Place:
    """A village or community the population lives in, with its town and the county's names."""

    code: str
    name: str
    rural: bool
    town_code: str
    town_name: str
    hukou_prefix: str  # 甘肃省张掖市高台县
    county_name: str


@dataclass(slots=True)
class SpellPlan:
    left_on: date
    returned_on: date | None
    destination: rules.Destination
    work_place: str


@dataclass(slots=True)
class ParentPlan:
    role: str
    name: str
    birth_date: date | None
    id_number: str
    phone: str
    status: rules.ParentStatus
    capacity: rules.Capacity
    capacity_note: str = ""
    spells: list[SpellPlan] = field(default_factory=list)


@dataclass(slots=True)
class AgreementPlan:
    entrusted_by: str
    caregiver_name: str
    caregiver_relation: str
    caregiver_phone: str
    caregiver_address: str
    signed_on: date
    valid_until: date
    terminated_on: date | None = None
    caregiver_lacks_capacity: bool = False
    parents_told_on: date | None = None


@dataclass(slots=True)
class ChildPlan:
    name: str
    gender: str
    birth_date: date
    registered_on: date
    ethnicity: str = "汉族"
    id_number: str = ""
    id_missing_reason: str = ""
    hukou_place: str = ""
    school: str = ""
    grade: str = ""
    school_stage: str = ""
    enrolment: str = "in_school"
    boarding: bool = False
    health: str = "healthy"
    disability_type: str = ""
    disability_grade: int | None = None
    disability_certificate: str = ""
    disability_certificate_expiry: date | None = None
    serious_illness: bool = False
    illness: str = ""
    guardianship_assessment: str = ""


@dataclass(slots=True)
class HouseholdPlan:
    """One family as drawn. ``kind`` is how it was drawn (``both_away``, ``orphan`` …), not a
    category: categories are computed from the facts. ``duplicate`` marks a planted copy
    (``same_name`` or ``same_pinyin``) of an earlier child."""

    place: Place
    kind: str
    registered_on: date
    address: str
    phone: str
    parents: list[ParentPlan]
    children: list[ChildPlan]
    agreements: list[AgreementPlan] = field(default_factory=list)
    parents_divorced: bool = False
    dibao: bool = False
    tekun: bool = False
    income_source: str = ""
    assistance: list[str] = field(default_factory=list)
    caregiver_name: str = ""
    caregiver_relation: str = ""
    caregiver_birth_year: int | None = None
    caregiver_health: str = ""
    caregiver_capacity: str = ""
    caregiver_phone: str = ""
    grandparents: str = ""
    duplicate: str = ""


_ABSENT = rules.ParentFacts(rules.ParentStatus.UNKNOWN, rules.Capacity.FULL)


def plan_facts(household: HouseholdPlan, child: ChildPlan) -> rules.ChildFacts:
    """The facts the rules take, as ``selectors.current_facts`` reads them once stored."""
    by_role = {
        p.role: rules.ParentFacts(
            status=p.status,
            capacity=p.capacity,
            # In the order the database gives them (left_on, then id: the order written).
            migrations=tuple(
                rules.MigrationSpell(s.left_on, s.returned_on, s.destination)
                for s in sorted(p.spells, key=lambda s: s.left_on)
            ),
        )
        for p in household.parents
    }
    return rules.ChildFacts(
        birth_date=child.birth_date,
        lives_in=rules.Residence.VILLAGE if household.place.rural else rules.Residence.COMMUNITY,
        father=by_role.get("father", _ABSENT),
        mother=by_role.get("mother", _ABSENT),
        parents_divorced=household.parents_divorced,
        dibao=household.dibao,
        tekun=household.tekun,
        disability_grade=child.disability_grade,
        serious_illness=child.serious_illness,
    )
