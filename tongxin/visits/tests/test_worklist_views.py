"""The worklist page, its place in the navigation, and the home page's panels."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from tongxin.registry.models import Child
from tongxin.testing import Actors, web_client
from tongxin.visits import rules
from tongxin.visits.tests import worklist_world as world

pytestmark = pytest.mark.django_db

URL = "/visits/worklist/"
D = date.fromisoformat


def test_the_url_is_named() -> None:
    assert reverse("visits:worklist") == URL


def _three(actors: Actors) -> tuple[Child, Child, Child]:
    late = world.child(registered_on=D("2024-01-01"), name="赵晚晚", risk="high")
    done = world.child(registered_on=D("2024-01-01"), name="钱完成")
    world.contact(actors.village_director, [done], D("2024-06-03"), kind="home_visit")
    new = world.child(registered_on=D("2024-06-05"), name="孙新来")
    return late, done, new


def test_it_lists_the_directors_lines_most_urgent_first(actors: Actors) -> None:
    late, done, new = _three(actors)
    response = web_client(actors.village_director).get(URL, {"as_of": "2024-06-10"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("赵晚晚") < page.index("孙新来") < page.index("钱完成")
    rows = response.context["rows"]
    assert [(r.line.child, str(r.line.status)) for r in rows] == [
        (late.public_id, "overdue"),
        (late.public_id, "overdue"),
        (new.public_id, "due"),
        (new.public_id, "due"),
        (done.public_id, "done"),
        (done.public_id, "done"),
    ]
    counts = {code: n for code, _label, n, _url in response.context["status_counts"]}
    assert counts == {"overdue": 2, "due_soon": 0, "due": 2, "done": 2}
    # Each line leads to the file, and an open line to the contact form and back here.
    assert reverse("registry:child_detail", args=[late.public_id]) in page
    record = rows[0].record_url
    assert record.startswith(reverse("visits:contact_create") + f"?child={late.public_id}")
    assert "next=%2Fvisits%2Fworklist%2F%3Fas_of%3D2024-06-10" in record
    # A line done for the period offers no button.
    assert f"?child={done.public_id}" not in page


def test_it_filters_by_status_and_obligation_keeping_the_counts(actors: Actors) -> None:
    late, _done, new = _three(actors)
    client = web_client(actors.village_director)
    response = client.get(URL, {"as_of": "2024-06-10", "status": "due"})
    assert [r.line.child for r in response.context["rows"]] == [new.public_id] * 2
    assert response.context["total"] == 6
    response = client.get(
        URL, {"as_of": "2024-06-10", "obligation": "quarterly_home_visit", "status": "overdue"}
    )
    rows = response.context["rows"]
    assert [(r.line.child, r.line.obligation) for r in rows] == [
        (late.public_id, rules.Obligation.QUARTERLY_HOME_VISIT)
    ]


def test_as_of_today_by_default_and_a_bad_date_says_so(actors: Actors) -> None:
    client = web_client(actors.village_director)
    response = client.get(URL)
    assert response.context["as_of"] == timezone.localdate()
    assert "as-of-note" not in response.content.decode()
    response = client.get(URL, {"as_of": "2024-13-01"})
    assert response.status_code == 200
    assert response.context["as_of"] == timezone.localdate()
    assert response.context["as_of_error"]
    assert 'aria-invalid="true"' in response.content.decode()
    response = client.get(URL, {"as_of": "2024-06-10"})
    assert "as-of-note" in response.content.decode()


def test_htmx_gets_the_results_fragment(actors: Actors) -> None:
    _three(actors)
    response = web_client(actors.village_director).get(
        URL, {"as_of": "2024-06-10"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="results">')
    assert "赵晚晚" in page
    assert "<html" not in page


def test_the_supervisor_sees_families_and_county_roles_read_only(actors: Actors) -> None:
    late, done, new = _three(actors)
    response = web_client(actors.town_supervisor).get(URL, {"as_of": "2024-06-10"})
    rows = response.context["rows"]
    assert {r.line.obligation for r in rows} == {rules.Obligation.YEARLY_FAMILY_CONTACT}
    assert {r.children[0][0] for r in rows} == {late.name, done.name, new.name}
    assert all(r.record_url for r in rows)
    for key in ("county_admin", "auditor"):
        client = web_client(getattr(actors, key))
        response = client.get(URL, {"as_of": "2024-06-10"})
        assert response.context["needs_division"]
        assert not response.context["rows"]
        response = client.get(URL, {"as_of": "2024-06-10", "village": world.VILLAGE})
        rows = response.context["rows"]
        assert len(rows) == 6
        assert not any(r.record_url for r in rows)
        assert "/visits/contacts/new/" not in response.content.decode()
    # A division outside the scope, or not a village for a worker: 404.
    client = web_client(actors.village_director)
    assert client.get(URL, {"village": world.OTHER_VILLAGE}).status_code == 404
    assert client.get(URL, {"village": "620724100000"}).status_code == 404
    assert web_client(actors.town_supervisor).get(URL, {"village": "620724100000"}).status_code == (
        404
    )


def test_it_pages_long_lists(actors: Actors) -> None:
    for _ in range(26):
        world.child(registered_on=D("2024-01-01"))
    client = web_client(actors.village_director)
    first = client.get(URL, {"as_of": "2024-06-10"})
    assert len(first.context["rows"]) == 50
    assert first.context["page"].paginator.num_pages == 2
    second = client.get(URL, {"as_of": "2024-06-10", "page": "2"})
    assert len(second.context["rows"]) == 2


def _page_queries(actors: Actors, n: int) -> int:
    """The queries of one page once the village has ``n`` children."""
    i = 0
    while Child.objects.filter(village_id=world.VILLAGE).count() < n:
        kid = world.child(registered_on=D("2024-01-01"), risk=["high", "low", None][i % 3])
        world.contact(actors.village_director, [kid], D("2024-06-01"), kind="home_visit")
        i += 1
    client = web_client(actors.village_director)
    client.get(URL, {"as_of": "2024-06-10"})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, {"as_of": "2024-06-10"})
    assert len(response.context["rows"]) == min(2 * n, 50)
    return len(ctx.captured_queries)


def test_the_page_query_count_does_not_grow(actors: Actors) -> None:
    few = _page_queries(actors, 3)
    many = _page_queries(actors, 30)
    assert few == many


def test_the_navigation_links_the_worklist_for_workers(actors: Actors) -> None:
    for key, shown in (
        ("village_director", True),
        ("town_supervisor", True),
        ("county_admin", False),
        ("auditor", False),
    ):
        page = web_client(getattr(actors, key)).get("/").content.decode()
        assert (f'href="{URL}"' in page) is shown, key


def test_the_home_panels_count_the_open_lines(actors: Actors) -> None:
    today = timezone.localdate()
    registered = today.replace(day=1) - timedelta(days=400)
    kids = [world.child(registered_on=registered, name=f"周{i}号") for i in range(12)]
    world.contact(actors.village_director, kids[:1], today, kind="home_visit")
    page = web_client(actors.village_director).get("/")
    panels = {p.key: p for p in page.context["panels"]}
    assert panels["contacts_due"].total == 11
    assert len(panels["contacts_due"].items) == 10
    assert panels["contacts_due"].url == f"{URL}?obligation=monthly_contact"
    assert panels["visits_due"].total == 11
    assert reverse("registry:child_detail", args=[kids[1].public_id]) in page.content.decode()

    supervisor = web_client(actors.town_supervisor).get("/")
    panels = {p.key: p for p in supervisor.context["panels"]}
    assert panels["family_contacts_due"].total == 12
    # Never contacted since more than a year ago: overdue by far more than 15 days (all but
    # the child visited today).
    assert panels["escalations"].total == 11
    assert panels["escalations"].url == ""


def _record_links(html: str, key: str) -> list[str]:
    start = html.index(f'id="panel-{key}"')
    panel = html[start : html.index("</article>", start)]
    return re.findall(r'<a href="([^"]+)" role="button" class="outline record-contact">', panel)


def test_each_home_panel_line_that_needs_a_contact_opens_the_form(actors: Actors) -> None:
    today = timezone.localdate()
    registered = today.replace(day=1) - timedelta(days=400)
    kids = [world.child(registered_on=registered, name=f"吴{i}号") for i in range(2)]
    director = web_client(actors.village_director)
    html = director.get("/").content.decode()
    with translation.override("zh-hans"):
        assert gettext("Record a contact") == "记录联系"
    assert "记录联系" in html
    form = reverse("visits:contact_create")
    monthly = [unescape(u) for u in _record_links(html, "contacts_due")]
    visits = [unescape(u) for u in _record_links(html, "visits_due")]
    assert {parse_qs(urlsplit(u).query)["child"][0] for u in monthly} == {
        str(k.public_id) for k in kids
    }
    for url in monthly:
        assert url.startswith(form + "?")
        query = parse_qs(urlsplit(url).query)
        assert "kind" not in query
        assert query["next"] == ["/"]
    for url in visits:
        assert parse_qs(urlsplit(url).query)["kind"] == ["home_visit"]
    # The button opens the form for that child, a home visit chosen for a home-visit line.
    opened = director.get(visits[0])
    assert opened.status_code == 200
    assert opened.context["child"].public_id in {k.public_id for k in kids}
    assert opened.context["form"]["kind"].value() == "home_visit"
    assert director.get(monthly[0]).context["form"]["kind"].value() == "phone"
    # The worklist page's buttons too.
    rows = director.get(URL).context["rows"]
    for row in rows:
        query = parse_qs(urlsplit(row.record_url).query)
        home_visit = row.line.obligation == rules.Obligation.QUARTERLY_HOME_VISIT
        assert (query.get("kind") == ["home_visit"]) is home_visit, row.line

    supervisor = web_client(actors.town_supervisor).get("/").content.decode()
    families = [unescape(u) for u in _record_links(supervisor, "family_contacts_due")]
    assert len(families) == 2
    assert all(u.startswith(form + "?child=") for u in families)
    # The escalations are other workers' lines: no button there.
    assert _record_links(supervisor, "escalations") == []
