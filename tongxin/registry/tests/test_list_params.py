"""The list of children, its export and its API refuse a query value they do not take (issue
10): a 400 naming the parameter in Chinese (for a choice, with the values it takes), never a
500 and never a silently unfiltered list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.urls import reverse

from tongxin.registry.tests.test_list_view import TODAY, World, build_world
from tongxin.testing import Actors, api_client, web_client

API = "/api/v1/children"

# Values int() cannot read although str.isdigit() says they are digits, and other hostile ones.
BAD_NUMBERS = ["²", "٣", "１２", "-1", "26", "9" * 30, "9" * 5000, "AAA", "1e9", "1.5"]


@pytest.fixture(autouse=True)
def today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(TODAY, tick=False) as t:
        yield t


@pytest.fixture
def world(actors: Actors) -> World:
    return build_world(actors)


@pytest.mark.parametrize("name", ["age_from", "age_to"])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_the_api_refuses_an_age_that_is_not_a_number_of_years(
    actors: Actors, world: World, name: str, value: str
) -> None:
    response = api_client(actors.county_admin).get(API, {name: value})
    assert response.status_code == 400, response.content
    (message,) = response.json()[name]
    assert ("年龄下限" if name == "age_from" else "年龄上限") in message
    assert "0-9" in message


@pytest.mark.parametrize("value", ["²-11", "6-²", "x-y", "6", "11-6", "6-99", "-", "9" * 40 + "-"])
def test_the_api_refuses_an_age_band_it_cannot_read(
    actors: Actors, world: World, value: str
) -> None:
    response = api_client(actors.county_admin).get(API, {"age": value})
    assert response.status_code == 400
    assert "年龄段" in response.json()["age"][0]


@pytest.mark.parametrize(
    ("name", "label", "allowed"),
    [
        ("status", "档案状态", "transferred_out"),
        ("category", "类别", "dibao_family"),
        ("risk", "风险等级", "medium"),
        ("enrolment", "就学", "dropped_out"),
    ],
)
def test_the_api_refuses_an_unknown_choice_naming_the_values_it_takes(
    actors: Actors, world: World, name: str, label: str, allowed: str
) -> None:
    response = api_client(actors.county_admin).get(API, {name: "AAA"})
    assert response.status_code == 400
    (message,) = response.json()[name]
    assert label in message
    assert allowed in message


def test_the_api_names_every_bad_parameter_at_once(actors: Actors, world: World) -> None:
    response = api_client(actors.county_admin).get(
        API, {"status": "AAA", "age_from": "²", "division": "６２０７２４"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"status", "age_from", "division"}


def test_good_values_still_filter(actors: Actors, world: World) -> None:
    response = api_client(actors.county_admin).get(API, {"age": "6-11", "status": "active"})
    assert response.status_code == 200
    assert sorted(r["name"] for r in response.json()["results"]) == ["张三", "李四"]


def test_the_page_shows_the_error_on_the_filter_form_and_lists_without_it(
    actors: Actors, world: World
) -> None:
    response = web_client(actors.county_admin).get(
        reverse("registry:child_list"), {"age_from": "²", "category": "left_behind"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    start = html.index('class="filters child-filters"')
    form = html[start : html.index("</form>", start)]
    assert "年龄下限" in form
    assert 'role="alert"' in form
    # The other filter still applies.
    assert sorted(row.name for row in response.context["rows"]) == ["张三", "王五"]


def test_the_page_refuses_an_unknown_status_instead_of_listing_everyone(
    actors: Actors, world: World
) -> None:
    response = web_client(actors.county_admin).get(
        reverse("registry:child_list"), {"status": "AAA"}
    )
    assert response.status_code == 400
    assert "档案状态" in response.content.decode()


@pytest.mark.parametrize("params", [{"age_from": "²"}, {"age": "²-3"}, {"status": "AAA"}])
def test_the_export_exports_nothing_on_a_bad_filter_and_says_why(
    actors: Actors, world: World, params: dict[str, str]
) -> None:
    response = web_client(actors.county_admin).get(reverse("registry:child_export"), params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert 'role="alert"' in response.content.decode()
