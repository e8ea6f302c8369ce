"""The ledger's columns: the national registration form's headers (农村留守儿童基本情况登记表,
the 2016 census form of the Ministry of Civil Affairs, Education and Public Security), the
variants counties write, and finding the header row under merged title rows.

A header is compared after ``normalise_header``: full-width characters as ASCII, no spaces, no
punctuation, nothing in brackets (出生日期（年月日） → 出生日期). Two-level headers are
understood: a group cell merged over several columns (父亲情况, 母亲信息, 委托监护人) prefixes the
cells under it (姓名 → 父亲姓名).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tongxin.geo.regions import plain_text

# Field key → the template's header, in the template's order. The first group is the national
# form; the second holds facts the registry keeps that the form lacks (optional everywhere).
NATIONAL_FORM: tuple[tuple[str, str], ...] = (
    ("seq", "序号"),
    ("name", "姓名"),
    ("gender", "性别"),
    ("ethnicity", "民族"),
    ("birth_date", "出生日期"),
    ("id_number", "公民身份证号码"),
    ("hukou_registered", "是否登记户口"),
    ("hukou_place", "户籍所在地"),
    ("residence", "现居住地"),
    ("health", "身体情况"),
    ("disability", "残疾类别及等级"),
    ("illness", "患病类型"),
    ("schooling", "就学情况"),
    ("boarding", "是否学校寄宿"),
    ("father_name", "父亲姓名"),
    ("father_birth_date", "父亲出生日期"),
    ("father_id_number", "父亲公民身份证号码"),
    ("father_work_place", "父亲当前务工地点"),
    ("father_phone", "父亲联系电话"),
    ("mother_name", "母亲姓名"),
    ("mother_birth_date", "母亲出生日期"),
    ("mother_id_number", "母亲公民身份证号码"),
    ("mother_work_place", "母亲当前务工地点"),
    ("mother_phone", "母亲联系电话"),
    ("grandparents", "祖父母姓名"),
    ("maternal_grandparents", "外祖父母姓名"),
    ("both_away", "父母双方同时外出"),
    ("one_away_other_unable", "父母一方外出另一方无监护能力"),
    ("caregiver_name", "委托监护人姓名"),
    ("caregiver_phone", "委托监护人联系电话"),
    ("caregiver_id_number", "委托监护人公民身份证号码"),
    ("caregiver_relation", "委托监护人与被监护人关系"),
    ("caregiver_address", "委托监护人居住地址"),
    ("assessment", "监护情况评估"),
    ("income_source", "家庭经济来源"),
    ("assistance", "救助帮扶情况"),
)
EXTRA: tuple[tuple[str, str], ...] = (
    ("father_left_on", "父亲外出时间"),
    ("father_destination", "父亲外出去向"),
    ("father_status", "父亲状况"),
    ("father_capacity", "父亲监护能力"),
    ("mother_left_on", "母亲外出时间"),
    ("mother_destination", "母亲外出去向"),
    ("mother_status", "母亲状况"),
    ("mother_capacity", "母亲监护能力"),
    ("divorced", "父母是否离异"),
    ("school", "就读学校"),
    ("grade", "年级"),
    ("phone", "家庭联系电话"),
    ("registered_on", "登记日期"),
)
TEMPLATE_HEADERS: tuple[tuple[str, str], ...] = NATIONAL_FORM + EXTRA
LABELS: dict[str, str] = dict(TEMPLATE_HEADERS)
# A file without one of these columns is refused.
REQUIRED: tuple[str, ...] = ("name", "gender", "birth_date", "id_number", "residence")
# Columns read and shown but not stored (the registry has no field for them): none now, the
# registry holds every field of the national form. Kept for the upload page's list.
NOT_STORED: frozenset[str] = frozenset()

_ID = ("公民身份证号码", "公民身份号码", "身份证号码", "身份证号", "身份号码", "证件号码", "身份证")
_BIRTH = ("出生日期", "出生年月日", "出生年月", "出生时间", "生日")
_PHONE = ("联系电话", "电话号码", "电话", "手机号码", "手机号", "手机", "联系方式")
_PERSON: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字"),
    "birth_date": _BIRTH,
    "id_number": _ID,
    "phone": _PHONE,
}
_PARENT: dict[str, tuple[str, ...]] = {
    **_PERSON,
    "work_place": (
        "当前务工地点",
        "务工地点",
        "务工地",
        "外出务工地点",
        "外出务工地",
        "务工所在地",
        "工作地点",
        "工作单位",
        "打工地点",
        "务工地址",
    ),
    "left_on": ("外出时间", "外出日期", "外出务工时间", "离家时间"),
    "destination": ("外出去向", "务工去向", "外出范围"),
    "status": ("状况", "状态", "健在情况", "生存状况"),
    "capacity": ("监护能力",),
}
_CAREGIVER: dict[str, tuple[str, ...]] = {
    **_PERSON,
    "relation": ("与被监护人关系", "与儿童关系", "关系"),
    "address": ("居住地址", "居住地地址", "居住地", "现居住地址", "家庭住址", "住址", "地址"),
}
_PREFIXES: dict[str, tuple[str, ...]] = {
    "father": ("父亲", "父", "爸爸"),
    "mother": ("母亲", "母", "妈妈"),
    "caregiver": ("委托监护人", "受托监护人", "被委托人", "委托照护人", "监护人"),
}
_SINGLE: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "编号", "顺序号"),
    "name": ("姓名", "儿童姓名", "留守儿童姓名", "学生姓名", "名字"),
    "gender": ("性别", "儿童性别"),
    "ethnicity": ("民族",),
    "birth_date": (*_BIRTH, "儿童出生日期"),
    "id_number": (*_ID, "儿童身份证号", "儿童身份证号码", "儿童公民身份号码"),
    "hukou_registered": ("是否登记户口", "是否落户", "是否有户口", "户口登记"),
    "hukou_place": ("户籍所在地", "户籍地", "户口所在地", "户籍地址"),
    "residence": (
        "现居住地",
        "现居住地址",
        "现住址",
        "居住地",
        "家庭住址",
        "住址",
        "家庭地址",
        "所在村",
        "所在村社区",
    ),
    "health": ("身体情况", "身体健康状况", "健康状况", "身体状况"),
    "disability": ("残疾类别及等级", "残疾类别和等级", "残疾类型及等级", "残疾情况", "残疾等级"),
    "illness": ("患病类型", "疾病类型", "患病情况", "所患疾病", "疾病名称"),
    "schooling": ("就学情况", "就读情况", "在校情况", "上学情况", "就学状况"),
    "boarding": ("是否学校寄宿", "是否寄宿", "学校寄宿", "寄宿"),
    "grandparents": ("祖父母姓名", "祖父母"),
    "maternal_grandparents": ("外祖父母姓名", "外祖父母"),
    "both_away": ("父母双方同时外出", "父母双方外出", "双方外出", "父母均外出"),
    "one_away_other_unable": (
        "父母一方外出另一方无监护能力",
        "一方外出另一方无监护能力",
        "父母一方外出另一方无监护能力情形",
    ),
    "caregiver_relation": ("与被监护人关系",),
    "assessment": ("监护情况评估", "监护评估", "监护状况评估", "监护情况"),
    "income_source": ("家庭经济来源", "经济来源", "家庭收入来源", "主要经济来源"),
    "assistance": ("救助帮扶情况", "救助情况", "帮扶情况", "享受救助情况", "救助帮扶"),
    "divorced": ("父母是否离异", "父母离异", "是否离异"),
    "school": ("就读学校", "学校", "学校名称"),
    "grade": ("年级", "班级", "年级班级"),
    "phone": ("家庭联系电话", "联系电话", "家庭电话"),
    "registered_on": ("登记日期", "建档日期", "登记时间"),
}
_BRACKETS = re.compile(r"[（(【\[{<《][^）)】\]}>》]*[）)】\]}>》]")
_PUNCTUATION = re.compile(r"[\s*:：、/\\\-_.·,，;；\"'“”‘’?？!！#＃]")
_GROUP_SUFFIXES = ("基本情况", "情况", "信息", "基本信息")


def normalise_header(value: Any) -> str:
    if value is None:
        return ""
    text = plain_text(str(value))
    text = _BRACKETS.sub("", text)
    text = _PUNCTUATION.sub("", text).replace("必填", "").replace("选填", "")
    return text.lower()


def _build_synonyms() -> dict[str, str]:
    synonyms: dict[str, str] = {}
    for key, words in _SINGLE.items():
        for word in words:
            synonyms.setdefault(normalise_header(word), key)
    for group, fields in (("father", _PARENT), ("mother", _PARENT), ("caregiver", _CAREGIVER)):
        for prefix in _PREFIXES[group]:
            for name, words in fields.items():
                for word in words:
                    synonyms.setdefault(normalise_header(prefix + word), f"{group}_{name}")
    for key, header in TEMPLATE_HEADERS:
        synonyms[normalise_header(header)] = key
    return synonyms


SYNONYMS = _build_synonyms()
_GROUPS = {normalise_header(p): g for g, words in _PREFIXES.items() for p in words}


def group_of(value: Any) -> str | None:
    """The person a group header cell speaks of (父亲情况 → father), if any."""
    text = normalise_header(value)
    for suffix in _GROUP_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    return _GROUPS.get(text)


def field_of(value: Any, group: str | None = None) -> str | None:
    """The field a header cell names, read under its group header (if any)."""
    text = normalise_header(value)
    if not text:
        return None
    if group is not None:
        for prefix in _PREFIXES[group]:
            found = SYNONYMS.get(normalise_header(prefix) + text)
            if found is not None:
                return found
        if text in SYNONYMS and SYNONYMS[text].startswith(group):
            return SYNONYMS[text]
        return None
    return SYNONYMS.get(text)


@dataclass
class HeaderMap:
    """Where the header is and which column holds which field."""

    header_row: int  # 1-based row number of the (lower) header row
    columns: dict[str, int]  # field → 0-based column index
    labels: dict[str, str]  # field → the header as written
    ignored: list[str] = field(default_factory=list)  # headers not understood (or repeated)
    required: tuple[str, ...] = REQUIRED

    @property
    def missing(self) -> list[str]:
        return [key for key in self.required if key not in self.columns]


def _read_header(upper: Sequence[Any] | None, lower: Sequence[Any]) -> HeaderMap:
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    group: str | None = None
    width = max(len(lower), len(upper or ()))
    for i in range(width):
        above = upper[i] if upper is not None and i < len(upper) else None
        cell = lower[i] if i < len(lower) else None
        if above is not None and str(above).strip():
            group = group_of(above)
        elif upper is None:
            group = None
        key: str | None
        written: str
        if cell is not None and str(cell).strip():
            written = str(cell).strip()
            key = field_of(cell, group) if group else None
            key = key or field_of(cell)
            if group and above is None and key is None:
                key = field_of(cell)
        elif above is not None and str(above).strip():
            # A header merged down over both rows.
            written = str(above).strip()
            key = field_of(above)
        else:
            continue
        if key is None or key in columns:
            ignored.append(written)
            continue
        columns[key] = i
        labels[key] = written
    return HeaderMap(header_row=0, columns=columns, labels=labels, ignored=ignored)


def find_header(rows: Sequence[Sequence[Any]]) -> HeaderMap | None:
    """The header among the first rows of a sheet: the row (read with the row above it, for
    two-level headers) that names the most known fields; None when no row names three."""
    best: HeaderMap | None = None
    for index, row in enumerate(rows):
        candidates = [_read_header(None, row)]
        if index > 0:
            candidates.append(_read_header(rows[index - 1], row))
        for found in candidates:
            found.header_row = index + 1
            if len(found.columns) >= 3 and (best is None or len(found.columns) > len(best.columns)):
                best = found
    return best


@dataclass(frozen=True)
class Columns:
    """The columns of another table read the way the ledger is (the payment roll, 发放花名册):
    field → the template's header, the other headers each field may be written as, and the
    fields a file must have. One header row, no groups."""

    labels: dict[str, str]
    synonyms: dict[str, tuple[str, ...]]
    required: tuple[str, ...]

    def table(self) -> dict[str, str]:
        """Normalised header → field."""
        found: dict[str, str] = {}
        for key, words in self.synonyms.items():
            for word in words:
                found.setdefault(normalise_header(word), key)
        found.update({normalise_header(header): key for key, header in self.labels.items()})
        return found

    def find(self, rows: Sequence[Sequence[Any]]) -> HeaderMap | None:
        """The header among the first rows: the row naming the most fields (at least three,
        or every required one when fewer are required)."""
        table = self.table()
        least = min(3, len(self.required))
        best: HeaderMap | None = None
        for index, row in enumerate(rows):
            columns: dict[str, int] = {}
            labels: dict[str, str] = {}
            ignored: list[str] = []
            for i, cell in enumerate(row):
                if cell is None or not str(cell).strip():
                    continue
                written = str(cell).strip()
                key = table.get(normalise_header(cell))
                if key is None or key in columns:
                    ignored.append(written[:50])
                    continue
                columns[key], labels[key] = i, written[:50]
            if len(columns) >= least and (best is None or len(columns) > len(best.columns)):
                best = HeaderMap(index + 1, columns, labels, ignored, self.required)
        return best
