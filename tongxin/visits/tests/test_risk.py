"""Risk levels (issue 4, "Risk level"): each factor alone, in combination, and overrides."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongxin.visits.rules import (
    AgreementFact,
    Risk,
    RiskFactor,
    RiskFacts,
    RiskLevel,
    RiskThresholds,
    apply_override,
    risk_level,
)

D = date.fromisoformat
AS_OF = D("2024-06-15")
LOW, MEDIUM, HIGH = RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH
IN_FORCE = (AgreementFact(D("2024-01-01"), D("2025-12-31")),)

# Each factor alone: the facts, the factor, its reason, the level it gives alone.
ALONE = [
    (
        RiskFacts(father_away_since=D("2023-03-10"), mother_away_since=D("2023-06-15")),
        RiskFactor.BOTH_PARENTS_AWAY,
        "父母均外出务工满12个月（父亲自2023年3月10日起，母亲自2023年6月15日起）",
        MEDIUM,
    ),
    (
        RiskFacts(father_serious_disability=True),
        RiskFactor.PARENT_DISABILITY,
        "父亲有严重身体或智力残疾",
        MEDIUM,
    ),
    (
        RiskFacts(mother_serious_disability=True),
        RiskFactor.PARENT_DISABILITY,
        "母亲有严重身体或智力残疾",
        MEDIUM,
    ),
    (
        RiskFacts(father_serious_disability=True, mother_serious_disability=True),
        RiskFactor.PARENT_DISABILITY,
        "父母均有严重身体或智力残疾",
        MEDIUM,
    ),
    (RiskFacts(child_disability=True), RiskFactor.CHILD_DISABILITY, "儿童残疾", MEDIUM),
    (
        RiskFacts(child_disability_grade=2),
        RiskFactor.CHILD_DISABILITY,
        "儿童残疾（残疾等级二级）",
        MEDIUM,
    ),
    (
        RiskFacts(psychological_problems=True),
        RiskFactor.PSYCHOLOGICAL,
        "记录有心理或行为问题",
        MEDIUM,
    ),
    (
        RiskFacts(left_behind=True),
        RiskFactor.CARE_AGREEMENT,
        "留守儿童没有委托照护协议",
        MEDIUM,
    ),
    (
        RiskFacts(
            left_behind=True, care_agreements=(AgreementFact(D("2023-01-01"), D("2024-05-31")),)
        ),
        RiskFactor.CARE_AGREEMENT,
        "留守儿童的委托照护协议已过期（有效期至2024年5月31日）",
        MEDIUM,
    ),
    (
        RiskFacts(
            left_behind=True,
            care_agreements=(AgreementFact(D("2023-01-01"), None, D("2024-04-01")),),
        ),
        RiskFactor.CARE_AGREEMENT,
        "留守儿童的委托照护协议已于2024年4月1日解除",
        MEDIUM,
    ),
    (
        RiskFacts(open_high_severity_problems=2),
        RiskFactor.HIGH_SEVERITY_PROBLEM,
        "有2个高严重程度的问题尚未解决",
        HIGH,
    ),
    (RiskFacts(dropped_out=True), RiskFactor.DROPOUT, "儿童辍学", HIGH),
    (
        RiskFacts(guardianship_assessment="poor"),
        RiskFactor.POOR_GUARDIANSHIP,
        "监护情况评估为差",
        HIGH,
    ),
    (RiskFacts(no_guardian=True), RiskFactor.NO_GUARDIAN, "无人监护", HIGH),
]


@pytest.mark.parametrize(("facts", "factor", "reason", "level"), ALONE)
def test_it_names_each_factor_alone(
    facts: RiskFacts, factor: RiskFactor, reason: str, level: RiskLevel
) -> None:
    assert risk_level(facts, AS_OF) == Risk(level, (reason,), (factor,))


def test_it_is_low_without_any_factor() -> None:
    assert risk_level(RiskFacts(), AS_OF) == Risk(LOW, (), ())
    quiet = RiskFacts(
        father_away_since=D("2020-01-01"),  # only one parent away
        guardianship_assessment="fair",
        left_behind=True,
        care_agreements=IN_FORCE,
        open_high_severity_problems=0,
    )
    assert risk_level(quiet, AS_OF).level == LOW


@pytest.mark.parametrize(
    ("as_of", "away"),
    [("2024-06-14", False), ("2024-06-15", True)],
)
def test_it_counts_both_parents_away_from_the_later_departure(as_of: str, away: bool) -> None:
    facts = RiskFacts(father_away_since=D("2023-03-10"), mother_away_since=D("2023-06-15"))
    assert (RiskFactor.BOTH_PARENTS_AWAY in risk_level(facts, D(as_of)).factors) is away


def test_it_reads_the_absence_threshold_from_the_settings() -> None:
    facts = RiskFacts(father_away_since=D("2024-01-01"), mother_away_since=D("2024-01-01"))
    assert risk_level(facts, AS_OF).level == LOW
    six = risk_level(facts, AS_OF, RiskThresholds(parents_away_months=6))
    assert six.level == LOW  # 1 January + 6 months = 1 July
    five = risk_level(facts, AS_OF, RiskThresholds(parents_away_months=5))
    assert five.reasons == ("父母均外出务工满5个月（父亲自2024年1月1日起，母亲自2024年1月1日起）",)


@pytest.mark.parametrize(
    ("agreements", "as_of", "missing"),
    [
        (IN_FORCE, "2024-06-15", False),
        ((AgreementFact(D("2023-01-01"), D("2024-05-31")),), "2024-05-31", False),  # last day
        ((AgreementFact(D("2023-01-01"), D("2024-05-31")),), "2024-06-01", True),
        ((AgreementFact(D("2024-07-01")),), "2024-06-15", True),  # not yet signed
        ((AgreementFact(D("2023-01-01"), None, D("2024-06-15")),), "2024-06-15", True),
        ((AgreementFact(D("2023-01-01"), None, D("2024-06-16")),), "2024-06-15", False),
        # Renewed: the old one expired, a new one holds.
        (
            (
                AgreementFact(D("2022-01-01"), D("2023-12-31")),
                AgreementFact(D("2024-01-02"), D("2026-01-01")),
            ),
            "2024-06-15",
            False,
        ),
    ],
)
def test_it_checks_the_care_agreement_on_the_day(
    agreements: tuple[AgreementFact, ...], as_of: str, missing: bool
) -> None:
    facts = RiskFacts(left_behind=True, care_agreements=agreements)
    assert (RiskFactor.CARE_AGREEMENT in risk_level(facts, D(as_of)).factors) is missing


def test_it_asks_for_an_agreement_only_for_a_left_behind_child() -> None:
    assert risk_level(RiskFacts(left_behind=False), AS_OF).level == LOW


def test_it_raises_two_ordinary_factors_to_high() -> None:
    facts = RiskFacts(child_disability=True, psychological_problems=True)
    assert risk_level(facts, AS_OF) == Risk(
        HIGH,
        ("儿童残疾", "记录有心理或行为问题"),
        (RiskFactor.CHILD_DISABILITY, RiskFactor.PSYCHOLOGICAL),
    )
    assert risk_level(facts, AS_OF, RiskThresholds(factors_for_high=3)).level == MEDIUM


def test_it_lists_every_reason_in_the_plans_order() -> None:
    facts = RiskFacts(
        father_away_since=D("2020-01-01"),
        mother_away_since=D("2020-01-01"),
        father_serious_disability=True,
        child_disability_grade=1,
        psychological_problems=True,
        open_high_severity_problems=1,
        left_behind=True,
        dropped_out=True,
        guardianship_assessment="poor",
        no_guardian=True,
    )
    risk = risk_level(facts, AS_OF)
    assert risk.level == HIGH
    assert risk.factors == tuple(RiskFactor)
    assert len(risk.reasons) == len(RiskFactor)
    assert risk.reasons[-1] == "无人监护"


def test_it_refuses_thresholds_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        RiskThresholds(parents_away_months=0)
    with pytest.raises(ValueError, match="out of range"):
        RiskThresholds(factors_for_high=1)


# Overrides


def test_it_applies_an_override_through_its_end_date() -> None:
    computed = risk_level(RiskFacts(), AS_OF)
    during = apply_override(computed, "high", D("2024-06-30"), D("2024-06-30"))
    assert (during.level, during.override_level, during.override_until) == (
        HIGH,
        HIGH,
        D("2024-06-30"),
    )
    assert during.computed == computed  # the computed level stays visible
    after = apply_override(computed, HIGH, D("2024-06-30"), D("2024-07-01"))
    assert (after.level, after.override_level, after.override_until) == (LOW, None, None)
    assert after.computed.level == LOW


def test_it_lets_an_officer_lower_the_level() -> None:
    computed = risk_level(RiskFacts(dropped_out=True), AS_OF)
    effective = apply_override(computed, MEDIUM, D("2024-12-31"), AS_OF)
    assert (effective.level, effective.computed.level) == (MEDIUM, HIGH)
    assert effective.computed.reasons == ("儿童辍学",)


def test_it_needs_an_end_date_for_an_override() -> None:
    computed = risk_level(RiskFacts(), AS_OF)
    assert apply_override(computed, None, None, AS_OF).level == LOW
    with pytest.raises(ValueError, match="end date"):
        apply_override(computed, HIGH, None, AS_OF)


# Properties

FLAGS = [
    "father_serious_disability",
    "mother_serious_disability",
    "child_disability",
    "psychological_problems",
    "left_behind",
    "dropped_out",
    "no_guardian",
]
RANK = {LOW: 0, MEDIUM: 1, HIGH: 2}

facts_strategy = st.builds(
    RiskFacts,
    father_away_since=st.none() | st.dates(D("2020-01-01"), D("2024-12-31")),
    mother_away_since=st.none() | st.dates(D("2020-01-01"), D("2024-12-31")),
    father_serious_disability=st.booleans(),
    mother_serious_disability=st.booleans(),
    child_disability=st.booleans(),
    child_disability_grade=st.none() | st.integers(1, 4),
    psychological_problems=st.booleans(),
    open_high_severity_problems=st.integers(0, 3),
    left_behind=st.booleans(),
    care_agreements=st.just(()) | st.just(IN_FORCE),
    dropped_out=st.booleans(),
    guardianship_assessment=st.sampled_from(["", "good", "fair", "poor"]),
    no_guardian=st.booleans(),
)


@given(facts=facts_strategy, flag=st.sampled_from(FLAGS))
def test_it_never_lowers_the_level_when_a_factor_is_added(facts: RiskFacts, flag: str) -> None:
    before = risk_level(facts, AS_OF)
    flags: dict[str, bool] = {flag: True}
    after = risk_level(dataclasses.replace(facts, **flags), AS_OF)  # type: ignore[arg-type]
    assert RANK[after.level] >= RANK[before.level]
    assert set(before.factors) <= set(after.factors)


@given(facts=facts_strategy)
def test_it_gives_one_reason_per_factor(facts: RiskFacts) -> None:
    risk = risk_level(facts, AS_OF)
    assert len(risk.reasons) == len(risk.factors) == len(set(risk.factors))
    assert (risk.level == LOW) == (not risk.factors)
    assert all(reason for reason in risk.reasons)
