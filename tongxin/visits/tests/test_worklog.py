"""The work log (工作日志): the entries of the user's division, a new entry naming children of
the user's scope (offered as checkboxes, or found by a search), shown on each child's file."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tongxin.audit.models import AuditEvent
from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, web_client
from tongxin.visits import services
from tongxin.visits.models import WorkLogEntry

pytestmark = pytest.mark.django_db

LIST = "/visits/worklog/"
NEW = "/visits/worklog/new/"


def _entry(actors: Actors, title: str, user: str = "village_director", **over: Any) -> Any:
    return services.worklog_record(
        actor=getattr(actors, user),
        fields={"day": date(2024, 6, 5), "kind": "meeting", "title": title},
        **over,
    )


def test_the_urls_are_the_documented_ones() -> None:
    assert reverse("visits:worklog") == LIST
    assert reverse("visits:worklog_create") == NEW


def test_it_lists_the_entries_of_the_users_division(actors: Actors, child: Child) -> None:
    _entry(actors, "东村例会", children=[child])
    _entry(actors, "西村例会", user="other_village_director")
    _entry(actors, "城关镇督导会", user="town_supervisor")
    director = web_client(actors.village_director).get(LIST).content.decode()
    assert "东村例会" in director
    assert "王小明" in director
    assert "西村例会" not in director
    assert "城关镇督导会" not in director
    town = web_client(actors.town_supervisor).get(LIST).content.decode()
    assert all(t in town for t in ("东村例会", "西村例会", "城关镇督导会"))
    other = web_client(actors.other_town_director).get(LIST).content.decode()
    assert "东村例会" not in other


def test_the_list_takes_a_constant_number_of_queries(actors: Actors, child: Child) -> None:
    client = web_client(actors.town_supervisor)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    _entry(actors, "一", children=[child])
    base = count()
    for n in range(5):
        other = make_family(actors, name=f"张{n}")
        _entry(actors, f"活动{n}", children=[child, other])
    assert count() == base


def test_it_offers_the_villages_children_and_saves_the_ticked_ones(
    actors: Actors, child: Child
) -> None:
    neighbour = make_family(actors, name="李小华")
    outsider = make_family(actors, name="赵外村", village="620724100202")
    client = web_client(actors.village_director)
    form = client.get(NEW).content.decode()
    assert f'value="{child.public_id}"' in form
    assert f'value="{neighbour.public_id}"' in form
    assert f'value="{outsider.public_id}"' not in form
    assert f'value="{timezone.localdate().isoformat()}"' in form
    response = client.post(
        NEW,
        {
            "day": "2024-06-05",
            "kind": "activity",
            "title": "防溺水安全教育",
            "notes": "",
            "children": [str(child.public_id), str(neighbour.public_id)],
        },
    )
    assert response.status_code == 302
    entry = WorkLogEntry.objects.get()
    assert set(entry.children.all()) == {child, neighbour}
    assert entry.division_id == "620724100201"
    assert AuditEvent.objects.filter(action="worklog.record").exists()


def test_a_search_narrows_the_children_offered(actors: Actors, child: Child) -> None:
    neighbour = make_family(actors, name="李小华")
    form = web_client(actors.town_supervisor).get(NEW, {"q": "lxh"}).content.decode()
    assert f'value="{neighbour.public_id}"' in form
    assert f'value="{child.public_id}"' not in form


def test_a_child_out_of_scope_cannot_be_named(actors: Actors, child: Child) -> None:
    outsider = make_family(actors, name="赵外村", village="620724100202")
    response = web_client(actors.village_director).post(
        NEW,
        {
            "day": "2024-06-05",
            "kind": "meeting",
            "title": "例会",
            "children": [str(outsider.public_id)],
        },
    )
    assert response.status_code == 200
    assert "field-error" in response.content.decode()
    assert not WorkLogEntry.objects.exists()


def test_a_future_date_and_a_missing_title_are_refused(actors: Actors) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    client = web_client(actors.village_director)
    for data in (
        {"day": tomorrow, "kind": "meeting", "title": "例会"},
        {"day": "2024-06-05", "kind": "meeting", "title": ""},
    ):
        response = client.post(NEW, data)
        assert response.status_code == 200
        assert "field-error" in response.content.decode()
    assert not WorkLogEntry.objects.exists()


def test_an_entry_shows_on_the_childs_file(actors: Actors, child: Child) -> None:
    _entry(actors, "家长学校", children=[child])
    url = reverse("registry:child_detail", args=[child.public_id])
    html = web_client(actors.town_supervisor).get(url).content.decode()
    section = html[html.index('id="contacts"') : html.index('id="risk"')]
    assert "家长学校" in section
