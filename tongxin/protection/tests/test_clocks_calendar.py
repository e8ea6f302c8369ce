"""Clocks that reach a year whose holidays are not in the working-day calendar (2027 with
chinese-calendar 1.11): the deadline is counted Monday to Friday and shown as an estimate
(预计) on the report's page, in the API (``estimated``), on the county officer's home page and
in ``report_clocks``; once the county enters the year, the stored deadlines are counted again
and are certain. A clock in hours is never an estimate."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tongxin.protection import rules, services
from tongxin.protection.models import Concern, MandatoryReport
from tongxin.protection.tests.conftest import file_report
from tongxin.protection.tests.test_problems import raise_problem
from tongxin.protection.tests.test_referrals import refer
from tongxin.registry.models import Child
from tongxin.testing import Actors, api_client, web_client
from tongxin.workdays.services import work_calendar
from tongxin.workdays.tests.conftest import enter_new_year_2027

TZ = ZoneInfo("Asia/Shanghai")
ACCEPTED = datetime(2026, 12, 17, 11, 0, tzinfo=TZ)
LOOKED_AT = datetime(2026, 12, 20, 9, 0, tzinfo=TZ)


def _parsed(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _2027_unknown(without_2027: int) -> None:
    """The year is kept out of the table whatever the installed chinese-calendar knows."""


@pytest.fixture
def accepted(actors: Actors) -> MandatoryReport:
    """Accepted on Thursday 17 December 2026: its 15 days end on Friday 1 January 2027."""
    report = file_report(actors, now=ACCEPTED - timedelta(hours=1))
    return services.report_transition(
        actor=actors.department_officer, report=report, transition="accept", now=ACCEPTED
    )


def test_the_rule_flags_a_deadline_counted_over_an_unknown_year(db: None) -> None:
    calendar = work_calendar()
    result = rules.Limit(15, rules.Unit.DAYS)
    due = rules.due(ACCEPTED, result, TZ, calendar)
    # New Year's Day counted as a working Friday: a guess, said so.
    assert due.at == _end_of(2027, 1, 1)
    assert due.estimated
    assert due.guessed_years == (2027,)
    # In the calendar's years: certain. In hours: never a guess.
    assert not rules.due(ACCEPTED - timedelta(days=30), result, TZ, calendar).estimated
    assert not rules.due(
        ACCEPTED + timedelta(days=14), rules.Limit(24, rules.Unit.HOURS), TZ, calendar
    ).estimated


def test_the_report_page_and_the_api_show_the_estimate(
    actors: Actors, accepted: MandatoryReport
) -> None:
    detail = reverse("reports:report_detail", args=[accepted.public_id])
    with time_machine.travel(LOOKED_AT):
        html = web_client(actors.county_admin).get(detail).content.decode()
        body = (
            api_client(actors.department_officer)
            .get(reverse("api:report_detail", args=[accepted.public_id]))
            .json()
        )
    assert "clock-estimated" in html
    assert "预计" in html
    assert "2027年1月1日" in html
    assert "2027的节假日" in html or "2027年的节假日" in html
    acceptance, result = body["clocks"]
    assert (acceptance["state"], acceptance["estimated"]) == ("met", False)
    assert result["estimated"] is True
    assert result["guessed_years"] == [2027]
    assert _parsed(result["deadline"]) == _end_of(2027, 1, 1)


def test_once_the_county_enters_the_year_the_deadline_is_certain_and_stored(
    actors: Actors, accepted: MandatoryReport
) -> None:
    assert timezone.localtime(accepted.result_due_at).date().isoformat() == "2027-01-01"
    enter_new_year_2027(actors.county_admin)
    accepted.refresh_from_db()
    # 1–3 January off: the period ends with Monday 4 January, for the lists and alerts too.
    assert accepted.result_due_at == _end_of(2027, 1, 4)
    with time_machine.travel(LOOKED_AT):
        body = (
            api_client(actors.county_admin)
            .get(reverse("api:report_detail", args=[accepted.public_id]))
            .json()
        )
        html = (
            web_client(actors.county_admin)
            .get(reverse("reports:report_detail", args=[accepted.public_id]))
            .content.decode()
        )
    assert body["clocks"][1]["estimated"] is False
    assert _parsed(body["clocks"][1]["deadline"]) == _end_of(2027, 1, 4)
    assert "clock-estimated" not in html
    # No alert on 2 January: the guess said 1 January, the calendar says 4 January.
    assert services.report_clock_alerts(now=_end_of(2027, 1, 2)) == 0
    assert services.report_clock_alerts(now=_end_of(2027, 1, 4) + timedelta(seconds=1)) == 2


def test_report_clocks_says_which_deadlines_are_estimates(
    actors: Actors, accepted: MandatoryReport
) -> None:
    out = StringIO()
    with time_machine.travel(LOOKED_AT):
        call_command("report_clocks", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Report clocks: 0 alerts written."
    (warning,) = lines[1:]
    assert "2027" in warning
    assert " 1 " in warning or "1个" in warning or "1 个" in warning
    enter_new_year_2027(actors.county_admin)
    again = StringIO()
    with time_machine.travel(LOOKED_AT):
        call_command("report_clocks", stdout=again)
    assert again.getvalue().splitlines() == ["Report clocks: 0 alerts written."]


def test_the_county_officers_home_page_says_so(actors: Actors, accepted: MandatoryReport) -> None:
    with time_machine.travel(LOOKED_AT):
        county = web_client(actors.county_admin).get(reverse("home")).content.decode()
        village = web_client(actors.village_director).get(reverse("home")).content.decode()
        other_county = web_client(actors.other_county_admin).get(reverse("home")).content.decode()
    assert 'id="calendar-warning"' in county
    assert "2027" in county
    assert f"{reverse('workdays:workdays')}?year=2027" in county
    assert 'id="calendar-warning"' not in village
    assert 'id="calendar-warning"' not in other_county  # not in their area
    enter_new_year_2027(actors.county_admin)
    with time_machine.travel(LOOKED_AT):
        county = web_client(actors.county_admin).get(reverse("home")).content.decode()
    assert 'id="calendar-warning"' not in county


def test_an_acceptance_in_hours_across_new_year_is_not_an_estimate(actors: Actors) -> None:
    report = file_report(actors, now=datetime(2026, 12, 31, 20, 0, tzinfo=TZ))
    with time_machine.travel(datetime(2026, 12, 31, 21, 0, tzinfo=TZ)):
        body = (
            api_client(actors.county_admin)
            .get(reverse("api:report_detail", args=[report.public_id]))
            .json()
        )
        home = web_client(actors.county_admin).get(reverse("home")).content.decode()
    assert body["clocks"][0]["estimated"] is False
    assert _parsed(body["clocks"][0]["deadline"]) == datetime(2027, 1, 1, 20, 0, tzinfo=TZ)
    assert 'id="calendar-warning"' not in home


@pytest.fixture
def problem(actors: Actors, child: Child) -> Concern:
    return raise_problem(actors, child, category="psychological")


def test_a_referrals_deadline_in_working_days_is_an_estimate_too(
    actors: Actors, problem: Concern
) -> None:
    # Wednesday 30 December: 31/12, then Friday 1 January (a guess), then Monday 4 January.
    referral = refer(actors, problem, now=datetime(2026, 12, 30, 10, 0, tzinfo=TZ))
    assert referral.acceptance_due_at == _end_of(2027, 1, 4)
    api = api_client(actors.county_admin)
    url = reverse("api:referral_detail", args=[referral.public_id])
    page = reverse("reports:referral_detail", args=[referral.public_id])
    assert api.get(url).json()["acceptance_due_estimated"] is True
    html = web_client(actors.county_admin).get(page).content.decode()
    assert "2027" in html.split('id="acceptance-due"')[1].split("</dd>")[0]
    enter_new_year_2027(actors.county_admin)
    referral.refresh_from_db()
    assert referral.acceptance_due_at == _end_of(2027, 1, 5)
    assert api.get(url).json()["acceptance_due_estimated"] is False
