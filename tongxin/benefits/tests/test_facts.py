"""The rules' facts read from the registry and the enrolments (benefits.facts)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tongxin.benefits import rules
from tongxin.benefits.facts import CHILD_FIELDS, facts_for
from tongxin.benefits.tests.gap_world import D, enrol, family
from tongxin.registry.models import Child

pytestmark = pytest.mark.django_db
AS_OF = D("2025-06-15")
P = rules.ParentState


def record_of(child: Child, as_of: date = AS_OF) -> Any:
    loaded = Child.objects.only(*CHILD_FIELDS).get(pk=child.pk)
    return facts_for([loaded], as_of)[child.pk]


@pytest.mark.parametrize(
    ("father", "state", "missing"),
    [
        (("deceased", "full"), P.DECEASED, ()),
        (("declared_dead", "full"), P.DECLARED_DEAD, ()),
        (("declared_missing", "full"), P.DECLARED_MISSING, ()),
        (("unknown", "full"), P.UNKNOWN, ()),
        (("lost_contact", "full"), P.LOST_CONTACT, ("父亲失联：缺少公安机关受理报案的日期",)),
        (("alive", "serious_illness"), P.SERIOUS_ILLNESS, ()),
        (("alive", "serious_disability"), P.ABLE, ("父亲重残：缺少残疾人证的类别和等级",)),
        (("alive", "imprisoned"), P.ABLE, ("父亲服刑在押：缺少起始日期",)),
        (("alive", "compulsory_detox"), P.ABLE, ("父亲强制隔离戒毒：缺少起始日期",)),
        (
            ("alive", "restricted_freedom"),
            P.ABLE,
            ("父亲被执行其他限制人身自由的措施：缺少起始日期",),
        ),
        (("alive", "full"), P.ABLE, ()),
        # A death is gone whatever the capacity recorded before it.
        (("deceased", "imprisoned"), P.DECEASED, ()),
    ],
)
def test_parent_status_and_capacity_map_to_the_rules_states(
    father: tuple[str, str], state: rules.ParentState, missing: tuple[str, ...]
) -> None:
    record = record_of(family(father=father))
    assert record.facts.father.state == state
    assert record.facts.father.since is None
    assert record.facts.mother == rules.ABLE_PARENT
    assert record.missing == missing


def test_an_imprisoned_parent_without_dates_does_not_qualify_and_is_named() -> None:
    record = record_of(family(father=("deceased", "full"), mother=("alive", "imprisoned")))
    result = rules.eligibility(record.facts, AS_OF)
    assert not result[rules.Programme.DE_FACTO_ALLOWANCE].eligible
    assert record.missing == ("母亲服刑在押：缺少起始日期",)


def test_a_parent_without_a_row_is_a_missing_fact() -> None:
    record = record_of(family(father=None))
    assert record.facts.father == rules.ABLE_PARENT
    assert record.missing == ("缺少父亲的登记信息",)


@pytest.mark.parametrize(
    ("kind", "grade", "expiry", "disability", "missing"),
    [
        ("肢体", 2, None, rules.Disability(rules.DisabilityCategory.PHYSICAL, 2), ()),
        ("智力残疾", 3, None, rules.Disability(rules.DisabilityCategory.INTELLECTUAL, 3), ()),
        ("孤独症", 1, None, rules.Disability(rules.DisabilityCategory.AUTISM, 1), ()),
        ("hearing", 4, None, rules.Disability(rules.DisabilityCategory.HEARING, 4), ()),
        ("", None, None, None, ()),
        ("其他", 2, None, None, ("儿童残疾：缺少可识别的残疾类别（登记为“其他”）",)),
        ("视力", None, None, None, ("儿童残疾：缺少残疾等级",)),
        ("视力", 1, D("2025-06-14"), None, ("儿童残疾人证已于2025年6月14日过期",)),
        ("视力", 1, D("2025-06-15"), rules.Disability(rules.DisabilityCategory.VISUAL, 1), ()),
    ],
)
def test_the_childs_disability_maps_to_the_rules_categories(
    kind: str,
    grade: int | None,
    expiry: date | None,
    disability: rules.Disability | None,
    missing: tuple[str, ...],
) -> None:
    child = family(
        disability_type=kind, disability_grade=grade, disability_certificate_expiry=expiry
    )
    record = record_of(child)
    assert record.facts.disability == disability
    assert record.missing == missing


@pytest.mark.parametrize(
    ("stage", "enrolment", "schooling"),
    [
        ("kindergarten", "in_school", rules.Schooling.PRESCHOOL),
        ("primary", "in_school", rules.Schooling.PRIMARY),
        ("junior", "in_school", rules.Schooling.JUNIOR),
        ("senior", "in_school", rules.Schooling.SENIOR),
        ("vocational", "in_school", rules.Schooling.VOCATIONAL),
        ("senior", "graduated", rules.Schooling.NONE),
        ("junior", "dropped_out", rules.Schooling.NONE),
        ("not_in_school", "in_school", rules.Schooling.NONE),
        ("", "in_school", rules.Schooling.NONE),
    ],
)
def test_schooling_from_the_school_stage(
    stage: str, enrolment: str, schooling: rules.Schooling
) -> None:
    record = record_of(family(school_stage=stage, enrolment=enrolment))
    assert record.facts.schooling == schooling


def test_an_adult_in_school_without_a_stage_is_a_missing_fact() -> None:
    record = record_of(family(birth_date=D("2007-03-10"), school_stage="", enrolment="in_school"))
    assert record.facts.schooling == rules.Schooling.NONE
    assert record.missing == ("儿童在校，但缺少就学阶段",)


def test_status_deceased_and_transferred_out() -> None:
    dead = record_of(family(status="deceased", status_since=D("2025-02-03")))
    assert dead.facts.deceased
    assert dead.facts.hukou_in_county
    assert dead.events == ((D("2025-02-03"), "儿童于2025年2月3日死亡"),)
    moved = record_of(family(status="transferred_out", status_since=D("2025-02-03")))
    assert not moved.facts.hukou_in_county
    assert not moved.facts.deceased


def test_receipt_facts_from_the_enrolments_open_on_the_date() -> None:
    child = family()
    enrol(child, "dibao", D("2024-01-01"))
    enrol(child, "tekun", D("2024-01-01"), D("2025-05-01"))  # ended in May
    enrol(child, "disability_care_subsidy", D("2025-06-01"))
    sibling = Child.objects.create(
        household=child.household,
        village_id=child.village_id,
        name="李二娃",
        gender="male",
        birth_date=D("2017-01-01"),
        registered_on=D("2024-01-01"),
        status_since=D("2024-01-01"),
    )
    record = record_of(child)
    assert record.facts.household == rules.Household(dibao=True, low_income=False, tekun=False)
    assert record.facts.enrolled == {
        rules.Programme.DIBAO,
        rules.Programme.DISABILITY_CARE_SUBSIDY,
    }
    # The household's dibao counts for every child of it; the tekun of May no longer in June.
    assert record_of(sibling).facts.enrolled == {rules.Programme.DIBAO}
    assert record_of(child, D("2025-05-31")).facts.household.tekun


def test_defaults_for_what_the_registry_lacks() -> None:
    facts = record_of(family()).facts
    assert not facts.in_institution
    assert not facts.adopted
    assert facts.hukou_in_county
    assert not facts.household.low_income


@pytest.mark.parametrize("size", [3, 30])
def test_queries_do_not_grow_with_the_children(size: int, django_assert_num_queries: Any) -> None:
    made = []
    for n in range(size):
        child = family(father=("deceased", "full"), mother=("alive", "imprisoned"))
        enrol(child, "dibao", D("2024-01-01"))
        if n % 2:
            enrol(child, "tekun", D("2024-01-01"))
        made.append(child)
    loaded = list(Child.objects.only(*CHILD_FIELDS).filter(pk__in=[c.pk for c in made]))
    with django_assert_num_queries(2):  # parents, enrolments
        found = facts_for(loaded, AS_OF)
    assert len(found) == size
    assert all(r.facts.household.dibao for r in found.values())
    assert sum(r.facts.household.tekun for r in found.values()) == size // 2
