"""The history of categories, derived from the dated facts (right for past registrations)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongxin.registry.rules import (
    Capacity,
    CategoryCode,
    CategorySpan,
    ChildFacts,
    Destination,
    FactsVersion,
    MigrationSpell,
    ParentFacts,
    ParentStatus,
    Residence,
    Thresholds,
    category_history,
    classify,
)

D = date.fromisoformat
LB = CategoryCode.LEFT_BEHIND
DIBAO = CategoryCode.DIBAO_FAMILY


def spell(
    left_on: str, returned_on: str | None = None, to: Destination = Destination.OUT_OF_PROVINCE
) -> MigrationSpell:
    return MigrationSpell(D(left_on), D(returned_on) if returned_on else None, to)


# Born 2010-03-15: 16 on 2026-03-15, 18 on 2028-03-15.
FATHER = ParentFacts(
    ParentStatus.ALIVE,
    Capacity.FULL,
    # left; came home (2023-02-01); left again (3 months on 2023-06-01)
    (spell("2021-06-01", "2023-02-01"), spell("2023-03-01")),
)
MOTHER = ParentFacts(
    ParentStatus.ALIVE,
    Capacity.FULL,
    (spell("2022-05-10", to=Destination.OUT_OF_COUNTY),),  # 3 months on 2022-08-10
)
FACTS = ChildFacts(D("2010-03-15"), Residence.VILLAGE, FATHER, MOTHER)
WITH_DIBAO = ChildFacts(D("2010-03-15"), Residence.VILLAGE, FATHER, MOTHER, dibao=True)


def span(code: str, start: str, end: str | None) -> CategorySpan:
    return CategorySpan(CategoryCode(code), D(start), D(end) if end else None)


class TestHistory:
    def test_it_follows_the_parents_and_the_birthday(self) -> None:
        history = category_history([(D("2022-01-01"), FACTS)], D("2022-01-01"), D("2028-12-31"))
        assert history == [
            span("left_behind", "2022-08-10", "2023-02-01"),  # the mother's 3 months; father back
            span("left_behind", "2023-06-01", "2026-03-15"),  # father away again; turns 16
        ]

    def test_it_counts_an_undated_fact_from_the_day_it_was_recorded(self) -> None:
        timeline = [FactsVersion(D("2022-01-01"), FACTS), FactsVersion(D("2024-09-01"), WITH_DIBAO)]
        history = category_history(timeline, D("2022-01-01"), D("2028-12-31"))
        assert history == [
            span("left_behind", "2022-08-10", "2023-02-01"),
            span("left_behind", "2023-06-01", "2026-03-15"),
            span("dibao_family", "2024-09-01", "2028-03-15"),  # until the 18th birthday
        ]

    def test_it_ends_an_undated_fact_on_the_day_its_end_was_recorded(self) -> None:
        timeline = [
            (D("2022-01-01"), WITH_DIBAO),  # entered at registration
            (D("2024-09-01"), FACTS),
        ]
        history = category_history(timeline, D("2022-01-01"), D("2024-12-31"))
        assert history == [
            span("dibao_family", "2022-01-01", "2024-09-01"),
            span("left_behind", "2022-08-10", "2023-02-01"),
            span("left_behind", "2023-06-01", None),
        ]

    def test_it_starts_on_the_registration_date_for_a_past_registration(self) -> None:
        history = category_history(
            [(D("2022-01-01"), WITH_DIBAO)], D("2022-09-01"), D("2023-12-31")
        )
        assert history == [
            span("left_behind", "2022-09-01", "2023-02-01"),
            span("dibao_family", "2022-09-01", None),
            span("left_behind", "2023-06-01", None),
        ]

    def test_it_leaves_spans_open_that_last_beyond_until(self) -> None:
        history = category_history([(D("2022-01-01"), FACTS)], D("2022-01-01"), D("2023-06-01"))
        assert history == [
            span("left_behind", "2022-08-10", "2023-02-01"),
            span("left_behind", "2023-06-01", None),
        ]

    def test_it_follows_a_change_of_capacity_recorded_on_a_date(self) -> None:
        home_ill = ParentFacts(ParentStatus.ALIVE, Capacity.SERIOUS_ILLNESS)
        away = ParentFacts(ParentStatus.ALIVE, Capacity.FULL, (spell("2021-01-01"),))
        well = ChildFacts(
            D("2012-01-01"), Residence.VILLAGE, away, ParentFacts(ParentStatus.ALIVE, Capacity.FULL)
        )
        ill = ChildFacts(D("2012-01-01"), Residence.VILLAGE, away, home_ill)
        timeline = [(D("2022-01-01"), well), (D("2023-05-05"), ill), (D("2023-10-10"), well)]
        history = category_history(timeline, D("2022-01-01"), D("2024-01-01"))
        assert history == [span("left_behind", "2023-05-05", "2023-10-10")]

    def test_it_counts_an_unknown_start_from_the_import(self) -> None:
        imported = MigrationSpell(
            None, None, Destination.OUT_OF_PROVINCE, known_since=D("2024-03-01")
        )
        parent = ParentFacts(ParentStatus.ALIVE, Capacity.FULL, (imported,))
        facts = ChildFacts(D("2012-01-01"), Residence.VILLAGE, parent, parent)
        history = category_history([(D("2023-01-01"), facts)], D("2023-01-01"), D("2024-12-31"))
        assert history == [span("left_behind", "2024-03-01", None)]

    def test_it_uses_the_latest_version_recorded_before_registration(self) -> None:
        timeline = [(D("2021-01-01"), FACTS), (D("2021-06-01"), WITH_DIBAO)]
        history = category_history(timeline, D("2022-01-01"), D("2022-06-30"))
        assert history == [span("dibao_family", "2022-01-01", None)]

    def test_it_takes_the_thresholds(self) -> None:
        six = Thresholds(absence_months=6, left_behind_age=14)
        history = category_history(
            [(D("2022-01-01"), FACTS)], D("2022-01-01"), D("2028-12-31"), six
        )
        assert history == [
            span("left_behind", "2022-11-10", "2023-02-01"),
            span("left_behind", "2023-09-01", "2024-03-15"),
        ]

    def test_it_needs_facts_on_the_registration_date(self) -> None:
        with pytest.raises(ValueError, match="registration"):
            category_history([(D("2022-02-01"), FACTS)], D("2022-01-01"), D("2023-01-01"))

    def test_it_is_empty_before_registration(self) -> None:
        assert category_history([(D("2022-01-01"), FACTS)], D("2022-01-01"), D("2021-12-31")) == []


# Property: the history evaluated at change points equals the one evaluated every day.

window = st.dates(min_value=date(2020, 1, 1), max_value=date(2024, 12, 31))
# Births whose 16th and 18th birthdays fall in the window; facts weighted towards the common
# case (both parents alive and able, a village), so that spells decide often.
births = st.dates(min_value=date(2002, 1, 1), max_value=date(2009, 12, 31))


@st.composite
def history_spells(draw: st.DrawFn) -> MigrationSpell:
    destination = draw(st.sampled_from(Destination))
    if draw(st.integers(0, 4)) == 0:
        return MigrationSpell(None, draw(st.none() | window), destination, draw(window))
    left_on = draw(window)
    stayed = draw(st.none() | st.integers(0, 400))
    returned_on = None if stayed is None else left_on + timedelta(days=stayed)
    return MigrationSpell(left_on, returned_on, destination)


history_parents = st.builds(
    ParentFacts,
    status=st.sampled_from([*[ParentStatus.ALIVE] * 4, *ParentStatus]),
    capacity=st.sampled_from([*[Capacity.FULL] * 4, *Capacity]),
    migrations=st.lists(history_spells(), max_size=3).map(tuple),
)
facts_strategy = st.builds(
    ChildFacts,
    birth_date=births,
    lives_in=st.sampled_from([Residence.VILLAGE, Residence.VILLAGE, Residence.COMMUNITY]),
    father=history_parents,
    mother=history_parents,
    parents_divorced=st.booleans(),
    dibao=st.booleans(),
    disability_grade=st.none() | st.integers(1, 4),
)


def daily_history(
    versions: list[tuple[date, ChildFacts]], registration: date, until: date
) -> list[CategorySpan]:
    ordered = sorted(versions, key=lambda v: v[0])
    spans: list[CategorySpan] = []
    open_: dict[CategoryCode, date] = {}
    day = registration
    while day <= until:
        facts = [f for since, f in ordered if since <= day][-1]
        found = classify(facts, day).codes
        for code in list(open_):
            if code not in found:
                spans.append(CategorySpan(code, open_.pop(code), day))
        for code in found:
            open_.setdefault(code, day)
        day += timedelta(days=1)
    spans += [CategorySpan(code, start, None) for code, start in open_.items()]
    order = list(CategoryCode)
    return sorted(spans, key=lambda s: (s.start, order.index(s.code)))


@settings(max_examples=150, deadline=None)
@given(
    registration=window,
    length=st.integers(0, 700),
    first=facts_strategy,
    later=st.lists(st.tuples(window, facts_strategy), max_size=3),
)
def test_it_matches_a_day_by_day_evaluation(
    registration: date,
    length: int,
    first: ChildFacts,
    later: list[tuple[date, ChildFacts]],
) -> None:
    until = registration + timedelta(days=length)
    versions = [(registration - timedelta(days=30), first), *later]
    assert category_history(versions, registration, until) == daily_history(
        versions, registration, until
    )
