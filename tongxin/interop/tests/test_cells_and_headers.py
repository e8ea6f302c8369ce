"""Reading cells and headers as counties write them; the template reads back."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from tongxin.interop import cells
from tongxin.interop.cells import CellError
from tongxin.interop.headers import TEMPLATE_HEADERS, field_of, find_header, normalise_header
from tongxin.interop.tests.conftest import build_ledger, check, id_number, outcomes
from tongxin.interop.xlsx import template_bytes
from tongxin.registry.models import Child, Migration
from tongxin.testing import Actors


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2012-03-05", date(2012, 3, 5)),
        ("2012.3.5", date(2012, 3, 5)),
        ("2012/3/5", date(2012, 3, 5)),
        ("2012年3月5日", date(2012, 3, 5)),
        ("2012 年 3 月 5 日", date(2012, 3, 5)),
        ("２０１２年３月５日", date(2012, 3, 5)),
        ("20120305", date(2012, 3, 5)),
        ("2012-03-05 00:00:00", date(2012, 3, 5)),
        (40973, date(2012, 3, 5)),  # Excel's serial number of 2012-03-05
        (40973.0, date(2012, 3, 5)),
        ("40973", date(2012, 3, 5)),
        (1, date(1900, 1, 1)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),  # Excel's day 60 is its fictional 29 February 1900
        (datetime(2012, 3, 5, 0, 0), date(2012, 3, 5)),
        (date(2012, 3, 5), date(2012, 3, 5)),
        (None, None),
        ("", None),
    ],
)
def test_it_reads_dates_in_every_usual_form(value: Any, expected: date | None) -> None:
    assert cells.parse_date(value) == expected


@pytest.mark.parametrize("value", ["2012.3", "2012年3月", "2012-02-30", "下个月", "9999999"])
def test_it_refuses_what_is_not_a_whole_real_date(value: str) -> None:
    with pytest.raises(CellError, match=value.split("-")[0][:4]):
        cells.parse_date(value)


def test_it_reads_yes_no_and_the_form_s_choices() -> None:
    assert cells.parse_bool("是") is True
    assert cells.parse_bool("否") is False
    assert cells.parse_bool("√") is True
    assert cells.parse_bool(None) is None
    assert cells.choice("男", cells.GENDER, "gender") == "male"
    assert cells.choice("女性", cells.GENDER, "gender") == "female"
    assert cells.choice("初中二年级", cells.SCHOOLING, "schooling") == "junior"
    assert cells.disability("肢体二级") == ("肢体", 2)
    assert cells.disability("智力残疾 3级") == ("智力", 3)
    assert cells.unable_parent("是，母亲重病") == ("mother", "capacity", "serious_illness")
    assert cells.unable_parent("父亲服刑") == ("father", "capacity", "imprisoned")
    assert cells.unable_parent("母亲已故") == ("mother", "status", "deceased")
    assert cells.unable_parent("否") is None
    with pytest.raises(CellError):
        cells.unable_parent("是")
    assert cells.assistance("低保、临时救助，医疗救助") == ["低保", "临时救助", "医疗救助"]
    assert cells.text("１３８ ０００") == "138 000"
    assert cells.text(13800000000.0) == "13800000000"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("公民身份证号码", "id_number"),
        ("身份证号", "id_number"),
        ("公民身份号码", "id_number"),
        ("证件号码", "id_number"),
        ("出生日期（年月日）", "birth_date"),
        ("出生年月", "birth_date"),
        ("现 居 住 地", "residence"),
        ("家庭住址", "residence"),
        ("父亲身份证号", "father_id_number"),
        ("母亲证件号码", "mother_id_number"),
        ("父亲务工地点", "father_work_place"),
        ("身体情况（健康/残疾/患病）", "health"),
        ("*姓名", "name"),
        ("与被监护人关系", "caregiver_relation"),
    ],
)
def test_it_recognises_header_variants(header: str, field: str) -> None:
    assert field_of(header) == field, normalise_header(header)


def test_it_reads_a_two_level_header() -> None:
    upper = [
        "序号",
        "姓名",
        "性别",
        "出生日期",
        "身份证号",
        "现居住地",
        "父亲情况",
        None,
        None,
        "母亲信息",
        None,
    ]
    lower = [None, None, None, None, None, None, "姓名", "身份证号", "务工地点", "姓名", "联系电话"]
    header = find_header([["某某县留守儿童登记表"], upper, lower])
    assert header is not None
    assert header.header_row == 3
    assert header.columns == {
        "seq": 0,
        "name": 1,
        "gender": 2,
        "birth_date": 3,
        "id_number": 4,
        "residence": 5,
        "father_name": 6,
        "father_id_number": 7,
        "father_work_place": 8,
        "mother_name": 9,
        "mother_phone": 10,
    }


def test_it_finds_the_header_under_merged_title_rows() -> None:
    data = build_ledger(["姓名", "性别", "出生日期", "身份证号", "现居住地"], [])
    sheet = load_workbook(BytesIO(data), read_only=True).worksheets[0]
    header = find_header([tuple(r) for r in sheet.iter_rows(max_row=20, values_only=True)])
    assert header is not None
    assert header.header_row == 3


@pytest.mark.usefixtures("villages")
def test_it_reads_back_its_own_template(actors: Actors) -> None:
    workbook = load_workbook(BytesIO(template_bytes()))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[2]]
    assert headers == [h for _key, h in TEMPLATE_HEADERS]
    assert [field_of(h) for h in headers] == [k for k, _h in TEMPLATE_HEADERS]

    child = id_number(date(2012, 3, 5), "male", 1)
    father = id_number(date(1985, 1, 1), "male", 2)
    values = {
        "序号": 1,
        "姓名": "王小明",
        "性别": "男",
        "民族": "回族",
        "出生日期": "2012年3月5日",
        "公民身份证号码": child,
        "是否登记户口": "是",
        "户籍所在地": "甘肃省高台县",
        "现居住地": "城关镇东关村二组",
        "身体情况": "健康",
        "就学情况": "小学",
        "是否学校寄宿": "否",
        "父亲姓名": "王大山",
        "父亲公民身份证号码": father,
        "父亲当前务工地点": "甘肃省张掖市甘州区",
        "父亲联系电话": "13800000001",
        "母亲姓名": "李秀英",
        "母亲当前务工地点": "",
        "父母一方外出另一方无监护能力": "是，母亲重病",
        "委托监护人姓名": "王老汉",
        "委托监护人与被监护人关系": "祖父",
        "监护情况评估": "一般",
        "家庭经济来源": "务工",
        "救助帮扶情况": "低保",
        "父亲外出时间": "2023.1.5",
        "就读学校": "城关镇中心小学",
        "年级": "五年级",
    }
    for column, header in enumerate(headers, start=1):
        sheet.cell(row=3, column=column, value=values.get(header) or None)
    out = BytesIO()
    workbook.save(out)

    from tongxin.interop import services

    batch = check(actors.county_admin, out.getvalue())
    assert outcomes(batch) == {3: "new"}, batch.results
    services.batch_apply(actor=actors.county_admin, batch=batch)

    xiaoming = Child.objects.get()
    assert xiaoming.ethnicity == "回族"
    assert xiaoming.guardianship_assessment == "fair"
    assert xiaoming.school == "城关镇中心小学"
    household = xiaoming.household
    assert household.caregiver_name == "王老汉"
    assert household.dibao
    mother = household.parents.get(role="mother")
    assert mother.capacity == "serious_illness"
    spell = Migration.objects.get(parent__role="father")
    # Out of the county since 2023-01-05, the mother seriously ill: left behind.
    assert (spell.left_on, spell.known_since, spell.destination) == (
        date(2023, 1, 5),
        None,
        "out_of_county",
    )
    assert set(xiaoming.category_codes) == {"left_behind", "dibao_family"}
