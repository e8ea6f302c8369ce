"""Reading one line of a payment roll (发放花名册): its columns and their synonyms, the
programme from its Chinese name or short form, the month, the amount, the town and village
against the division table. A field that cannot be read is an error naming its column; the
other fields are still read, so the preview shows every problem of the line (decision 023)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from tongxin.benefits.rules import PROGRAMME_LABELS, Programme
from tongxin.geo.models import Division, Level
from tongxin.geo.regions import local_core, plain_text
from tongxin.interop import services as interop
from tongxin.lib import crypto, idcard
from tongxin.lib.plausible import name_error

# No single monthly payment to one child comes near this (临时救助 included).
MAX_AMOUNT = Decimal("50000.00")

COLUMNS = interop.Columns(
    labels={
        "name": "姓名",
        "id_number": "身份证号",
        "programme": "项目",
        "month": "发放月份",
        "amount": "金额",
        "town": "乡镇",
        "village": "村",
    },
    synonyms={
        "name": (
            "姓名",
            "名字",
            "儿童姓名",
            "救助对象姓名",
            "对象姓名",
            "享受人姓名",
            "领取人姓名",
        ),
        "id_number": (
            "身份证号码",
            "公民身份证号码",
            "公民身份号码",
            "身份证号",
            "身份号码",
            "证件号码",
            "身份证",
            "儿童身份证号",
            "对象身份证号",
        ),
        "programme": (
            "项目",
            "项目名称",
            "发放项目",
            "救助项目",
            "保障项目",
            "补贴项目",
            "资金项目",
            "救助类别",
            "保障类别",
            "补助类别",
        ),
        "month": ("发放月份", "发放年月", "月份", "所属月份", "发放时间", "发放日期", "年月"),
        "amount": ("金额", "发放金额", "实发金额", "补贴金额", "救助金额", "发放标准金额"),
        "town": ("乡镇", "乡镇街道", "所属乡镇", "乡镇名称", "乡镇名", "镇"),
        "village": ("村", "村社区", "村居", "所属村", "村名", "村名称", "社区", "行政村"),
    },
    required=("name", "id_number", "programme", "month", "amount", "town", "village"),
)

# 项目 as rolls write it → the programme: each catalogue name, then the short forms.
PROGRAMME_WORDS: dict[str, Programme] = {
    **{label: Programme(code) for code, label in PROGRAMME_LABELS.items()},
    "孤儿": Programme.ORPHAN_ALLOWANCE,
    "孤儿基本生活保障": Programme.ORPHAN_ALLOWANCE,
    "孤儿基本生活费": Programme.ORPHAN_ALLOWANCE,
    "散居孤儿": Programme.ORPHAN_ALLOWANCE,
    "事实无人抚养": Programme.DE_FACTO_ALLOWANCE,
    "事实无人抚养儿童": Programme.DE_FACTO_ALLOWANCE,
    "事实无人抚养儿童基本生活补贴": Programme.DE_FACTO_ALLOWANCE,
    "事实孤儿": Programme.DE_FACTO_ALLOWANCE,
    "低保": Programme.DIBAO,
    "城乡低保": Programme.DIBAO,
    "农村低保": Programme.DIBAO,
    "城市低保": Programme.DIBAO,
    "最低生活保障金": Programme.DIBAO,
    "特困": Programme.TEKUN,
    "特困供养": Programme.TEKUN,
    "特困人员供养": Programme.TEKUN,
    "临时救助金": Programme.TEMPORARY_ASSISTANCE,
    "困难残疾人生活补贴": Programme.DISABILITY_LIVING_SUBSIDY,
    "残疾人生活补贴": Programme.DISABILITY_LIVING_SUBSIDY,
    "生活补贴": Programme.DISABILITY_LIVING_SUBSIDY,
    "重度残疾人护理补贴": Programme.DISABILITY_CARE_SUBSIDY,
    "残疾人护理补贴": Programme.DISABILITY_CARE_SUBSIDY,
    "护理补贴": Programme.DISABILITY_CARE_SUBSIDY,
    "残疾儿童康复救助": Programme.REHAB_ASSISTANCE,
    "康复救助": Programme.REHAB_ASSISTANCE,
    "教育资助": Programme.EDUCATION_AID,
    "家庭经济困难学生资助": Programme.EDUCATION_AID,
    "福彩圆梦助学": Programme.EDUCATION_AID,
    "助学金": Programme.EDUCATION_AID,
}
_PROGRAMMES = {re.sub(r"[\s（）()]", "", word): code for word, code in PROGRAMME_WORDS.items()}
_MONTH = re.compile(r"^([0-9]{4})\s*(?:[-./年]\s*([0-9]{1,2})\s*月?(?:份)?|([0-9]{2}))$")
_AMOUNT_NOISE = re.compile(r"[,，\s元¥￥]")


@dataclass
class RollRow:
    """One row of the roll as read and checked: its values, or its errors naming the field."""

    line: int
    name: str = ""
    number: str = ""  # the full ID number: in memory only
    programme: str = ""
    month: date | None = None
    amount: Decimal | None = None
    town: str = ""  # division codes
    village: str = ""
    town_name: str = ""
    village_name: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def id_hash(self) -> str:
        return crypto.lookup_hash(self.number) if self.number else ""


def parse_month(value: Any) -> date:
    """发放月份: 2024-06, 2024/6, 2024.6, 2024年6月, 202406, a whole date or an Excel date
    (its month); the first day of the month. ``CellError`` otherwise."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.replace(day=1)
    text = interop.cell_text(value)
    if not text:
        raise interop.CellError(_("The month is empty."))
    match = _MONTH.match(text)
    if match is not None:
        year = int(match.group(1))
        month = int(match.group(2) or match.group(3))
        if 1 <= month <= 12 and 2000 <= year <= 2099:
            return date(year, month, 1)
        raise interop.CellError(
            _("“%(value)s” is not a month.") % {"value": interop.cell_shown(text)}
        )
    try:
        found = interop.cell_date(value)
    except interop.CellError:
        raise interop.CellError(
            _("“%(value)s” is not a month: write it as 2024-06 or 2024年6月.")
            % {"value": interop.cell_shown(text)}
        ) from None
    if found is None or not 2000 <= found.year <= 2099:
        raise interop.CellError(
            _("“%(value)s” is not a month.") % {"value": interop.cell_shown(text)}
        )
    return found.replace(day=1)


def parse_amount(value: Any) -> Decimal:
    """金额: more than 0, at most two decimals, at most ``MAX_AMOUNT``; 1,200.00, 1200元 and
    number cells alike."""
    if isinstance(value, bool):
        raise interop.CellError(_("The amount is not a number."))
    if isinstance(value, float):
        text = repr(value) if not value.is_integer() else str(int(value))
    else:
        text = _AMOUNT_NOISE.sub("", interop.cell_text(value))
    if not text:
        raise interop.CellError(_("The amount is empty."))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise interop.CellError(
            _("“%(value)s” is not an amount.") % {"value": interop.cell_shown(text)}
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise interop.CellError(
            _("The amount must be more than 0 (it is %(value)s).")
            % {"value": interop.cell_shown(text)}
        )
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise interop.CellError(
            _("“%(value)s” has more than two decimals.") % {"value": interop.cell_shown(text)}
        )
    if amount > MAX_AMOUNT:
        raise interop.CellError(
            _("%(value)s is more than %(max)s, more than any monthly payment.")
            % {"value": interop.cell_shown(text), "max": MAX_AMOUNT}
        )
    return amount.quantize(Decimal("0.01"))


def parse_programme(value: Any) -> Programme:
    text = re.sub(r"[\s（）()]", "", interop.cell_text(value))
    if not text:
        raise interop.CellError(_("The programme is empty."))
    found = _PROGRAMMES.get(text)
    if found is None:
        raise interop.CellError(
            _("“%(value)s” is not a programme (one of: %(choices)s).")
            % {
                "value": interop.cell_shown(text),
                "choices": "、".join(PROGRAMME_LABELS[p] for p in Programme),
            }
        )
    return found


class Places:
    """The towns and villages of a county, by their names with or without 镇/乡/村/社区."""

    def __init__(self, county_prefix: str) -> None:
        self.towns: dict[str, tuple[str, str]] = {}
        self.villages: dict[tuple[str, str], tuple[str, str]] = {}
        rows = Division.objects.filter(
            code__startswith=county_prefix,
            level__in=(Level.TOWN, Level.VILLAGE, Level.COMMUNITY),
        ).values_list("code", "name", "level", "parent_id")
        for code, name, level, parent in rows:
            for key in (name, local_core(name)):
                if level == Level.TOWN:
                    self.towns.setdefault(key, (code, name))
                else:
                    self.villages.setdefault((parent or "", key), (code, name))

    def town(self, raw: str) -> tuple[str, str]:
        text = plain_text(raw)
        if not text:
            raise interop.CellError(_("The town is empty."))
        found = self.towns.get(text) or self.towns.get(local_core(text))
        if found is None:
            raise interop.CellError(
                _("“%(value)s” is not a town of your county.") % {"value": interop.cell_shown(text)}
            )
        return found

    def village(self, town: tuple[str, str], raw: str) -> tuple[str, str]:
        text = plain_text(raw)
        if not text:
            raise interop.CellError(_("The village is empty."))
        found = self.villages.get((town[0], text)) or self.villages.get((town[0], local_core(text)))
        if found is None:
            raise interop.CellError(
                _("“%(value)s” is not a village of %(town)s.")
                % {"value": interop.cell_shown(text), "town": town[1]}
            )
        return found


class RowReader:
    """Reads the rows of one roll: each field, or an error naming its column."""

    def __init__(self, header: Any, places: Places, today: date) -> None:
        self.columns: dict[str, int] = header.columns
        self.labels: dict[str, str] = header.labels
        self.places = places
        self.today = today

    def _cell(self, values: Sequence[Any], key: str) -> Any:
        index = self.columns[key]
        return values[index] if index < len(values) else None

    def _error(self, row: RollRow, key: str, message: str) -> None:
        row.errors.append(
            _("%(column)s: %(message)s") % {"column": self.labels.get(key, key), "message": message}
        )

    def read(self, line: int, values: Sequence[Any]) -> RollRow | None:
        """The row, or None for an empty one."""
        if not any(v is not None and str(v).strip() for v in values):
            return None
        row = RollRow(line)
        row.name = interop.cell_person_name(self._cell(values, "name"))
        if problem := name_error(row.name):
            self._error(row, "name", problem)
            row.name = row.name[:50]
        raw = idcard.normalise(interop.cell_compact(self._cell(values, "id_number")))
        if not raw:
            self._error(row, "id_number", _("The ID number is empty."))
        else:
            check = idcard.validate(raw, today=self.today)
            if check.ok:
                row.number = check.number
            else:
                for problem in check.errors:
                    self._error(row, "id_number", f"{idcard.mask(raw)}：{problem}")
        try:
            row.programme = parse_programme(self._cell(values, "programme"))
        except interop.CellError as exc:
            self._error(row, "programme", str(exc))
        try:
            row.month = parse_month(self._cell(values, "month"))
        except interop.CellError as exc:
            self._error(row, "month", str(exc))
        try:
            row.amount = parse_amount(self._cell(values, "amount"))
        except interop.CellError as exc:
            self._error(row, "amount", str(exc))
        try:
            town = self.places.town(interop.cell_text(self._cell(values, "town")))
            row.town, row.town_name = town
            try:
                row.village, row.village_name = self.places.village(
                    town, interop.cell_text(self._cell(values, "village"))
                )
            except interop.CellError as exc:
                self._error(row, "village", str(exc))
        except interop.CellError as exc:
            self._error(row, "town", str(exc))
        return row
