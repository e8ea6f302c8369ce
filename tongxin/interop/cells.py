"""Reading one cell of a ledger as people fill them in: dates in any of the usual forms or as
Excel serial numbers, full-width digits, 是/否 in its variants, the form's fixed choices, names.

Each reader returns the value, or raises ``CellError`` with a message that quotes the cell (its
start, if it is long). Digits are ASCII digits only: ``str.isdigit`` and ``\\d`` also take
superscripts and other scripts' digits, which ``int`` then refuses (full-width digits are
folded to ASCII first, as people type them).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from tongxin.lib.plausible import normalise_name

_FULL_WIDTH = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
_FULL_WIDTH[0x3000] = " "
_EXCEL_EPOCH = date(1899, 12, 30)
# Serial numbers of 1 Jan 1900 and 31 Dec 2099: anything else is not a date we expect.
_SERIAL_RANGE = (1, 73050)
_DATE = re.compile(
    r"^([0-9]{4})\s*(?:[-./年]\s*([0-9]{1,2})\s*(?:[-./月]\s*([0-9]{1,2})\s*日?)?\s*月?)?"
    r"(?:\s+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?$"
)
_COMPACT_DATE = re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{2})$")
_SERIAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]*)?")
# How much of a cell a message quotes.
SHOWN_CHARS = 40
# Most names: CJK unified ideographs alone, which normalising leaves as they are.
_PLAIN_NAME = re.compile(r"[\u4e00-\u9fff]+")


class CellError(ValueError):
    """A cell that cannot be read; the message says why, quoting it."""


def shown(value: str) -> str:
    """A cell as a message quotes it: whole, or its start when it is long (a cell may hold
    thousands of characters, and the preview keeps its messages)."""
    return value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"


def text(value: Any) -> str:
    """The cell as text: full-width letters and digits as ASCII, spaces collapsed; a number
    without its ``.0`` (phone numbers typed into number cells)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, str):
        return str(value).strip()
    string: str = value
    if not string.isascii() and max(string) >= "\uff01":  # full-width forms present
        string = string.translate(_FULL_WIDTH)
    if " " in string or not string.isprintable():  # tabs, newlines, runs of spaces
        return " ".join(string.split())
    return string


def compact(value: Any) -> str:
    """Text without any whitespace (names, phone numbers, ID numbers)."""
    if (
        isinstance(value, str)
        and value.isprintable()
        and " " not in value
        and (value.isascii() or max(value) < "\uff01")
    ):
        return value
    return "".join(text(value).split())


def person_name(value: Any) -> str:
    """A person's name as ledgers write it, normalised by ``plausible.normalise_name``; the
    spaces that pad a Chinese name to line it up with longer ones (王  明) are dropped, a
    single space between the words of a name in Latin letters kept."""
    if type(value) is str and _PLAIN_NAME.fullmatch(value):
        return value
    name = normalise_name(text(value))
    if " " in name and not any("a" <= c <= "z" or "A" <= c <= "Z" for c in name):
        name = name.replace(" ", "")
    return name


def parse_date(value: Any) -> date | None:
    """2012-03-05, 2012.3.5, 2012/3/5, 2012年3月5日, 20120305, an Excel serial number or a
    date cell; None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _serial(value, value)
    raw = text(value)
    if not raw:
        return None
    match = _DATE.match(raw)
    if match is not None:
        year, month, day = match.groups()
        if month is None or day is None:
            raise CellError(
                _("“%(value)s” is not a whole date: give year, month and day.")
                % {"value": shown(raw)}
            )
        return _date(int(year), int(month), int(day), raw)
    compact_match = _COMPACT_DATE.match(raw)
    if compact_match is not None:
        year, month, day = compact_match.groups()
        return _date(int(year), int(month), int(day), raw)
    if _SERIAL.fullmatch(raw):
        return _serial(float(raw), raw)
    raise CellError(_("“%(value)s” is not a date.") % {"value": shown(raw)})


def _date(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(_("“%(value)s” is not a real date.") % {"value": shown(raw)}) from None


def _serial(number: float, raw: Any) -> date:
    if not _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
        raise CellError(_("“%(value)s” is not a date.") % {"value": shown(str(raw))})
    # Excel counts 29 February 1900, a day that never was (serial 60): from serial 61 on the
    # count runs from 1899-12-30, before it from 1899-12-31 (serial 60 becomes 28 February).
    days = int(number)
    if days < 60:
        days += 1
    return _EXCEL_EPOCH + timedelta(days=days)


_YES = frozenset({"是", "有", "y", "yes", "true", "1", "√", "✓", "✔", "对"})
_NO = frozenset({"否", "无", "没有", "n", "no", "false", "0", "×", "✗", "不是", "未"})


def parse_bool(value: Any) -> bool | None:
    raw = compact(value).lower()
    if not raw:
        return None
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    if raw.startswith(("是", "有")):
        return True
    if raw.startswith(("否", "无", "未", "不")):
        return False
    raise CellError(_("“%(value)s”: write 是 or 否.") % {"value": shown(text(value))})


def choice(value: Any, table: dict[str, str], what: Any) -> str | None:
    """One of a fixed list (the form's choices): exact, else the first word that occurs."""
    raw = compact(value)
    if not raw:
        return None
    if raw in table:
        return table[raw]
    lowered = raw.lower()
    if lowered in table:
        return table[lowered]
    for word, code in table.items():
        if word in raw:
            return code
    raise CellError(
        _("“%(value)s” is not a known %(what)s (one of: %(choices)s).")
        % {"value": shown(text(value)), "what": what, "choices": "、".join(dict.fromkeys(table))}
    )


GENDER = {
    "男": "male",
    "女": "female",
    "male": "male",
    "female": "female",
    "m": "male",
    "f": "female",
}
HEALTH = {
    "健康": "healthy",
    "良好": "healthy",
    "残疾": "disabled",
    "患病": "ill",
    "疾病": "ill",
    "生病": "ill",
    "病": "ill",
}
SCHOOLING = {
    # 就学情况 → (school stage, enrolment)
    "幼儿园": "kindergarten",
    "学前": "kindergarten",
    "未入园": "not_in_kindergarten",
    "小学": "primary",
    "初中": "junior",
    "高中": "senior",
    "中职": "vocational",
    "职高": "vocational",
    "中专": "vocational",
    "技校": "vocational",
    "辍学": "dropped_out",
    "不在学": "not_in_school",
    "未入学": "not_in_school",
    "失学": "dropped_out",
}
ENROLMENT_OF_STAGE = {
    "kindergarten": "in_school",
    "not_in_kindergarten": "not_enrolled",
    "primary": "in_school",
    "junior": "in_school",
    "senior": "in_school",
    "vocational": "in_school",
    "dropped_out": "dropped_out",
    "not_in_school": "not_enrolled",
}
ASSESSMENT = {
    "较好": "good",
    "好": "good",
    "良好": "good",
    "一般": "fair",
    "中": "fair",
    "较差": "poor",
    "差": "poor",
}
PARENT_STATUS = {
    "健在": "alive",
    "在世": "alive",
    "正常": "alive",
    "宣告死亡": "declared_dead",
    "宣告失踪": "declared_missing",
    "失踪": "declared_missing",
    "失联": "lost_contact",
    "下落不明": "lost_contact",
    "死亡": "deceased",
    "去世": "deceased",
    "已故": "deceased",
    "病故": "deceased",
    "身故": "deceased",
    "不详": "unknown",
    "未知": "unknown",
}
CAPACITY = {
    "完全": "full",
    "有监护能力": "full",
    "正常": "full",
    "重病": "serious_illness",
    "大病": "serious_illness",
    "患病": "serious_illness",
    "重度残疾": "serious_disability",
    "重残": "serious_disability",
    "残疾": "serious_disability",
    "服刑": "imprisoned",
    "在押": "imprisoned",
    "监狱": "imprisoned",
    "戒毒": "compulsory_detox",
    "羁押": "restricted_freedom",
    "拘留": "restricted_freedom",
    "限制人身自由": "restricted_freedom",
}
DESTINATION = {
    "县内": "in_county",
    "本县": "in_county",
    "省内县外": "out_of_county",
    "省内": "out_of_county",
    "县外": "out_of_county",
    "省外": "out_of_province",
    "外省": "out_of_province",
    "国外": "out_of_province",
    "境外": "out_of_province",
}
_GRADES = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_GRADE = re.compile(r"([一二三四1-4])\s*级")


def disability(value: Any) -> tuple[str, int | None]:
    """残疾类别及等级 (肢体二级, 智力残疾 3级, 视力一级) → (type, grade)."""
    raw = text(value)
    if not raw:
        return "", None
    match = _GRADE.search(raw)
    grade = _GRADES[match.group(1)] if match else None
    kind = _GRADE.sub("", raw).replace("残疾", "").strip(" ，,、;；") if match else raw
    return kind[:30], grade


def unable_parent(value: Any) -> tuple[str, str, str] | None:
    """父母一方外出另一方无监护能力: which parent lacks capacity and why, as (role, field, code)
    with field ``status`` or ``capacity``; None for 否 or an empty cell."""
    raw = compact(value)
    if not raw or raw in _NO:
        return None
    words = raw.replace("父母", "")
    role = "father" if "父" in words else "mother" if "母" in words else ""
    for word, code in PARENT_STATUS.items():
        if word in words and code != "alive":
            reason: tuple[str, str] | None = ("status", code)
            break
    else:
        reason = next(
            (
                ("capacity", code)
                for word, code in CAPACITY.items()
                if word in words and code != "full"
            ),
            None,
        )
    if not role or reason is None:
        raise CellError(
            _(
                "“%(value)s”: say which parent cannot take care of the child and why, e.g. "
                "母亲重病, 父亲服刑."
            )
            % {"value": shown(text(value))}
        )
    return role, reason[0], reason[1]


_SPLIT = re.compile(r"[、,，;；/\s]+")


def assistance(value: Any) -> list[str]:
    """救助帮扶情况 (低保、临时救助 …) as a list."""
    return [part for part in _SPLIT.split(text(value)) if part and part not in _NO]
