"""The payment roll import (发放花名册): preview, apply, idempotent re-import, refusal row by
row, children to register, header synonyms, months and amounts, hostile files."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from openpyxl import Workbook

from tongxin.accounts.models import User
from tongxin.audit.models import AuditEvent, Result
from tongxin.benefits import roll_rows, rolls
from tongxin.benefits.roll_models import PaymentLine, PaymentRoll, RollStatus
from tongxin.benefits.roll_selectors import payments_for
from tongxin.interop.services import BadFile, CellError
from tongxin.interop.tests.conftest import rezip, sheet_xml
from tongxin.lib import crypto, idcard
from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors

HEADERS = ("姓名", "身份证号", "项目", "发放月份", "金额", "乡镇", "村")
EAST = "620724100201"  # 东村, 城关镇
WEST = "620724100202"  # 西村, 城关镇


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are asserted in English (the msgids), whatever the translations say."""
    with translation.override("en"):
        yield


def number(seed: int, birth: date = date(2014, 5, 1)) -> str:
    return idcard.generate(random.Random(seed), region="620724", birth_date=birth, gender="male")


def workbook(
    rows: Sequence[Sequence[Any]],
    headers: Sequence[str] = HEADERS,
    titles: Sequence[str] = ("高台县2024年6月困难儿童保障资金发放花名册",),
) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for title in titles:
        sheet.append([title])
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def upload(actor: User, data: bytes, name: str = "花名册.xlsx") -> PaymentRoll:
    return rolls.roll_upload(actor=actor, name=name, size=len(data), chunks=[data])


@pytest.fixture
def child(actors: Actors) -> Child:
    return make_family(actors, id_number=number(1), name="王小明")


@pytest.fixture
def sister(actors: Actors) -> Child:
    return make_family(actors, id_number=number(2), name="王小红", village=WEST)


def june_rows() -> list[list[Any]]:
    return [
        ["王小明", number(1), "孤儿", "2024-06", 1200, "城关镇", "东村"],
        ["王小明", number(1), "困难残疾人生活补贴", "2024年6月", "90.50", "城关镇", "东村"],
        ["王小红", number(2), "事实无人抚养", "2024/6", "1,200.00", "城关", "西村"],
        ["赵未建", number(3), "低保", date(2024, 6, 1), 300, "城关镇", "东村"],
    ]


def kinds(roll: PaymentRoll) -> dict[int, str]:
    return {r["line"]: r["kind"] for r in roll.rows}


@pytest.mark.django_db
class TestPreviewAndApply:
    def test_it_previews_every_line_matched_by_the_id_hash(
        self, actors: Actors, child: Child, sister: Child
    ) -> None:
        roll = upload(actors.county_admin, workbook(june_rows()))

        assert roll.status == RollStatus.PREVIEWED
        assert roll.months == ["2024-06"]
        assert roll.counts == {
            "total": 4,
            "errors": 0,
            "new": 4,
            "unchanged": 0,
            "changed": 0,
            "unmatched": 1,
        }
        by_line = {r["line"]: r for r in roll.rows}
        assert by_line[3]["child_code"] == str(child.public_id)
        assert by_line[3]["programme"] == "orphan_allowance"
        assert by_line[4]["programme"] == "disability_living_subsidy"
        assert by_line[4]["amount"] == "90.50"
        assert by_line[5]["child_code"] == str(sister.public_id)
        assert by_line[5]["amount"] == "1200.00"
        assert by_line[5]["warnings"] == []
        assert by_line[6]["child_code"] == ""
        assert by_line[6]["id"] == idcard.mask(number(3))
        assert not PaymentLine.objects.exists()  # a preview writes nothing

    def test_it_applies_all_lines_and_keeps_the_unmatched_number_sealed(
        self, actors: Actors, child: Child, sister: Child
    ) -> None:
        roll = upload(actors.county_admin, workbook(june_rows()))

        written = rolls.roll_apply(actor=actors.county_admin, roll=roll)

        assert written == 4
        roll.refresh_from_db()
        assert roll.status == RollStatus.APPLIED
        assert roll.applied_by == actors.county_admin
        lines = {line.line: line for line in PaymentLine.objects.all()}
        assert lines[3].child == child
        assert lines[3].id_enc is None
        assert lines[3].month == date(2024, 6, 1)
        assert lines[3].amount == Decimal("1200.00")
        assert lines[3].town_id == "620724100000"
        assert lines[3].village_id == EAST
        unmatched = lines[6]
        assert unmatched.child is None
        assert unmatched.name == "赵未建"
        assert unmatched.id_masked == idcard.mask(number(3))
        assert unmatched.id_hash == crypto.lookup_hash(number(3))
        assert unmatched.id_enc is not None
        assert crypto.decrypt(unmatched.id_enc) == number(3)
        assert all("enc" not in r for r in roll.rows)  # the line holds it now
        event = AuditEvent.objects.get(action="payment_roll.apply")
        assert event.detail["sha256"] == roll.sha256
        assert event.detail["counts"]["new"] == 4
        assert event.detail["written"] == 4
        for event in AuditEvent.objects.filter(action__startswith="payment_roll"):
            text = str(event.detail)
            assert number(3) not in text
            assert "赵未建" not in text

    def test_the_same_file_again_changes_nothing_and_says_so(
        self, actors: Actors, child: Child, sister: Child
    ) -> None:
        data = workbook(june_rows())
        first = upload(actors.county_admin, data)
        rolls.roll_apply(actor=actors.county_admin, roll=first)

        again = upload(actors.county_admin, data)

        assert again.sha256 == first.sha256
        assert rolls.applied_before(again) == first
        assert set(kinds(again).values()) == {"unchanged"}
        assert rolls.roll_apply(actor=actors.county_admin, roll=again) == 0
        again.refresh_from_db()
        assert again.status == RollStatus.APPLIED
        assert again.message == "Nothing changed: every line of this roll was already recorded."
        assert PaymentLine.objects.count() == 4

    def test_the_same_lines_in_another_file_change_nothing(
        self, actors: Actors, child: Child, sister: Child
    ) -> None:
        rolls.roll_apply(
            actor=actors.county_admin, roll=upload(actors.county_admin, workbook(june_rows()))
        )
        reordered = list(reversed(june_rows()))
        reordered[0][3] = "202406"  # the month written another way

        again = upload(actors.county_admin, workbook(reordered, titles=()))

        assert set(kinds(again).values()) == {"unchanged"}
        assert rolls.roll_apply(actor=actors.county_admin, roll=again) == 0
        assert PaymentLine.objects.count() == 4

    def test_another_amount_is_shown_as_a_change_and_replaces_the_line(
        self, actors: Actors, child: Child, sister: Child
    ) -> None:
        rolls.roll_apply(
            actor=actors.county_admin, roll=upload(actors.county_admin, workbook(june_rows()))
        )
        changed = june_rows()
        changed[0][4] = "1300"

        again = upload(actors.county_admin, workbook(changed))

        row = next(r for r in again.rows if r["line"] == 3)
        assert row["kind"] == "changed"
        assert row["was"] == "1200.00"
        assert row["amount"] == "1300.00"
        assert again.counts["changed"] == 1
        assert again.counts["unchanged"] == 3
        assert rolls.roll_apply(actor=actors.county_admin, roll=again) == 1
        orphan = PaymentLine.objects.filter(programme="orphan_allowance")
        assert orphan.count() == 2
        new = orphan.get(in_force=True)
        assert new.amount == Decimal("1300.00")
        assert new.replaces == orphan.get(in_force=False)
        assert PaymentLine.objects.current().count() == 4

    def test_it_refuses_an_apply_when_the_lines_changed_since_the_preview(
        self, actors: Actors, child: Child, sister: Child
    ) -> None:
        data = workbook(june_rows())
        first, second = upload(actors.county_admin, data), upload(actors.county_admin, data)
        rolls.roll_apply(actor=actors.county_admin, roll=first)

        with pytest.raises(rolls.RollRefused, match="changed since the preview"):
            rolls.roll_apply(actor=actors.county_admin, roll=second)

        second.refresh_from_db()
        assert second.status == RollStatus.PREVIEWED
        assert set(kinds(second).values()) == {"unchanged"}  # the new preview
        assert rolls.roll_apply(actor=actors.county_admin, roll=second) == 0
        assert PaymentLine.objects.count() == 4

    def test_it_warns_when_the_file_says_another_name_or_village(
        self, actors: Actors, child: Child
    ) -> None:
        rows = [["王晓明", number(1), "孤儿", "2024-06", 1200, "城关镇", "西村"]]

        roll = upload(actors.county_admin, workbook(rows))

        assert roll.status == RollStatus.PREVIEWED
        assert roll.rows[0]["child_code"] == str(child.public_id)
        assert roll.rows[0]["warnings"] == [
            "The name on the child's file is another: check the ID number.",
            "The child's file is in another village.",
        ]

    def test_only_a_county_officer_uploads(self, actors: Actors) -> None:
        data = workbook(june_rows())
        for who in ("auditor", "village_director", "town_supervisor"):
            with pytest.raises(PermissionDenied):
                upload(getattr(actors, who), data)
        assert not PaymentRoll.objects.exists()


@pytest.mark.django_db
class TestRefusal:
    def test_a_bad_roll_is_refused_row_by_row_and_writes_nothing(
        self, actors: Actors, child: Child
    ) -> None:
        bad: list[list[Any]] = [
            ["王小明", number(1), "孤儿", "2024-06", 1200, "城关镇", "东村"],  # 3: good
            ["王小明", "620724201405011234", "孤儿", "2024-06", 1200, "城关镇", "东村"],
            ["李四", number(4), "低保金补发", "2024-06", 300, "城关镇", "东村"],
            ["李五", number(5), "低保", "2024-13", 300, "城关镇", "东村"],
            ["李六", number(6), "低保", "2024-06", 0, "城关镇", "东村"],
            ["李七", number(7), "低保", "2024-06", "12.345", "城关镇", "东村"],
            ["李八", number(8), "低保", "2024-06", 300, "新坝镇", "东村"],
            ["李九", number(9), "低保", "2024-06", 300, "城关镇", "南村"],
            ["王小明", number(1), "孤儿基本生活费", "2024年6月", 1200, "城关镇", "东村"],
            ["", number(10), "低保", "2024-06", 300, "城关镇", "东村"],
            ["李十", number(11), "低保", "2024-06", 999999, "城关镇", "东村"],
        ]
        roll = upload(actors.county_admin, workbook(bad))

        assert roll.status == RollStatus.REFUSED
        assert roll.counts["errors"] == 10
        assert roll.counts["total"] == 11
        assert "10 of the 11 lines have errors" in roll.message
        errors = {r["line"]: " ".join(r["errors"]) for r in roll.rows if r["kind"] == "error"}
        assert sorted(errors) == list(range(4, 14))
        assert errors[4].startswith("身份证号: ")
        assert "620724201405011234" not in errors[4]  # masked
        assert errors[5].startswith("项目: ")
        assert "is not a programme" in errors[5]
        assert errors[6].startswith("发放月份: ")
        assert errors[7].startswith("金额: ")
        assert "more than 0" in errors[7]
        assert "more than two decimals" in errors[8]
        assert errors[9].startswith("乡镇: ")
        assert "not a town" in errors[9]
        assert errors[10].startswith("村: ")
        assert "not a village of 城关镇" in errors[10]
        assert "as row 3" in errors[11]
        assert errors[12].startswith("姓名: ")
        assert "more than any monthly payment" in errors[13]
        assert all("hash" not in r and "enc" not in r for r in roll.rows)
        assert not PaymentLine.objects.exists()
        refuse = AuditEvent.objects.get(action="payment_roll.refuse")
        assert refuse.detail["rows"] == list(range(4, 14))
        assert refuse.detail["sha256"] == roll.sha256
        with pytest.raises(rolls.RollRefused):
            rolls.roll_apply(actor=actors.county_admin, roll=roll)
        assert not PaymentLine.objects.exists()

    def test_a_missing_column_is_named(self, actors: Actors) -> None:
        headers = ("姓名", "身份证号", "项目", "发放月份", "金额", "乡镇")
        with pytest.raises(BadFile, match="村"):
            upload(actors.county_admin, workbook([["王", number(1), "孤儿"]], headers))
        assert not PaymentRoll.objects.exists()
        event = AuditEvent.objects.get(action="payment_roll.upload")
        assert event.result == Result.FAILED

    def test_a_header_without_lines_is_refused(self, actors: Actors) -> None:
        with pytest.raises(BadFile, match="no lines"):
            upload(actors.county_admin, workbook([]))

    def test_a_zip_bomb_is_refused_with_a_clear_message(self, actors: Actors) -> None:
        data = workbook(june_rows())
        bomb = rezip(
            data,
            sheet_xml(data).replace(b"</sheetData>", b" " * (20 << 20) + b"</sheetData>"),
        )
        assert len(bomb) < 200_000
        with pytest.raises(BadFile, match="zip bomb"):
            upload(actors.county_admin, bomb)
        assert not PaymentRoll.objects.exists()

    def test_a_roll_longer_than_the_cap_is_refused(
        self, actors: Actors, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(rolls, "MAX_LINES", 3)
        with pytest.raises(BadFile, match="more than 3 lines"):
            upload(actors.county_admin, workbook(june_rows()))
        assert not PaymentRoll.objects.exists()

    def test_a_file_that_is_no_workbook_is_refused(self, actors: Actors) -> None:
        with pytest.raises(BadFile, match="not an Excel workbook"):
            upload(actors.county_admin, "姓名,身份证号\n".encode())


@pytest.mark.django_db
class TestHeadersAndCells:
    def test_it_reads_header_synonyms(self, actors: Actors, child: Child) -> None:
        headers = (
            "序号",
            "对象姓名",
            "公民身份号码",
            "救助类别",
            "所属月份",
            "实发金额（元）",
            "乡镇（街道）",
            "村（社区）",
            "备注",
        )
        rows = [[1, "王小明", number(1), "孤儿", "2024-06", 1200, "城关镇", "东村", ""]]

        roll = upload(actors.county_admin, workbook(rows, headers, titles=("花名册", "单位：元")))

        assert roll.status == RollStatus.PREVIEWED, roll.rows
        assert roll.rows[0]["child_code"] == str(child.public_id)
        assert roll.rows[0]["line"] == 4

    @pytest.mark.parametrize(
        ("cell", "month"),
        [
            ("2024-06", date(2024, 6, 1)),
            ("2024-6", date(2024, 6, 1)),
            ("2024年6月", date(2024, 6, 1)),
            ("2024年06月份", date(2024, 6, 1)),
            ("2024/6", date(2024, 6, 1)),
            ("2024.06", date(2024, 6, 1)),
            ("202406", date(2024, 6, 1)),
            ("２０２４年６月", date(2024, 6, 1)),
            ("2024-06-15", date(2024, 6, 1)),
            (45444.0, date(2024, 6, 1)),  # an Excel serial number
            (date(2024, 6, 15), date(2024, 6, 1)),
            (datetime(2024, 12, 1, 0, 0), date(2024, 12, 1)),
        ],
    )
    def test_it_reads_months(self, cell: Any, month: date) -> None:
        assert roll_rows.parse_month(cell) == month

    @pytest.mark.parametrize("cell", ["", "2024-13", "六月", "2024", "1999-01", "2024-06-31"])
    def test_it_refuses_what_is_no_month(self, cell: Any) -> None:
        with pytest.raises(CellError):
            roll_rows.parse_month(cell)

    @pytest.mark.parametrize(
        ("cell", "amount"),
        [
            (1200.0, "1200.00"),
            (90.5, "90.50"),
            ("1,200.00", "1200.00"),
            ("1200元", "1200.00"),
            ("￥300", "300.00"),
            ("0.01", "0.01"),
        ],
    )
    def test_it_reads_amounts(self, cell: Any, amount: str) -> None:
        assert roll_rows.parse_amount(cell) == Decimal(amount)

    @pytest.mark.parametrize("cell", ["", "0", "-5", "1.234", 12.345, "abc", "50000.01", "NaN"])
    def test_it_refuses_bad_amounts(self, cell: Any) -> None:
        with pytest.raises(CellError):
            roll_rows.parse_amount(cell)

    @pytest.mark.parametrize(
        ("cell", "code"),
        [
            ("孤儿基本生活费", "orphan_allowance"),
            ("孤儿", "orphan_allowance"),
            ("事实无人抚养儿童基本生活补贴", "de_facto_allowance"),
            ("事实无人抚养", "de_facto_allowance"),
            ("最低生活保障", "dibao"),
            ("低保", "dibao"),
            ("特困人员救助供养", "tekun"),
            ("特困", "tekun"),
            ("临时救助", "temporary_assistance"),
            ("困难残疾人生活补贴", "disability_living_subsidy"),
            ("重度残疾人护理补贴", "disability_care_subsidy"),
            ("残疾儿童康复救助", "rehab_assistance"),
            ("教育资助", "education_aid"),
            (" 低 保 ", "dibao"),
        ],
    )
    def test_it_reads_programmes(self, cell: str, code: str) -> None:
        assert roll_rows.parse_programme(cell) == code


@pytest.mark.django_db
class TestChildrenToRegister:
    def test_unmatched_lines_are_children_to_register_in_their_village(
        self, actors: Actors, child: Child
    ) -> None:
        rolls.roll_apply(
            actor=actors.county_admin, roll=upload(actors.county_admin, workbook(june_rows()))
        )

        mine = list(rolls.unmatched_lines(actors.village_director))  # 东村

        assert [(line.name, line.id_masked) for line in mine] == [
            ("赵未建", idcard.mask(number(3)))
        ]
        # 王小红 has no file either, in 西村: the other village's director sees her.
        assert [line.name for line in rolls.unmatched_lines(actors.other_village_director)] == [
            "王小红"
        ]
        assert len(rolls.unmatched_lines(actors.town_supervisor)) == 2
        assert len(rolls.unmatched_lines(actors.county_admin)) == 2
        assert len(rolls.unmatched_lines(actors.auditor)) == 2
        for outsider in ("department_officer", "reporter", "other_county_admin", "system_admin"):
            assert not rolls.unmatched_lines(getattr(actors, outsider)).exists()

    def test_a_line_drops_off_once_the_child_is_registered(
        self, actors: Actors, child: Child
    ) -> None:
        rolls.roll_apply(
            actor=actors.county_admin, roll=upload(actors.county_admin, workbook(june_rows()))
        )
        make_family(actors, id_number=number(3), name="赵未建")

        assert [line.name for line in rolls.unmatched_lines(actors.county_admin)] == ["王小红"]


@pytest.mark.django_db
class TestPaymentsFor:
    def test_it_reads_payments_in_queries_that_do_not_grow_with_children(
        self, actors: Actors, django_assert_num_queries: Any
    ) -> None:
        children = [
            make_family(actors, id_number=number(20 + i), name=f"王{'一二三四五六'[i]}")
            for i in range(6)
        ]
        rows = [
            [c.name, number(20 + i), "孤儿", month, 1200, "城关镇", "东村"]
            for i, c in enumerate(children)
            for month in ("2024-05", "2024-06")
        ]
        rolls.roll_apply(
            actor=actors.county_admin, roll=upload(actors.county_admin, workbook(rows))
        )
        months = [date(2024, 5, 1), date(2024, 6, 1), date(2024, 7, 1)]

        with django_assert_num_queries(2):
            two = payments_for([c.pk for c in children[:2]], months)
        with django_assert_num_queries(2):
            six = payments_for([c.pk for c in children], months)

        assert len(two) == 2
        assert len(six) == 6
        assert [(p.programme, p.month, p.amount) for p in six[children[0].pk]] == [
            ("orphan_allowance", date(2024, 5, 1), Decimal("1200.00")),
            ("orphan_allowance", date(2024, 6, 1), Decimal("1200.00")),
        ]

    def test_a_line_read_before_the_child_was_registered_counts(self, actors: Actors) -> None:
        rows = [["赵未建", number(3), "低保", "2024-06", 300, "城关镇", "东村"]]
        rolls.roll_apply(
            actor=actors.county_admin, roll=upload(actors.county_admin, workbook(rows))
        )
        later = make_family(actors, id_number=number(3), name="赵未建")

        found = payments_for([later.pk], [date(2024, 6, 1)])

        assert [p.amount for p in found[later.pk]] == [Decimal("300.00")]
