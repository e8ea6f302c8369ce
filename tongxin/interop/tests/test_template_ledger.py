"""Acceptance of issue 3: a messy ledger built on the template's own headers (every column of
the national form, the caregiver's ID number and address too) with dates in every usual form,
full-width digits and merged title rows previews, applies, and re-applies with no change. After
an import, a file that may be another file's duplicate waits in the review queue; a form opened
before an import that changed the record is refused as stale."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from django.urls import reverse

from tongxin.geo.models import Division
from tongxin.interop import services
from tongxin.interop.headers import NOT_STORED, TEMPLATE_HEADERS
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
from tongxin.lib import crypto, idcard
from tongxin.registry import services as registry
from tongxin.registry.models import (
    CandidateStatus,
    Child,
    DuplicateCandidate,
    Household,
    Migration,
    Parent,
)
from tongxin.testing import Actors, web_client

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
HEADERS = [header for _key, header in TEMPLATE_HEADERS]
TITLES = (
    "高台县农村留守儿童基本情况登记表",
    "填报单位（盖章）：城关镇人民政府",
    "填报日期：2024年6月",
)


# Synthetic names, valid as names are (Chinese characters only): one per row's seed.
GIVEN = "一二三四五六七八九十"


def _father(seed: int) -> str:
    return "王建" + GIVEN[seed - 1]


def _mother(seed: int) -> str:
    return "李秀" + GIVEN[seed - 1]


def _guardian(seed: int) -> str:
    return "张桂" + GIVEN[seed - 1]


def _caregiver(seed: int) -> str:
    return id_number(date(1958, 3, 3), "female", 700 + seed)


def _row(seed: int, name: str, gender: str, born: Any, birth: date, home: str) -> list[Any]:
    values = {
        "序号": seed,
        "姓名": name,
        "性别": gender,
        "民族": "汉",
        "出生日期": born,
        "公民身份证号码": id_number(birth, "male" if gender == "男" else "female", seed),
        "是否登记户口": "是",
        "户籍所在地": "甘肃省高台县",
        "现居住地": home,
        "身体情况": "健康",
        "就学情况": "小学",
        "是否学校寄宿": "否",
        "父亲姓名": _father(seed),
        "父亲出生日期": datetime(1985, 1, 1),  # a real date cell
        "父亲公民身份证号码": id_number(date(1985, 1, 1), "male", 100 + seed),
        "父亲当前务工地点": "浙江省宁波市",
        "父亲联系电话": "１３８００００００" + f"{seed:02d}".translate(FULL_WIDTH),
        "母亲姓名": _mother(seed),
        "母亲公民身份证号码": id_number(date(1987, 2, 2), "female", 200 + seed),
        "母亲当前务工地点": "新疆乌鲁木齐市",
        "祖父母姓名": "王老汉、张老太",
        "父母双方同时外出": "是",
        "委托监护人姓名": _guardian(seed),
        "委托监护人联系电话": f"1370000000{seed}",
        # Full-width digits in the caregiver's number too.
        "委托监护人公民身份证号码": _caregiver(seed).translate(FULL_WIDTH),
        "委托监护人与被监护人关系": "祖母",
        "委托监护人居住地址": f"{home}{seed}号",
        "监护情况评估": "一般",
        "家庭经济来源": "务工",
        "救助帮扶情况": "无",
    }
    return [values.get(header) for header in HEADERS]


def messy_rows() -> list[list[Any]]:
    """Rows 5..9 of the sheet (three merged title rows and the header come first)."""
    return [
        _row(1, "王小明", "男", "2012-03-05", date(2012, 3, 5), "城关镇东关村三组"),
        _row(2, "李小红", "女", "2013.4.6", date(2013, 4, 6), "城关东关"),
        _row(3, "张小强", "男", "2014/5/7", date(2014, 5, 7), "西关村"),
        _row(4, "赵小军", "男", "２０１５年６月８日", date(2015, 6, 8), "城关镇西关村"),
        _row(
            5,
            "孙小丽",
            "女",
            (date(2016, 7, 9) - date(1899, 12, 30)).days,  # an Excel serial number
            date(2016, 7, 9),
            "东关村",
        ),
    ]


@pytest.mark.usefixtures("villages")
def test_a_messy_ledger_on_the_template_previews_applies_and_reapplies_unchanged(
    actors: Actors,
) -> None:
    data = build_ledger(HEADERS, messy_rows(), titles=TITLES)
    admin = actors.county_admin

    batch = check(admin, data)
    assert batch.status == BatchStatus.CHECKED
    assert outcomes(batch) == {5: "new", 6: "new", 7: "new", 8: "new", 9: "new"}, batch.results
    # Every column of the template is read and stored: none is left out.
    assert not NOT_STORED
    assert batch.columns["not_stored"] == []
    assert batch.columns["ignored"] == []
    for row in batch.results:
        assert [c[0] for c in row["categories"]] == ["left_behind"], row
    assert Child.objects.count() == 0  # a preview writes nothing

    batch = services.batch_apply(actor=admin, batch=batch)
    assert batch.status == BatchStatus.APPLIED, batch.message
    assert Child.objects.count() == 5
    births = dict(Child.objects.values_list("name", "birth_date"))
    assert births == {
        "王小明": date(2012, 3, 5),
        "李小红": date(2013, 4, 6),
        "张小强": date(2014, 5, 7),
        "赵小军": date(2015, 6, 8),
        "孙小丽": date(2016, 7, 9),
    }
    assert dict(Child.objects.values_list("name", "village_id")) == {
        "王小明": EAST,
        "李小红": EAST,
        "张小强": WEST,
        "赵小军": WEST,
        "孙小丽": EAST,
    }
    xiaoming = Child.objects.get(name="王小明")
    household = xiaoming.household
    # The entrusted caregiver's number and address are stored: encrypted, normalised.
    assert household.caregiver_name == _guardian(1)
    assert household.caregiver_relation == "祖母"
    assert household.caregiver_address == "城关镇东关村三组1号"
    assert household.caregiver_id_enc is not None
    assert crypto.decrypt(household.caregiver_id_enc) == _caregiver(1)
    assert household.caregiver_id_hash == crypto.lookup_hash(_caregiver(1))
    father = household.parents.get(role="father")
    assert father.birth_date == date(1985, 1, 1)
    assert father.phone == "13800000001"
    assert xiaoming.left_behind

    # The file shows the caregiver's number masked, never in full.
    html = web_client(admin).get(reverse("registry:child_detail", args=[xiaoming.public_id])).text
    assert idcard.mask(_caregiver(1)) in html
    assert "城关镇东关村三组1号" in html

    history = (
        Child.history.count()
        + Household.history.count()
        + Parent.history.count()
        + Migration.history.count()
    )
    versions = sorted(Household.objects.values_list("version", flat=True))
    again = check(admin, data)
    assert again.counts == {
        "new": 0,
        "update": 0,
        "unchanged": 5,
        "review": 0,
        "error": 0,
        "total": 5,
    }
    again = services.batch_apply(actor=admin, batch=again)
    assert again.status == BatchStatus.APPLIED
    assert Child.objects.count() == 5
    assert sorted(Household.objects.values_list("version", flat=True)) == versions
    assert (
        Child.history.count()
        + Household.history.count()
        + Parent.history.count()
        + Migration.history.count()
        == history
    )


@pytest.mark.usefixtures("villages")
def test_a_changed_caregivers_number_is_an_update_and_a_bad_one_an_error(actors: Actors) -> None:
    rows = messy_rows()
    column = HEADERS.index("委托监护人公民身份证号码")
    services.batch_apply(
        actor=actors.county_admin,
        batch=check(actors.county_admin, build_ledger(HEADERS, rows, titles=TITLES)),
    )
    rows[0][column] = _caregiver(9)
    good = rows[1][column]
    rows[1][column] = _caregiver(2)[:16] + str((int(_caregiver(2)[16]) + 1) % 10) + "0"
    batch = check(actors.county_admin, build_ledger(HEADERS, rows, titles=TITLES))

    assert outcomes(batch)[5] == "update"
    assert next(r for r in batch.results if r["line"] == 5)["changes"] == ["Caregiver's ID number"]
    assert outcomes(batch)[6] == "error"
    assert "The caregiver's ID number" in messages_of(batch, 6)
    with pytest.raises(services.ApplyRefused):
        services.batch_apply(actor=actors.county_admin, batch=batch)

    rows[1][column] = good
    batch = check(actors.county_admin, build_ledger(HEADERS, rows, titles=TITLES))
    batch = services.batch_apply(actor=actors.county_admin, batch=batch)
    assert batch.status == BatchStatus.APPLIED, batch.message
    household = Child.objects.get(name="王小明").household
    assert household.caregiver_id_enc is not None
    assert crypto.decrypt(household.caregiver_id_enc) == _caregiver(9)
    assert household.version == 2


@pytest.mark.usefixtures("villages")
def test_an_import_queues_a_possible_duplicate_for_review(actors: Actors) -> None:
    # 王晓明 was registered by hand in 西关村 without an ID number (not yet registered with
    # the police); the ledger brings 王小明, the same name in pinyin, born the same day.
    household = registry.household_create(
        actor=actors.county_admin, village=Division.objects.get(code=WEST)
    )
    by_hand = registry.child_register(
        actor=actors.county_admin,
        household=household,
        fields={
            "name": "王晓明",
            "gender": "male",
            "birth_date": date(2012, 3, 5),
            "id_missing_reason": "not_registered",
        },
    ).child
    batch = check(actors.county_admin, build_ledger(HEADERS, messy_rows(), titles=TITLES))
    assert not DuplicateCandidate.objects.exists()  # the preview queues nothing

    services.batch_apply(actor=actors.county_admin, batch=batch)

    imported = Child.objects.get(name="王小明")
    pair = DuplicateCandidate.objects.get()
    assert (pair.child_a_id, pair.child_b_id) == (by_hand.pk, imported.pk)
    assert pair.status == CandidateStatus.OPEN
    assert {"name_pinyin", "birth_date", "town"} <= set(pair.matched_fields)
    queue = web_client(actors.county_admin).get(reverse("registry:duplicate_list"))
    assert reverse("registry:duplicate_detail", args=[pair.public_id]) in queue.text
    # Re-importing the same ledger neither queues the pair twice nor changes it.
    again = check(actors.county_admin, build_ledger(HEADERS, messy_rows(), titles=TITLES))
    services.batch_apply(actor=actors.county_admin, batch=again)
    assert DuplicateCandidate.objects.get().pk == pair.pk


@pytest.mark.usefixtures("villages")
def test_a_form_opened_before_an_import_that_changed_the_record_is_stale(actors: Actors) -> None:
    rows = messy_rows()
    services.batch_apply(
        actor=actors.county_admin,
        batch=check(actors.county_admin, build_ledger(HEADERS, rows, titles=TITLES)),
    )
    child = Child.objects.get(name="王小明")
    client = web_client(actors.village_director)
    url = reverse("registry:parent_edit", args=[child.public_id, "father"])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(capacity="full", status="alive", name=_father(1))

    rows[0][HEADERS.index("父亲联系电话")] = "13911112222"
    batch = check(actors.county_admin, build_ledger(HEADERS, rows, titles=TITLES))
    assert outcomes(batch)[5] == "update"
    services.batch_apply(actor=actors.county_admin, batch=batch)

    response = client.post(url, {**data, "phone": "13800000001"})
    assert response.status_code == 409
    assert "13911112222" in response.text  # what the import changed, shown
    assert Parent.objects.get(household=child.household, role="father").phone == "13911112222"
