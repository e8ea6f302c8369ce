"""The eligibility rules at every edge of issue 13 ("Eligibility rules"), table by table."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from tongxin.benefits.rules import (
    COMPUTED,
    EXCLUSIVE_PAIRS,
    ChildFacts,
    Disability,
    DisabilityCategory,
    Eligibility,
    Household,
    ParentFacts,
    ParentState,
    Programme,
    Rate,
    Schooling,
    Standing,
    Thresholds,
    describe_parent,
    eligibility,
    parent_standing,
)

D = date.fromisoformat
AS_OF = D("2024-06-30")

P = Programme
ORPHAN = P.ORPHAN_ALLOWANCE
DE_FACTO = P.DE_FACTO_ALLOWANCE
LIVING = P.DISABILITY_LIVING_SUBSIDY
CARE = P.DISABILITY_CARE_SUBSIDY
REHAB = P.REHAB_ASSISTANCE
C = DisabilityCategory


def parent(
    state: str = "able",
    since: str | None = None,
    until: str | None = None,
    disability: tuple[str, int] | None = None,
) -> ParentFacts:
    return ParentFacts(
        state=ParentState(state),
        since=D(since) if since else None,
        until=D(until) if until else None,
        disability=Disability(C(disability[0]), disability[1]) if disability else None,
    )


DEAD = parent("deceased", "2020-01-01")
IN_PRISON = parent("imprisoned", "2023-03-01", "2025-03-01")
ABLE = parent()


def child(
    birth_date: str = "2012-05-01",
    *,
    father: ParentFacts = ABLE,
    mother: ParentFacts = ABLE,
    disability: tuple[str, int] | None = None,
    enrolled: tuple[str, ...] = (),
    dibao: bool = False,
    low_income: bool = False,
    tekun: bool = False,
    **changes: Any,
) -> ChildFacts:
    return ChildFacts(
        birth_date=D(birth_date),
        father=father,
        mother=mother,
        disability=Disability(C(disability[0]), disability[1]) if disability else None,
        household=Household(dibao=dibao, low_income=low_income, tekun=tekun),
        enrolled=frozenset(P(code) for code in enrolled),
        **changes,
    )


def decide(facts: ChildFacts, as_of: str | date = AS_OF, **thresholds: Any) -> Eligibility:
    day = D(as_of) if isinstance(as_of, str) else as_of
    return eligibility(facts, day, Thresholds(**thresholds))


def eligible(facts: ChildFacts, as_of: str | date = AS_OF, **thresholds: Any) -> set[Programme]:
    return {p.code for p in decide(facts, as_of, **thresholds).programmes if p.eligible}


def standing(p: ParentFacts, as_of: str = "2024-06-30", **thresholds: Any) -> Standing:
    return parent_standing(p, "父亲", D(as_of), Thresholds(**thresholds)).standing


GONE, UNABLE, OK = Standing.GONE, Standing.UNABLE, Standing.ABLE


class TestParentStanding:
    @pytest.mark.parametrize(
        ("p", "expected"),
        [
            (parent("able"), OK),
            (parent("able", "2030-01-01"), OK),
            (parent("deceased"), GONE),
            (parent("deceased", "2024-06-30"), GONE),
            (parent("declared_dead", "2019-01-01"), GONE),
            (parent("declared_missing", "2019-01-01"), GONE),
            (parent("unknown"), GONE),
            (parent("serious_illness", "2024-01-01"), UNABLE),
            (parent("serious_illness"), UNABLE),
            (parent("guardianship_revoked", "2024-06-30"), UNABLE),
            (parent("deported", "2010-06-30"), UNABLE),
        ],
        ids=lambda v: str(v.state) if isinstance(v, ParentFacts) else str(v),
    )
    def test_it_sorts_each_state_into_gone_unable_or_able(
        self, p: ParentFacts, expected: Standing
    ) -> None:
        assert standing(p) == expected

    @pytest.mark.parametrize(
        "state",
        ["deceased", "declared_missing", "serious_illness", "guardianship_revoked", "deported"],
    )
    @pytest.mark.parametrize(
        ("since", "until", "in_force"),
        [
            ("2024-06-30", None, True),  # since the very day
            ("2024-07-01", None, False),  # since after the date: not yet
            ("2020-01-01", "2024-07-01", True),  # ends after the date
            ("2020-01-01", "2024-06-30", False),  # ends on the date: over
            ("2020-01-01", "2024-06-29", False),
        ],
    )
    def test_a_state_is_in_force_from_since_up_to_the_day_before_until(
        self, state: str, since: str, until: str | None, in_force: bool
    ) -> None:
        p = parent(state, since, until)
        assert (standing(p) != OK) is in_force

    @pytest.mark.parametrize(
        ("category", "grade", "expected"),
        [
            ("physical", 1, UNABLE),
            ("physical", 2, UNABLE),
            ("physical", 3, OK),  # a grade-3 physical disability is not enough
            ("physical", 4, OK),
            ("visual", 3, OK),
            ("hearing", 2, UNABLE),
            ("speech", 4, OK),
            ("multiple", 3, OK),
            ("autism", 3, OK),
            ("intellectual", 3, UNABLE),
            ("intellectual", 4, UNABLE),
            ("mental", 3, UNABLE),
            ("mental", 4, UNABLE),
        ],
    )
    def test_a_severe_disability_is_grade_1_or_2_or_3_or_4_if_intellectual_or_mental(
        self, category: str, grade: int, expected: Standing
    ) -> None:
        assert standing(parent("severe_disability", "2015-01-01", None, (category, grade))) == (
            expected
        )

    @pytest.mark.parametrize("state", ["imprisoned", "compulsory_detox", "restricted_freedom"])
    @pytest.mark.parametrize(
        ("since", "until", "as_of", "expected"),
        [
            # exactly 6 calendar months in all: long enough
            ("2024-01-10", "2024-07-10", "2024-06-30", UNABLE),
            # a day short of 6 months
            ("2024-01-10", "2024-07-09", "2024-06-30", OK),
            # no until: long enough, from the first day
            ("2024-06-30", None, "2024-06-30", UNABLE),
            ("2024-07-01", None, "2024-06-30", OK),  # not begun
            # a long sentence ending on the date is over; the day before, still in force
            ("2023-01-01", "2024-06-30", "2024-06-30", OK),
            ("2023-01-01", "2024-06-30", "2024-06-29", UNABLE),
            # month ends: 31 August + 6 months is 29 February (a leap year)
            ("2023-08-31", "2024-02-29", "2024-01-01", UNABLE),
            ("2023-08-31", "2024-02-28", "2024-01-01", OK),
            # ... and 28 February in a common year
            ("2022-08-31", "2023-02-28", "2023-01-01", UNABLE),
            ("2022-08-31", "2023-02-27", "2023-01-01", OK),
            # long enough but not yet begun
            ("2024-07-01", "2026-07-01", "2024-06-30", OK),
        ],
    )
    def test_a_restriction_of_freedom_counts_when_in_force_and_six_months_long(
        self, state: str, since: str, until: str | None, as_of: str, expected: Standing
    ) -> None:
        assert standing(parent(state, since, until), as_of) == expected

    @pytest.mark.parametrize(
        ("since", "until", "as_of", "expected"),
        [
            ("2024-01-10", None, "2024-07-09", OK),  # a day short of 6 months since the report
            ("2024-01-10", None, "2024-07-10", UNABLE),
            ("2023-08-31", None, "2024-02-28", OK),
            ("2023-08-31", None, "2024-02-29", UNABLE),
            ("2024-07-01", None, "2024-06-30", OK),  # reported after the date
            (None, None, "2024-06-30", OK),  # no police report: never
            ("2020-01-01", "2024-06-30", "2024-06-30", OK),  # contact restored on the date
            ("2020-01-01", "2024-07-01", "2024-06-30", UNABLE),
        ],
    )
    def test_lost_contact_counts_six_months_after_the_police_accepted_the_report(
        self, since: str | None, until: str | None, as_of: str, expected: Standing
    ) -> None:
        assert standing(parent("lost_contact", since, until), as_of) == expected

    def test_the_limits_are_settings(self) -> None:
        short = parent("imprisoned", "2024-06-10", "2024-09-10")
        assert standing(short) == OK
        assert standing(short, restriction_months=3) == UNABLE
        reported = parent("lost_contact", "2024-04-10")
        assert standing(reported) == OK
        assert standing(reported, lost_contact_months=2) == UNABLE
        grade_3 = parent("severe_disability", "2015-01-01", None, ("physical", 3))
        assert standing(grade_3, severe_grade=3) == UNABLE
        grade_4 = parent("severe_disability", "2015-01-01", None, ("mental", 4))
        assert standing(grade_4, severe_grade_intellectual_mental=3) == OK

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"state": ParentState.IMPRISONED}, "needs since"),
            ({"state": ParentState.COMPULSORY_DETOX}, "needs since"),
            ({"state": ParentState.RESTRICTED_FREEDOM}, "needs since"),
            ({"state": ParentState.GUARDIANSHIP_REVOKED}, "needs since"),
            ({"state": ParentState.DEPORTED}, "needs since"),
            ({"state": ParentState.SEVERE_DISABILITY}, "disability"),
            (
                {"state": ParentState.DECEASED, "since": D("2024-02-01"), "until": D("2024-01-31")},
                "before since",
            ),
        ],
    )
    def test_it_refuses_facts_it_cannot_judge(self, kwargs: dict[str, Any], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            ParentFacts(**kwargs)

    @pytest.mark.parametrize("grade", [0, 5])
    def test_a_disability_grade_is_1_to_4(self, grade: int) -> None:
        with pytest.raises(ValueError, match="1 to 4"):
            Disability(C.PHYSICAL, grade)


class TestParentReasons:
    @pytest.mark.parametrize(
        ("p", "text"),
        [
            (IN_PRISON, "父亲服刑在押（2023年3月1日起，刑期2年，至2025年3月1日）"),
            (
                parent("imprisoned", "2023-03-01", "2024-09-01"),
                "父亲服刑在押（2023年3月1日起，刑期1年6个月，至2024年9月1日）",
            ),
            (
                parent("compulsory_detox", "2024-01-01", "2024-06-30"),
                "父亲强制隔离戒毒（2024年1月1日起，期限5个月29天，至2024年6月30日）",
            ),
            (
                parent("restricted_freedom", "2024-01-01"),
                "父亲被执行其他限制人身自由的措施（2024年1月1日起，期限未定结束日期）",
            ),
            (DEAD, "父亲已故（2020年1月1日）"),
            (parent("deceased"), "父亲已故"),
            (parent("unknown", "2019-05-01"), "父亲查找不到（2019年5月1日起）"),
            (
                parent("severe_disability", "2015-01-01", None, ("intellectual", 3)),
                "父亲残疾（智力残疾三级，2015年1月1日起）",
            ),
            (parent("lost_contact", "2024-01-10"), "父亲失联（2024年1月10日公安机关受理报案）"),
            (parent("lost_contact"), "父亲失联，但无公安机关受理报案的日期"),
            (parent("deported", "2022-02-02"), "父亲被遣送或驱逐出境（2022年2月2日起）"),
            (ABLE, "父亲有抚养能力"),
        ],
    )
    def test_it_names_the_state_and_its_dates(self, p: ParentFacts, text: str) -> None:
        assert describe_parent(p, "父亲") == text

    @pytest.mark.parametrize(
        ("p", "as_of", "tail"),
        [
            (parent("imprisoned", "2024-01-10", "2024-07-09"), "2024-06-30", "，不足6个月"),
            (parent("imprisoned", "2024-07-01"), "2024-06-30", "，2024年6月30日时尚未开始"),
            (parent("deceased", "2024-07-01"), "2024-06-30", "，2024年6月30日时尚未发生"),
            (
                parent("imprisoned", "2023-01-01", "2024-06-30"),
                "2024-06-30",
                "已于2024年6月30日结束",
            ),
            (
                parent("lost_contact", "2024-01-10"),
                "2024-07-09",
                "，至2024年7月9日未满6个月，不能认定为失联",
            ),
            (parent("lost_contact", "2024-01-10"), "2024-07-10", "，已满6个月"),
            (parent("lost_contact"), "2024-07-10", "，无法认定为失联"),
            (
                parent("severe_disability", "2015-01-01", None, ("physical", 3)),
                "2024-06-30",
                "，未达到重度残疾（二级及以上，或智力、精神残疾四级及以上）",
            ),
            (
                parent("severe_disability", "2015-01-01", None, ("mental", 4)),
                "2024-06-30",
                "父亲残疾（精神残疾四级，2015年1月1日起），属于重度残疾",
            ),
        ],
    )
    def test_it_says_why_a_state_does_not_count(
        self, p: ParentFacts, as_of: str, tail: str
    ) -> None:
        assert parent_standing(p, "父亲", D(as_of)).reason.endswith(tail)


class TestAllowances:
    @pytest.mark.parametrize(
        ("father", "mother", "expected"),
        [
            (DEAD, DEAD, {ORPHAN}),
            (parent("declared_missing", "2019-01-01"), parent("unknown"), {ORPHAN}),
            (parent("declared_dead", "2019-01-01"), DEAD, {ORPHAN}),
            (IN_PRISON, DEAD, {DE_FACTO}),  # one gone, the other in S
            (DEAD, parent("serious_illness"), {DE_FACTO}),
            (IN_PRISON, parent("lost_contact", "2023-01-01"), {DE_FACTO}),  # both in S
            (
                parent("guardianship_revoked", "2024-01-01"),
                parent("deported", "2023-01-01"),
                {DE_FACTO},
            ),
            (DEAD, ABLE, set()),
            (IN_PRISON, ABLE, set()),
            (ABLE, ABLE, set()),
            # a sentence a day short of 6 months, a report a day short: not in S
            (DEAD, parent("imprisoned", "2024-01-10", "2024-07-09"), set()),
            (DEAD, parent("imprisoned", "2024-01-10", "2024-07-10"), {DE_FACTO}),
            # 31 December + 6 months is 30 June
            (DEAD, parent("lost_contact", "2023-12-31"), {DE_FACTO}),
            (DEAD, parent("lost_contact", "2024-01-01"), set()),
            # grade 3 physical vs intellectual
            (DEAD, parent("severe_disability", "2015-01-01", None, ("physical", 3)), set()),
            (
                DEAD,
                parent("severe_disability", "2015-01-01", None, ("intellectual", 3)),
                {DE_FACTO},
            ),
            # a death after the date does not count yet
            (DEAD, parent("deceased", "2024-07-01"), set()),
        ],
    )
    def test_parents_decide_orphan_or_de_facto(
        self, father: ParentFacts, mother: ParentFacts, expected: set[Programme]
    ) -> None:
        found = eligible(child(father=father, mother=mother)) & {ORPHAN, DE_FACTO}
        assert found == expected
        # the rules read the two parents alike
        assert eligible(child(father=mother, mother=father)) & {ORPHAN, DE_FACTO} == expected

    @pytest.mark.parametrize(
        ("father", "mother", "in_institution", "orphan_rate", "de_facto_rate"),
        [
            (DEAD, DEAD, True, Rate.INSTITUTIONAL, None),
            (DEAD, DEAD, False, Rate.SCATTERED, None),
            (IN_PRISON, DEAD, True, None, Rate.INSTITUTIONAL),
            (IN_PRISON, DEAD, False, None, Rate.SCATTERED),
            (ABLE, DEAD, True, None, None),
        ],
    )
    def test_the_rate_follows_the_home_and_is_null_when_not_eligible(
        self,
        father: ParentFacts,
        mother: ParentFacts,
        in_institution: bool,
        orphan_rate: Rate | None,
        de_facto_rate: Rate | None,
    ) -> None:
        result = decide(child(father=father, mother=mother, in_institution=in_institution))
        assert result[ORPHAN].rate == orphan_rate
        assert result[DE_FACTO].rate == de_facto_rate

    @pytest.mark.parametrize(
        ("father", "changes", "top_up"),
        [
            (IN_PRISON, {}, False),
            (IN_PRISON, {"dibao": True}, True),
            (IN_PRISON, {"enrolled": ("dibao",)}, True),  # dibao received, as an enrolment
            (IN_PRISON, {"enrolled": ("disability_living_subsidy",)}, True),
            (IN_PRISON, {"enrolled": ("disability_care_subsidy",)}, False),
            (IN_PRISON, {"low_income": True}, False),
            (ABLE, {"dibao": True}, False),  # not eligible: nothing to top up
        ],
    )
    def test_the_de_facto_allowance_tops_up_dibao_or_the_living_subsidy(
        self, father: ParentFacts, changes: dict[str, Any], top_up: bool
    ) -> None:
        result = decide(child(father=father, mother=DEAD, **changes))
        assert result[DE_FACTO].top_up is top_up
        assert ("补差发放" in result[DE_FACTO].reason) is top_up

    def test_the_orphan_allowance_is_paid_in_full(self) -> None:
        result = decide(child(father=DEAD, mother=DEAD, dibao=True))
        assert result[ORPHAN].eligible
        assert result[ORPHAN].top_up is False


class TestAge:
    """The 18th birthday, in and out of school; a child born on 29 February."""

    @pytest.mark.parametrize(
        ("schooling", "continues"),
        [
            ("none", False),
            ("preschool", True),
            ("primary", True),
            ("junior", True),
            ("senior", True),
            ("vocational", True),
            ("college", True),
            ("postgraduate", False),
        ],
    )
    @pytest.mark.parametrize(
        ("father", "code"), [(DEAD, ORPHAN), (IN_PRISON, DE_FACTO)], ids=["orphan", "de_facto"]
    )
    def test_the_allowances_continue_past_18_in_full_time_school_below_postgraduate(
        self, schooling: str, continues: bool, father: ParentFacts, code: Programme
    ) -> None:
        facts = child("2006-06-30", father=father, mother=DEAD, schooling=Schooling(schooling))
        assert code in eligible(facts, "2024-06-29")  # the day before the 18th birthday
        assert (code in eligible(facts, "2024-06-30")) is continues
        assert code not in eligible(facts, "2024-06-30", allowances_while_in_school=False)

    @pytest.mark.parametrize(
        ("as_of", "schooling", "expected"),
        [
            ("2026-02-28", "none", True),
            ("2026-03-01", "none", False),  # 18 on 1 March in a common year
            ("2026-03-01", "senior", True),
            ("2030-02-28", "college", True),
            ("2030-02-28", "postgraduate", False),
        ],
    )
    def test_a_child_born_on_29_february_turns_18_on_1_march(
        self, as_of: str, schooling: str, expected: bool
    ) -> None:
        facts = child("2008-02-29", father=DEAD, mother=DEAD, schooling=Schooling(schooling))
        assert (ORPHAN in eligible(facts, as_of)) is expected

    def test_the_disability_subsidies_end_at_18_even_in_school(self) -> None:
        facts = child(
            "2006-06-30", disability=("physical", 1), dibao=True, schooling=Schooling.SENIOR
        )
        assert {LIVING, CARE} <= eligible(facts, "2024-06-29")
        assert not {LIVING, CARE} & eligible(facts, "2024-06-30")
        assert "儿童已满18周岁（2006年6月30日出生）" in decide(facts, "2024-06-30")[CARE].reason

    def test_it_says_why_the_allowance_stopped(self) -> None:
        facts = child("2006-06-30", father=DEAD, mother=DEAD, schooling=Schooling.POSTGRADUATE)
        assert decide(facts, "2024-07-01")[ORPHAN].reason == (
            "儿童已满18周岁（2006年6月30日出生），就读研究生，不在延续发放之列"
        )
        senior = replace(facts, schooling=Schooling.SENIOR)
        assert decide(senior, "2024-07-01")[ORPHAN].reason == (
            "父亲已故（2020年1月1日），母亲已故（2020年1月1日）；儿童社会散居；"
            "儿童已满18周岁（2006年6月30日出生），仍在全日制高中就读"
        )


class TestDisabilityLivingSubsidy:
    BASE: dict[str, Any] = {"disability": ("physical", 4), "dibao": True}

    @pytest.mark.parametrize(
        ("changes", "expected"),
        [
            ({}, True),
            ({"disability": ("mental", 1)}, True),
            ({"disability": None}, False),
            ({"dibao": False}, False),
            ({"dibao": False, "enrolled": ("dibao",)}, True),
            ({"dibao": False, "low_income": True}, False),
            ({"father": DEAD, "mother": DEAD}, False),  # eligible for the orphan allowance
            ({"father": DEAD, "mother": IN_PRISON}, True),  # de facto does not bar it
            ({"tekun": True}, False),
            ({"enrolled": ("tekun",)}, False),
            ({"in_institution": True}, False),
        ],
    )
    def test_it_needs_a_certificate_dibao_and_no_orphan_tekun_or_institution(
        self, changes: dict[str, Any], expected: bool
    ) -> None:
        assert (LIVING in eligible(child(**{**self.BASE, **changes}))) is expected

    def test_an_orphan_aged_out_of_the_allowance_but_at_school_is_still_an_orphan(self) -> None:
        # 18 and at school: the orphan allowance continues, the living subsidy ended at 18 anyway
        facts = child(
            "2006-06-30", father=DEAD, mother=DEAD, schooling=Schooling.SENIOR, **self.BASE
        )
        assert eligible(facts, "2024-06-30") == {ORPHAN}


class TestDisabilityCareSubsidy:
    @pytest.mark.parametrize(
        ("disability", "tekun", "expected"),
        [
            (("physical", 1), False, True),
            (("intellectual", 2), False, True),
            (("intellectual", 3), False, False),
            (("physical", 4), False, False),
            (None, False, False),
            (("physical", 1), True, False),
        ],
    )
    def test_it_needs_grade_1_or_2_and_no_tekun(
        self, disability: tuple[str, int] | None, tekun: bool, expected: bool
    ) -> None:
        assert (CARE in eligible(child(disability=disability, tekun=tekun))) is expected


class TestRehabAssistance:
    @pytest.mark.parametrize(
        ("birth", "as_of", "expected"),
        [
            ("2017-06-30", "2024-06-29", True),  # the day before the 7th birthday
            ("2017-06-30", "2024-06-30", False),  # the 7th birthday
            ("2016-02-29", "2023-02-28", True),
            ("2016-02-29", "2023-03-01", False),  # 7 on 1 March in a common year
            ("2024-06-30", "2024-06-30", True),  # born that day
        ],
    )
    def test_it_ends_on_the_7th_birthday(self, birth: str, as_of: str, expected: bool) -> None:
        facts = child(birth, disability=("hearing", 2), dibao=True)
        assert (REHAB in eligible(facts, as_of)) is expected

    @pytest.mark.parametrize(
        ("category", "expected"),
        [
            ("visual", True),
            ("hearing", True),
            ("speech", True),
            ("physical", True),
            ("intellectual", True),
            ("autism", True),
            ("multiple", True),
            ("mental", False),
        ],
    )
    def test_it_covers_every_category_but_mental(self, category: str, expected: bool) -> None:
        facts = child("2020-01-01", disability=(category, 4), low_income=True)
        assert (REHAB in eligible(facts)) is expected

    @pytest.mark.parametrize(
        ("changes", "expected"),
        [
            ({}, False),
            ({"dibao": True}, True),
            ({"enrolled": ("dibao",)}, True),
            ({"low_income": True}, True),
            ({"tekun": True}, True),
            ({"father": DEAD, "mother": DEAD}, True),
            ({"father": DEAD, "mother": IN_PRISON}, True),
            ({"father": DEAD}, False),
            ({"in_institution": True}, True),
            ({"disability": None, "dibao": True}, False),
        ],
    )
    def test_it_needs_a_ground_of_need(self, changes: dict[str, Any], expected: bool) -> None:
        facts = child("2020-01-01", **{"disability": ("autism", 3), **changes})
        assert (REHAB in eligible(facts)) is expected


class TestNothing:
    @pytest.mark.parametrize(
        ("changes", "words"),
        [
            ({"adopted": True}, "儿童已被依法收养"),
            ({"deceased": True}, "儿童已死亡"),
            ({"hukou_in_county": False}, "儿童户籍已迁出本县"),
        ],
    )
    def test_an_adopted_dead_or_moved_child_is_eligible_for_nothing(
        self, changes: dict[str, Any], words: str
    ) -> None:
        facts = child(
            "2020-01-01",
            father=DEAD,
            mother=DEAD,
            disability=("physical", 1),
            dibao=True,
            enrolled=("orphan_allowance",),
            **changes,
        )
        assert eligible(replace(facts, adopted=False, deceased=False, hukou_in_county=True))
        result = decide(facts)
        assert not [p for p in result.programmes if p.eligible]
        assert all(words in p.reason for p in result.programmes)
        assert result.enrolled_not_eligible == (ORPHAN,)

    def test_a_child_not_yet_born_is_eligible_for_nothing(self) -> None:
        facts = child(
            "2024-07-01", father=DEAD, mother=DEAD, disability=("physical", 1), dibao=True
        )
        result = decide(facts)
        assert not [p for p in result.programmes if p.eligible]
        assert result[ORPHAN].reason.startswith("2024年6月30日时儿童尚未出生")
        assert eligible(facts, "2024-07-01") == {ORPHAN, CARE, REHAB}


class TestEnrolled:
    def test_the_exclusive_pairs_are_the_issues_six(self) -> None:
        assert {tuple(map(str, pair)) for pair in EXCLUSIVE_PAIRS} == {
            ("de_facto_allowance", "orphan_allowance"),
            ("orphan_allowance", "tekun"),
            ("de_facto_allowance", "tekun"),
            ("disability_living_subsidy", "orphan_allowance"),
            ("disability_living_subsidy", "tekun"),
            ("disability_care_subsidy", "tekun"),
        }

    @pytest.mark.parametrize(
        ("enrolled", "conflicts"),
        [
            (
                ("orphan_allowance", "de_facto_allowance"),
                [("de_facto_allowance", "orphan_allowance")],
            ),
            (("orphan_allowance", "tekun"), [("orphan_allowance", "tekun")]),
            (("tekun", "de_facto_allowance"), [("de_facto_allowance", "tekun")]),
            (
                ("orphan_allowance", "disability_living_subsidy"),
                [("disability_living_subsidy", "orphan_allowance")],
            ),
            (("tekun", "disability_living_subsidy"), [("disability_living_subsidy", "tekun")]),
            (("tekun", "disability_care_subsidy"), [("disability_care_subsidy", "tekun")]),
            # allowed together
            (("de_facto_allowance", "disability_living_subsidy"), []),
            (("de_facto_allowance", "dibao"), []),
            (("orphan_allowance", "disability_care_subsidy"), []),
            (("disability_living_subsidy", "disability_care_subsidy"), []),
            (("dibao", "tekun", "rehab_assistance", "education_aid", "temporary_assistance"), []),
            ((), []),
            (
                ("tekun", "orphan_allowance", "de_facto_allowance", "disability_care_subsidy"),
                [
                    ("de_facto_allowance", "orphan_allowance"),
                    ("de_facto_allowance", "tekun"),
                    ("disability_care_subsidy", "tekun"),
                    ("orphan_allowance", "tekun"),
                ],
            ),
        ],
    )
    def test_it_finds_each_exclusive_pair_in_the_enrolments(
        self, enrolled: tuple[str, ...], conflicts: list[tuple[str, str]]
    ) -> None:
        result = decide(child(enrolled=enrolled))
        assert [tuple(map(str, pair)) for pair in result.conflicts] == conflicts

    def test_the_tekun_of_the_household_is_a_fact_not_an_enrolment(self) -> None:
        # conflicts are read from `enrolled` alone; household.tekun still bars the subsidies
        result = decide(
            child(tekun=True, disability=("physical", 1), enrolled=("disability_care_subsidy",))
        )
        assert result.conflicts == ()
        assert result.enrolled_not_eligible == (CARE,)

    def test_it_lists_the_gaps_both_ways_sorted(self) -> None:
        facts = child(
            "2020-01-01",
            father=IN_PRISON,
            mother=DEAD,
            disability=("physical", 3),
            dibao=True,
            enrolled=("orphan_allowance", "dibao", "disability_care_subsidy"),
        )
        result = decide(facts)
        assert result.eligible_not_enrolled == (DE_FACTO, LIVING, REHAB)
        assert result.enrolled_not_eligible == (CARE, ORPHAN)
        assert result.conflicts == ()


class TestReasons:
    def test_a_de_facto_reason_names_the_parents_home_age_and_top_up(self) -> None:
        result = decide(child(father=IN_PRISON, mother=DEAD, dibao=True, in_institution=True))
        assert result[DE_FACTO].reason == (
            "父亲服刑在押（2023年3月1日起，刑期2年，至2025年3月1日），母亲已故（2020年1月1日）；"
            "儿童在福利机构集中养育；儿童未满18周岁（2012年5月1日出生）；"
            "家庭享受最低生活保障，按差额补齐（补差发放）"
        )

    def test_a_refusal_names_every_unmet_condition(self) -> None:
        result = decide(
            child("2005-01-01", disability=("mental", 3), tekun=True, in_institution=True)
        )
        assert result[LIVING].reason == (
            "家庭未享受最低生活保障；儿童享受特困人员救助供养；儿童在福利机构生活；"
            "儿童已满18周岁（2005年1月1日出生）"
        )
        assert result[REHAB].reason == (
            "儿童已满7周岁（2005年1月1日出生）；儿童持残疾人证（精神残疾三级），不属于康复救助的残疾类别"
        )

    def test_every_programme_answers_with_a_reason(self) -> None:
        result = decide(child())
        assert [p.code for p in result.programmes] == list(COMPUTED)
        assert all(p.reason for p in result.programmes)
        assert result[ORPHAN].reason == (
            "父亲有抚养能力，母亲有抚养能力：父母并非均已死亡、被宣告死亡、被宣告失踪或查找不到"
        )


class TestThresholds:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"adult_age": 0},
            {"rehab_age": 0},
            {"restriction_months": -1},
            {"severe_grade": 5},
            {"care_subsidy_grade": 0},
        ],
    )
    def test_it_refuses_nonsense(self, kwargs: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match=r"must|grades"):
            Thresholds(**kwargs)

    def test_the_ages_are_settings(self) -> None:
        facts = child("2017-06-30", father=DEAD, mother=DEAD, disability=("hearing", 2), dibao=True)
        assert REHAB not in eligible(facts, "2024-06-30")
        assert REHAB in eligible(facts, "2024-06-30", rehab_age=8)
        assert ORPHAN not in eligible(facts, "2024-06-30", adult_age=7)
        assert CARE in eligible(facts, "2024-06-30", care_subsidy_grade=2)
        assert CARE not in eligible(facts, "2024-06-30", care_subsidy_grade=1)


def test_a_report_on_31_january_reaches_6_months_on_31_july() -> None:
    facts = child(father=DEAD, mother=parent("lost_contact", "2024-01-31"))
    assert DE_FACTO not in eligible(facts, "2024-07-30")
    assert DE_FACTO in eligible(facts, "2024-07-31")
