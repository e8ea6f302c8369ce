"""The classification rules at every edge of the policy (issue 3, "Classification")."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongxin.core.dates import add_months, birthday
from tongxin.registry.rules import (
    Capacity,
    CategoryCode,
    ChildFacts,
    Destination,
    MigrationSpell,
    ParentFacts,
    ParentStatus,
    Residence,
    Thresholds,
    classify,
)

LB = CategoryCode.LEFT_BEHIND
ORPHAN = CategoryCode.ORPHAN
DFU = CategoryCode.DE_FACTO_UNSUPPORTED
SINGLE = CategoryCode.SINGLE_PARENT
D = date.fromisoformat


def away(
    left_on: str | None,
    returned_on: str | None = None,
    destination: Destination = Destination.OUT_OF_PROVINCE,
    known_since: str | None = None,
) -> MigrationSpell:
    return MigrationSpell(
        left_on=D(left_on) if left_on else None,
        returned_on=D(returned_on) if returned_on else None,
        destination=destination,
        known_since=D(known_since) if known_since else None,
    )


def parent(
    *spells: MigrationSpell,
    status: ParentStatus = ParentStatus.ALIVE,
    capacity: Capacity = Capacity.FULL,
) -> ParentFacts:
    return ParentFacts(status=status, capacity=capacity, migrations=spells)


HOME = parent()
LONG_AWAY = parent(away("2010-01-01"))


def child(
    father: ParentFacts = HOME,
    mother: ParentFacts = HOME,
    birth: str = "2012-05-01",
    lives_in: Residence = Residence.VILLAGE,
    *,
    parents_divorced: bool = False,
    dibao: bool = False,
    tekun: bool = False,
    disability_grade: int | None = None,
    serious_illness: bool = False,
) -> ChildFacts:
    return ChildFacts(
        birth_date=D(birth),
        lives_in=lives_in,
        father=father,
        mother=mother,
        parents_divorced=parents_divorced,
        dibao=dibao,
        tekun=tekun,
        disability_grade=disability_grade,
        serious_illness=serious_illness,
    )


def codes(facts: ChildFacts, as_of: str, thresholds: Thresholds | None = None) -> set[str]:
    result = (
        classify(facts, D(as_of)) if thresholds is None else classify(facts, D(as_of), thresholds)
    )
    return set(result.codes)


class TestDates:
    @pytest.mark.parametrize(
        ("day", "months", "expected"),
        [
            ("2024-01-10", 3, "2024-04-10"),
            ("2023-11-30", 3, "2024-02-29"),  # leap year: the last day of February
            ("2022-11-30", 3, "2023-02-28"),  # common year
            ("2023-11-29", 3, "2024-02-29"),
            ("2022-11-29", 3, "2023-02-28"),
            ("2024-03-31", 3, "2024-06-30"),
            ("2023-12-31", 3, "2024-03-31"),
            ("2024-01-31", 1, "2024-02-29"),
            ("2024-10-15", 3, "2025-01-15"),  # across the year
            ("2024-12-31", 14, "2026-02-28"),
            ("2024-02-29", 12, "2025-02-28"),
            ("2024-05-31", 0, "2024-05-31"),
            ("1900-11-30", 3, "1901-02-28"),
            ("2099-11-30", 3, "2100-02-28"),  # 2100 is not a leap year
            ("1999-11-30", 3, "2000-02-29"),  # 2000 is
        ],
    )
    def test_it_adds_calendar_months(self, day: str, months: int, expected: str) -> None:
        assert add_months(D(day), months) == D(expected)

    @pytest.mark.parametrize(
        ("birth", "age", "expected"),
        [
            ("2012-05-01", 16, "2028-05-01"),
            ("2008-02-29", 16, "2024-02-29"),  # a leap year: the day itself
            ("2008-02-29", 18, "2026-03-01"),  # a common year: 1 March (our choice)
            ("2008-02-29", 1, "2009-03-01"),
            ("2008-02-28", 18, "2026-02-28"),
            ("2007-12-31", 16, "2023-12-31"),
        ],
    )
    def test_it_finds_the_birthday(self, birth: str, age: int, expected: str) -> None:
        assert birthday(D(birth), age) == D(expected)


# Both parents away since long ago: left-behind until the 16th birthday (2028-05-01).
BOTH_AWAY = child(LONG_AWAY, LONG_AWAY)


class TestAge:
    @pytest.mark.parametrize(
        ("facts", "as_of", "expected"),
        [
            (BOTH_AWAY, "2028-04-30", {LB}),
            (BOTH_AWAY, "2028-05-01", set()),
            (child(LONG_AWAY, LONG_AWAY, dibao=True), "2028-05-01", {CategoryCode.DIBAO_FAMILY}),
            (child(dibao=True), "2030-04-30", {CategoryCode.DIBAO_FAMILY}),
            (child(dibao=True), "2030-05-01", set()),
            (child(mother=parent(status=ParentStatus.DECEASED)), "2030-04-30", {SINGLE}),
            (child(mother=parent(status=ParentStatus.DECEASED)), "2030-05-01", set()),
            # born on 29 February 2008: 16 on 29 February 2024, 18 on 1 March 2026
            (child(LONG_AWAY, LONG_AWAY, birth="2008-02-29"), "2024-02-28", {LB}),
            (child(LONG_AWAY, LONG_AWAY, birth="2008-02-29"), "2024-02-29", set()),
            (child(birth="2008-02-29", tekun=True), "2026-02-28", {CategoryCode.TEKUN}),
            (child(birth="2008-02-29", tekun=True), "2026-03-01", set()),
            # not yet born
            (child(LONG_AWAY, LONG_AWAY, dibao=True), "2012-04-30", set()),
            (child(LONG_AWAY, LONG_AWAY, dibao=True), "2012-05-01", {LB, "dibao_family"}),
        ],
    )
    def test_it_applies_the_age_limits(
        self, facts: ChildFacts, as_of: str, expected: set[str]
    ) -> None:
        assert codes(facts, as_of) == expected

    def test_it_takes_the_ages_from_the_thresholds(self) -> None:
        county = Thresholds(left_behind_age=14, difficulty_age=16, absence_months=6)
        assert codes(BOTH_AWAY, "2026-04-30", county) == {LB}
        assert codes(BOTH_AWAY, "2026-05-01", county) == set()
        assert codes(child(dibao=True), "2028-04-30", county) == {"dibao_family"}
        assert codes(child(dibao=True), "2028-05-01", county) == set()


class TestAbsence:
    @pytest.mark.parametrize(
        ("left_on", "as_of", "expected"),
        [
            ("2024-01-10", "2024-04-09", set()),
            ("2024-01-10", "2024-04-10", {LB}),
            ("2023-11-30", "2024-02-28", set()),  # reaches 3 months on 29 Feb (leap year)
            ("2023-11-30", "2024-02-29", {LB}),
            ("2022-11-30", "2023-02-27", set()),  # on 28 Feb (common year)
            ("2022-11-30", "2023-02-28", {LB}),
            ("2024-03-31", "2024-06-29", set()),
            ("2024-03-31", "2024-06-30", {LB}),
            ("2023-12-31", "2024-03-30", set()),
            ("2023-12-31", "2024-03-31", {LB}),
            ("2024-07-01", "2024-06-30", set()),  # leaves in the future
        ],
    )
    def test_it_counts_three_calendar_months(
        self, left_on: str, as_of: str, expected: set[str]
    ) -> None:
        # the later of the two spells decides
        assert codes(child(LONG_AWAY, parent(away(left_on))), as_of) == expected
        assert codes(child(parent(away(left_on)), LONG_AWAY), as_of) == expected

    def test_it_takes_the_months_from_the_thresholds(self) -> None:
        six = Thresholds(absence_months=6)
        facts = child(LONG_AWAY, parent(away("2024-01-10")))
        assert codes(facts, "2024-07-09", six) == set()
        assert codes(facts, "2024-07-10", six) == {LB}

    @pytest.mark.parametrize(
        ("returned_on", "expected"),
        [
            ("2024-06-29", set()),  # the day before the date
            ("2024-06-30", set()),  # on the date: the spell has ended
            ("2024-07-01", {LB}),  # after the date: still away on it
        ],
    )
    def test_it_ignores_spells_that_ended(self, returned_on: str, expected: set[str]) -> None:
        facts = child(LONG_AWAY, parent(away("2024-01-10", returned_on)))
        assert codes(facts, "2024-06-30") == expected

    def test_it_counts_a_new_spell_afresh_after_a_return(self) -> None:
        mother = parent(away("2023-01-01", "2024-03-01"), away("2024-05-01"))
        assert codes(child(LONG_AWAY, mother), "2024-07-31") == set()
        assert codes(child(LONG_AWAY, mother), "2024-08-01") == {LB}

    @pytest.mark.parametrize(
        ("father_to", "mother_to", "expected"),
        [
            (Destination.IN_COUNTY, Destination.IN_COUNTY, set()),
            (Destination.IN_COUNTY, Destination.OUT_OF_PROVINCE, set()),
            (Destination.OUT_OF_PROVINCE, Destination.IN_COUNTY, set()),
            (Destination.OUT_OF_COUNTY, Destination.OUT_OF_COUNTY, {LB}),
            (Destination.OUT_OF_COUNTY, Destination.OUT_OF_PROVINCE, {LB}),
            (Destination.OUT_OF_PROVINCE, Destination.OUT_OF_PROVINCE, {LB}),
        ],
    )
    def test_it_counts_only_spells_out_of_the_county(
        self, father_to: Destination, mother_to: Destination, expected: set[str]
    ) -> None:
        facts = child(
            parent(away("2020-01-01", destination=father_to)),
            parent(away("2020-01-01", destination=mother_to)),
        )
        assert codes(facts, "2024-06-30") == expected

    @pytest.mark.parametrize(
        ("known_since", "returned_on", "as_of", "expected"),
        [
            ("2024-03-01", None, "2024-02-29", set()),  # before the ledger was imported
            ("2024-03-01", None, "2024-03-01", {LB}),  # counts as 3 months on the import date
            ("2024-03-01", "2024-05-01", "2024-04-30", {LB}),
            ("2024-03-01", "2024-05-01", "2024-05-01", set()),
        ],
    )
    def test_it_counts_an_unknown_start_as_three_months_from_known_since(
        self, known_since: str, returned_on: str | None, as_of: str, expected: set[str]
    ) -> None:
        spell = away(None, returned_on, known_since=known_since)
        assert codes(child(LONG_AWAY, parent(spell)), as_of) == expected

    def test_it_needs_known_since_for_an_unknown_start(self) -> None:
        with pytest.raises(ValueError, match="known_since"):
            away(None)

    def test_it_needs_a_village(self) -> None:
        assert (
            codes(child(LONG_AWAY, LONG_AWAY, lives_in=Residence.COMMUNITY), "2024-06-30") == set()
        )
        assert codes(
            child(LONG_AWAY, LONG_AWAY, lives_in=Residence.COMMUNITY, dibao=True), "2024-06-30"
        ) == {"dibao_family"}


class TestOtherParentLacksCapacity:
    @pytest.mark.parametrize(
        ("capacity", "left_behind"),
        [
            (Capacity.FULL, False),
            (Capacity.SERIOUS_ILLNESS, True),
            (Capacity.SERIOUS_DISABILITY, True),
            (Capacity.IMPRISONED, True),
            (Capacity.COMPULSORY_DETOX, True),
            (Capacity.RESTRICTED_FREEDOM, True),
        ],
    )
    def test_it_counts_each_capacity(self, capacity: Capacity, left_behind: bool) -> None:
        at_home = parent(capacity=capacity)
        assert (LB in codes(child(LONG_AWAY, at_home), "2024-06-30")) is left_behind
        assert (LB in codes(child(at_home, LONG_AWAY), "2024-06-30")) is left_behind

    @pytest.mark.parametrize(
        ("status", "left_behind"),
        [
            (ParentStatus.ALIVE, False),
            (ParentStatus.DECEASED, True),
            (ParentStatus.DECLARED_DEAD, True),
            (ParentStatus.DECLARED_MISSING, True),
            (ParentStatus.LOST_CONTACT, True),
            (ParentStatus.UNKNOWN, True),
        ],
    )
    def test_it_counts_each_status(self, status: ParentStatus, left_behind: bool) -> None:
        other = parent(status=status)
        assert (LB in codes(child(LONG_AWAY, other), "2024-06-30")) is left_behind
        assert (LB in codes(child(other, LONG_AWAY), "2024-06-30")) is left_behind

    def test_it_needs_the_away_parent_to_reach_three_months(self) -> None:
        ill = parent(capacity=Capacity.SERIOUS_ILLNESS)
        assert codes(child(parent(away("2024-04-01")), ill), "2024-06-30") == set()
        assert codes(child(parent(away("2024-04-01")), ill), "2024-07-01") == {LB}

    def test_it_needs_someone_away(self) -> None:
        ill = parent(capacity=Capacity.SERIOUS_ILLNESS)
        assert LB not in codes(child(ill, ill), "2024-06-30")


A, F = ParentStatus.ALIVE, Capacity.FULL


class TestGuardianship:
    @pytest.mark.parametrize(
        ("father", "mother", "divorced", "expected"),
        [
            ((A, F), (A, F), False, set()),
            ((A, F), (A, F), True, {SINGLE}),
            # orphans
            (("deceased", F), ("deceased", F), False, {ORPHAN}),
            (("declared_dead", F), ("declared_missing", F), False, {ORPHAN}),
            (("declared_missing", F), ("deceased", F), True, {ORPHAN}),
            (("deceased", "serious_illness"), ("deceased", F), False, {ORPHAN}),
            # de facto unsupported: both unable ...
            ((A, "imprisoned"), (A, "compulsory_detox"), False, {DFU}),
            ((A, "serious_disability"), ("lost_contact", F), False, {DFU}),
            (("lost_contact", F), ("lost_contact", F), False, {DFU}),
            ((A, "serious_illness"), (A, "restricted_freedom"), True, {DFU}),
            # ... or one gone and the other unable
            (("deceased", F), ("lost_contact", F), False, {DFU}),
            (("deceased", F), (A, "imprisoned"), False, {DFU}),
            ((A, "serious_illness"), ("declared_missing", F), False, {DFU}),
            (("declared_dead", F), (A, "serious_disability"), True, {DFU}),
            # single parent: one alive, the other not
            (("deceased", F), (A, F), False, {SINGLE}),
            ((A, F), ("declared_dead", F), False, {SINGLE}),
            ((A, F), ("declared_missing", F), False, {SINGLE}),
            (("lost_contact", F), (A, F), False, {SINGLE}),
            (("unknown", F), (A, F), False, {SINGLE}),
            (("unknown", F), (A, "imprisoned"), False, {SINGLE}),  # unknown is not "unable"
            # neither
            ((A, "imprisoned"), (A, F), False, set()),
            (("unknown", F), ("unknown", F), False, set()),
            (("unknown", F), ("unknown", F), True, {SINGLE}),
        ],
    )
    def test_it_classifies_guardianship(
        self,
        father: tuple[str, str],
        mother: tuple[str, str],
        divorced: bool,
        expected: set[str],
    ) -> None:
        facts = child(
            parent(status=ParentStatus(father[0]), capacity=Capacity(father[1])),
            parent(status=ParentStatus(mother[0]), capacity=Capacity(mother[1])),
            parents_divorced=divorced,
        )
        assert codes(facts, "2024-06-30") == expected
        assert classify(facts, D("2024-06-30")).in_difficulty is bool(expected)


class TestOwnFacts:
    @pytest.mark.parametrize(
        ("facts", "expected"),
        [
            ({}, set()),
            ({"dibao": True}, {"dibao_family"}),
            ({"tekun": True}, {"tekun"}),
            ({"disability_grade": 1}, {"disabled"}),
            ({"disability_grade": 4}, {"disabled"}),
            ({"serious_illness": True}, {"seriously_ill"}),
            (
                {"dibao": True, "tekun": True, "disability_grade": 2, "serious_illness": True},
                {"dibao_family", "tekun", "disabled", "seriously_ill"},
            ),
        ],
    )
    def test_it_classifies_the_family_and_the_child(
        self, facts: dict[str, Any], expected: set[str]
    ) -> None:
        result = classify(child(**facts), D("2024-06-30"))
        assert set(result.codes) == expected
        assert result.in_difficulty is bool(expected)

    def test_it_is_in_difficulty_beside_left_behind(self) -> None:
        assert classify(BOTH_AWAY, D("2024-06-30")).in_difficulty is False
        both = classify(child(LONG_AWAY, LONG_AWAY, disability_grade=3), D("2024-06-30"))
        assert both.codes == (LB, CategoryCode.DISABLED)
        assert both.in_difficulty is True


class TestReasons:
    def test_it_names_the_facts_of_both_parents_away(self) -> None:
        facts = child(
            parent(away("2024-01-10", destination=Destination.OUT_OF_PROVINCE)),
            parent(away("2023-12-01", destination=Destination.OUT_OF_COUNTY)),
        )
        [category] = classify(facts, D("2024-06-30")).categories
        assert category.reason == (
            "父母均跨县外出务工满3个月（父亲自2024年1月10日起在省外务工，"
            "母亲自2023年12月1日起在省内县外务工）；儿童居住在农村，未满16周岁（2012年5月1日出生）"
        )

    def test_it_names_the_parent_who_lacks_capacity(self) -> None:
        facts = child(parent(capacity=Capacity.SERIOUS_ILLNESS), parent(away("2024-01-10")))
        [category] = classify(facts, D("2024-06-30")).categories
        assert category.reason == (
            "母亲跨县外出务工满3个月（自2024年1月10日起在省外务工），父亲无监护能力（患重病）；"
            "儿童居住在农村，未满16周岁（2012年5月1日出生）"
        )

    def test_it_says_when_the_start_is_unknown(self) -> None:
        facts = child(LONG_AWAY, parent(away(None, known_since="2024-03-01")))
        [category] = classify(facts, D("2024-06-30")).categories
        assert "母亲在省外务工，起始日期不详（2024年3月1日登记时按已满3个月计）" in category.reason

    @pytest.mark.parametrize(
        ("facts", "reason"),
        [
            (
                child(
                    parent(status=ParentStatus.DECEASED), parent(status=ParentStatus.DECLARED_DEAD)
                ),
                "父亲已故，母亲被宣告死亡；儿童未满18周岁（2012年5月1日出生）",
            ),
            (
                child(
                    parent(capacity=Capacity.IMPRISONED), parent(status=ParentStatus.LOST_CONTACT)
                ),
                "父亲服刑在押，母亲失联；儿童未满18周岁（2012年5月1日出生）",
            ),
            (
                child(mother=parent(status=ParentStatus.DECEASED), parents_divorced=True),
                "父亲健在，母亲已故；父母离异；儿童未满18周岁（2012年5月1日出生）",
            ),
            (child(dibao=True), "家庭享受最低生活保障（低保）；儿童未满18周岁（2012年5月1日出生）"),
            (
                child(disability_grade=2),
                "儿童残疾，残疾等级为二级；儿童未满18周岁（2012年5月1日出生）",
            ),
        ],
    )
    def test_it_names_the_facts_of_difficulty(self, facts: ChildFacts, reason: str) -> None:
        [category] = classify(facts, D("2024-06-30")).categories
        assert category.reason == reason


# Property: the exclusions hold and adults are never in difficulty, whatever the facts.

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
spells = st.builds(
    MigrationSpell,
    left_on=days,
    returned_on=st.none() | days,
    destination=st.sampled_from(Destination),
) | st.builds(  # the start unknown, as imported from a ledger
    MigrationSpell,
    left_on=st.none(),
    returned_on=st.none() | days,
    destination=st.sampled_from(Destination),
    known_since=days,
)
parents = st.builds(
    ParentFacts,
    status=st.sampled_from(ParentStatus),
    capacity=st.sampled_from(Capacity),
    migrations=st.lists(spells, max_size=3).map(tuple),
)
children = st.builds(
    ChildFacts,
    birth_date=days,
    lives_in=st.sampled_from(Residence),
    father=parents,
    mother=parents,
    parents_divorced=st.booleans(),
    dibao=st.booleans(),
    tekun=st.booleans(),
    disability_grade=st.none() | st.integers(1, 4),
    serious_illness=st.booleans(),
)


@given(facts=children, as_of=days)
def test_it_never_combines_excluded_categories_nor_classifies_adults(
    facts: ChildFacts, as_of: date
) -> None:
    result = classify(facts, as_of)
    found = set(result.codes)
    if ORPHAN in found:
        assert not found & {DFU, SINGLE}
    if DFU in found:
        assert SINGLE not in found
    if as_of >= birthday(facts.birth_date, 18):
        assert found <= {LB}
        assert not result.in_difficulty
    assert result.in_difficulty is bool(found - {LB})
    assert len(result.codes) == len(found)


def test_it_rejects_thresholds_below_one() -> None:
    with pytest.raises(ValueError, match="positive"):
        Thresholds(absence_months=0)


def test_it_does_not_classify_before_birth() -> None:
    assert classify(BOTH_AWAY, D("2012-05-01") - timedelta(days=1)).categories == ()


@given(left_on=days, as_of=days, months=st.integers(1, 24))
def test_it_reaches_the_months_exactly_on_the_calendar_mark(
    left_on: date, as_of: date, months: int
) -> None:
    away_parent, ill_parent = (
        parent(away(left_on.isoformat())),
        parent(capacity=Capacity.SERIOUS_ILLNESS),
    )
    facts = child(away_parent, ill_parent, birth="1990-01-01")
    found = classify(facts, as_of, Thresholds(absence_months=months, left_behind_age=99)).codes
    assert (LB in found) is (as_of >= add_months(left_on, months))
