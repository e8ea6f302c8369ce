"""The list of children (GET /children/): scope, every filter, search by name, pinyin and ID
number, counts, paging, masked numbers, the htmx fragment, and a constant number of queries."""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tongxin.geo.models import Division
from tongxin.lib import idcard
from tongxin.registry import services
from tongxin.registry.models import CategorySpan, Child
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, web_client

TODAY = date(2025, 6, 30)
EAST = "620724100201"  # 东村, 城关镇: village_director
WEST = "620724100202"  # 西村, 城关镇: other_village_director
SOUTH = "620724101201"  # 南村, 宣化镇: other_town_director
TOWN = "620724100000"  # 城关镇: town_supervisor


@pytest.fixture(autouse=True)
def today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(TODAY, tick=False) as t:
        yield t


@dataclass
class World:
    """Three children in three villages (two towns):

    - 张三 (东村), 11, both parents away: left behind; ID number on file;
    - 李四 (西村), turns 6 today, parents at home, dibao family: in difficulty;
    - 王五 (南村, other town), 15, both parents away: left behind.
    """

    zhang: Child
    li: Child
    wang: Child
    zhang_id: str


def build_world(actors: Actors) -> World:
    zhang_id = idcard.generate(
        random.Random(7), region="620724", birth_date=date(2014, 5, 1), gender="male"
    )
    zhang = make_family(actors, name="张三", village=EAST, id_number=zhang_id)
    li = make_family(
        actors,
        name="李四",
        village=WEST,
        father_left=None,
        mother_left=None,
        birth_date=date(2019, 6, 30),
    )
    household = li.household
    services.household_update(
        actor=actors.county_admin,
        household=household,
        version=household.version,
        changes={"dibao": True},
    )
    wang = make_family(actors, name="王五", village=SOUTH, birth_date=date(2010, 1, 1))
    for c in (zhang, li, wang):
        c.refresh_from_db()
    return World(zhang=zhang, li=li, wang=wang, zhang_id=zhang_id)


def clone_children(child: Child, n: int) -> list[Child]:
    """``n`` copies of ``child`` (same household, no ID number) with its current categories:
    bulk test data for paging and query counts, far cheaper than registering each."""
    original = Child.objects.get(pk=child.pk)
    clones = []
    for i in range(n):
        clone = copy.copy(original)
        clone.pk = None
        clone.public_id = uuid.uuid4()
        clone.id_number_enc = None
        clone.id_number_hash = None
        clone.id_missing_reason = "not_registered"
        clone.name = f"{child.name}{i:02d}"
        clones.append(clone)
    saved = Child.objects.bulk_create(clones)
    assert all(c.pk for c in saved)  # both databases return the new keys
    spans = [
        CategorySpan(child=c, code=s.code, start=s.start, end=s.end)
        for c in saved
        for s in CategorySpan.objects.filter(child=child)
    ]
    CategorySpan.objects.bulk_create(spans)
    return saved


@pytest.fixture
def world(actors: Actors) -> World:
    return build_world(actors)


def names(response: Any) -> list[str]:
    assert response.status_code == 200
    return [row.name for row in response.context["rows"]]


def listed(actors: Actors, who: str, **params: Any) -> list[str]:
    # An ID number in ``q`` is swapped for a token (test_id_search.py): follow the redirect.
    client = web_client(getattr(actors, who))
    return names(client.get(reverse("registry:child_list"), params, follow=True))


URL = "/children/"


class TestScope:
    def test_it_shows_the_county_officer_every_child_of_the_county(
        self, actors: Actors, world: World
    ) -> None:
        assert sorted(listed(actors, "county_admin")) == ["张三", "李四", "王五"]

    @pytest.mark.parametrize(
        ("who", "expected"),
        [
            ("town_supervisor", ["张三", "李四"]),
            ("village_director", ["张三"]),
            ("other_village_director", ["李四"]),
            ("other_town_director", ["王五"]),
            ("auditor", ["张三", "李四", "王五"]),
            ("other_county_admin", []),
        ],
    )
    def test_it_shows_each_reader_only_their_own_division(
        self, actors: Actors, world: World, who: str, expected: list[str]
    ) -> None:
        assert sorted(listed(actors, who)) == sorted(expected)

    def test_it_keeps_the_scope_when_another_division_is_asked_for(
        self, actors: Actors, world: World
    ) -> None:
        assert listed(actors, "village_director", division=WEST) == []
        assert listed(actors, "other_county_admin", division=TOWN) == []

    @pytest.mark.parametrize("who", ["department_officer", "reporter", "system_admin"])
    def test_it_answers_404_to_roles_that_read_no_files(
        self, actors: Actors, world: World, who: str
    ) -> None:
        response = web_client(getattr(actors, who)).get(URL)
        assert response.status_code == 404
        assert "张三" not in response.content.decode()

    def test_it_sends_anonymous_users_to_sign_in(self) -> None:
        response = web_client(None).get(URL)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


class TestFilters:
    def test_it_filters_by_town_and_by_village(self, actors: Actors, world: World) -> None:
        assert sorted(listed(actors, "county_admin", division=TOWN)) == ["张三", "李四"]
        assert listed(actors, "county_admin", division=WEST) == ["李四"]
        assert listed(actors, "county_admin", division="999999999999") == []

    @pytest.mark.parametrize(
        ("category", "expected"),
        [
            ("left_behind", ["张三", "王五"]),
            ("in_difficulty", ["李四"]),
            ("dibao_family", ["李四"]),
            ("orphan", []),
            ("", ["张三", "李四", "王五"]),
        ],
    )
    def test_it_filters_by_category(
        self, actors: Actors, world: World, category: str, expected: list[str]
    ) -> None:
        assert sorted(listed(actors, "county_admin", category=category)) == sorted(expected)

    def test_it_filters_by_the_stored_risk_level(self, actors: Actors, world: World) -> None:
        from tongxin.visits.models import ChildRisk

        ChildRisk.objects.filter(child=world.zhang).update(level="high")
        ChildRisk.objects.filter(child=world.li).update(level="medium")
        ChildRisk.objects.filter(child=world.wang).delete()  # no row yet: counted as low
        assert listed(actors, "county_admin", risk="high") == ["张三"]
        assert listed(actors, "county_admin", risk="medium") == ["李四"]
        assert listed(actors, "county_admin", risk="low") == ["王五"]

    def test_it_lists_active_files_unless_asked_otherwise(
        self, actors: Actors, world: World
    ) -> None:
        wang = world.wang
        services.child_set_status(
            actor=actors.county_admin,
            child=wang,
            version=wang.version,
            status="transferred_out",
            reason="随父母迁往外省",
            since=TODAY,
        )
        assert sorted(listed(actors, "county_admin")) == ["张三", "李四"]
        assert sorted(listed(actors, "county_admin", status="")) == ["张三", "李四", "王五"]
        assert listed(actors, "county_admin", status="transferred_out") == ["王五"]

    def test_it_counts_a_child_who_turns_6_today_as_6_not_5(
        self, actors: Actors, world: World
    ) -> None:
        assert listed(actors, "county_admin", age="0-5") == []
        assert sorted(listed(actors, "county_admin", age="6-11")) == ["张三", "李四"]
        assert listed(actors, "county_admin", age="12-15") == ["王五"]
        assert listed(actors, "county_admin", age_from="6", age_to="6") == ["李四"]
        assert listed(actors, "county_admin", age_to="5") == []

    def test_it_ages_a_child_a_year_on_the_birthday_not_before(
        self, actors: Actors, world: World, today: time_machine.Traveller
    ) -> None:
        today.move_to(date(2025, 6, 29))
        assert listed(actors, "county_admin", age="0-5") == ["李四"]
        assert listed(actors, "county_admin", age="6-11") == ["张三"]

    def test_it_filters_by_enrolment(self, actors: Actors, world: World) -> None:
        zhang = world.zhang
        services.child_update(
            actor=actors.county_admin,
            child=zhang,
            version=zhang.version,
            changes={"enrolment": "dropped_out"},
        )
        assert listed(actors, "county_admin", enrolment="dropped_out") == ["张三"]
        assert sorted(listed(actors, "county_admin", enrolment="in_school")) == ["李四", "王五"]

    def test_it_combines_filters(self, actors: Actors, world: World) -> None:
        assert listed(actors, "county_admin", division=TOWN, category="left_behind") == ["张三"]

    @pytest.mark.parametrize(
        "params",
        [
            {"status": "\x00"},
            {"category": "\x00"},
            {"page": "999"},
            {"page": "²"},
            {"q": "\x00"},
        ],
    )
    def test_it_drops_nul_and_shows_the_last_page_past_the_end(
        self, actors: Actors, world: World, params: dict[str, str]
    ) -> None:
        assert len(listed(actors, "county_admin", **params)) in (0, 3)


class TestSearch:
    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("张三", ["张三"]),
            ("张", ["张三"]),
            ("zhangsan", ["张三"]),
            ("ZhangSan", ["张三"]),
            ("zhang san", ["张三"]),
            ("zs", ["张三"]),
            ("lisi", ["李四"]),
            ("ls", ["李四"]),
            ("wang", ["王五"]),
            ("zz", []),
            ("赵", []),
        ],
    )
    def test_it_finds_a_child_by_name_pinyin_or_initials(
        self, actors: Actors, world: World, q: str, expected: list[str]
    ) -> None:
        assert listed(actors, "county_admin", q=q) == expected

    def test_it_finds_a_child_by_the_full_id_number(self, actors: Actors, world: World) -> None:
        number = world.zhang_id
        assert listed(actors, "county_admin", q=number) == ["张三"]
        # Written with a lowercase x, spaces or full-width digits, it is the same number.
        spaced = f"{number[:6]} {number[6:14]} {number[14:].lower()}"
        assert listed(actors, "county_admin", q=spaced) == ["张三"]
        full_width = "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() else ch for ch in number)
        assert listed(actors, "county_admin", q=full_width) == ["张三"]

    def test_it_does_not_find_a_child_by_part_of_the_number(
        self, actors: Actors, world: World
    ) -> None:
        number = world.zhang_id
        for part in (number[:6], number[:14], number[:17], number[-4:]):
            assert listed(actors, "county_admin", q=part) == [], part

    def test_it_finds_no_number_outside_the_scope(self, actors: Actors, world: World) -> None:
        assert listed(actors, "other_village_director", q=world.zhang_id) == []
        assert listed(actors, "other_county_admin", q=world.zhang_id) == []


class TestPage:
    def test_it_shows_masked_id_numbers_only(self, actors: Actors, world: World) -> None:
        response = web_client(actors.county_admin).get(URL)
        body = response.content.decode()
        assert idcard.mask(world.zhang_id) in body
        assert world.zhang_id not in body
        assert world.zhang_id[6:14] not in body  # not even the birth-date part

    def test_it_shows_village_town_age_and_category_badges(
        self, actors: Actors, world: World
    ) -> None:
        response = web_client(actors.county_admin).get(URL, {"q": "张三"})
        row = response.context["rows"][0]
        assert (row.village, row.town, row.age) == ("东村", "城关镇", 11)
        assert row.url == f"/children/{world.zhang.public_id}/"
        body = response.content.decode()
        assert f'href="/children/{world.zhang.public_id}/"' in body
        assert f"<mark>{row.categories[0]}</mark>" in body

    def test_it_counts_the_list_and_each_category(self, actors: Actors, world: World) -> None:
        response = web_client(actors.county_admin).get(URL, {"division": TOWN})
        assert response.context["total"] == 2
        counts = {c.code: c.count for c in response.context["category_counts"]}
        assert counts["left_behind"] == 1
        assert counts["in_difficulty"] == 1
        assert counts["dibao_family"] == 1
        assert counts["orphan"] == 0

    def test_it_counts_the_other_categories_beside_the_chosen_one(
        self, actors: Actors, world: World
    ) -> None:
        response = web_client(actors.county_admin).get(URL, {"category": "left_behind"})
        assert response.context["total"] == 2
        assert response.context["all_categories_count"] == 3
        counts = {c.code: c.count for c in response.context["category_counts"]}
        assert (counts["left_behind"], counts["in_difficulty"]) == (2, 1)
        selected = [c.code for c in response.context["category_counts"] if c.selected]
        assert selected == ["left_behind"]

    def test_it_pages_by_50(self, actors: Actors, world: World) -> None:
        clone_children(world.zhang, 55)
        client = web_client(actors.village_director)
        first = client.get(URL)
        assert len(first.context["rows"]) == 50
        assert first.context["total"] == 56
        assert first.context["page"].paginator.num_pages == 2
        second = client.get(URL, {"page": 2})
        assert len(second.context["rows"]) == 6
        all_names = names(first) + names(second)
        assert len(set(all_names)) == 56

    def test_it_keeps_the_filters_in_the_page_links(self, actors: Actors, world: World) -> None:
        clone_children(world.zhang, 55)
        response = web_client(actors.county_admin).get(URL, {"category": "left_behind"})
        assert "category=left_behind&amp;page=2" in response.content.decode()

    def test_it_offers_the_divisions_inside_the_scope(self, actors: Actors, world: World) -> None:
        county = web_client(actors.county_admin).get(URL).context["divisions"]
        codes = [d.code for d in county]
        assert {TOWN, EAST, WEST, SOUTH} <= set(codes)
        assert not any(c.startswith("620702") for c in codes)
        assert [d.indent for d in county if d.code in (TOWN, EAST)] == [False, True]
        town = web_client(actors.town_supervisor).get(URL).context["divisions"]
        assert {d.code for d in town} == {"620724100001", EAST, WEST}
        village = web_client(actors.village_director).get(URL).context["divisions"]
        assert village == []

    def test_the_division_filter_marks_the_chosen_one_and_escapes_names(
        self, actors: Actors, world: World
    ) -> None:
        Division.objects.filter(code=WEST).update(name="西<b>村")
        html = web_client(actors.county_admin).get(URL, {"division": EAST}).content.decode()
        assert f'<option value="{EAST}" selected>　' in html
        assert f'<option value="{TOWN}">' in html  # the town above it: neither chosen nor indented
        assert f'<option value="{WEST}">　西&lt;b&gt;村</option>' in html
        assert html.count(" selected>") == 2  # the division, and the file status's default

    def test_it_answers_htmx_with_the_results_fragment(self, actors: Actors, world: World) -> None:
        response = web_client(actors.county_admin).get(
            URL, {"q": "zs"}, headers={"HX-Request": "true"}
        )
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="results">')
        assert "<html" not in body
        assert "张三" in body
        assert "HX-Request" in response["Vary"]

    def test_it_answers_an_htmx_history_restore_with_the_whole_page(
        self, actors: Actors, world: World
    ) -> None:
        response = web_client(actors.county_admin).get(
            URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
        )
        assert "<html" in response.content.decode()

    def test_it_works_without_javascript(self, actors: Actors, world: World) -> None:
        body = web_client(actors.county_admin).get(URL).content.decode()
        assert '<form method="post" action="/children/"' in body
        assert 'hx-post="/children/"' in body
        assert 'href="/children/export.xlsx?' in body

    def test_it_offers_the_full_number_export_only_to_roles_that_may_reveal(
        self, actors: Actors, world: World
    ) -> None:
        assert "/children/export-full/" in web_client(actors.county_admin).get(URL).text
        assert "/children/export-full/" not in web_client(actors.auditor).get(URL).text


class TestQueries:
    def _count(self, actors: Actors, params: dict[str, str]) -> int:
        client = web_client(actors.county_admin)
        client.get(URL)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, params)
        assert response.status_code == 200
        return len(queries)

    @pytest.mark.parametrize(
        "params",
        [
            {},
            {"category": "dibao_family", "division": TOWN, "q": "li"},
            {"age": "6-11", "status": ""},
        ],
    )
    def test_it_takes_as_many_queries_for_40_children_as_for_5(
        self, actors: Actors, world: World, params: dict[str, str]
    ) -> None:
        clone_children(world.li, 2)
        few = self._count(actors, params)
        clone_children(world.zhang, 20)
        clone_children(world.li, 15)
        assert Child.objects.count() == 40
        assert self._count(actors, params) == few
        assert few <= 15
