"""A messy ledger, as counties keep them, previews right row by row, applies, and re-applies
without changing anything."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tongxin.audit.models import AuditEvent, Result
from tongxin.geo.models import Division
from tongxin.interop import services
from tongxin.interop.models import BatchStatus
from tongxin.interop.tests.conftest import (
    EAST,
    WEST,
    build_ledger,
    check,
    id_number,
    messages_of,
    outcomes,
)
from tongxin.lib import crypto
from tongxin.registry.models import CategorySpan, Child, Household, Migration, Parent
from tongxin.testing import Actors

# Header variants, not the template's words: 身份证号, 公民身份号码, 证件号码, 出生年月日 …
HEADERS = [
    "序号",
    "儿童姓名",
    "性别",
    "民族",
    "出生年月日",
    "身份证号",
    "现住址",
    "身体状况",
    "残疾类别及等级",
    "就学情况",
    "父亲姓名",
    "父亲公民身份号码",
    "父亲务工地点",
    "母亲姓名",
    "母亲证件号码",
    "母亲外出务工地点",
    "救助情况",
]
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

B1 = date(2012, 3, 5)
B2 = date(2013, 4, 6)
B3 = date(2014, 5, 7)
B4 = date(2015, 6, 8)
B5 = date(2016, 7, 9)
B6 = date(2011, 8, 10)


def _row(seq: int, name: str, birth: Any, number: str, home: str, **extra: Any) -> list[Any]:
    family = extra.get("family", seq)  # rows of one family name the same parents
    father = extra.get(
        "father", ("王大山", id_number(date(1985, 1, 1), "male", family), "浙江省宁波市")
    )
    mother = extra.get(
        "mother", ("李秀英", id_number(date(1987, 2, 2), "female", family), "浙江宁波")
    )
    return [
        seq,
        name,
        extra.get("gender", "男"),
        "汉",
        birth,
        number,
        home,
        extra.get("health", "健康"),
        extra.get("disability", ""),
        "小学",
        father[0],
        father[1],
        father[2],
        mother[0],
        mother[1],
        mother[2],
        extra.get("assistance", ""),
    ]


def messy_rows() -> list[list[Any]]:
    """Rows 4..13 of the sheet (two title rows and the header come first)."""
    good_bad_id = id_number(B6, "male", 99)
    bad_id = good_bad_id[:16] + str((int(good_bad_id[16]) + 2) % 10) + good_bad_id[17]
    return [
        # 4: ISO date, village with 镇 and 村.
        _row(1, "王小明", "2012-03-05", id_number(B1, "male", 1), "城关镇东关村三组"),
        # 5: 2013.4.6, village without 镇/村; a girl, the sister of row 4.
        _row(
            2, "王小红", "2013.4.6", id_number(B2, "female", 2), "城关东关", gender="女", family=1
        ),
        # 6: 2014/5/7, the other village; father works in the county: not left behind, but
        #    dibao and a disability make the child in difficulty.
        _row(
            3,
            "张小强",
            "2014/5/7",
            id_number(B3, "male", 3),
            "西关村",
            father=("张大海", id_number(date(1984, 3, 3), "male", 33), "高台县城关镇"),
            health="残疾",
            disability="肢体二级",
            assistance="低保、临时救助",
        ),
        # 7: 2015年6月8日 in full-width digits, and the ID number in full-width digits too.
        _row(
            4,
            "赵小军",
            "２０１５年６月８日",
            id_number(B4, "male", 4).translate(FULL_WIDTH),
            "城关镇西关村",
        ),
        # 8: an Excel serial number (a number cell, not a date cell).
        _row(
            5,
            "孙小丽",
            (B5 - date(1899, 12, 30)).days,
            id_number(B5, "female", 5),
            "东关村",
            gender="女",
        ),
        # 9: a village that does not exist.
        _row(6, "周小兵", "2012-01-01", id_number(date(2012, 1, 1), "male", 6), "幸福村八组"),
        # 10: a wrong ID number (a digit changed).
        _row(7, "吴小东", "2011-08-10", bad_id, "东关村"),
        # 11: no ID number: to review, never applied.
        _row(8, "郑小北", "2014-09-09", "", "东关村"),
        # 12: the same ID number as row 4.
        _row(9, "王小明", "2012-03-05", id_number(B1, "male", 1), "东关村"),
        # 13: a blank line under the table.
        [None] * len(HEADERS),
    ]


def good_rows() -> list[list[Any]]:
    return [r for r in messy_rows() if r[0] in (1, 2, 3, 4, 5, 8)]


@pytest.mark.usefixtures("villages")
def test_it_previews_every_row_of_a_messy_ledger(actors: Actors) -> None:
    batch = check(actors.county_admin, build_ledger(HEADERS, messy_rows()))

    assert batch.status == BatchStatus.CHECKED
    assert outcomes(batch) == {
        4: "new",
        5: "new",
        6: "new",
        7: "new",
        8: "new",
        9: "error",
        10: "error",
        11: "review",
        12: "error",
    }
    assert batch.counts == {
        "new": 5,
        "update": 0,
        "unchanged": 0,
        "review": 1,
        "error": 3,
        "total": 9,
    }
    assert "幸福村八组" in messages_of(batch, 9)
    assert "check character" in messages_of(batch, 10)
    assert "row 4" in messages_of(batch, 12)
    assert "No ID number" in messages_of(batch, 11)
    by_line = {r["line"]: r for r in batch.results}
    assert [c[0] for c in by_line[4]["categories"]] == ["left_behind"]
    assert {c[0] for c in by_line[6]["categories"]} == {"dibao_family", "disabled"}
    # Every village form was matched, with and without 镇/村.
    assert by_line[4]["village"] == by_line[5]["village"] == by_line[8]["village"] == "东关村"
    assert by_line[6]["village"] == by_line[7]["village"] == "西关村"
    # No full ID number is kept in the preview.
    assert by_line[4]["id"].count("*") == 8
    assert Child.objects.count() == 0  # a preview writes nothing


@pytest.mark.usefixtures("villages")
def test_it_refuses_to_apply_while_a_row_has_an_error(actors: Actors) -> None:
    batch = check(actors.county_admin, build_ledger(HEADERS, messy_rows()))

    with pytest.raises(services.ApplyRefused, match="3 row"):
        services.batch_apply(actor=actors.county_admin, batch=batch)

    assert Child.objects.count() == Household.objects.count() == Parent.objects.count() == 0


@pytest.mark.usefixtures("villages")
def test_it_applies_then_reapplies_without_change(actors: Actors) -> None:
    data = build_ledger(HEADERS, good_rows())
    batch = check(actors.county_admin, data)
    assert batch.counts == {
        "new": 5,
        "update": 0,
        "unchanged": 0,
        "review": 1,
        "error": 0,
        "total": 6,
    }

    batch = services.batch_apply(actor=actors.county_admin, batch=batch)

    assert batch.status == BatchStatus.APPLIED, batch.message
    assert batch.applied_counts == batch.counts
    assert Child.objects.count() == 5
    assert not Child.objects.filter(name="郑小北").exists()  # the review row
    assert not batch.path.exists()  # the uploaded file is gone once applied

    xiaoming = Child.objects.get(id_number_hash=crypto.lookup_hash(id_number(B1, "male", 1)))
    assert xiaoming.name == "王小明"
    assert xiaoming.birth_date == B1
    assert xiaoming.village_id == EAST
    assert xiaoming.ethnicity == "汉族"
    assert xiaoming.school_stage == "primary"
    assert xiaoming.registered_on == date(2024, 6, 30)
    assert xiaoming.left_behind
    assert xiaoming.category_codes == ["left_behind"]
    assert xiaoming.id_number_enc is not None
    assert crypto.decrypt(xiaoming.id_number_enc) == id_number(B1, "male", 1)
    assert [(s.code, s.start, s.end) for s in CategorySpan.objects.filter(child=xiaoming)] == [
        ("left_behind", date(2024, 6, 30), None)
    ]
    # The national form has no departure date: the start is unknown, known since the import.
    spells = Migration.objects.filter(parent__household=xiaoming.household)
    assert {(m.left_on, m.known_since, m.destination, m.work_place) for m in spells} == {
        (None, date(2024, 6, 30), "out_of_province", "浙江省宁波市"),
        (None, date(2024, 6, 30), "out_of_province", "浙江宁波"),
    }

    zhang = Child.objects.get(name="张小强")
    assert zhang.village_id == WEST
    assert zhang.household.dibao
    assert zhang.household.assistance == ["低保", "临时救助"]
    assert (zhang.disability_type, zhang.disability_grade) == ("肢体", 2)
    assert set(zhang.category_codes) == {"dibao_family", "disabled"}
    assert not zhang.left_behind
    assert zhang.in_difficulty
    father = zhang.household.parents.get(role="father")
    assert father.migrations.get().destination == "in_county"

    assert Child.objects.get(name="赵小军").birth_date == B4
    assert Child.objects.get(name="孙小丽").birth_date == B5

    # The history of each record shows the import and who made it.
    record = xiaoming.history.get()
    assert record.history_user == actors.county_admin
    assert record.history_change_reason == f"ledger {batch.public_id}"
    assert Parent.history.filter(household_id=xiaoming.household_id).count() == 2

    again = check(actors.county_admin, data)
    assert again.counts == {
        "new": 0,
        "update": 0,
        "unchanged": 5,
        "review": 1,
        "error": 0,
        "total": 6,
    }
    history_rows = Child.history.count() + Household.history.count() + Migration.history.count()
    again = services.batch_apply(actor=actors.county_admin, batch=again)
    assert again.status == BatchStatus.APPLIED
    assert Child.objects.count() == 5
    assert (
        Child.history.count() + Household.history.count() + Migration.history.count()
        == history_rows
    )


@pytest.mark.usefixtures("villages")
def test_it_reports_what_a_changed_row_updates(actors: Actors) -> None:
    rows = good_rows()
    services.batch_apply(
        actor=actors.county_admin, batch=check(actors.county_admin, build_ledger(HEADERS, rows))
    )
    # The father of 王小明 and 王小红 came back to work in the county (both rows say so);
    # an emptied cell changes nothing.
    rows[0][12] = rows[1][12] = "高台县宣化镇"
    rows[0][7] = ""

    batch = check(actors.county_admin, build_ledger(HEADERS, rows))

    assert outcomes(batch) == {
        4: "update",
        5: "update",
        6: "unchanged",
        7: "unchanged",
        8: "unchanged",
        9: "review",
    }
    row = next(r for r in batch.results if r["line"] == 4)
    assert row["changes"] == ["father: destination", "father: work place"]
    assert row["categories"] == []  # no longer left behind
    applied = services.batch_apply(actor=actors.county_admin, batch=batch)
    assert applied.status == BatchStatus.APPLIED, applied.message

    xiaoming = Child.objects.get(name="王小明")
    assert not xiaoming.left_behind
    assert xiaoming.categories == []
    assert xiaoming.health == "healthy"
    # The import's own day: the span opened that day is gone rather than ending the day it began.
    assert not CategorySpan.objects.filter(child=xiaoming).exists()
    assert xiaoming.version == 1  # the child's own facts did not change
    spell = Migration.objects.get(parent__household=xiaoming.household, parent__role="father")
    assert (spell.destination, spell.work_place) == ("in_county", "高台县宣化镇")
    assert spell.history.count() == 2


@pytest.mark.usefixtures("villages")
def test_it_puts_siblings_in_one_household(actors: Actors) -> None:
    batch = check(actors.county_admin, build_ledger(HEADERS, good_rows()))
    services.batch_apply(actor=actors.county_admin, batch=batch)

    xiaoming, xiaohong = Child.objects.get(name="王小明"), Child.objects.get(name="王小红")
    assert xiaoming.household_id == xiaohong.household_id
    assert Household.objects.count() == 4
    assert Parent.objects.filter(household=xiaoming.household).count() == 2


@pytest.mark.usefixtures("villages")
def test_it_refuses_rows_outside_the_directors_village(actors: Actors) -> None:
    rows = [r for r in good_rows() if r[0] in (1, 3)]  # 东关村 and 西关村
    director = actors.village_director  # 东关村
    batch = check(director, build_ledger(HEADERS, rows))

    assert outcomes(batch) == {4: "new", 5: "error"}
    assert "西关村 lies outside your division" in messages_of(batch, 5)
    with pytest.raises(services.ApplyRefused):
        services.batch_apply(actor=director, batch=batch)
    assert Child.objects.count() == 0


@pytest.mark.usefixtures("villages")
def test_it_says_a_number_is_registered_elsewhere_without_details(actors: Actors) -> None:
    rows = [r for r in good_rows() if r[0] == 3]  # 西关村
    services.batch_apply(
        actor=actors.county_admin, batch=check(actors.county_admin, build_ledger(HEADERS, rows))
    )
    rows[0][6] = "东关村"  # the director of 东关村 lists the same child
    batch = check(actors.village_director, build_ledger(HEADERS, rows))

    assert outcomes(batch) == {4: "error"}
    text = messages_of(batch, 4)
    assert "already registered elsewhere" in text
    assert "西关村" not in text


@pytest.mark.usefixtures("villages")
def test_it_rolls_everything_back_when_a_row_fails_at_apply_time(actors: Actors) -> None:
    batch = check(actors.county_admin, build_ledger(HEADERS, good_rows()))
    # Between check and apply, a village is renamed: its rows no longer match.
    Division.objects.filter(code=WEST).update(name="新村")

    batch = services.batch_apply(actor=actors.county_admin, batch=batch)

    assert batch.status == BatchStatus.FAILED
    assert "nothing was imported" in batch.message
    assert Child.objects.count() == Household.objects.count() == Migration.objects.count() == 0
    failed = AuditEvent.objects.get(action="ledger.apply")
    assert failed.result == Result.FAILED


@pytest.mark.usefixtures("villages")
def test_it_refuses_a_file_changed_since_the_check(actors: Actors) -> None:
    batch = check(actors.county_admin, build_ledger(HEADERS, good_rows()))
    batch.path.write_bytes(build_ledger(HEADERS, good_rows()[:2]))

    with pytest.raises(services.ApplyRefused, match="no longer the one"):
        services.batch_apply(actor=actors.county_admin, batch=batch)
    assert Child.objects.count() == 0


@pytest.mark.usefixtures("villages")
def test_it_audits_preview_and_apply_with_the_hash_and_counts(actors: Actors) -> None:
    batch = check(actors.county_admin, build_ledger(HEADERS, good_rows()))
    services.batch_apply(actor=actors.county_admin, batch=batch)

    preview = AuditEvent.objects.get(action="ledger.preview")
    apply = AuditEvent.objects.get(action="ledger.apply")
    for event in (preview, apply):
        assert event.detail["sha256"] == batch.sha256
        assert len(batch.sha256) == 64
        assert event.detail["counts"]["new"] == 5
        assert event.object_code == str(batch.public_id)
        assert event.actor == actors.county_admin
        assert event.division_code == "620724000000"
        assert "王小明" not in str(event.detail)
