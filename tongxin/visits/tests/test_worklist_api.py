"""``GET /api/v1/worklist``: the contract of issue 4 (child, name masked, household,
obligation, last_contact, due, status), errors that name the field, pages, the schema."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tongxin.registry.models import Child, Household
from tongxin.testing import Actors, api_client
from tongxin.visits.tests import worklist_world as world

pytestmark = pytest.mark.django_db

URL = "/api/v1/worklist"
D = date.fromisoformat


def test_the_url_is_named() -> None:
    assert reverse("api:worklist") == URL


def test_it_answers_the_directors_lines(actors: Actors) -> None:
    kid = world.child(registered_on=D("2024-01-01"), name="王小明")
    world.contact(actors.village_director, [kid], D("2024-06-03"), kind="home_visit")
    world.contact(actors.village_director, [kid], D("2024-07-03"))  # after as_of: ignored
    response = api_client(actors.village_director).get(URL, {"as_of": "2024-06-10"})
    assert response.status_code == 200
    body = response.json()
    assert (body["as_of"], body["count"], body["page"], body["next"]) == ("2024-06-10", 2, 1, None)
    assert body["results"] == [
        {
            "child": str(kid.public_id),
            "name": "王*明",
            "household": str(kid.household.public_id),
            "village": world.VILLAGE,
            "obligation": obligation,
            "last_contact": "2024-06-03",
            "due": "2024-06-30",
            "status": "done",
            "risk": "low",
            "interval_days": None,
        }
        for obligation in ("monthly_contact", "quarterly_home_visit")
    ]
    assert "王小明" not in response.content.decode()


def test_overdue_lines_and_the_status_filter(actors: Actors) -> None:
    kid = world.child(registered_on=D("2024-01-01"), risk="high")
    world.contact(actors.village_director, [kid], D("2024-06-01"))
    client = api_client(actors.village_director)
    body = client.get(URL, {"as_of": "2024-06-10", "status": "overdue"}).json()
    assert [
        (r["obligation"], r["last_contact"], r["due"], r["interval_days"]) for r in body["results"]
    ] == [("quarterly_home_visit", None, "2024-01-31", 30)]
    body = client.get(URL, {"as_of": "2024-06-10", "status": "due_soon"}).json()
    assert [(r["obligation"], r["due"]) for r in body["results"]] == [
        ("monthly_contact", "2024-06-16")
    ]


def test_a_past_day_ignores_an_override_made_later(actors: Actors) -> None:
    """Issue 10: an override set today (2026) does not reach back to 25 March 2024."""
    kid = world.child(registered_on=D("2024-01-01"), risk="low")
    Household.objects.filter(pk=kid.household_id).update(caregiver_name="王奶奶")
    today = timezone.localdate()
    until = (today + timedelta(days=30)).isoformat()
    set_override = api_client(actors.county_admin).post(
        reverse("api:child_risk_override", args=[kid.public_id]),
        {"level": "high", "until": until, "reason": "家中有变故"},
        format="json",
    )
    assert set_override.json()["level"] == "high"
    client = api_client(actors.village_director)
    past = client.get(URL, {"as_of": "2024-03-25"}).json()["results"]
    assert [(r["risk"], r["interval_days"]) for r in past] == [("low", None), ("low", None)]
    now = client.get(URL, {"as_of": today.isoformat()}).json()["results"]
    assert sorted((r["risk"], r["interval_days"]) for r in now) == [("high", 15), ("high", 30)]


def test_the_supervisor_gets_family_lines(actors: Actors) -> None:
    kid = world.child(registered_on=D("2023-01-01"), name="李大明")
    world.child(kid.household, registered_on=D("2023-01-01"), name="李二")
    body = api_client(actors.town_supervisor).get(URL, {"as_of": "2024-06-10"}).json()
    (line,) = body["results"]
    assert line["child"] is None
    assert line["household"] == str(kid.household.public_id)
    assert line["name"] == "李*明、李*"
    assert (line["obligation"], line["due"], line["status"]) == (
        "yearly_family_contact",
        "2023-12-31",
        "overdue",
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_of": "2024-06-31"}, "as_of"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2024-06-10", "status": "late"}, "status"),
    ],
)
def test_a_malformed_parameter_is_named(actors: Actors, params: dict[str, str], field: str) -> None:
    response = api_client(actors.village_director).get(URL, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_outsiders_get_404_and_anonymous_401(actors: Actors) -> None:
    assert api_client(None).get(URL).status_code == 401
    for key in ("department_officer", "reporter", "system_admin"):
        assert api_client(getattr(actors, key)).get(URL).status_code == 404
    director = api_client(actors.village_director)
    assert director.get(URL, {"village": world.OTHER_VILLAGE}).status_code == 404
    assert director.get(URL, {"page": "9"}).status_code == 404


def test_county_roles_read_a_village(actors: Actors) -> None:
    world.child(registered_on=D("2024-01-01"))
    client = api_client(actors.auditor)
    assert client.get(URL, {"as_of": "2024-06-10"}).json()["count"] == 0
    body = client.get(URL, {"as_of": "2024-06-10", "village": world.VILLAGE}).json()
    assert body["count"] == 2


def test_it_pages_by_a_hundred(actors: Actors) -> None:
    for _ in range(51):
        world.child(registered_on=D("2024-01-01"))
    client = api_client(actors.village_director)
    body = client.get(URL, {"as_of": "2024-06-10"}).json()
    assert (body["count"], body["num_pages"], len(body["results"])) == (102, 2, 100)
    assert body["next"].endswith("page=2")
    second = client.get(body["next"]).json()
    assert len(second["results"]) == 2
    assert second["previous"].endswith("as_of=2024-06-10")


def _queries(actors: Actors, n: int) -> int:
    """The queries of one request once the village has ``n`` children."""
    while Child.objects.filter(village_id=world.VILLAGE).count() < n:
        world.child(registered_on=D("2024-01-01"))
    client = api_client(actors.village_director)
    client.get(URL, {"as_of": "2024-06-10"})
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL, {"as_of": "2024-06-10"}).json()["count"] == 2 * n
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow(actors: Actors) -> None:
    assert _queries(actors, 3) == _queries(actors, 30)


def test_it_is_in_the_schema(actors: Actors) -> None:
    schema = api_client(None).get(reverse("schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/worklist"]["get"]
    assert operation["operationId"] == "worklist"
    assert {p["name"] for p in operation["parameters"]} >= {"as_of", "village", "status", "page"}
