"""Statistics of mandatory reports on a built world, with exact figures: by harm, institution,
division and month; the medians and the shares within the time limits (read as the clocks read
them); the outcomes; the cases found unreported; a department's own figures. The query count
does not grow with the reports."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongxin.core.periods import parse_period
from tongxin.geo.models import Division
from tongxin.protection import rules, services
from tongxin.protection.models import MandatoryReport
from tongxin.protection.stats import ReportStats, median, report_stats
from tongxin.protection.tests.conftest import file_report
from tongxin.testing import Actors
from tongxin.workdays.services import work_calendar

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 6, 30, 10, 0, tzinfo=TZ)
COUNTY, TOWN, EAST, WEST, SOUTH = (
    "620724000000",
    "620724100000",
    "620724100201",
    "620724100202",
    "620724101201",
)


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def _move(
    actor: Any, report: MandatoryReport, *steps: tuple[str, datetime, dict[str, Any]]
) -> None:
    for step, when, extra in steps:
        services.report_transition(actor=actor, report=report, transition=step, now=when, **extra)


def build_world(actors: Actors) -> dict[str, MandatoryReport]:
    """Seven reports and two cases found unreported (see each line)."""
    police, education = actors.department_officer, actors.other_department_officer
    r: dict[str, MandatoryReport] = {}
    # R1: the school, physical abuse, 东村 → police; accepted in 2 hours, a result in 6 days.
    r["R1"] = file_report(actors, now=at(2024, 3, 4, 10, 0), village=EAST)
    _move(
        police,
        r["R1"],
        ("accept", at(2024, 3, 4, 12, 0), {}),
        ("start_verification", at(2024, 3, 5, 9, 0), {}),
        ("record_result", at(2024, 3, 10, 12, 0), {"result": "已处理"}),
    )
    # R2: the school, bullying and neglect, 西村 → education; accepted after 30 hours (late),
    # no result since (its 15 days ran out in April).
    r["R2"] = file_report(
        actors, harms=("bullying", "neglect"), now=at(2024, 3, 20, 9, 0), village=WEST
    )
    _move(education, r["R2"], ("accept", at(2024, 3, 21, 15, 0), {}))
    # R3: the village director, online, neglect → civil affairs; never accepted.
    r["R3"] = file_report(
        actors, actor="village_director", harms=("neglect",), now=at(2024, 5, 6, 8, 0)
    )
    # R4: a hospital's call recorded by the county (who chose "medical" for it), sexual abuse,
    # 南村 → police; rejected unaccepted 3 hours later (a decision in time).
    r["R4"] = file_report(
        actors,
        actor="county_admin",
        harms=("sexual_abuse",),
        now=at(2024, 5, 10, 9, 0),
        village=SOUTH,
        channel="phone",
        reporter_name="王医生",
        reporting_organisation_name="高台县第二人民医院",
        reporting_institution_type="medical",
    )
    _move(police, r["R4"], ("reject", at(2024, 5, 10, 12, 0), {"reason": "不属实"}))
    # R5: the school, accidental injury, no village (the town) → civil affairs; 14 hours old:
    # its acceptance clock still runs.
    r["R5"] = file_report(
        actors, harms=("accidental_injury",), now=at(2024, 6, 29, 20, 0), village=None
    )
    # R6 and R7 on either side of the new year, local time (UTC is 8 hours behind).
    r["R6"] = file_report(actors, harms=("other",), now=at(2023, 12, 31, 23, 30), village=EAST)
    r["R7"] = file_report(actors, harms=("other",), now=at(2024, 1, 1, 0, 30), village=EAST)
    east = Division.objects.get(code=EAST)
    for found_on in (date(2024, 4, 2), date(2023, 11, 1)):
        services.failure_record(
            actor=actors.county_admin,
            fields={
                "division": east,
                "organisation_name": "东村幼儿园",
                "found_on": found_on,
                "summary": "未报告",
                "follow_up": "talk",
            },
        )
    return r


@pytest.fixture
def world(actors: Actors) -> dict[str, MandatoryReport]:
    return build_world(actors)


def _stats(actors: Actors, actor: str, division: str, period: str) -> ReportStats:
    return report_stats(
        getattr(actors, actor),
        Division.objects.get(code=division),
        parse_period(period),
        now=NOW,
    )


def _counts(buckets: Any) -> dict[str, int]:
    return {b.key: b.count for b in buckets if b.count}


def test_the_county_figures_for_a_year(actors: Actors, world: dict[str, MandatoryReport]) -> None:
    stats = _stats(actors, "county_admin", COUNTY, "2024")
    assert stats.total == 6
    assert not stats.department_only
    assert _counts(stats.by_harm) == {
        "physical_abuse": 1,
        "sexual_abuse": 1,
        "neglect": 2,
        "bullying": 1,
        "accidental_injury": 1,
        "other": 1,
    }
    assert [b.key for b in stats.by_harm][:2] == ["physical_abuse", "sexual_abuse"]
    assert _counts(stats.by_institution) == {"school": 4, "village_committee": 1, "medical": 1}
    assert [(b.name, b.count) for b in stats.by_division] == [("城关镇", 5), ("宣化镇", 1)]
    assert [b.count for b in stats.by_month] == [1, 0, 2, 0, 2, 1, 0, 0, 0, 0, 0, 0]
    assert stats.by_month[0].key == "2024-01"
    assert _counts(stats.outcomes) == {
        "received": 3,
        "accepted": 1,
        "result_recorded": 1,
        "rejected": 1,
    }
    acceptance, result = stats.acceptance, stats.result
    assert (acceptance.measured, acceptance.median) == (2, timedelta(hours=16))
    assert (acceptance.decided, acceptance.within, acceptance.percent) == (5, 2, 40.0)
    assert str(acceptance.limit) == "24h"
    assert (result.measured, result.median) == (1, timedelta(days=6))
    assert (result.decided, result.within, result.share) == (2, 1, 0.5)
    assert stats.failures == 1


def test_the_shares_read_the_clocks_as_the_rules_do(
    actors: Actors, world: dict[str, MandatoryReport]
) -> None:
    decided = {rules.ClockName.ACCEPTANCE: 0, rules.ClockName.RESULT: 0}
    within = dict(decided)
    counted = [r for key, r in world.items() if key != "R6"]
    calendar = work_calendar()
    for report in counted:
        report.refresh_from_db()
        for clock in rules.report_clocks(report.times(), NOW, calendar=calendar):
            if clock.state in (
                rules.ClockState.MET,
                rules.ClockState.MET_LATE,
                rules.ClockState.BREACHED,
            ):
                decided[clock.name] += 1
            within[clock.name] += clock.state == rules.ClockState.MET
    stats = _stats(actors, "county_admin", COUNTY, "2024")
    assert (stats.acceptance.decided, stats.acceptance.within) == (
        decided[rules.ClockName.ACCEPTANCE],
        within[rules.ClockName.ACCEPTANCE],
    )
    assert (stats.result.decided, stats.result.within) == (
        decided[rules.ClockName.RESULT],
        within[rules.ClockName.RESULT],
    )


@pytest.mark.parametrize(
    ("period", "total", "months", "failures"),
    [
        ("2023", 1, [0] * 11 + [1], 1),
        ("2024-Q1", 3, [1, 0, 2], 0),
        ("2024-05", 2, [2], 0),
        ("2024-Q3", 0, [0, 0, 0], 0),
    ],
)
def test_the_period_counts_local_days(
    actors: Actors,
    world: dict[str, MandatoryReport],
    period: str,
    total: int,
    months: list[int],
    failures: int,
) -> None:
    stats = _stats(actors, "county_admin", COUNTY, period)
    assert stats.total == total
    assert [b.count for b in stats.by_month] == months
    assert stats.failures == failures


def test_a_town_counts_its_villages_and_its_own_level(
    actors: Actors, world: dict[str, MandatoryReport]
) -> None:
    stats = _stats(actors, "county_admin", TOWN, "2024")
    assert stats.total == 5
    assert [(b.code, b.count) for b in stats.by_division] == [
        ("620724100001", 0),
        (EAST, 3),
        (WEST, 1),
        ("", 1),  # R5, filed at the town's level
    ]


def test_a_village_has_a_single_row(actors: Actors, world: dict[str, MandatoryReport]) -> None:
    stats = _stats(actors, "auditor", EAST, "2024")
    assert stats.total == 3
    assert [(b.code, b.count) for b in stats.by_division] == [(EAST, 3)]
    assert stats.failures == 1


def test_a_department_counts_the_reports_it_handles(
    actors: Actors, world: dict[str, MandatoryReport]
) -> None:
    police = _stats(actors, "department_officer", COUNTY, "2024")
    assert police.department_only
    assert police.total == 2
    assert _counts(police.by_harm) == {"physical_abuse": 1, "sexual_abuse": 1}
    assert police.failures is None
    assert (police.acceptance.decided, police.acceptance.within) == (2, 2)
    education = _stats(actors, "other_department_officer", COUNTY, "2024")
    assert education.total == 1
    assert (education.acceptance.decided, education.acceptance.within) == (1, 0)


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    hours = [timedelta(hours=h) for h in (5, 1, 3, 10)]
    assert median(hours) == timedelta(hours=4)
    assert median(hours[:3]) == timedelta(hours=3)
    assert median([]) is None


def test_the_query_count_does_not_grow(actors: Actors, world: dict[str, MandatoryReport]) -> None:
    county, east, year = (
        Division.objects.get(code=COUNTY),
        Division.objects.get(code=EAST),
        parse_period("2024"),
    )
    with CaptureQueriesContext(connection) as before:
        report_stats(actors.county_admin, county, year, now=NOW)
    for day in range(1, 8):
        report = file_report(actors, now=at(2024, 2, day, 10, 0), village=WEST)
        _move(actors.department_officer, report, ("accept", at(2024, 2, day, 11, 0), {}))
    with CaptureQueriesContext(connection) as after:
        stats = report_stats(actors.county_admin, county, year, now=NOW)
    assert stats.total == 13
    assert len(before) == len(after) == 9
    with CaptureQueriesContext(connection) as department:
        report_stats(actors.department_officer, east, year, now=NOW)
    assert len(department) == 8  # no cases found unreported
