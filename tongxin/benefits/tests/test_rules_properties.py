"""Properties the eligibility answer keeps for any facts (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from tongxin.benefits.rules import (
    ALLOWANCES,
    COMPUTED,
    EXCLUSIVE_PAIRS,
    SINCE_REQUIRED,
    ChildFacts,
    Disability,
    DisabilityCategory,
    Household,
    ParentFacts,
    ParentState,
    Programme,
    Schooling,
    Standing,
    eligibility,
    parent_standing,
)

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31))
DISABILITIES = st.builds(Disability, st.sampled_from(DisabilityCategory), st.integers(1, 4))


@st.composite
def parents(draw: st.DrawFn) -> ParentFacts:
    state = draw(st.sampled_from(ParentState))
    since = draw(DAYS if state in SINCE_REQUIRED else st.none() | DAYS)
    until = draw(st.none() | DAYS)
    if since is not None and until is not None and until < since:
        since, until = until, since
    disability = draw(
        DISABILITIES if state == ParentState.SEVERE_DISABILITY else st.none() | DISABILITIES
    )
    return ParentFacts(state, since, until, disability)


FACTS = st.builds(
    ChildFacts,
    birth_date=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    father=parents(),
    mother=parents(),
    in_institution=st.booleans(),
    schooling=st.sampled_from(Schooling),
    adopted=st.booleans(),
    deceased=st.booleans(),
    hukou_in_county=st.booleans(),
    disability=st.none() | DISABILITIES,
    household=st.builds(Household, st.booleans(), st.booleans(), st.booleans()),
    enrolled=st.frozensets(st.sampled_from(Programme)),
)


@settings(max_examples=400, deadline=None)
@given(facts=FACTS, as_of=DAYS)
def test_every_answer_is_explained_and_consistent(facts: ChildFacts, as_of: date) -> None:
    result = eligibility(facts, as_of)
    assert [p.code for p in result.programmes] == list(COMPUTED)
    eligible = {p.code for p in result.programmes if p.eligible}
    for p in result.programmes:
        assert p.reason.strip(), p
        assert (p.rate is not None) == (p.eligible and p.code in ALLOWANCES)
        assert not p.top_up or (p.eligible and p.code == Programme.DE_FACTO_ALLOWANCE)
    assert not {Programme.ORPHAN_ALLOWANCE, Programme.DE_FACTO_ALLOWANCE} <= eligible
    # the two gap lists partition the disagreements between the rules and the enrolments
    assert result.eligible_not_enrolled == tuple(sorted(eligible - facts.enrolled))
    assert not set(result.eligible_not_enrolled) & facts.enrolled
    assert set(result.enrolled_not_eligible) <= facts.enrolled - eligible
    assert set(result.enrolled_not_eligible) == (facts.enrolled & set(COMPUTED)) - eligible
    assert list(result.enrolled_not_eligible) == sorted(result.enrolled_not_eligible)
    if facts.adopted or facts.deceased or not facts.hukou_in_county or as_of < facts.birth_date:
        assert not eligible


@settings(max_examples=300, deadline=None)
@given(facts=FACTS, as_of=DAYS)
def test_conflicts_are_the_sorted_exclusive_pairs_within_the_enrolments(
    facts: ChildFacts, as_of: date
) -> None:
    conflicts = eligibility(facts, as_of).conflicts
    assert list(conflicts) == sorted(set(conflicts))
    for a, b in conflicts:
        assert a < b
        assert (a, b) in EXCLUSIVE_PAIRS
        assert {a, b} <= facts.enrolled
    assert len(conflicts) == sum(1 for a, b in EXCLUSIVE_PAIRS if {a, b} <= facts.enrolled)


@settings(max_examples=300, deadline=None)
@given(facts=FACTS, as_of=DAYS)
def test_father_and_mother_are_read_alike(facts: ChildFacts, as_of: date) -> None:
    swapped = replace(facts, father=facts.mother, mother=facts.father)
    flags = [(p.eligible, p.rate, p.top_up) for p in eligibility(facts, as_of).programmes]
    assert [(p.eligible, p.rate, p.top_up) for p in eligibility(swapped, as_of).programmes] == (
        flags
    )


@settings(max_examples=300, deadline=None)
@given(p=parents(), as_of=DAYS)
def test_a_state_not_yet_begun_or_already_ended_leaves_the_parent_able(
    p: ParentFacts, as_of: date
) -> None:
    standing = parent_standing(p, "母亲", as_of)
    assert standing.reason.startswith("母亲")
    if (p.since is not None and p.since > as_of) or (p.until is not None and p.until <= as_of):
        assert standing.standing == Standing.ABLE
