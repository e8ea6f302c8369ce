"""``manage.py load_divisions`` and the service behind it, on the database."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from tongxin.audit.models import AuditEvent
from tongxin.geo.management.commands.load_divisions import GAOTAI_FILE
from tongxin.geo.models import Division, Level
from tongxin.geo.services import DivisionFileError, divisions_load

pytestmark = pytest.mark.django_db

GAOTAI = "620724"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def gaotai_rows() -> list[dict[str, str]]:
    with GAOTAI_FILE.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def load(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("load_divisions", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def gaotai_count(level: Level) -> int:
    return Division.objects.filter(code__startswith=GAOTAI, level=level).count()


class TestGaotaiFile:
    def test_it_holds_one_county_nine_towns_136_villages_and_9_communities(self) -> None:
        levels = [r["level"] for r in gaotai_rows() if r["code"].startswith(GAOTAI)]

        assert levels.count(Level.COUNTY) == 1
        assert levels.count(Level.TOWN) == 9
        assert levels.count(Level.VILLAGE) == 136
        assert levels.count(Level.COMMUNITY) == 9

    def test_it_names_divisions_uniquely_within_their_town(self) -> None:
        rows = gaotai_rows()
        pairs = [(r["parent_code"], r["name"]) for r in rows]

        assert len(set(pairs)) == len(pairs)
        for row in rows:
            if row["level"] == Level.VILLAGE:
                assert row["name"].endswith("村")
            if row["level"] == Level.COMMUNITY:
                assert row["name"].endswith("社区")

    def test_it_loads_the_bundled_file(self) -> None:
        rows = gaotai_rows()
        before = set(Division.objects.values_list("code", flat=True))
        new = sum(r["code"] not in before for r in rows)

        out, err = load("--gaotai")

        assert err == ""
        assert f"{new} created" in out
        assert gaotai_count(Level.COUNTY) == 1
        assert gaotai_count(Level.TOWN) == 9
        assert gaotai_count(Level.VILLAGE) == 136
        assert gaotai_count(Level.COMMUNITY) == 9
        for row in rows:
            division = Division.objects.get(code=row["code"])
            assert (division.name, division.level, division.parent_id) == (
                row["name"],
                row["level"],
                row["parent_code"] or None,
            )

    def test_it_loads_the_bundled_file_without_a_path(self) -> None:
        load()

        assert gaotai_count(Level.VILLAGE) == 136

    def test_it_changes_nothing_the_second_time(self) -> None:
        load("--gaotai")
        events = AuditEvent.objects.count()

        out, _ = load(str(GAOTAI_FILE))

        assert out.strip() == f"Divisions: 0 created, 0 updated, {len(gaotai_rows())} unchanged."
        assert AuditEvent.objects.count() == events

    def test_it_writes_in_a_bounded_number_of_queries(
        self, django_assert_max_num_queries: Any
    ) -> None:
        with django_assert_max_num_queries(10):
            result = divisions_load(source=GAOTAI_FILE)

        assert result.total == len(gaotai_rows())

    def test_it_records_the_load_in_the_audit_trail(self) -> None:
        result = divisions_load(source=GAOTAI_FILE)

        event = AuditEvent.objects.get(action="divisions_load")
        assert event.detail == {
            "rows": result.total,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }


def test_it_scopes_a_town_by_code_prefix() -> None:
    divisions_load(source=GAOTAI_FILE)
    town = Division.objects.get(code="620724103000")  # 巷道镇
    expected = {town.code} | {r["code"] for r in gaotai_rows() if r["parent_code"] == town.code}

    inside = set(Division.objects.inside(town).values_list("code", flat=True))

    assert inside == expected
    assert len(inside) == 1 + 17 + 1
    assert all(town.contains(code) for code in inside)


BAD_FILE = """\
code,name,level,parent_code
620724109000,新镇,town,620724000000
620724109201,新村,village,620724199000
620724109202,新二村,village,620724109000
620724109202,新二村,village,620724109000
62072410920,新三村,village,620724109000
620724109204,新四村,village,620724000000
620724109205,新五村,village,620724109000
"""


class TestBadFile:
    def test_it_refuses_the_file_whole_with_one_message_per_bad_row(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.csv"
        path.write_text(BAD_FILE, encoding="utf-8")
        before = Division.objects.count()
        events = AuditEvent.objects.count()
        err = io.StringIO()

        with pytest.raises(CommandError, match="4 error"):
            call_command("load_divisions", str(path), stdout=io.StringIO(), stderr=err)

        lines = err.getvalue().splitlines()
        assert len(lines) == 4
        assert "Line 3: parent 620724199000" in lines[0]
        assert "Line 5: code 620724109202 is repeated (first on line 4)" in lines[1]
        assert "Line 6: code 62072410920 must have 12 digits" in lines[2]
        assert "Line 7: a Village cannot lie in a County" in lines[3]
        assert Division.objects.count() == before
        assert not Division.objects.filter(code__startswith="620724109").exists()
        assert AuditEvent.objects.count() == events

    def test_it_carries_every_error_on_the_exception(self) -> None:
        with pytest.raises(DivisionFileError) as caught:
            divisions_load(source=io.StringIO(BAD_FILE))

        assert [e.line for e in caught.value.errors] == [3, 5, 6, 7]

    def test_it_reports_a_file_that_is_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "gbk.csv"
        path.write_bytes(
            "code,name,level,parent_code\n620724109000,新镇,town,620724000000\n".encode("gbk")
        )

        with pytest.raises(DivisionFileError) as caught:
            divisions_load(source=path)

        assert [str(e) for e in caught.value.errors] == ["Line 2: the file is not UTF-8 text"]

    def test_it_refuses_a_path_with_gaotai(self) -> None:
        with pytest.raises(CommandError, match="not both"):
            load(str(GAOTAI_FILE), "--gaotai")

    def test_it_refuses_a_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(CommandError, match="No such file"):
            load(str(tmp_path / "missing.csv"))


class TestEncoding:
    FILE = "code,name,level,parent_code\r\n620724109000,新镇,town,620724000000\r\n"

    def test_it_accepts_a_byte_order_mark_in_a_file(self, tmp_path: Path) -> None:
        path = tmp_path / "bom.csv"
        path.write_text(self.FILE, encoding="utf-8-sig")
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")

        out, _ = load(str(path))

        assert "1 created" in out
        assert Division.objects.get(code="620724109000").name == "新镇"

    def test_it_accepts_a_file_without_a_byte_order_mark(self, tmp_path: Path) -> None:
        path = tmp_path / "plain.csv"
        path.write_text(self.FILE, encoding="utf-8")

        out, _ = load(str(path))

        assert "1 created" in out

    def test_it_accepts_a_text_stream_with_a_byte_order_mark(self) -> None:
        result = divisions_load(source=io.StringIO("\ufeff" + self.FILE))

        assert (result.created, result.updated, result.unchanged) == (1, 0, 0)

    def test_it_updates_a_name_in_place(self) -> None:
        divisions_load(source=io.StringIO(self.FILE))

        result = divisions_load(source=io.StringIO(self.FILE.replace("新镇", "新坝镇二")))

        assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
        assert Division.objects.get(code="620724109000").name == "新坝镇二"
