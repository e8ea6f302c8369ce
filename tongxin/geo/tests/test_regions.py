"""The region table and reading a work place as a migration destination."""

from __future__ import annotations

import csv

import pytest

from tongxin.geo import regions
from tongxin.geo.regions import REGIONS_CSV, destination_of, known_region, local_core

GAOTAI = "620724"
GAOTAI_PLACES = ("城关镇", "宣化镇", "南华镇", "东关村", "西关村")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The three cases.
        ("浙江省宁波市", "out_of_province"),
        ("甘肃省张掖市甘州区", "out_of_county"),
        ("高台县城关镇", "in_county"),
        # Short forms and no province.
        ("浙江宁波", "out_of_province"),
        ("宁波", "out_of_province"),
        ("深圳市南山区", "out_of_province"),
        ("广东东莞", "out_of_province"),
        ("昆山市", "out_of_province"),
        ("新疆乌鲁木齐", "out_of_province"),
        ("内蒙包头", "out_of_province"),
        ("北京", "out_of_province"),
        ("张掖市甘州区", "out_of_county"),
        ("酒泉市肃州区", "out_of_county"),
        ("甘肃酒泉", "out_of_county"),
        ("兰州城关", "out_of_county"),
        # The home county's own city named alone means its urban districts.
        ("张掖市", "out_of_county"),
        ("张掖市高台县南华镇", "in_county"),
        ("甘肃省高台县", "in_county"),
        ("高台", "in_county"),
        # A town or village of the county, with or without 镇/村.
        ("城关镇东关村", "in_county"),
        ("宣化", "in_county"),
        ("南华镇", "in_county"),
        # Full-width letters and spaces do not matter.
        ("浙江省 宁波市", "out_of_province"),
        # Plain words.
        ("省外", "out_of_province"),
        ("省内", "out_of_county"),
        ("本县", "in_county"),
        # Nothing to go on.
        ("甘肃", None),
        ("打工", None),
        ("", None),
    ],
)
def test_it_derives_the_destination_from_the_work_place(text: str, expected: str | None) -> None:
    assert destination_of(text, GAOTAI, GAOTAI_PLACES) == expected


def test_it_prefers_the_county_s_own_town_to_a_district_of_the_same_short_name() -> None:
    # 城关 is also 兰州市城关区 (short form 城关): for a Gaotai family it is their own town.
    assert destination_of("城关", GAOTAI, GAOTAI_PLACES) == "in_county"
    assert destination_of("城关", GAOTAI) == "out_of_county"


def test_it_accepts_a_twelve_digit_home_code() -> None:
    assert destination_of("甘州区", "620724100201") == "out_of_county"


def test_it_knows_old_and_current_region_codes() -> None:
    assert known_region("620724")  # Gaotai since 2002
    assert known_region("622225")  # Gaotai before Zhangye became a city
    assert known_region("620000")
    assert not known_region("629999")
    assert not known_region("000000")


def test_it_strips_town_and_village_suffixes_but_keeps_two_characters() -> None:
    assert local_core("城关镇") == "城关"
    assert local_core("东关村") == "东关"
    assert local_core("解放路社区") == "解放路"
    assert local_core("东村") == "东村"


def test_it_reads_a_well_formed_table() -> None:
    with REGIONS_CSV.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows
    assert set(rows[0]) == {
        "code",
        "name",
        "short",
        "level",
        "parent_code",
        "first_year",
        "last_year",
    }
    provinces = [r for r in rows if r["level"] == "province"]
    assert len({r["code"] for r in provinces}) == 34
    for r in rows:
        assert len(r["code"]) == 6
        assert r["code"].isdigit()
        assert 1980 <= int(r["first_year"]) <= int(r["last_year"])
    gaotai = regions.region("620724")
    assert gaotai is not None
    assert (gaotai.name, gaotai.parent_code) == ("高台县", "620700")
