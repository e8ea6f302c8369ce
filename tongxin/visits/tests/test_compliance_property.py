"""Random small worlds: the database's compliance equals rules.compliance, on SQLite and on
PostgreSQL (whichever the run uses). Each example is written inside a savepoint and rolled
back, so the examples do not see each other.

The report (period, ``as_of``, policy versions, division) is drawn first; the world's dates are
then drawn half the time from the report's edges (each obligation period's first and last day,
``as_of``, and the days either side), where an off-by-one in the SQL would show. Each child's
risk level changes over time and officers set, replace and clear overrides on those days too, so
that the breakdown by the level on the report's last day judged meets every edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tongxin.core import periods
from tongxin.core.periods import PeriodKind
from tongxin.testing import Actors
from tongxin.visits import rules
from tongxin.visits.compliance import ALL_OBLIGATIONS, compliance_report
from tongxin.visits.rules import TOWN_SUPERVISOR, VILLAGE_DIRECTOR
from tongxin.visits.tests.test_compliance import COUNTY, EAST, SOUTH, WEST, World, assert_matches
from tongxin.visits.tests.test_compliance import division as get_division

pytestmark = pytest.mark.django_db

VILLAGES = (EAST, WEST, SOUTH, "620724100001")
FIRST, LAST = date(2023, 10, 1), date(2025, 1, 31)
# The county twice: its report has rows (towns) and workers in two towns.
WHERE = (COUNTY, COUNTY, "620724100000", EAST)
KINDS = ("phone", "home_visit", "home_visit", "video", "school_visit")
ROLES = (VILLAGE_DIRECTOR, VILLAGE_DIRECTOR, TOWN_SUPERVISOR, "county_admin")
ALWAYS = ("2023-01-01", None)


@dataclass(frozen=True)
class Scenario:
    period: periods.Period
    as_of: date | None
    policies: tuple[rules.CadencePolicy, ...]
    where: str
    households: list[tuple[str, list[dict[str, Any]]]]
    contacts: list[tuple[int, date, str, str, list[int]]]


def _edges(period: periods.Period, as_of: date | None) -> tuple[list[date], list[date]]:
    """The days judged periods start and are judged on, and those days and the days either
    side of them."""
    marks: set[date] = set()
    for ob in ALL_OBLIGATIONS:
        for sub, until in rules.judged_periods(ob, period, as_of=as_of):
            marks |= {sub.start, sub.end, until}
    if as_of is not None:
        marks.add(as_of)
    near = {d + timedelta(days=n) for d in marks for n in (-1, 0, 1)}
    return sorted(marks), sorted(d for d in near if FIRST <= d <= LAST)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    kind = draw(st.sampled_from(list(PeriodKind)))
    period = periods.period_of(draw(st.dates(date(2024, 1, 1), date(2024, 12, 31))), kind)
    inside = st.dates(period.start - timedelta(days=3), period.end + timedelta(days=3))
    as_of = draw(st.one_of(st.none(), st.none(), inside))
    versions = {date.min: rules.CadencePolicy(date.min)}
    for _ in range(draw(st.integers(0, 2))):
        day = draw(st.dates(date(2024, 1, 1), date(2024, 12, 31)))
        versions[day] = rules.CadencePolicy(
            day,
            monthly_contact=draw(st.booleans()),
            quarterly_home_visit=draw(st.booleans()),
            yearly_family_contact=draw(st.booleans()),
        )
    marks, near = _edges(period, as_of)

    def days(lo: date = FIRST, hi: date = LAST) -> st.SearchStrategy[date]:
        return st.one_of(
            st.dates(lo, hi),
            st.sampled_from(marks).filter(lambda d: lo <= d <= hi),
            st.sampled_from(near).filter(lambda d: lo <= d <= hi),
        )

    def child() -> st.SearchStrategy[dict[str, Any]]:
        # Mostly children who count; the others registered, leaving, or in and out of a
        # category on any day.
        spans = st.lists(
            st.tuples(days(date(2023, 6, 1)), st.none() | days(date(2023, 6, 1))).map(
                lambda t: (
                    min(t[0], t[1] or t[0]).isoformat(),
                    max(t[0], t[1]).isoformat() if t[1] and t[1] != t[0] else None,
                )
            ),
            max_size=2,
        )
        level = st.sampled_from(("low", "medium", "high"))
        day = days().map(date.isoformat)
        return st.fixed_dictionaries(
            {
                "registered": st.one_of(st.just(date(2023, 11, 1)), days()).map(date.isoformat),
                "left": st.one_of(st.none(), st.none(), days().map(date.isoformat)),
                "status": st.sampled_from(("transferred_out", "aged_out", "closed")),
                "spans": st.one_of(st.just([ALWAYS]), spans),
                # Levels computed on days (in this order) and overrides
                # (level, set on, ends on, cleared on).
                "changes": st.lists(st.tuples(day, level), max_size=3),
                "overrides": st.lists(
                    st.tuples(level, day, day, st.one_of(st.none(), st.none(), day)), max_size=2
                ),
            }
        )

    households = draw(
        st.lists(
            st.tuples(st.sampled_from(VILLAGES), st.lists(child(), min_size=1, max_size=3)),
            min_size=1,
            max_size=4,
        )
    )
    contacts = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(households) - 1),
                days(),
                st.sampled_from(KINDS),
                st.sampled_from(ROLES),
                st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True),
            ),
            max_size=20,
        )
    )
    return Scenario(
        period,
        as_of,
        rules.check_policies(versions.values()),
        draw(st.sampled_from(WHERE)),
        households,
        contacts,
    )


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_the_database_answers_as_the_reference(actors: Actors, scenario: Scenario) -> None:
    with transaction.atomic():
        world = World(actors.village_director)
        members = []
        for village, children in scenario.households:
            household = world.household(village)
            kids = []
            for spec in children:
                fields = {k: v for k, v in spec.items() if k not in ("changes", "overrides")}
                kid = world.child(household, **fields)
                world.risk(kid, spec["changes"], spec["overrides"])
                kids.append(kid)
            members.append(kids)
        for index, day, kind, role, picks in scenario.contacts:
            kids = members[index]
            credited = sorted({kids[p % len(kids)] for p in picks}, key=lambda c: c.pk)
            world.contact(credited, day.isoformat(), kind=kind, role=role)
        result = compliance_report(
            get_division(scenario.where),
            scenario.period,
            as_of=scenario.as_of,
            policies=scenario.policies,
        )
        assert_matches(result, world, as_of=scenario.as_of, policies=scenario.policies)
        transaction.set_rollback(True)


def test_the_check_compares_rows_and_fails_on_a_difference(actors: Actors) -> None:
    """The comparison the property relies on looks at the rows and is not vacuous."""
    with transaction.atomic():
        world = World(actors.village_director)
        world.child(world.household(SOUTH))
        report = compliance_report(get_division(COUNTY), periods.parse_period("2024-06"))
        assert [r.division.code for r in report.rows] == ["620724100000", "620724101000"]
        world.child(world.household(WEST))  # added after the report: the check must now fail
        with pytest.raises(AssertionError):
            assert_matches(report, world)
        transaction.set_rollback(True)
