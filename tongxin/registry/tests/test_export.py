"""The filtered list as xlsx (GET /children/export.xlsx): the same filters and scope as the list,
Chinese headers, ID numbers masked unless revealed, every export audited without personal
values."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tongxin.audit.models import AuditEvent
from tongxin.core.xlsx import XLSX_CONTENT_TYPE
from tongxin.lib import idcard
from tongxin.registry import exports
from tongxin.registry.models import Child
from tongxin.registry.tests.test_list_view import TODAY, TOWN, World, build_world, clone_children
from tongxin.testing import PASSWORD, Actors, web_client

URL = "/children/export.xlsx"


@pytest.fixture(autouse=True)
def today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(TODAY, tick=False) as t:
        yield t


@pytest.fixture
def world(actors: Actors) -> World:
    return build_world(actors)


def download(actors: Actors, who: str, **params: Any) -> list[list[Any]]:
    """The sheet's rows (header first) as the user downloads it."""
    response = web_client(getattr(actors, who)).get(URL, params)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    content = body(response)
    book = load_workbook(io.BytesIO(content), read_only=True)
    sheet = book[exports.SHEET_TITLE]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def body(response: Any) -> bytes:
    """The bytes of a streamed file response."""
    return b"".join(response.streaming_content)


def column(rows: list[list[Any]], header: str) -> list[Any]:
    index = rows[0].index(header)
    return [r[index] for r in rows[1:]]


def all_text(rows: list[list[Any]]) -> str:
    return "\n".join(str(v) for r in rows for v in r if v is not None)


def exports_audited(action: str = "child.export") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


class TestContent:
    def test_it_writes_chinese_headers_and_one_row_per_child(
        self, actors: Actors, world: World
    ) -> None:
        rows = download(actors, "county_admin")
        assert tuple(rows[0]) == exports.HEADERS
        assert sorted(column(rows, "姓名")) == ["张三", "李四", "王五"]
        by_name = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
        zhang = by_name["张三"]
        assert zhang["档案编号"] == str(world.zhang.public_id)
        assert zhang["性别"] == "男"
        assert zhang["出生日期"].date() == world.zhang.birth_date
        assert zhang["年龄"] == 11
        assert (zhang["乡镇（街道）"], zhang["村（社区）"]) == ("城关镇", "东村")
        assert zhang["儿童类别"] == "农村留守儿童"
        assert (zhang["农村留守儿童"], zhang["困境儿童"]) == ("是", "否")
        assert by_name["李四"]["儿童类别"] == "低保家庭儿童"
        assert by_name["李四"]["公民身份证号码"] is None  # no number on file

    def test_it_applies_the_same_filters_as_the_list(self, actors: Actors, world: World) -> None:
        rows = download(actors, "county_admin", category="left_behind")
        assert sorted(column(rows, "姓名")) == ["张三", "王五"]
        rows = download(actors, "county_admin", division=TOWN, age="6-11", q="ls")
        assert column(rows, "姓名") == ["李四"]

    def test_it_exports_only_the_users_scope(self, actors: Actors, world: World) -> None:
        assert column(download(actors, "village_director"), "姓名") == ["张三"]
        assert column(download(actors, "other_town_director"), "姓名") == ["王五"]
        assert download(actors, "other_county_admin") == [list(exports.HEADERS)]

    @pytest.mark.parametrize("who", ["department_officer", "reporter", "system_admin"])
    def test_it_answers_404_to_roles_that_read_no_files(
        self, actors: Actors, world: World, who: str
    ) -> None:
        assert web_client(getattr(actors, who)).get(URL).status_code == 404
        assert not exports_audited()

    def test_it_writes_text_that_looks_like_a_formula_as_text(
        self, actors: Actors, world: World
    ) -> None:
        Child.objects.filter(pk=world.zhang.pk).update(name="=HYPERLINK(1)", school="@SUM(A1)")
        response = web_client(actors.county_admin).get(URL, {"q": "zs"})
        content = body(response)
        sheet = load_workbook(io.BytesIO(content))[exports.SHEET_TITLE]
        name, school = sheet.cell(row=2, column=2), sheet.cell(row=2, column=12)
        assert (name.value, name.data_type) == ("=HYPERLINK(1)", "s")
        assert (school.value, school.data_type) == ("@SUM(A1)", "s")


class TestResponse:
    def test_it_forbids_caching_the_file(self, actors: Actors, world: World) -> None:
        response = web_client(actors.county_admin).get(URL)
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        assert response["Content-Disposition"].endswith('filename="children-20250630.xlsx"')

    def test_it_is_linked_from_the_list_with_the_same_filters(
        self, actors: Actors, world: World
    ) -> None:
        page = web_client(actors.county_admin).get(
            "/children/", {"category": "left_behind", "page": "1", "full_ids": "1"}
        )
        assert page.context["export_url"] == f"{URL}?category=left_behind"
        assert page.context["export_full_url"] == "/children/export-full/?category=left_behind"
        rows = download(actors, "county_admin", category="left_behind")
        assert len(rows) - 1 == page.context["total"] == 2


class TestIdNumbers:
    def test_it_masks_id_numbers_by_default(self, actors: Actors, world: World) -> None:
        rows = download(actors, "county_admin")
        assert idcard.mask(world.zhang_id) in column(rows, "公民身份证号码")
        assert world.zhang_id not in all_text(rows)
        assert world.zhang_id[6:14] not in all_text(rows)
        assert not exports_audited("child.id_reveal_export")

    @pytest.mark.parametrize("who", ["county_admin", "town_supervisor", "village_director"])
    def test_it_masks_numbers_on_a_get_whoever_asks(
        self, actors: Actors, world: World, who: str
    ) -> None:
        # Full numbers are asked for by POST, with a reason and a password (test_export_full_ids).
        rows = download(actors, who, full_ids="1")
        assert world.zhang_id not in all_text(rows)
        assert not exports_audited("child.id_reveal_export")

    def test_it_masks_numbers_for_the_auditor_even_when_asked(
        self, actors: Actors, world: World
    ) -> None:
        rows = download(actors, "auditor", full_ids="1")
        assert world.zhang_id not in all_text(rows)
        assert idcard.mask(world.zhang_id) in column(rows, "公民身份证号码")
        assert not exports_audited("child.id_reveal_export")
        [event] = exports_audited()
        assert event.detail["full_ids"] is False


class TestAudit:
    def test_it_audits_each_export_with_its_row_count_and_filters(
        self, actors: Actors, world: World
    ) -> None:
        download(actors, "county_admin", category="left_behind", division=TOWN, age="6-11")
        [event] = exports_audited()
        assert event.actor == actors.county_admin
        assert event.division_code == actors.county_admin.division_id
        assert event.detail == {
            "rows": 1,
            "filters": {
                "category": "left_behind",
                "division": TOWN,
                "status": "active",
                "age_from": 6,
                "age_to": 11,
            },
            "full_ids": False,
        }

    def test_it_never_puts_the_search_text_in_the_audit_row(
        self, actors: Actors, world: World
    ) -> None:
        client = web_client(actors.county_admin)
        # A number is searched by POST and carried as a token (test_id_search.py).
        searched = client.post("/children/", {"q": world.zhang_id, "status": "active"})
        page = client.get(searched["Location"])
        assert client.get(page.context["export_url"]).status_code == 200
        download(actors, "county_admin", q="张三")
        events = exports_audited()
        assert [e.detail["rows"] for e in events] == [1, 1]
        for event in events:
            assert event.detail["filters"] == {"status": "active", "search": True}
            text = str(event.detail) + event.object_code
            assert world.zhang_id not in text
            assert "张三" not in text

    def test_it_audits_the_full_number_export_as_a_reveal_too(
        self, actors: Actors, world: World
    ) -> None:
        response = web_client(actors.village_director).post(
            "/children/export-full/", {"reason": "supervision", "secret": PASSWORD}
        )
        assert response.status_code == 200
        [export] = exports_audited()
        [reveal] = exports_audited("child.id_reveal_export")
        assert export.detail["full_ids"] is True
        assert export.detail["rows"] == reveal.detail["rows"] == 1


class TestQueries:
    def _count(self, actors: Actors) -> int:
        client = web_client(actors.county_admin)
        client.get("/")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
            body(response)
        return len(queries)

    def test_it_takes_as_many_queries_for_40_children_as_for_5(
        self, actors: Actors, world: World
    ) -> None:
        clone_children(world.li, 2)
        few = self._count(actors)
        clone_children(world.zhang, 35)
        assert Child.objects.count() == 40
        assert self._count(actors) == few
