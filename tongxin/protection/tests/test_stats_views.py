"""The statistics page and ``GET /api/v1/reports/stats``: the same figures, who may read them,
a bad period (400 naming the field), a division outside the caller's own (404), the schema,
the navigation entry."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tongxin.audit.models import AuditEvent
from tongxin.protection.models import MandatoryReport
from tongxin.protection.tests.test_stats import COUNTY, build_world
from tongxin.testing import Actors, api_client, drawn_bars, web_client

STATS = reverse("reports:report_stats")
API = reverse("api:report_stats")


@pytest.fixture
def world(actors: Actors) -> dict[str, MandatoryReport]:
    return build_world(actors)


def _figure(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>\s*(?:<th[^>]*>.*?</th><td>)?([^<]+)<', html, re.S)
    assert found, element_id
    return found.group(1).strip()


def test_the_page_shows_the_figures(actors: Actors, world: dict[str, MandatoryReport]) -> None:
    response = web_client(actors.county_admin).get(STATS, {"period": "2024"})
    assert response.status_code == 200
    html = response.content.decode()
    assert _figure(html, "stats-total") == "6"
    assert _figure(html, "stats-failures") == "1"
    assert _figure(html, "harm-neglect") == "2"
    assert _figure(html, "institution-school") == "4"
    assert _figure(html, "outcome-rejected") == "1"
    assert "16.0 小时" in html  # the median time to acceptance
    assert "6.0 天" in html  # and to a result
    # Reports by month, drawn on the server: the busiest months (March, May: 2) span the track
    # (56% of the width beside the labels), the others in proportion; no script.
    months = drawn_bars(html, "stats-month-chart")
    assert [label for label, _bars in months] == [f"2024年{m}月" for m in range(1, 13)]
    none = [(0.0, "0")]
    assert [bars for _label, bars in months] == [
        [(28.0, "1")],
        none,
        [(56.0, "2")],
        none,
        [(56.0, "2")],
        [(28.0, "1")],
        *[none] * 6,
    ]
    assert "2024年3月：2；2024年4月：0" in html  # the description a screen reader reads
    assert "echarts" not in html
    assert "<script>" not in html  # no inline script (CSP)
    assert 'href="/reports/stats/?division=620724100000&amp;period=2024"' in html  # 城关镇
    assert "no-cache" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="report.stats")
    assert event.detail == {"period": "2024", "total": 6}


def test_a_bad_period_says_so_and_shows_this_year(actors: Actors) -> None:
    response = web_client(actors.county_admin).get(STATS, {"period": "2024-13"})
    assert response.status_code == 400
    assert 'role="alert">统计期间应为月（2024-06）' in response.content.decode()
    assert response.context["stats"].period.kind == "year"


def test_the_page_is_for_the_county_the_auditor_and_departments(actors: Actors) -> None:
    for actor in ("county_admin", "auditor", "department_officer"):
        assert web_client(getattr(actors, actor)).get(STATS).status_code == 200
    for actor in ("village_director", "town_supervisor", "reporter", "system_admin"):
        assert web_client(getattr(actors, actor)).get(STATS).status_code == 404
    outside = web_client(actors.other_county_admin).get(STATS, {"division": COUNTY})
    assert outside.status_code == 404


def test_the_department_page_says_whose_reports(
    actors: Actors, world: dict[str, MandatoryReport]
) -> None:
    html = web_client(actors.department_officer).get(STATS, {"period": "2024"}).content.decode()
    assert _figure(html, "stats-total") == "2"
    assert 'id="stats-failures"' not in html
    assert "本部门办理的报告" in html


def test_the_api_answers_the_same_figures(
    actors: Actors, world: dict[str, MandatoryReport]
) -> None:
    response = api_client(actors.county_admin).get(API, {"division": COUNTY, "period": "2024"})
    assert response.status_code == 200
    body = response.json()
    assert body["division"] == COUNTY
    assert body["period"] == "2024"
    assert body["scope"] == "area"
    assert body["total"] == 6
    assert {b["key"]: b["count"] for b in body["by_harm"]}["neglect"] == 2
    assert [m["count"] for m in body["by_month"]][:6] == [1, 0, 2, 0, 2, 1]
    assert [d["count"] for d in body["by_division"]] == [5, 1]
    assert body["acceptance"]["median_hours"] == 16.0
    assert body["result"]["median_hours"] == 144.0
    assert body["acceptance"]["limit"] == "24h"
    assert body["failures_to_report"] == 1
    assert response["Cache-Control"] == "private, no-store"
    police = api_client(actors.department_officer).get(API, {"period": "2024"}).json()
    assert (police["scope"], police["total"], police["failures_to_report"]) == (
        "department",
        2,
        None,
    )


def test_the_api_names_a_bad_field_and_hides_what_is_not_yours(actors: Actors) -> None:
    client = api_client(actors.county_admin)
    bad = client.get(API, {"period": "2024-Q5"})
    assert bad.status_code == 400
    assert list(bad.json()) == ["period"]
    bad = client.get(API, {"division": "6207", "period": "2024"})
    assert bad.status_code == 400
    assert list(bad.json()) == ["division"]
    assert client.get(API, {"division": "620702000000"}).status_code == 404  # another county
    assert client.get(API, {"division": "620724999999"}).status_code == 404  # none such
    assert api_client(actors.village_director).get(API).status_code == 404
    assert api_client(actors.reporter).get(API).status_code == 404
    assert api_client(None).get(API).status_code == 401
    default = client.get(API).json()  # this year, the caller's division
    assert default["division"] == COUNTY
    assert len(default["period"]) == 4


def test_the_api_is_documented(actors: Actors) -> None:
    schema = web_client(None).get(reverse("schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/reports/stats"]["get"]
    assert operation["operationId"] == "reports_stats"
    assert {p["name"] for p in operation["parameters"]} >= {"division", "period"}
    assert {"200", "400", "404"} <= set(operation["responses"])


def test_the_navigation_offers_the_statistics_to_the_county_and_the_auditor(
    actors: Actors,
) -> None:
    for actor, shown in (("county_admin", True), ("auditor", True), ("village_director", False)):
        home = web_client(getattr(actors, actor)).get("/").content.decode()
        assert (f'href="{STATS}"' in home) is shown, actor


@pytest.mark.parametrize(
    ("actor", "status", "total"),
    [
        ("county_admin", 200, 6),
        ("auditor", 200, 6),
        ("department_officer", 200, 2),  # the police: the reports it handles
        ("other_department_officer", 200, 1),  # education: the one report it handles
        ("village_director", 404, None),
        ("other_village_director", 404, None),
        ("reporter", 404, None),
    ],
)
def test_each_role_reads_the_statistics_it_may(
    actors: Actors, world: dict[str, MandatoryReport], actor: str, status: int, total: int | None
) -> None:
    response = api_client(getattr(actors, actor)).get(API, {"period": "2024"})
    assert response.status_code == status
    if total is not None:
        assert response.json()["total"] == total
    page = web_client(getattr(actors, actor)).get(STATS, {"period": "2024"})
    assert page.status_code == status
