"""A report's dates and a described child's name are checked as every form and API checks them
(issue 10): ``discovered_at`` 0001-01-01 was a 500 with a school's token; a discovery before
the linked child's birth, markup for a name and an unknown list status were accepted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from tongxin.protection.models import Concern, MandatoryReport
from tongxin.protection.tests.conftest import CHILD_NAME, FACTS, file_report, make_family
from tongxin.testing import Actors, api_client, web_client

NOW = "2025-06-30T10:00:00+08:00"

INTAKE = {
    "urgency": "urgent",
    "harms": ["neglect"],
    "facts": FACTS,
    "child_name": CHILD_NAME,
    "child_village": "620724100201",
    "reporter_phone": "13900000002",
}


@pytest.fixture(autouse=True)
def now() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as t:
        yield t


def _intake(actors: Actors, actor: str = "reporter", **changes: Any) -> Any:
    return api_client(getattr(actors, actor)).post(
        reverse("api:report_collection"), {**INTAKE, **changes}, format="json"
    )


@pytest.mark.parametrize(
    ("discovered_at", "shown"),
    [
        ("0001-01-01", "1年1月1日"),  # a 500 before: no UTC equivalent
        ("0001-01-01T00:00:00", "1年1月1日"),
        ("9999-12-31T23:59:59+14:00", "9999年12月31日"),
        ("1900-01-01T00:00:00Z", "1900年1月1日"),
    ],
)
def test_a_school_cannot_file_a_discovery_no_one_made(
    actors: Actors, discovered_at: str, shown: str
) -> None:
    response = _intake(actors, discovered_at=discovered_at)
    assert response.status_code == 400, response.content
    (message,) = response.json()["discovered_at"]
    assert shown in message
    assert not MandatoryReport.objects.exists()


def test_a_discovery_yesterday_is_filed(actors: Actors) -> None:
    response = _intake(actors, discovered_at="2025-06-29T18:30:00+08:00")
    assert response.status_code == 201, response.content


def test_a_discovery_before_the_linked_childs_birth_is_refused(actors: Actors) -> None:
    child = make_family(actors, name="钱小军", birth_date=date(2014, 5, 1))
    body = {"child": str(child.public_id), "child_name": "", "child_village": ""}
    response = _intake(actors, "county_admin", discovered_at="2014-04-30T12:00:00+08:00", **body)
    assert response.status_code == 400
    assert "2014年5月1日" in response.json()["discovered_at"][0]


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "赵<i>小花</i>", "赵小花1"])
def test_the_described_childs_name_is_a_name(actors: Actors, name: str) -> None:
    response = _intake(actors, child_name=name)
    assert response.status_code == 400
    assert "child_name" in response.json()
    assert not MandatoryReport.objects.exists()


@pytest.mark.parametrize("name", ["不详", "阿依古丽·买买提"])
def test_unknown_and_minority_names_are_taken(actors: Actors, name: str) -> None:
    assert _intake(actors, child_name=name).status_code == 201


def _form(**changes: Any) -> dict[str, Any]:
    return {
        "urgency": "urgent",
        "harms": ["physical_abuse"],
        "child_name": CHILD_NAME,
        "facts": FACTS,
        "reporter_phone": "13900000001",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"discovered_at": "1900-01-01T08:00"}, "discovered_at"),
        ({"discovered_at": "0001-01-01T00:00"}, "discovered_at"),
        ({"child_name": "<script>alert(1)</script>"}, "child_name"),
    ],
)
def test_the_intake_page_refuses_them_too(
    actors: Actors, changes: dict[str, str], field: str
) -> None:
    response = web_client(actors.reporter).post(reverse("reports:report_create"), _form(**changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not MandatoryReport.objects.exists()


@pytest.mark.parametrize("status", ["AAA", "²", "OPEN"])
def test_the_report_list_refuses_an_unknown_status(actors: Actors, status: str) -> None:
    file_report(actors)
    response = api_client(actors.county_admin).get(
        reverse("api:report_collection"), {"status": status}
    )
    assert response.status_code == 400
    (message,) = response.json()["status"]
    assert "状态" in message
    assert "awaiting" in message


def test_the_report_list_still_takes_a_known_status(actors: Actors) -> None:
    file_report(actors)
    client = api_client(actors.county_admin)
    assert client.get(reverse("api:report_collection"), {"status": "all"}).json()["count"] == 1
    assert client.get(reverse("api:report_collection"), {"status": ""}).status_code == 200


def test_a_problem_cannot_fall_due_in_the_year_9999(actors: Actors) -> None:
    child = make_family(actors, name="钱小军")
    response = api_client(actors.town_supervisor).post(
        reverse("api:child_problems", args=[child.public_id]),
        {"category": "schooling", "description": "连续一周未到校", "due_on": "9999-12-31"},
        format="json",
    )
    assert response.status_code == 400
    assert "9999年12月31日" in response.json()["due_on"][0]
    assert not Concern.objects.exists()
