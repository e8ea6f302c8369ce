"""The working-day calendar page: a county officer lists a year's holidays and make-up working
days, adds and removes a day with its name and confirms the year (each audited); a refused day
keeps what was typed and says why in Chinese; the auditor reads it; everyone else gets 404."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from tongxin.audit.models import AuditEvent
from tongxin.testing import Actors, web_client
from tongxin.workdays.models import CalendarDay, CalendarYear
from tongxin.workdays.tests.conftest import UNKNOWN_YEAR

URL = reverse("workdays:workdays")


def test_the_page_lists_a_years_holidays_and_make_up_days(actors: Actors) -> None:
    response = web_client(actors.county_admin).get(URL, {"year": 2024})
    assert response.status_code == 200
    html = response.content.decode()
    national_day = html.split('id="day-2024-10-01"')[1].split("</li>")[0]
    assert "国庆节" in national_day
    assert "放假" in national_day
    assert "调休上班" in html.split('id="day-2024-09-29"')[1].split("</li>")[0]
    assert "已确认" in html.split('id="year-state"')[1].split("</p>")[0]


def test_an_unknown_year_says_its_deadlines_are_estimates(
    actors: Actors, without_2027: int
) -> None:
    html = web_client(actors.county_admin).get(URL, {"year": UNKNOWN_YEAR}).content.decode()
    state = html.split('id="year-state"')[1].split("</p>")[0]
    assert "尚未确认" in state
    assert "预计" in state


def test_a_county_officer_adds_removes_and_confirms(actors: Actors, without_2027: int) -> None:
    web = web_client(actors.county_admin)
    for day in ("2027-01-01", "2027-01-02"):
        added = web.post(
            URL,
            {"action": "add", "year": "2027", "day": day, "kind": "day_off", "name": "元旦"},
        )
        assert added.status_code == 302
        assert added["Location"] == f"{URL}?year=2027"
    assert list(CalendarDay.objects.filter(day__year=2027).values_list("day", "name")) == [
        (date(2027, 1, 1), "元旦"),
        (date(2027, 1, 2), "元旦"),
    ]
    removed = web.post(URL, {"action": "remove", "year": "2027", "day": "2027-01-02"})
    assert removed.status_code == 302
    assert web.post(URL, {"action": "confirm", "year": "2027"}).status_code == 302
    assert CalendarYear.objects.filter(year=2027).exists()
    assert list(
        AuditEvent.objects.filter(actor=actors.county_admin, action__startswith="workday.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["workday.add", "workday.add", "workday.remove", "workday.year_confirm"]
    html = web.get(URL, {"year": 2027}).content.decode()
    assert "元旦" in html.split('id="day-2027-01-01"')[1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"day": "2027-01-04", "kind": "workday"}, "不是周末"),  # a Monday
        ({"day": "2027-02-30"}, ""),  # no such day: the form's own message
        ({"name": ""}, ""),
        ({"kind": "holiday"}, ""),
    ],
)
def test_a_refused_day_keeps_what_was_typed_and_says_why(
    actors: Actors, without_2027: int, data: dict[str, Any], message: str
) -> None:
    given = {"action": "add", "year": "2027", "day": "2027-02-06", "kind": "day_off"}
    given["name"] = "春节调休"
    given.update(data)
    response = web_client(actors.county_admin).post(URL, given)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="field-error"' in html
    assert message in html
    assert f'value="{given["day"]}"' in html
    if given["name"]:
        assert 'value="春节调休"' in html
    assert not CalendarDay.objects.filter(day__year=2027).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"action": "remove", "year": "2027", "day": "not-a-day"},
        {"action": "remove", "year": "2027", "day": "2027-05-05"},
        {"action": "confirm", "year": "2027"},  # nothing entered yet
        {"action": "explode", "year": "2027"},
    ],
)
def test_a_refused_action_is_a_400_with_a_message(
    actors: Actors, without_2027: int, data: dict[str, str]
) -> None:
    response = web_client(actors.county_admin).post(URL, data)
    assert response.status_code == 400
    assert 'class="flash flash-error"' in response.content.decode()


@pytest.mark.parametrize("year", ["abc", "²", "1900", "99999999999999999999"])
def test_a_year_that_cannot_be_read_is_a_400_with_this_years_page(
    actors: Actors, year: str
) -> None:
    response = web_client(actors.county_admin).get(URL, {"year": year})
    assert response.status_code == 400
    assert "无法显示" in response.content.decode()


@pytest.mark.parametrize(
    ("actor", "get", "post"),
    [
        ("county_admin", 200, 302),
        ("auditor", 200, 403),
        ("department_officer", 404, 404),
        ("town_supervisor", 404, 404),
        ("village_director", 404, 404),
        ("reporter", 404, 404),
        ("system_admin", 404, 404),
    ],
)
def test_who_reads_and_who_edits_the_calendar(
    actors: Actors, without_2027: int, actor: str, get: int, post: int
) -> None:
    web = web_client(getattr(actors, actor))
    assert web.get(URL).status_code == get
    data = {"action": "add", "year": "2027", "day": "2027-01-01", "kind": "day_off", "name": "元旦"}
    assert web.post(URL, data).status_code == post
    assert CalendarDay.objects.filter(day=date(2027, 1, 1)).exists() is (post == 302)
