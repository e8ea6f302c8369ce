"""GET /api/v1/children: the list of children for other systems and phones, scoped to the
token's user, with masked ID numbers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongxin.lib import idcard
from tongxin.registry.models import Child
from tongxin.registry.tests.test_list_view import (
    EAST,
    SOUTH,
    TODAY,
    TOWN,
    WEST,
    World,
    build_world,
    clone_children,
)
from tongxin.testing import Actors, api_client

URL = "/api/v1/children"


@pytest.fixture(autouse=True)
def today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(TODAY, tick=False) as t:
        yield t


@pytest.fixture
def world(actors: Actors) -> World:
    return build_world(actors)


def get(actors: Actors, who: str, **params: Any) -> dict[str, Any]:
    response = api_client(getattr(actors, who)).get(URL, params)
    assert response.status_code == 200, response.content
    data: dict[str, Any] = response.json()
    return data


def names(data: dict[str, Any]) -> list[str]:
    return sorted(r["name"] for r in data["results"])


class TestContract:
    def test_it_answers_a_page_of_children(self, actors: Actors, world: World) -> None:
        data = get(actors, "county_admin", q="zs")
        assert data["count"] == 1
        assert (data["page"], data["num_pages"], data["next"], data["previous"]) == (
            1,
            1,
            None,
            None,
        )
        zhang = world.zhang
        assert data["results"] == [
            {
                "id": str(zhang.public_id),
                "name": "张三",
                "gender": "male",
                "birth_date": "2014-05-01",
                "id_number": idcard.mask(world.zhang_id),
                "village": EAST,
                "status": "active",
                "enrolment": "in_school",
                "categories": ["left_behind"],
                "left_behind": True,
                "in_difficulty": False,
                "version": zhang.version,
            }
        ]

    def test_it_never_returns_a_full_id_number(self, actors: Actors, world: World) -> None:
        response = api_client(actors.county_admin).get(URL, {"full_ids": "1"})
        assert world.zhang_id not in response.content.decode()
        assert idcard.mask(world.zhang_id) in response.content.decode()

    def test_it_gives_an_empty_string_when_no_number_is_on_file(
        self, actors: Actors, world: World
    ) -> None:
        [li] = get(actors, "county_admin", q="李四")["results"]
        assert li["id_number"] == ""
        assert li["categories"] == ["dibao_family"]
        assert li["in_difficulty"] is True

    def test_it_documents_the_endpoint_in_the_schema(self, actors: Actors) -> None:
        schema = api_client(None).get("/api/schema/", {"format": "json"}).json()
        operation = schema["paths"]["/api/v1/children"]["get"]
        assert operation["operationId"] == "children_list"
        params = {p["name"] for p in operation["parameters"]}
        assert {"division", "category", "q", "page", "status", "age_from", "age_to"} <= params
        page = schema["components"]["schemas"]["ChildListPage"]["properties"]
        assert set(page) == {"count", "page", "num_pages", "next", "previous", "results"}
        item = schema["components"]["schemas"]["ChildListItem"]["properties"]
        assert item["categories"]["items"] == {"$ref": "#/components/schemas/CategoryCode"}
        assert {"id", "name", "id_number", "village", "birth_date", "version"} <= set(item)


class TestAccess:
    def test_it_answers_401_without_a_token(self, world: World) -> None:
        assert api_client(None).get(URL).status_code == 401

    @pytest.mark.parametrize("who", ["department_officer", "reporter", "system_admin"])
    def test_it_answers_404_to_roles_that_read_no_files(
        self, actors: Actors, world: World, who: str
    ) -> None:
        assert api_client(getattr(actors, who)).get(URL).status_code == 404

    @pytest.mark.parametrize(
        ("who", "expected"),
        [
            ("county_admin", ["张三", "李四", "王五"]),
            ("auditor", ["张三", "李四", "王五"]),
            ("town_supervisor", ["张三", "李四"]),
            ("village_director", ["张三"]),
            ("other_village_director", ["李四"]),
            ("other_town_director", ["王五"]),
            ("other_county_admin", []),
        ],
    )
    def test_it_lists_only_the_users_scope(
        self, actors: Actors, world: World, who: str, expected: list[str]
    ) -> None:
        assert names(get(actors, who)) == sorted(expected)

    def test_it_keeps_the_scope_under_a_division_filter(self, actors: Actors, world: World) -> None:
        assert get(actors, "village_director", division=SOUTH)["count"] == 0
        search = api_client(actors.other_village_director).post(
            f"{URL}/search", {"id_number": world.zhang_id}, format="json"
        )
        assert search.json()["count"] == 0


class TestFilters:
    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"division": TOWN}, ["张三", "李四"]),
            ({"division": WEST}, ["李四"]),
            ({"category": "left_behind"}, ["张三", "王五"]),
            ({"category": "dibao_family"}, ["李四"]),
            ({"q": "wangwu"}, ["王五"]),
            ({"q": "ls"}, ["李四"]),
            ({"age_from": "6", "age_to": "11"}, ["张三", "李四"]),
            ({"age_to": "5"}, []),
            ({"enrolment": "dropped_out"}, []),
        ],
    )
    def test_it_filters(
        self, actors: Actors, world: World, params: dict[str, str], expected: list[str]
    ) -> None:
        assert names(get(actors, "county_admin", **params)) == expected

    def test_it_finds_a_child_by_full_id_number_only(self, actors: Actors, world: World) -> None:
        # By POST (test_id_search.py): a number in the query string answers 400.
        client = api_client(actors.county_admin)
        for number, expected in ((world.zhang_id, ["张三"]), (world.zhang_id[:17], [])):
            found = client.post(f"{URL}/search", {"id_number": number}, format="json")
            assert names(found.json()) == expected
            assert client.get(URL, {"q": number}).status_code == 400


class TestPaging:
    def test_it_pages_by_50_with_links(self, actors: Actors, world: World) -> None:
        clone_children(world.zhang, 55)
        first = get(actors, "village_director")
        assert (first["count"], first["num_pages"], len(first["results"])) == (56, 2, 50)
        assert first["previous"] is None
        assert first["next"] == f"http://testserver{URL}?page=2"
        second = api_client(actors.village_director).get(first["next"]).json()
        assert len(second["results"]) == 6
        assert second["next"] is None
        assert second["previous"] == f"http://testserver{URL}"
        ids = {r["id"] for r in first["results"]} | {r["id"] for r in second["results"]}
        assert len(ids) == 56

    def test_it_keeps_the_filters_in_the_links(self, actors: Actors, world: World) -> None:
        clone_children(world.zhang, 55)
        data = get(actors, "county_admin", category="left_behind")
        assert data["next"] == f"http://testserver{URL}?category=left_behind&page=2"

    @pytest.mark.parametrize("page", ["3", "0", "abc"])
    def test_it_answers_404_for_a_page_that_is_not_there(
        self, actors: Actors, world: World, page: str
    ) -> None:
        assert api_client(actors.county_admin).get(URL, {"page": page}).status_code == 404

    def test_it_takes_as_many_queries_for_40_children_as_for_5(
        self, actors: Actors, world: World
    ) -> None:
        client = api_client(actors.county_admin)

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(URL).status_code == 200
            return len(queries)

        clone_children(world.li, 2)
        few = count()
        clone_children(world.zhang, 35)
        assert Child.objects.count() == 40
        assert count() == few
