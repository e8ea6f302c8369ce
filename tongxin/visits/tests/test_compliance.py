"""Compliance in the database (visits/compliance.py) against the reference (rules.compliance):
explicit cases for each rule of the semantics, and the query count. The random worlds are in
test_compliance_property.py; the page, export and API in test_compliance_views.py."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongxin.accounts.models import User
from tongxin.core import periods
from tongxin.core.periods import parse_period
from tongxin.geo.models import Division
from tongxin.registry.models import CategorySpan, Child, Household
from tongxin.testing import Actors
from tongxin.visits import rules
from tongxin.visits.compliance import ALL_OBLIGATIONS, ComplianceReport, Figures, compliance_report
from tongxin.visits.models import CadencePolicyVersion, Contact, ContactCredit
from tongxin.visits.rules import (
    TOWN_SUPERVISOR,
    VILLAGE_DIRECTOR,
    ChildWindow,
    ContactFact,
    HouseholdWindow,
    Obligation,
)
from tongxin.visits.tests import worklist_world

pytestmark = pytest.mark.django_db

COUNTY = "620724000000"
TOWN = "620724100000"  # 城关镇: 东村, 西村, 城关镇社区
EAST, WEST = "620724100201", "620724100202"
SOUTH = "620724101201"  # 宣化镇 南村
MONTHLY, QUARTERLY, YEARLY = ALL_OBLIGATIONS
D = date.fromisoformat
_names = (f"测试{n}" for n in itertools.count(1))


# --- a small world, written straight to the tables, with its reference facts ---------------


@dataclass
class World:
    """Children, households and contacts written to the database, kept also as the plain facts
    the reference reads."""

    author: User
    windows: dict[Child, ChildWindow] = field(default_factory=dict)
    facts: dict[Child, list[ContactFact]] = field(default_factory=dict)
    risks: dict[Child, rules.RiskHistory] = field(default_factory=dict)

    def household(self, village: str = EAST) -> Household:
        return Household.objects.create(village_id=village)

    def child(
        self,
        household: Household | None = None,
        *,
        registered: str = "2024-01-01",
        left: str | None = None,
        status: str = "transferred_out",
        spans: Sequence[tuple[str, str | None]] = (("2023-01-01", None),),
    ) -> Child:
        household = household or self.household()
        child = Child.objects.create(
            household=household,
            village_id=household.village_id,
            name=next(_names),
            gender="male",
            birth_date=date(2014, 5, 1),
            registered_on=D(registered),
            status=status if left else "active",
            status_since=D(left) if left else D(registered),
        )
        CategorySpan.objects.bulk_create(
            CategorySpan(child=child, code="left_behind", start=D(s), end=D(e) if e else None)
            for s, e in spans
        )
        self.windows[child] = ChildWindow(
            D(registered),
            D(left) if left else None,
            tuple((D(s), D(e) if e else None) for s, e in spans),
        )
        self.facts[child] = []
        return child

    def contact(
        self,
        children: Child | Iterable[Child],
        day: str,
        *,
        kind: str = "phone",
        role: str = VILLAGE_DIRECTOR,
    ) -> Contact:
        credited = [children] if isinstance(children, Child) else list(children)
        household = credited[0].household
        contact = Contact.objects.create(
            household=household,
            village_id=household.village_id,
            author=self.author,
            author_role=role,
            kind=kind,
            day=D(day),
            # What a contact must record to count (rules.contact_gaps).
            met_child=True,
            check_living="good",
            check_safety="good",
        )
        ContactCredit.objects.bulk_create(
            ContactCredit(
                contact=contact,
                child=c,
                household=household,
                day=D(day),
                author_role=role,
                home_visit=kind == "home_visit",
            )
            for c in credited
        )
        for c in credited:
            self.facts[c].append(ContactFact(D(day), kind, role))
        return contact

    def risk(
        self,
        child: Child,
        computed: Iterable[tuple[str, str]] = (),
        overrides: Iterable[tuple[str, str, str, str | None]] = (),
    ) -> None:
        """Levels computed on days and overrides ``(level, set on, ends on, cleared on)``,
        written to the history tables (``worklist_world.risk_history``)."""
        worklist_world.risk_history(
            child,
            [(D(day), level) for day, level in computed],
            [(lv, D(a), D(b), D(c) if c else None) for lv, a, b, c in overrides],
        )
        self.risks[child] = worklist_world.history_of(child)

    def reference(
        self,
        obligation: Obligation,
        period: periods.Period,
        *,
        inside: str = "",
        as_of: date | None = None,
        policies: Sequence[rules.CadencePolicy] = rules.DEFAULT_POLICIES,
    ) -> rules.Compliance[Any]:
        """rules.compliance over the children (households) whose village code starts with
        ``inside``; keys are public codes."""
        children = [c for c in self.windows if c.village_id.startswith(inside)]
        units: list[tuple[Any, Any, Any]]
        if OBLIGATIONS_PER_HOUSEHOLD[obligation]:
            by_household: dict[Household, list[Child]] = {}
            for c in children:
                by_household.setdefault(c.household, []).append(c)
            units = [
                (
                    h.public_id,
                    HouseholdWindow(tuple(self.windows[c] for c in members)),
                    [f for c in members for f in self.facts[c]],
                )
                for h, members in by_household.items()
            ]
        else:
            units = [(c.public_id, self.windows[c], self.facts[c]) for c in children]
        risks = {c.public_id: self.risks.get(c, rules.NO_RISK_HISTORY) for c in children}
        return rules.compliance(obligation, period, units, policies, as_of, risks)


OBLIGATIONS_PER_HOUSEHOLD = {ob: rules.OBLIGATIONS[ob].per_household for ob in ALL_OBLIGATIONS}


@pytest.fixture
def world(actors: Actors) -> World:
    return World(actors.village_director)


def division(code: str) -> Division:
    return Division.objects.get(code=code)


def unmet_keys(report: ComplianceReport, ob: Obligation) -> set[Any]:
    result = report.obligations[ob]
    if result.per_household:
        return set(result.unmet_households)
    return {m.child for m in result.unmet}


def assert_matches(
    report: ComplianceReport,
    world: World,
    *,
    as_of: date | None = None,
    policies: Sequence[rules.CadencePolicy] = rules.DEFAULT_POLICIES,
) -> None:
    """Total, per period, misses, each division one level down and each worker's village or
    town: all as the reference says."""
    for ob in ALL_OBLIGATIONS:
        expected = world.reference(
            ob, report.period, inside=report.division.prefix, as_of=as_of, policies=policies
        )
        got = report.obligations[ob]
        assert (got.total.counted, got.total.met) == (expected.counted, expected.met), ob
        assert unmet_keys(report, ob) == set(expected.unmet), ob
        assert got.by_period == expected.by_period, ob
        assert tuple((lv, f.counted, f.met) for lv, f in got.by_risk.items()) == tuple(
            expected.by_risk
        ), ob
        day = rules.report_day(report.period, as_of)
        levels = {c.public_id: world.risks.get(c, rules.NO_RISK_HISTORY) for c in world.windows}
        assert [m.risk for m in got.unmet] == [levels[m.child].level_on(day) for m in got.unmet]
        if not got.per_household:
            assert dict(zip(expected.unmet, expected.unmet_risk, strict=True)) == {
                m.child: m.risk for m in got.unmet
            }, ob
        for row in report.rows:
            sub = world.reference(
                ob, report.period, inside=row.division.prefix, as_of=as_of, policies=policies
            )
            assert row.figures[ob] == Figures(sub.counted, sub.met), (ob, row.division.code)
    for worker_row in report.workers:
        for ob, figures in worker_row.figures.items():
            sub = world.reference(
                ob,
                report.period,
                inside=worker_row.division.prefix,
                as_of=as_of,
                policies=policies,
            )
            assert figures == Figures(sub.counted, sub.met), (ob, worker_row.division.code)


def figures(report: ComplianceReport, ob: Obligation) -> tuple[int, int]:
    total = report.obligations[ob].total
    return total.counted, total.met


# --- the rules, one at a time ----------------------------------------------------------------


def test_it_counts_a_month_met_by_the_directors_contact(world: World) -> None:
    met = world.child()
    missed = world.child()
    world.contact(met, "2024-06-03")
    world.contact(missed, "2024-05-31")  # the month before
    report = compliance_report(division(COUNTY), parse_period("2024-06"))
    assert figures(report, MONTHLY) == (2, 1)
    assert [m.child for m in report.obligations[MONTHLY].unmet] == [missed.public_id]
    assert report.obligations[MONTHLY].unmet[0].missed == (parse_period("2024-06"),)
    assert_matches(report, world)


def test_it_judges_each_month_of_a_quarter_and_needs_all_three(world: World) -> None:
    every_month = world.child()
    two_months = world.child()
    for day in ("2024-04-01", "2024-05-31", "2024-06-30"):
        world.contact(every_month, day)
    world.contact(two_months, "2024-04-10")
    world.contact(two_months, "2024-06-10")
    report = compliance_report(division(COUNTY), parse_period("2024-Q2"))
    assert figures(report, MONTHLY) == (2, 1)
    assert [
        (p.period.start.month, p.counted, p.met) for p in report.obligations[MONTHLY].by_period
    ] == [
        (4, 2, 2),
        (5, 2, 1),
        (6, 2, 2),
    ]
    (miss,) = report.obligations[MONTHLY].unmet
    assert miss.child == two_months.public_id
    assert miss.missed == (parse_period("2024-05"),)
    assert_matches(report, world)


def test_only_a_home_visit_by_the_director_meets_the_quarter(world: World) -> None:
    visited = world.child()
    phoned = world.child()
    by_supervisor = world.child()
    world.contact(visited, "2024-05-02", kind="home_visit")
    world.contact(phoned, "2024-05-02", kind="phone")
    world.contact(by_supervisor, "2024-05-02", kind="home_visit", role=TOWN_SUPERVISOR)
    report = compliance_report(division(COUNTY), parse_period("2024-Q2"))
    assert figures(report, QUARTERLY) == (3, 1)
    # The director's home visit is also a contact for May.
    assert report.obligations[MONTHLY].by_period[1].met == 2
    assert_matches(report, world)


def test_a_household_visit_credits_the_siblings(world: World) -> None:
    household = world.household()
    elder, younger = world.child(household), world.child(household)
    world.contact([elder, younger], "2024-05-20", kind="home_visit")
    report = compliance_report(division(COUNTY), parse_period("2024-Q2"))
    assert figures(report, QUARTERLY) == (2, 2)
    assert_matches(report, world)


def test_a_child_registered_mid_period_counts_from_the_next_period(world: World) -> None:
    late = world.child(registered="2024-05-15")
    report = compliance_report(division(COUNTY), parse_period("2024-Q2"))
    # Counted for June only (registered after May began), not for the quarter's home visit.
    assert [p.counted for p in report.obligations[MONTHLY].by_period] == [0, 0, 1]
    assert figures(report, QUARTERLY) == (0, 0)
    world.contact(late, "2024-06-01")
    report = compliance_report(division(COUNTY), parse_period("2024-Q2"))
    assert figures(report, MONTHLY) == (1, 1)
    assert_matches(report, world)


def test_a_child_who_left_or_lost_its_category_is_not_counted(world: World) -> None:
    world.child(left="2024-06-30")  # transferred on the last day: not active on it
    world.child(left="2024-07-01")  # still active on 30 June
    world.child(spans=[("2023-01-01", "2024-06-30")])  # category ended on the last day
    report = compliance_report(division(COUNTY), parse_period("2024-06"))
    assert figures(report, MONTHLY) == (1, 0)
    assert_matches(report, world)


def test_the_yearly_contact_is_per_household_and_progress_so_far(world: World) -> None:
    household = world.household()
    a, b = world.child(household), world.child(household)
    lone = world.child()
    world.contact(b, "2024-02-10", role=TOWN_SUPERVISOR)
    world.contact(lone, "2024-08-01", role=TOWN_SUPERVISOR)
    world.contact(lone, "2024-03-01", role=VILLAGE_DIRECTOR)  # not the supervisor
    q1 = compliance_report(division(COUNTY), parse_period("2024-Q1"))
    assert figures(q1, YEARLY) == (2, 1)
    result = q1.obligations[YEARLY]
    assert result.unmet_households == (lone.household.public_id,)
    assert [m.child for m in result.unmet] == [lone.public_id]
    year = compliance_report(division(COUNTY), parse_period("2024"))
    assert figures(year, YEARLY) == (2, 2)
    assert {a.public_id, b.public_id}.isdisjoint({m.child for m in year.obligations[YEARLY].unmet})
    assert_matches(q1, world)
    assert_matches(year, world)


def test_it_ignores_contacts_after_as_of_and_periods_not_begun(world: World) -> None:
    child = world.child()
    world.contact(child, "2024-04-05")
    world.contact(child, "2024-05-20")  # after as_of: a backfilled record not yet known
    as_of = D("2024-05-10")
    report = compliance_report(division(COUNTY), parse_period("2024-Q2"), as_of=as_of)
    assert [p.period.start.month for p in report.obligations[MONTHLY].by_period] == [4, 5]
    assert figures(report, MONTHLY) == (1, 0)
    assert_matches(report, world, as_of=as_of)


def test_a_policy_change_applies_from_the_next_period(world: World) -> None:
    child = world.child()
    world.contact(child, "2024-04-05")
    # From 15 May the monthly contact is off: May is still judged (it began before), June not.
    CadencePolicyVersion.objects.create(
        effective_from=D("2024-05-15"), monthly_contact=False, reason="试点"
    )
    report = compliance_report(division(COUNTY), parse_period("2024-Q2"))
    assert [p.period.start.month for p in report.obligations[MONTHLY].by_period] == [4, 5]
    assert figures(report, MONTHLY) == (1, 0)
    policies = rules.check_policies(
        [rules.CadencePolicy(date.min), rules.CadencePolicy(D("2024-05-15"), monthly_contact=False)]
    )
    assert_matches(report, world, policies=policies)
    CadencePolicyVersion.objects.create(
        effective_from=D("2024-06-01"), monthly_contact=True, reason="恢复"
    )
    assert figures(compliance_report(division(COUNTY), parse_period("2024-Q2")), MONTHLY) == (1, 0)
    july = compliance_report(division(COUNTY), parse_period("2024-07"))
    assert figures(july, MONTHLY) == (1, 0)


def test_it_breaks_down_by_town_village_and_worker(world: World, actors: Actors) -> None:
    east, west, south = (
        world.child(world.household(EAST)),
        world.child(world.household(WEST)),
        world.child(world.household(SOUTH)),
    )
    world.contact(east, "2024-06-01")
    world.contact(south, "2024-06-01", role=TOWN_SUPERVISOR)
    county = compliance_report(division(COUNTY), parse_period("2024-06"))
    assert [(r.division.code, r.figures[MONTHLY]) for r in county.rows] == [
        (TOWN, Figures(2, 1)),
        ("620724101000", Figures(1, 0)),
    ]
    town = compliance_report(division(TOWN), parse_period("2024-06"))
    assert {r.division.code: r.figures[MONTHLY] for r in town.rows} == {
        "620724100001": Figures(0, 0),
        EAST: Figures(1, 1),
        WEST: Figures(1, 0),
    }
    by_worker = {
        (w.worker.username if w.worker else None, w.division.code): w.figures
        for w in county.workers
    }
    assert by_worker[("village_director", EAST)][MONTHLY] == Figures(1, 1)
    assert by_worker[("other_village_director", WEST)][MONTHLY] == Figures(1, 0)
    assert by_worker[("other_town_director", SOUTH)][MONTHLY] == Figures(1, 0)
    assert by_worker[("town_supervisor", TOWN)] == {YEARLY: Figures(2, 0)}
    # 宣化镇 has no supervisor: its households are listed without one.
    assert by_worker[(None, "620724101000")] == {YEARLY: Figures(1, 1)}
    assert_matches(county, world)
    assert_matches(town, world)
    village = compliance_report(division(WEST), parse_period("2024-06"))
    assert village.rows == ()
    assert figures(village, MONTHLY) == (1, 0)
    assert [m.child for m in village.obligations[MONTHLY].unmet] == [west.public_id]


def test_a_village_without_a_director_is_listed_without_one(world: World, actors: Actors) -> None:
    User.objects.filter(username="other_village_director").update(is_active=False)
    world.child(world.household(WEST))
    report = compliance_report(division(TOWN), parse_period("2024-06"))
    (row,) = [w for w in report.workers if w.division.code == WEST]
    assert row.worker is None
    assert row.figures[MONTHLY] == Figures(1, 0)


def test_the_number_of_queries_does_not_grow_with_children_or_divisions(
    world: World,
) -> None:
    county = division(COUNTY)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            compliance_report(county, parse_period("2024"))
        return len(queries)

    world.child()
    small = count()
    for village in (EAST, WEST, SOUTH, "620724100001"):
        for n in range(6):
            household = world.household(village)
            kids = [world.child(household) for _ in range(2)]
            world.contact(kids, f"2024-0{n % 9 + 1}-1{n}", kind="home_visit")
            world.contact(kids[0], "2024-07-01", role=TOWN_SUPERVISOR)
            # Risk histories with changes and overrides: still the same statement.
            world.risk(
                kids[1],
                [("2024-01-01", "high"), ("2024-05-01", "low")],
                [("medium", "2024-06-01", "2024-12-31", None)],
            )
    Division.objects.create(code="620724102000", name="新镇", level="town", parent_id=COUNTY)
    Division.objects.create(
        code="620724102201", name="新村", level="village", parent_id="620724102000"
    )
    world.child(world.household("620724102201"))
    assert count() == small == 5


def test_it_runs_no_statement_when_nothing_is_judged() -> None:
    policies = rules.check_policies([rules.CadencePolicy(date.min)])
    report = compliance_report(
        division(COUNTY), parse_period("2030"), as_of=D("2029-12-31"), policies=policies
    )
    assert all(r.total == Figures() and r.judged == () for r in report.obligations.values())


def test_a_year_report_matches_the_reference_on_a_busy_village(world: World) -> None:
    households = [world.household(v) for v in (EAST, EAST, WEST, SOUTH)]
    kids = [
        world.child(households[0], registered="2023-11-20"),
        world.child(households[0], registered="2024-03-01", spans=[("2024-02-01", "2024-09-01")]),
        world.child(households[1], registered="2024-01-01", left="2024-10-15", status="aged_out"),
        world.child(households[2], registered="2024-07-01"),
        world.child(households[3], spans=[("2024-01-01", "2024-04-01"), ("2024-05-01", None)]),
    ]
    day = D("2024-01-03")
    for n in range(40):
        child = kids[n % len(kids)]
        world.contact(
            child,
            (day + timedelta(days=9 * n)).isoformat(),
            kind=("phone", "home_visit", "video")[n % 3],
            role=(VILLAGE_DIRECTOR, VILLAGE_DIRECTOR, TOWN_SUPERVISOR)[n % 3],
        )
    for text in ("2024", "2024-Q1", "2024-Q3", "2024-11", "2024-Q4"):
        assert_matches(compliance_report(division(COUNTY), parse_period(text)), world)
    as_of = D("2024-08-14")
    assert_matches(
        compliance_report(division(COUNTY), parse_period("2024"), as_of=as_of), world, as_of=as_of
    )


def test_contacts_on_the_first_and_last_day_count(world: World) -> None:
    first, last, after = world.child(), world.child(), world.child()
    world.contact(first, "2024-01-01", role=TOWN_SUPERVISOR)
    world.contact(last, "2024-12-31", role=TOWN_SUPERVISOR)
    world.contact(after, "2025-01-01", role=TOWN_SUPERVISOR)
    year = compliance_report(division(COUNTY), parse_period("2024"))
    assert figures(year, YEARLY) == (3, 2)
    assert year.obligations[YEARLY].unmet_households == (after.household.public_id,)
    # Judged as of 31 December on a quarter report: the last day of the judged span counts.
    q4 = compliance_report(division(COUNTY), parse_period("2024-Q4"), as_of=D("2024-12-31"))
    assert figures(q4, YEARLY) == (3, 2)
    assert_matches(year, world)


# --- risk levels then, not now (issue 10, decision 012) --------------------------------------

LOW, MEDIUM, HIGH = rules.RiskLevel.LOW, rules.RiskLevel.MEDIUM, rules.RiskLevel.HIGH


def by_risk(report: ComplianceReport, ob: Obligation) -> dict[str, tuple[int, int]]:
    return {str(lv): (f.counted, f.met) for lv, f in report.obligations[ob].by_risk.items()}


def test_a_past_quarter_files_each_child_under_its_level_then(world: World) -> None:
    was_high = world.child()  # high in the first quarter of 2024, low since April
    world.risk(was_high, [("2024-01-01", "high"), ("2024-04-01", "low")])
    overridden = world.child()  # low then; an officer raised it in 2026
    world.risk(overridden, [("2024-01-01", "low")], [("high", "2026-11-02", "2027-01-31", None)])
    world.child()  # nothing recorded: low
    for kid in world.windows:
        world.contact(kid, "2024-01-10")
        world.contact(kid, "2024-02-10")
    world.contact(overridden, "2024-03-10")
    today = D("2026-12-07")
    q1 = compliance_report(division(COUNTY), parse_period("2024-Q1"), as_of=today)
    assert by_risk(q1, MONTHLY) == {"low": (2, 1), "medium": (0, 0), "high": (1, 0)}
    assert by_risk(q1, QUARTERLY) == {"low": (2, 0), "medium": (0, 0), "high": (1, 0)}
    assert {m.child: m.risk for m in q1.obligations[MONTHLY].unmet}[was_high.public_id] == HIGH
    assert q1.obligations[YEARLY].by_risk == {}
    assert_matches(q1, world, as_of=today)
    # The second quarter: low, as it is now.
    q2 = compliance_report(division(COUNTY), parse_period("2024-Q2"), as_of=today)
    assert by_risk(q2, MONTHLY) == {"low": (3, 0), "medium": (0, 0), "high": (0, 0)}
    assert_matches(q2, world, as_of=today)
    # The override made in 2026 files the child under high in a report of today's quarter.
    now = compliance_report(division(COUNTY), parse_period("2026-Q4"), as_of=today)
    assert by_risk(now, MONTHLY)["high"] == (1, 0)
    assert_matches(now, world, as_of=today)


@pytest.mark.parametrize(
    ("computed", "overrides", "as_of", "level"),
    [
        # Raised on the quarter's last day: that is the day judged.
        ([("2024-01-01", "medium"), ("2024-03-31", "high")], [], None, HIGH),
        # Lowered on the last day.
        ([("2024-01-01", "high"), ("2024-03-31", "low")], [], None, LOW),
        # An override through the last day, then one cleared on it (from that day: computed).
        ([("2024-01-01", "low")], [("high", "2024-02-01", "2024-03-31", None)], None, HIGH),
        ([("2024-01-01", "low")], [("high", "2024-02-01", "2024-06-30", "2024-03-31")], None, LOW),
        # Judged so far: the level on as_of, not the one at the quarter's end.
        ([("2024-01-01", "medium"), ("2024-03-01", "high")], [], "2024-02-15", MEDIUM),
        # Nothing recorded yet on the day judged: low.
        ([("2024-04-01", "high")], [], None, LOW),
    ],
)
def test_the_level_on_the_last_day_judged_files_the_child(
    world: World,
    computed: list[tuple[str, str]],
    overrides: list[tuple[str, str, str, str | None]],
    as_of: str | None,
    level: rules.RiskLevel,
) -> None:
    kid = world.child()
    world.risk(kid, computed, overrides)
    day = D(as_of) if as_of else None
    report = compliance_report(division(COUNTY), parse_period("2024-Q1"), as_of=day)
    assert {lv for lv, f in report.obligations[MONTHLY].by_risk.items() if f.counted} == {level}
    assert [m.risk for m in report.obligations[MONTHLY].unmet] == [level]
    assert_matches(report, world, as_of=day)
