"""The compliance page, its xlsx export and ``GET /api/v1/compliance``."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tongxin.audit.models import AuditEvent
from tongxin.core import periods
from tongxin.registry.models import Child
from tongxin.testing import Actors, api_client, drawn_bars, web_client
from tongxin.visits.rules import TOWN_SUPERVISOR
from tongxin.visits.tests.test_compliance import COUNTY, EAST, SOUTH, TOWN, WEST, World

pytestmark = pytest.mark.django_db

PAGE = reverse("visits:compliance")
EXPORT = reverse("visits:compliance_export")
API = reverse("api:compliance")


@dataclass(frozen=True)
class Scene:
    world: World
    east: Child
    west: Child
    south: Child


@pytest.fixture
def scene(actors: Actors) -> Scene:
    """东村: one child contacted in April and June only; 西村: one contacted every month and
    visited at home, and its family by the town supervisor; 南村 (another town): one never
    contacted."""
    world = World(actors.village_director)
    east = world.child(world.household(EAST))
    west = world.child(world.household(WEST))
    south = world.child(world.household(SOUTH))
    world.contact(east, "2024-04-03")
    world.contact(east, "2024-06-03")
    for day in ("2024-04-08", "2024-05-08", "2024-06-08"):
        world.contact(west, day, kind="home_visit")
    world.contact(west, "2024-05-09", role=TOWN_SUPERVISOR)
    return Scene(world, east, west, south)


def _chart_labels(html: str) -> list[str]:
    return [label for label, _bars in drawn_bars(html, "compliance-chart")]


# --- the page --------------------------------------------------------------------------------


def test_it_shows_the_county_by_town_with_links_down(actors: Actors, scene: Scene) -> None:
    response = web_client(actors.county_admin).get(PAGE, {"period": "2024-Q2"})
    assert response.status_code == 200
    html = response.content.decode()
    town_link = f"{PAGE}?division={TOWN}&amp;period=2024-Q2"
    assert town_link in html
    assert f"{PAGE}?division=620724101000&amp;period=2024-Q2" in html
    # The chart, drawn on the server: a bar per obligation (monthly, quarterly, yearly) for
    # each town, 100% spanning 84% of the width. 西村 met all three, 东村 missed May, its home
    # visit and its family's contact; 南村 (宣化镇) nothing.
    half, nothing = (42.0, "50.0%"), (0.0, "0.0%")
    assert drawn_bars(html, "compliance-chart") == [
        ("城关镇", [half, half, half]),
        ("宣化镇", [nothing, nothing, nothing]),
    ]
    assert 'role="img" aria-labelledby="compliance-chart-title compliance-chart-desc"' in html
    assert "城关镇：每月联系 50.0%，每季度入户走访 50.0%，每年家庭联系 50.0%；宣化镇" in html
    # No script draws it: the page loads htmx's (from the site) and no other; nothing inline.
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert [bool(re.search(r'src="/static/django_htmx/', s)) for s in scripts] == [True], scripts
    assert "echarts" not in html
    assert " style=" not in html


def test_it_drills_down_to_villages_and_lists_the_misses(actors: Actors, scene: Scene) -> None:
    response = web_client(actors.town_supervisor).get(PAGE, {"division": TOWN, "period": "2024-Q2"})
    assert response.status_code == 200
    html = response.content.decode()
    assert _chart_labels(html) == ["城关镇社区", "东村", "西村"]
    east = scene.east
    assert reverse("registry:child_detail", args=[east.public_id]) in html
    assert east.name in html  # the viewer reads the files in scope: the name in full
    assert scene.south.name not in html  # another town
    # Each village links to its own page, which has no rows below it.
    village = web_client(actors.town_supervisor).get(PAGE, {"division": EAST, "period": "2024-Q2"})
    assert village.status_code == 200
    assert _chart_labels(village.content.decode()) == ["东村"]


def test_another_division_is_404(actors: Actors, scene: Scene) -> None:
    client = web_client(actors.town_supervisor)
    assert client.get(PAGE, {"division": "620724101000", "period": "2024"}).status_code == 404
    assert client.get(PAGE, {"division": COUNTY, "period": "2024"}).status_code == 404
    assert web_client(actors.village_director).get(PAGE).status_code == 404


def test_a_bad_period_is_named_and_the_current_quarter_shown(actors: Actors) -> None:
    response = web_client(actors.county_admin).get(PAGE, {"period": "2024-Q5"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    current = periods.format_period(
        periods.period_of(timezone.localdate(), periods.PeriodKind.QUARTER)
    )
    assert f'value="{current}" selected' in html


def test_the_page_runs_a_constant_number_of_queries(actors: Actors, scene: Scene) -> None:
    client = web_client(actors.county_admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(PAGE, {"period": "2024"}).status_code == 200
        return len(queries)

    client.get(PAGE, {"period": "2024"})  # the session and the language cached
    before = count()
    for village in (EAST, WEST, SOUTH):
        for _ in range(5):
            kids = [scene.world.child(scene.world.household(village)) for _ in range(2)]
            scene.world.contact(kids, "2024-03-03", kind="home_visit")
    assert count() == before
    # 7 of them the report's own (the division, the policy, the statement, the divisions
    # below, the places' names, the workers, the breadcrumb); the rest sign-in and layout.
    assert before <= 16


def test_the_nav_links_it_for_the_readers_only(actors: Actors) -> None:
    for key, shown in (("county_admin", True), ("auditor", True), ("village_director", False)):
        html = web_client(getattr(actors, key)).get(reverse("home")).content.decode()
        assert (f'href="{PAGE}"' in html) is shown, key


# --- the export ------------------------------------------------------------------------------


def test_the_export_lists_the_figures_and_every_miss_and_is_audited(
    actors: Actors, scene: Scene
) -> None:
    response = web_client(actors.county_admin).get(EXPORT, {"period": "2024-Q2"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    book = load_workbook(io.BytesIO(response.getvalue()))
    assert book.sheetnames == ["汇总", "按人员", "按风险等级", "未完成名单"]
    summary = list(book["汇总"].iter_rows(values_only=True))
    total = next(r for r in summary if r[0] == COUNTY)
    assert total[2:5] == (3, 1, 33.3)  # monthly: 3 children, 1 met
    misses = list(book["未完成名单"].iter_rows(values_only=True))[1:]
    east = scene.east
    assert ("每月联系", str(east.public_id)) in {(r[0], r[1]) for r in misses}
    assert next(r for r in misses if r[1] == str(east.public_id))[6] == "2024-05"
    event = AuditEvent.objects.get(action="compliance.export")
    assert event.detail == {"rows": len(misses), "period": "2024-Q2"}
    assert event.object_code == COUNTY


def test_the_export_refuses_a_bad_period(actors: Actors) -> None:
    response = web_client(actors.county_admin).get(EXPORT, {"period": "24"})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="compliance.export").exists()


# --- the API ---------------------------------------------------------------------------------


def test_the_api_answers_per_the_contract(actors: Actors, scene: Scene) -> None:
    response = api_client(actors.county_admin).get(API, {"division": COUNTY, "period": "2024-Q2"})
    assert response.status_code == 200
    body = response.json()
    assert (body["division"], body["period"], body["start"], body["end"]) == (
        COUNTY,
        "2024-Q2",
        "2024-04-01",
        "2024-06-30",
    )
    monthly = body["obligations"]["monthly_contact"]
    east, west, south = scene.east, scene.west, scene.south
    assert (monthly["unit"], monthly["counted"], monthly["met"]) == ("child", 3, 1)
    assert [p["period"] for p in monthly["periods"]] == ["2024-04", "2024-05", "2024-06"]
    assert [(d["code"], d["counted"], d["met"]) for d in monthly["divisions"]] == [
        (TOWN, 2, 1),
        ("620724101000", 1, 0),
    ]
    assert set(monthly["unmet"]) == {str(east.public_id), str(south.public_id)}
    visit = body["obligations"]["quarterly_home_visit"]
    assert (visit["counted"], visit["met"]) == (3, 1)
    yearly = body["obligations"]["yearly_family_contact"]
    assert (yearly["unit"], yearly["counted"], yearly["met"]) == ("household", 3, 1)
    assert set(yearly["unmet_households"]) == {
        str(east.household.public_id),
        str(south.household.public_id),
    }
    assert str(west.public_id) not in yearly["unmet"]


@pytest.mark.parametrize(
    ("period", "months"),
    [("2024-06", ["2024-06"]), ("2024", [f"2024-{m:02d}" for m in range(1, 13)])],
)
def test_the_api_reads_each_period_form(
    actors: Actors, scene: Scene, period: str, months: list[str]
) -> None:
    body = api_client(actors.auditor).get(API, {"period": period}).json()
    assert [p["period"] for p in body["obligations"]["monthly_contact"]["periods"]] == months


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2024-13"}, "period"),
        ({"period": "2024Q2"}, "period"),
        ({}, "period"),
        ({"period": "2024", "division": "6207"}, "division"),
    ],
)
def test_the_api_names_a_bad_field(actors: Actors, params: dict[str, str], field: str) -> None:
    response = api_client(actors.county_admin).get(API, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_api_hides_other_divisions_and_roles(actors: Actors) -> None:
    other = api_client(actors.other_county_admin).get(API, {"division": COUNTY, "period": "2024"})
    assert other.status_code == 404
    director = api_client(actors.village_director).get(API, {"period": "2024"})
    assert director.status_code == 404


def test_the_api_runs_a_constant_number_of_queries(actors: Actors, scene: Scene) -> None:
    client = api_client(actors.county_admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(API, {"period": "2024"}).status_code == 200
        return len(queries)

    before = count()
    for village in (EAST, SOUTH):
        for _ in range(5):
            scene.world.contact(scene.world.child(scene.world.household(village)), "2024-03-03")
    assert count() == before


# --- by risk level (issue 10) --------------------------------------------------------------


@pytest.fixture
def risks(scene: Scene) -> Scene:
    """东村's child was at high risk through 2024 and is low now; 南村's was low then and an
    officer raised it today."""
    today = timezone.localdate()
    scene.world.risk(scene.east, [("2024-01-01", "high"), ("2025-01-01", "low")])
    scene.world.risk(
        scene.south,
        [("2024-01-01", "low")],
        [("high", today.isoformat(), (today + timedelta(days=30)).isoformat(), None)],
    )
    return scene


def test_the_page_breaks_a_past_quarter_down_by_the_levels_then(
    actors: Actors, risks: Scene
) -> None:
    response = web_client(actors.county_admin).get(PAGE, {"period": "2024-Q2"})
    assert response.status_code == 200
    rows = {
        row.name: [(cell.counted, cell.met) for _label, cell in row.cells if cell is not None]
        for row in response.context["by_risk"]
    }
    # Monthly contact, quarterly home visit: 东村 missed May and its visit, at high risk then.
    assert rows == {
        "高风险": [(1, 0), (1, 0)],
        "中风险": [(0, 0), (0, 0)],
        "低风险": [(2, 1), (2, 1)],
    }
    html = response.content.decode()
    assert 'id="compliance-by-risk"' in html
    assert "2024年6月30日" in html  # the day whose levels are used
    misses = html[html.index("miss-list") :]
    assert re.search(rf"{risks.east.name}</a> <mark>高风险</mark>", misses)
    assert not re.search(rf"{risks.south.name}</a> <mark>", misses)


def test_the_api_and_export_break_down_by_the_levels_then(actors: Actors, risks: Scene) -> None:
    body = api_client(actors.county_admin).get(API, {"division": COUNTY, "period": "2024-Q2"})
    data = body.json()
    assert data["risk_day"] == "2024-06-30"
    monthly = data["obligations"]["monthly_contact"]
    assert monthly["risk_levels"] == [
        {"level": "low", "counted": 2, "met": 1},
        {"level": "medium", "counted": 0, "met": 0},
        {"level": "high", "counted": 1, "met": 0},
    ]
    assert data["obligations"]["yearly_family_contact"]["risk_levels"] == []
    response = web_client(actors.county_admin).get(EXPORT, {"period": "2024-Q2"})
    book = load_workbook(io.BytesIO(response.getvalue()))
    levels = list(book["按风险等级"].iter_rows(values_only=True))
    assert levels[0][0] == "按 2024-06-30 当日的风险等级统计"
    assert levels[2][:4] == ("高风险", 1, 0, 0)
    misses = list(book["未完成名单"].iter_rows(values_only=True))
    assert misses[0][-1] == "风险等级"
    assert {r[-1] for r in misses[1:] if r[1] == str(risks.east.public_id)} == {"高风险"}
    assert {r[-1] for r in misses[1:] if r[1] == str(risks.south.public_id)} == {"低风险"}
