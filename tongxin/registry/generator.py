"""Synthetic children for the demo and for benchmarks (演示数据): a plausible population of one
county's villages and communities. Every person is made up; nothing here comes from real data.

Two steps:

- ``plan_population`` draws households (家庭) from a seeded ``random.Random``: parents with their
  status, guardianship capacity and migration spells, the daily caregiver, the care agreement,
  and one to three children each, with names, valid ID numbers (GB 11643 check characters),
  schooling, disability and illness. Plans are plain data, so the same seed gives the same
  population. Some children are planted twice, as near-duplicates for the review queue: the
  same name and birth date in another village of the same town, or a name with the same pinyin
  written with other characters and the same birth date. The copy is registered without an ID
  number (the usual way one child gets two files), so no number is shared.
- ``population_generate`` writes the plans straight to the tables in batches (``bulk_create``,
  one transaction per batch), without per-child services: the categories and their history are
  computed here with ``rules.classify`` and ``rules.category_history`` from the generated facts
  (a single version of the facts, recorded on the registration date), and ID numbers are
  encrypted and hashed as ``services.id_number_prepare`` does. Each row also gets its creation
  record in the history tables (simple-history), dated on the registration day, so that a
  generated file reads like one registered through the services on that day: later edits and
  ``services.category_history_rebuild`` find a first version to start from.

Shares (of children; the tests check loose bounds): about 55% left behind, 1% orphans, 2% de facto
unsupported, 12% of dibao families, 3% disabled, 2% seriously ill, 8% single-parent; 5% without an
ID number. Migration work places are drawn for a county in Gansu.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from functools import lru_cache
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from tongxin.audit.services import audit_record
from tongxin.geo.models import Division, Level
from tongxin.lib import crypto, idcard
from tongxin.lib.pinyin import name_keys
from tongxin.registry import policy, rules
from tongxin.registry.models import (
    CareAgreement,
    CategorySpan,
    Child,
    Household,
    Migration,
    Parent,
)

DEMO_SEED = 20240418  # the day the county's action plan was issued
DEFAULT_CHILDREN = 1500
BATCH = 5000  # children per transaction
INSERT_BATCH = 1000  # rows per INSERT statement
# Region codes of the time a parent's first ID card was issued (GB/T 2260 changes): Gaotai was
# 622225 while Zhangye was a prefecture (until 2002).
OLD_REGIONS = {"620724": "622225"}

# --- words ------------------------------------------------------------------------------------

# Common surnames, the most frequent first (weights fall off with rank). Characters whose
# reading depends on context (曾, 单, 乐, 查 …) are left out so that pinyin keys are stable.
SURNAMES = (
    "王张李刘杨陈赵马魏何郭孙徐高朱周吴胡罗石韩董蒋程雷冯贾田潘许曹谢黄郑宋孟常牛樊姚闫任柴"
    "寇盛俞苏吕丁汪范金崔邓彭袁于鲁蔡段薛秦白武康尹梁安付陆严毛"
)
_SURNAME_WEIGHTS = tuple(1 / (rank + 4) for rank in range(len(SURNAMES)))
BOY_CHARS = (
    "伟强磊军勇杰涛明超浩宇轩博文鑫鹏辉晨俊凯睿泽昊翔航然子梓天嘉佳志建国海峰阳亮斌鸿瑞锦恒旭毅诚"
)
GIRL_CHARS = (
    "静丽娟敏艳芳婷雪琳欣怡涵萱悦雨梦佳慧颖琪晶洁蕾璐瑶倩茹妍馨彤玥诗雅梓紫思嘉可心晓春月楠蓉"
)
# Characters read alike without tones (name_keys drops tones): a name rewritten with one of its
# characters swapped for another of the same group has the same pinyin key.
_HOMOPHONE_LINES = (
    "张章 王汪 李黎 刘柳 徐许 何贺 马麻 伟玮炜薇 静晶婧菁 丽莉俐 杰洁婕 涛韬 明铭鸣 浩昊皓豪",
    "宇雨语羽 欣馨心新鑫 佳嘉家 梓子紫 怡宜仪依 轩萱宣 涵晗寒 晨辰宸 雪学 磊蕾 婷庭 芳方",
    "敏民 琳林霖 瑶遥 鹏朋 辉慧惠 凯楷 睿瑞 翔祥 航杭 峰锋丰 杨阳洋扬 斌彬滨 毅艺逸 程成诚",
    "悦月越 颖莹盈 琪琦淇 璐露路 彤童桐 妍研 楠南 蓉荣容 娟鹃 艳燕 军君 文雯 志智 建健剑",
    "鸿宏洪 锦瑾 旭栩",
)
HOMOPHONES = tuple(group for line in _HOMOPHONE_LINES for group in line.split())
_HOMOPHONE = {c: group.replace(c, "") for group in HOMOPHONES for c in group}

ETHNICITIES = (("汉族", 96.0), ("回族", 2.0), ("藏族", 0.7), ("裕固族", 0.7), ("蒙古族", 0.6))

OUT_OF_PROVINCE = (
    ("浙江省宁波市", 4),
    ("浙江省杭州市", 3),
    ("浙江省义乌市", 2),
    ("新疆维吾尔自治区乌鲁木齐市", 4),
    ("新疆维吾尔自治区昌吉回族自治州", 2),
    ("新疆维吾尔自治区哈密市", 2),
    ("广东省东莞市", 3),
    ("广东省深圳市", 2),
    ("广东省佛山市", 1),
    ("江苏省苏州市", 2),
    ("内蒙古自治区阿拉善盟", 1),
    ("青海省西宁市", 1),
    ("宁夏回族自治区银川市", 1),
    ("陕西省西安市", 1),
)
OUT_OF_COUNTY = (
    ("甘肃省张掖市甘州区", 5),
    ("甘肃省酒泉市肃州区", 4),
    ("甘肃省嘉峪关市", 3),
    ("甘肃省兰州市", 2),
    ("甘肃省金昌市", 1),
    ("甘肃省酒泉市玉门市", 1),
)
IN_COUNTY_PLACES = ("工业园区", "县城建筑工地", "农业合作社")
PARENT_CONDITIONS = {
    "serious_illness": ("尿毒症，长期透析", "癌症术后，长期治疗", "重度抑郁，长期服药"),
    "serious_disability": ("肢体残疾一级", "智力残疾二级", "精神残疾二级", "视力残疾一级"),
    "imprisoned": ("服刑，刑期五年", "服刑，刑期八年"),
    "compulsory_detox": ("强制隔离戒毒两年",),
    "restricted_freedom": ("被羁押候审",),
}
DISABILITY_TYPES = ("视力残疾", "听力残疾", "言语残疾", "肢体残疾", "智力残疾", "精神残疾")
ILLNESSES = ("白血病", "先天性心脏病", "肾病综合征", "癫痫", "再生障碍性贫血", "1型糖尿病")
GRADES = {
    "primary": ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级"),
    "junior": ("七年级", "八年级", "九年级"),
    "senior": ("高一", "高二", "高三"),
    "vocational": ("一年级", "二年级", "三年级"),
    "kindergarten": ("小班", "中班", "大班"),
}
PHONE_PREFIXES = ("139", "138", "137", "135", "159", "158", "187", "188", "189", "177", "133")

# --- plans -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    """A village or community the population lives in, with its town and the county's names."""

    code: str
    name: str
    rural: bool
    town_code: str
    town_name: str
    hukou_prefix: str  # 甘肃省张掖市高台县
    county_name: str


@dataclass(slots=True)
class SpellPlan:
    left_on: date
    returned_on: date | None
    destination: rules.Destination
    work_place: str


@dataclass(slots=True)
class ParentPlan:
    role: str
    name: str
    birth_date: date | None
    id_number: str
    phone: str
    status: rules.ParentStatus
    capacity: rules.Capacity
    capacity_note: str = ""
    spells: list[SpellPlan] = field(default_factory=list)


@dataclass(slots=True)
class AgreementPlan:
    entrusted_by: str
    caregiver_name: str
    caregiver_relation: str
    caregiver_phone: str
    caregiver_address: str
    signed_on: date
    valid_until: date
    terminated_on: date | None = None
    caregiver_lacks_capacity: bool = False
    parents_told_on: date | None = None


@dataclass(slots=True)
class ChildPlan:
    name: str
    gender: str
    birth_date: date
    registered_on: date
    ethnicity: str = "汉族"
    id_number: str = ""
    id_missing_reason: str = ""
    hukou_place: str = ""
    school: str = ""
    grade: str = ""
    school_stage: str = ""
    enrolment: str = "in_school"
    boarding: bool = False
    health: str = "healthy"
    disability_type: str = ""
    disability_grade: int | None = None
    disability_certificate: str = ""
    disability_certificate_expiry: date | None = None
    serious_illness: bool = False
    illness: str = ""
    guardianship_assessment: str = ""


@dataclass(slots=True)
class HouseholdPlan:
    """One family as drawn. ``kind`` is how it was drawn (``both_away``, ``orphan`` …), not a
    category: categories are computed from the facts. ``duplicate`` marks a planted copy
    (``same_name`` or ``same_pinyin``) of an earlier child."""

    place: Place
    kind: str
    registered_on: date
    address: str
    phone: str
    parents: list[ParentPlan]
    children: list[ChildPlan]
    agreements: list[AgreementPlan] = field(default_factory=list)
    parents_divorced: bool = False
    dibao: bool = False
    tekun: bool = False
    income_source: str = ""
    assistance: list[str] = field(default_factory=list)
    caregiver_name: str = ""
    caregiver_relation: str = ""
    caregiver_birth_year: int | None = None
    caregiver_health: str = ""
    caregiver_capacity: str = ""
    caregiver_phone: str = ""
    grandparents: str = ""
    duplicate: str = ""


_ABSENT = rules.ParentFacts(rules.ParentStatus.UNKNOWN, rules.Capacity.FULL)


def plan_facts(household: HouseholdPlan, child: ChildPlan) -> rules.ChildFacts:
    """The facts the rules take, as ``selectors.current_facts`` reads them once stored."""
    by_role = {
        p.role: rules.ParentFacts(
            status=p.status,
            capacity=p.capacity,
            # In the order the database gives them (left_on, then id: the order written).
            migrations=tuple(
                rules.MigrationSpell(s.left_on, s.returned_on, s.destination)
                for s in sorted(p.spells, key=lambda s: s.left_on)
            ),
        )
        for p in household.parents
    }
    return rules.ChildFacts(
        birth_date=child.birth_date,
        lives_in=rules.Residence.VILLAGE if household.place.rural else rules.Residence.COMMUNITY,
        father=by_role.get("father", _ABSENT),
        mother=by_role.get("mother", _ABSENT),
        parents_divorced=household.parents_divorced,
        dibao=household.dibao,
        tekun=household.tekun,
        disability_grade=child.disability_grade,
        serious_illness=child.serious_illness,
    )


# Household kinds and their shares. Left-behind children come from the first two (and from
# single parents away), once the child is under 16, lives in a village and the spells have
# lasted three months: about 55% of all children.
KINDS = (
    ("both_away", 0.63),
    ("one_away_other_unable", 0.05),
    ("one_away", 0.10),
    ("home", 0.11),
    ("single_parent", 0.08),
    ("de_facto", 0.02),
    ("orphan", 0.01),
)
_CAN_COPY_KINDS = ("both_away", "one_away", "home")
_GONE = (rules.ParentStatus.DECEASED, rules.ParentStatus.DECLARED_DEAD)
_UNABLE = (
    rules.Capacity.SERIOUS_ILLNESS,
    rules.Capacity.SERIOUS_DISABILITY,
    rules.Capacity.IMPRISONED,
    rules.Capacity.COMPULSORY_DETOX,
    rules.Capacity.RESTRICTED_FREEDOM,
)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


class _Planner:
    """Draws households. One instance per population; every draw comes from ``rng`` in a
    fixed order, so a seed fixes the population."""

    def __init__(
        self,
        rng: random.Random,
        places: Sequence[Place],
        today: date,
        region: str,
        taken_hashes: frozenset[str] = frozenset(),
    ) -> None:
        if not places:
            raise ValueError("no villages or communities to place children in")
        self.rng = rng
        self.places = list(places)
        self.today = today
        self.region = region
        self.old_region = OLD_REGIONS.get(region, region)
        self.taken_hashes = taken_hashes
        self.used_numbers: set[str] = set()
        # Communities are larger but the registry is mostly rural.
        self._place_cum = _cumulative([1.0 if p.rural else 1.5 for p in self.places])
        self._by_town: dict[str, list[Place]] = {}
        for p in self.places:
            self._by_town.setdefault(p.town_code, []).append(p)
        self._kind_names = [k for k, _ in KINDS]
        self._kind_cum = _cumulative([w for _, w in KINDS])
        self._surname_cum = _cumulative(_SURNAME_WEIGHTS)
        self._ethnic_names = [e for e, _ in ETHNICITIES]
        self._ethnic_cum = _cumulative([w for _, w in ETHNICITIES])
        self._province_names = [p for p, _ in OUT_OF_PROVINCE]
        self._province_cum = _cumulative([w for _, w in OUT_OF_PROVINCE])
        self._county_names = [p for p, _ in OUT_OF_COUNTY]
        self._county_cum = _cumulative([w for _, w in OUT_OF_COUNTY])

    # small draws

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def days_ago(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low, high))

    def surname(self) -> str:
        return self.rng.choices(SURNAMES, cum_weights=self._surname_cum)[0]

    def given_name(self, gender: str) -> str:
        pool = BOY_CHARS if gender == "male" else GIRL_CHARS
        if self.chance(0.25):
            return self.rng.choice(pool)
        return self.rng.choice(pool) + self.rng.choice(pool)

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def id_number(self, region: str, birth: date, gender: str) -> str:
        """A valid number not used before (here or, by its hash, in the database); "" when
        the 500 sequence numbers of that day and gender run out."""
        for _ in range(200):
            number = idcard.generate(self.rng, region=region, birth_date=birth, gender=gender)
            if number in self.used_numbers:
                continue
            if self.taken_hashes and crypto.lookup_hash(number) in self.taken_hashes:
                continue
            self.used_numbers.add(number)
            return number
        return ""

    def place(self) -> Place:
        return self.rng.choices(self.places, cum_weights=self._place_cum)[0]

    def work_place(self, destination: rules.Destination, place: Place) -> str:
        if destination == rules.Destination.OUT_OF_PROVINCE:
            return self.rng.choices(self._province_names, cum_weights=self._province_cum)[0]
        if destination == rules.Destination.OUT_OF_COUNTY:
            return self.rng.choices(self._county_names, cum_weights=self._county_cum)[0]
        return place.county_name + self.rng.choice(IN_COUNTY_PLACES)

    # households

    def household(self, size: int) -> HouseholdPlan:
        rng = self.rng
        place = self.place()
        kind = rng.choices(self._kind_names, cum_weights=self._kind_cum)[0]
        registered = self.days_ago(0, 3 * 365)
        births = self._birth_dates(size)
        surname = self.surname()
        mother_surname = self.surname()
        eldest = births[0]

        father = self._parent("father", surname, eldest)
        mother = self._parent("mother", mother_surname, eldest)
        plan = HouseholdPlan(
            place=place,
            kind=kind,
            registered_on=registered,
            address=self._address(place),
            phone="",
            parents=[father, mother],
            children=[],
        )
        getattr(self, f"_kind_{kind}")(plan, father, mother)
        for parent in (father, mother):
            if parent.status != rules.ParentStatus.ALIVE:
                parent.phone = ""
        if not plan.caregiver_name:
            self._caregiver_parent(plan)
        plan.phone = plan.caregiver_phone
        self._benefits(plan)
        if father.status == rules.ParentStatus.UNKNOWN:
            surname = mother_surname
        for birth in births:
            plan.children.append(self._child(plan, surname, birth))
        grandfather = surname + self.given_name("male")
        grandmother = self.surname() + self.given_name("female")
        plan.grandparents = f"祖父{grandfather}，祖母{grandmother}"
        return plan

    def _birth_dates(self, size: int) -> list[date]:
        """Siblings 1.2 to 6 years apart, every child between 2 months and 18 years old."""
        rng = self.rng
        first = rng.randint(60, 18 * 365 - 10)
        ages = [first]
        for _ in range(size - 1):
            gap = rng.randint(440, 6 * 365)
            if ages[-1] - gap >= 60:
                ages.append(ages[-1] - gap)
            elif ages[0] + gap <= 18 * 365 - 10:
                ages.insert(0, ages[0] + gap)
        return [self.today - timedelta(days=a) for a in sorted(ages, reverse=True)]

    def _address(self, place: Place) -> str:
        if place.rural:
            return f"{place.name}{self.rng.randint(1, 12)}组{self.rng.randint(1, 90)}号"
        street = place.name.removesuffix("社区")
        return f"{street}小区{self.rng.randint(1, 30)}号楼{self.rng.randint(1, 4)}单元"

    def _parent(self, role: str, surname: str, eldest: date) -> ParentPlan:
        gender = "male" if role == "father" else "female"
        years = self.rng.randint(21, 36) if role == "father" else self.rng.randint(19, 33)
        birth = eldest - timedelta(days=years * 365 + self.rng.randint(0, 364))
        region = self.old_region if birth.year < 1986 and self.chance(0.7) else self.region
        number = self.id_number(region, birth, gender) if self.chance(0.9) else ""
        return ParentPlan(
            role=role,
            name=surname + self.given_name(gender),
            birth_date=birth,
            id_number=number,
            phone=self.phone(),
            status=rules.ParentStatus.ALIVE,
            capacity=rules.Capacity.FULL,
        )

    def _away(self, parent: ParentPlan, place: Place, *, recent: float = 0.05) -> SpellPlan:
        """An open spell out of the county, most of them long past three months."""
        destination = (
            rules.Destination.OUT_OF_PROVINCE
            if self.chance(0.65)
            else rules.Destination.OUT_OF_COUNTY
        )
        left = self.days_ago(0, 85) if self.chance(recent) else self.days_ago(100, 8 * 365)
        adult = self._adult(parent)
        left = max(left, adult)
        if self.chance(0.3):  # an earlier spell, back home since
            back = left - timedelta(days=self.rng.randint(30, 400))
            before = back - timedelta(days=self.rng.randint(90, 900))
            where = self._destination()
            if before >= adult:
                parent.spells.append(SpellPlan(before, back, where, self.work_place(where, place)))
        spell = SpellPlan(left, None, destination, self.work_place(destination, place))
        parent.spells.append(spell)
        return spell

    def _destination(self) -> rules.Destination:
        r = self.rng.random()
        if r < 0.5:
            return rules.Destination.OUT_OF_PROVINCE
        if r < 0.85:
            return rules.Destination.OUT_OF_COUNTY
        return rules.Destination.IN_COUNTY

    def _home(self, parent: ParentPlan, place: Place) -> None:
        """A parent living at home: some came back from work away, some work in the county."""
        adult = self._adult(parent)
        if self.chance(0.4):
            back = self.days_ago(1, 3 * 365)
            left = back - timedelta(days=self.rng.randint(100, 1500))
            where = self._destination()
            if left >= adult:
                parent.spells.append(SpellPlan(left, back, where, self.work_place(where, place)))
        if self.chance(0.2):
            where = rules.Destination.IN_COUNTY
            left = max(adult, self.days_ago(30, 1500))
            parent.spells.append(SpellPlan(left, None, where, self.work_place(where, place)))

    def _adult(self, parent: ParentPlan) -> date:
        """The earliest a parent goes out to work: at 18."""
        if parent.birth_date is None:
            return self.today - timedelta(days=20 * 365)
        return parent.birth_date + timedelta(days=18 * 365 + 5)

    def _unable(self, parent: ParentPlan, choices: Sequence[rules.Capacity] = _UNABLE) -> None:
        parent.capacity = self.rng.choice(choices)
        parent.capacity_note = self.rng.choice(PARENT_CONDITIONS[parent.capacity])

    def _kind_both_away(self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan) -> None:
        spell = self._away(father, plan.place)
        if self.chance(0.7):  # the mother joined the father
            left = min(self.today, spell.left_on + timedelta(days=self.rng.randint(0, 200)))
            mother.spells.append(SpellPlan(left, None, spell.destination, spell.work_place))
        else:
            self._away(mother, plan.place)
        self._entrusted(plan, "both", father.name[0])

    def _kind_one_away_other_unable(
        self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan
    ) -> None:
        away, other = (father, mother) if self.chance(0.8) else (mother, father)
        self._away(away, plan.place)
        self._unable(other, (rules.Capacity.SERIOUS_ILLNESS, rules.Capacity.SERIOUS_DISABILITY))
        self._entrusted(plan, away.role, father.name[0])

    def _kind_one_away(self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan) -> None:
        away, home = (father, mother) if self.chance(0.85) else (mother, father)
        self._away(away, plan.place)
        self._home(home, plan.place)

    def _kind_home(self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan) -> None:
        self._home(father, plan.place)
        self._home(mother, plan.place)

    def _kind_single_parent(
        self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan
    ) -> None:
        r = self.rng.random()
        if r < 0.5:
            plan.parents_divorced = True
            stays, other = (mother, father) if self.chance(0.5) else (father, mother)
            self._home(other, plan.place)
        else:
            stays, other = (mother, father) if self.chance(0.7) else (father, mother)
            if r < 0.8:
                other.status = self.rng.choice(_GONE)
            elif r < 0.9:
                other.status = rules.ParentStatus.LOST_CONTACT
            else:  # father unknown: nothing is known of him
                stays = mother
                father.status = rules.ParentStatus.UNKNOWN
                father.name, father.birth_date, father.id_number, father.phone = "", None, "", ""
        if self.chance(0.45):
            self._away(stays, plan.place)
            self._entrusted(plan, stays.role, father.name[:1] or stays.name[0])
        else:
            self._home(stays, plan.place)

    def _kind_de_facto(self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan) -> None:
        r = self.rng.random()
        if r < 0.4:
            father.status = self.rng.choice(_GONE)
            self._unable(mother)
        elif r < 0.7:
            self._unable(father)
            self._unable(
                mother, (rules.Capacity.SERIOUS_ILLNESS, rules.Capacity.SERIOUS_DISABILITY)
            )
        else:
            self._unable(father, (rules.Capacity.IMPRISONED, rules.Capacity.COMPULSORY_DETOX))
            mother.status = rules.ParentStatus.LOST_CONTACT
        self._grandparent_caregiver(plan, father.name[0] if father.name else self.surname())

    def _kind_orphan(self, plan: HouseholdPlan, father: ParentPlan, mother: ParentPlan) -> None:
        father.status = self.rng.choice(_GONE)
        mother.status = (
            rules.ParentStatus.DECLARED_MISSING if self.chance(0.15) else self.rng.choice(_GONE)
        )
        self._grandparent_caregiver(plan, father.name[0])

    # caregivers, agreements, benefits

    def _grandparent_caregiver(self, plan: HouseholdPlan, surname: str) -> tuple[str, str]:
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            relation, name = "祖父", surname + self.given_name("male")
        elif r < 0.7:
            relation, name = "祖母", self.surname() + self.given_name("female")
        elif r < 0.8:
            relation, name = "外祖母", self.surname() + self.given_name("female")
        elif r < 0.9:
            relation, name = "叔叔", surname + self.given_name("male")
        else:
            relation, name = "姑姑", surname + self.given_name("female")
        grand = relation in ("祖父", "祖母", "外祖母")
        plan.caregiver_name, plan.caregiver_relation = name, relation
        plan.caregiver_birth_year = self.today.year - (
            rng.randint(55, 78) if grand else rng.randint(30, 50)
        )
        plan.caregiver_health = rng.choice(("良好", "良好", "一般", "患慢性病"))
        r = rng.random()
        plan.caregiver_capacity = (
            "capable" if r < 0.88 else ("limited" if r < 0.97 else "incapable")
        )
        plan.caregiver_phone = self.phone()
        return name, relation

    def _caregiver_parent(self, plan: HouseholdPlan) -> None:
        at_home = [
            p
            for p in plan.parents
            if p.status == rules.ParentStatus.ALIVE
            and p.capacity == rules.Capacity.FULL
            and not any(s.returned_on is None and s.destination != "in_county" for s in p.spells)
        ]
        if not at_home:
            self._grandparent_caregiver(plan, plan.parents[0].name[:1] or self.surname())
            return
        parent = at_home[-1] if len(at_home) > 1 and self.chance(0.6) else at_home[0]
        plan.caregiver_name = parent.name
        plan.caregiver_relation = "母亲" if parent.role == "mother" else "父亲"
        plan.caregiver_birth_year = parent.birth_date.year if parent.birth_date else None
        plan.caregiver_health = "良好"
        plan.caregiver_capacity = "capable"
        plan.caregiver_phone = parent.phone

    def _entrusted(self, plan: HouseholdPlan, by: str, surname: str) -> None:
        """Parents away entrust the children to a relative, most with a written agreement
        (some expiring within 30 days, some expired, a few terminated)."""
        name, relation = self._grandparent_caregiver(plan, surname)
        if not self.chance(0.85):
            return
        rng, today = self.rng, self.today
        r = rng.random()
        terminated = None
        if r < 0.10:
            valid_until = today + timedelta(days=rng.randint(0, 30))
        elif r < 0.25:
            valid_until = today - timedelta(days=rng.randint(1, 400))
        else:
            valid_until = today + timedelta(days=rng.randint(31, 700))
        signed = valid_until - timedelta(days=365 * rng.randint(1, 3))
        if signed > today:
            signed = today - timedelta(days=rng.randint(0, 60))
        if r > 0.96:
            terminated = min(today, signed + timedelta(days=rng.randint(30, 300)))
        lacks = plan.caregiver_capacity == "incapable"
        plan.agreements.append(
            AgreementPlan(
                entrusted_by=by,
                caregiver_name=name,
                caregiver_relation=relation,
                caregiver_phone=plan.caregiver_phone,
                caregiver_address=plan.address,
                signed_on=signed,
                valid_until=valid_until,
                terminated_on=terminated,
                caregiver_lacks_capacity=lacks,
                parents_told_on=min(today, signed + timedelta(days=rng.randint(1, 60)))
                if lacks
                else None,
            )
        )

    def _benefits(self, plan: HouseholdPlan) -> None:
        hard = plan.kind in ("orphan", "de_facto", "one_away_other_unable") or (
            plan.kind == "single_parent" and not plan.parents_divorced
        )
        plan.dibao = self.chance(0.35 if hard else 0.08)
        plan.tekun = plan.kind in ("orphan", "de_facto") and self.chance(0.4)
        if plan.dibao:
            plan.assistance.append("低保")
        if self.chance(0.05):
            plan.assistance.append("临时救助")
        away = any(s.returned_on is None for p in plan.parents for s in p.spells)
        plan.income_source = (
            "救助供养金"
            if plan.tekun
            else "务工收入"
            if away
            else self.rng.choice(("务农", "务农", "个体经营", "打零工"))
        )

    def _child(self, plan: HouseholdPlan, surname: str, birth: date) -> ChildPlan:
        rng = self.rng
        gender = "male" if rng.random() < 0.52 else "female"
        registered = max(plan.registered_on, birth + timedelta(days=rng.randint(20, 60)))
        registered = min(registered, self.today)
        child = ChildPlan(
            name=surname + self.given_name(gender),
            gender=gender,
            birth_date=birth,
            registered_on=registered,
            ethnicity=rng.choices(self._ethnic_names, cum_weights=self._ethnic_cum)[0],
            hukou_place=plan.place.hukou_prefix + plan.place.town_name + plan.place.name,
        )
        if rng.random() < 0.05:
            r = rng.random()
            reason = "not_registered" if r < 0.6 else ("not_issued" if r < 0.85 else "unknown")
            child.id_missing_reason = reason
            if reason == "not_registered":
                child.hukou_place = ""
        else:
            child.id_number = self.id_number(self.region, birth, gender)
            if not child.id_number:
                child.id_missing_reason = "unknown"
        self._school(child, plan.place)
        if rng.random() < 0.03:
            child.health = "disabled"
            child.disability_type = rng.choice(DISABILITY_TYPES)
            child.disability_grade = rng.randint(1, 4)
            child.disability_certificate = f"{self.region}{rng.randrange(10**8):08d}"
            child.disability_certificate_expiry = self.today + timedelta(
                days=rng.randint(-60, 5 * 365)
            )
        if rng.random() < 0.02:
            child.serious_illness = True
            child.illness = rng.choice(ILLNESSES)
            if child.health == "healthy":
                child.health = "ill"
        r = rng.random()
        unsure = plan.kind in ("de_facto", "orphan", "one_away_other_unable")
        child.guardianship_assessment = (
            "good" if r < (0.4 if unsure else 0.6) else ("fair" if r < 0.9 else "poor")
        )
        return child

    def _school(self, child: ChildPlan, place: Place) -> None:
        rng = self.rng
        age = (self.today - child.birth_date).days // 365
        town = place.town_name
        if age < 3:
            child.school_stage, child.enrolment = "not_in_kindergarten", "not_enrolled"
        elif age < 6:
            if rng.random() < 0.85:
                child.school_stage, child.school = "kindergarten", f"{town}中心幼儿园"
                child.grade = GRADES["kindergarten"][age - 3]
            else:
                child.school_stage, child.enrolment = "not_in_kindergarten", "not_enrolled"
        elif age < 12:
            child.school_stage = "primary"
            village_school = place.rural and rng.random() >= 0.6
            child.school = f"{place.name}小学" if village_school else f"{town}中心小学"
            child.grade = GRADES["primary"][age - 6]
            child.boarding = rng.random() < 0.05
        elif rng.random() < 0.02:
            child.school_stage, child.enrolment = "dropped_out", "dropped_out"
        elif age < 15:
            child.school_stage, child.school = "junior", f"{town}中学"
            child.grade = GRADES["junior"][age - 12]
            child.boarding = rng.random() < 0.4
        else:
            r = rng.random()
            stage = "senior" if r < 0.6 else ("vocational" if r < 0.85 else "not_in_school")
            child.school_stage = stage
            if stage == "not_in_school":
                child.enrolment = "graduated"
                return
            child.school = (
                f"{place.county_name}第一中学"
                if stage == "senior"
                else f"{place.county_name}职业中专"
            )
            child.grade = GRADES[stage][min(age - 15, 2)]
            child.boarding = rng.random() < 0.5

    # planted near-duplicates

    def duplicate(self, original: HouseholdPlan, kind: str) -> HouseholdPlan | None:
        """The first child of ``original`` registered again elsewhere, without an ID
        number: ``same_name`` in another village of the same town, or ``same_pinyin`` (other
        characters, same pinyin) anywhere else in the county. None when that cannot be done."""
        source = original.children[0]
        if kind == "same_name":
            others = [p for p in self._by_town[original.place.town_code] if p != original.place]
            name = source.name
        else:
            others = [p for p in self.places if p != original.place]
            name = self._homophone(source.name)
        if not others or not name:
            return None
        place = self.rng.choice(others)
        child = ChildPlan(
            name=name,
            gender=source.gender,
            birth_date=source.birth_date,
            registered_on=self.days_ago(0, 365),
            ethnicity=source.ethnicity,
            school_stage=source.school_stage,
            enrolment=source.enrolment,
            school=source.school,
            grade=source.grade,
            disability_type=source.disability_type,
            disability_grade=source.disability_grade,
            health=source.health,
            serious_illness=source.serious_illness,
            illness=source.illness,
            hukou_place=source.hukou_place,
            guardianship_assessment=source.guardianship_assessment,
        )
        child.registered_on = max(child.registered_on, source.birth_date + timedelta(days=30))
        child.registered_on = min(child.registered_on, self.today)
        # Registered again without the number: two different numbers would be two children,
        # and the review queue rightly leaves such pairs out.
        child.id_missing_reason = self.rng.choice(("unknown", "not_issued"))
        parents = [
            ParentPlan(
                role=p.role,
                name=p.name,
                birth_date=p.birth_date,
                id_number="",
                phone=p.phone,
                status=p.status,
                capacity=p.capacity,
                capacity_note=p.capacity_note,
                spells=[
                    SpellPlan(s.left_on, s.returned_on, s.destination, s.work_place)
                    for s in p.spells
                ],
            )
            for p in original.parents
        ]
        return HouseholdPlan(
            place=place,
            kind=original.kind,
            registered_on=child.registered_on,
            address=self._address(place),
            phone=original.phone,
            parents=parents,
            children=[child],
            parents_divorced=original.parents_divorced,
            dibao=original.dibao,
            tekun=original.tekun,
            income_source=original.income_source,
            assistance=list(original.assistance),
            caregiver_name=original.caregiver_name,
            caregiver_relation=original.caregiver_relation,
            caregiver_birth_year=original.caregiver_birth_year,
            caregiver_health=original.caregiver_health,
            caregiver_capacity=original.caregiver_capacity,
            caregiver_phone=original.caregiver_phone,
            grandparents=original.grandparents,
            duplicate=kind,
        )

    def _homophone(self, name: str) -> str:
        """``name`` with one character swapped for a homophone: other characters, same key."""
        key = pinyin_keys(name)[0]
        positions = [i for i, c in enumerate(name) if c in _HOMOPHONE]
        self.rng.shuffle(positions)
        for i in positions:
            for alt in _HOMOPHONE[name[i]]:
                candidate = name[:i] + alt + name[i + 1 :]
                if pinyin_keys(candidate)[0] == key:
                    return candidate
        return ""


@lru_cache(maxsize=4096)
def _char_keys(char: str) -> tuple[str, str]:
    return name_keys(char)


def pinyin_keys(name: str) -> tuple[str, str]:
    """``name_keys(name)``, built from the cached keys of each character: the generator's
    characters read the same alone and inside a name (the tests check it), and pypinyin costs
    tens of microseconds a name."""
    parts = [_char_keys(c) for c in name]
    return "".join(p[0] for p in parts), "".join(p[1] for p in parts)


def plan_population(
    *,
    children: int,
    seed: int,
    places: Sequence[Place],
    today: date,
    region: str,
    duplicates: int | None = None,
    taken_hashes: frozenset[str] = frozenset(),
) -> Iterator[HouseholdPlan]:
    """Households holding exactly ``children`` children, ``duplicates`` of them planted copies
    (by default one in 150, about ten in the demo's 1,500)."""
    rng = random.Random(seed)  # noqa: S311  # synthetic data, reproducible by design
    planner = _Planner(rng, places, today, region, taken_hashes)
    wanted_copies = round(children / 150) if duplicates is None else duplicates
    every = children // (wanted_copies + 1) if wanted_copies else 0
    next_copy = every
    copies = produced = 0
    last: HouseholdPlan | None = None
    while produced < children:
        if (
            copies < wanted_copies
            and produced >= next_copy
            and last is not None
            and last.kind in _CAN_COPY_KINDS
        ):
            copy = planner.duplicate(last, "same_name" if copies % 2 == 0 else "same_pinyin")
            last = None
            if copy is not None:
                copies += 1
                next_copy += every
                produced += 1
                yield copy
                continue
        size = rng.choices((1, 2, 3), cum_weights=(0.45, 0.85, 1.0))[0]
        plan = planner.household(min(size, children - produced))
        produced += len(plan.children)
        last = plan
        yield plan


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    children: int
    total: int
    rows: int
    seconds: float


@dataclass
class GenerationReport:
    children: int = 0
    households: int = 0
    parents: int = 0
    spells: int = 0
    agreements: int = 0
    spans: int = 0
    duplicate_pairs: int = 0
    rows: int = 0  # every row written, history records included
    seconds: float = 0.0
    categories: dict[str, int] = field(default_factory=dict)


def county_places(county: str) -> list[Place]:
    """The villages and communities of ``county`` (6- or 12-digit code), as loaded (3 queries)."""
    prefix = county[:6]
    names = dict(
        Division.objects.filter(
            code__in=[prefix[:2].ljust(12, "0"), prefix[:4].ljust(12, "0"), prefix.ljust(12, "0")]
        ).values_list("code", "name")
    )
    county_name = names.get(prefix.ljust(12, "0"), "")
    hukou_prefix = "".join(
        names.get(c.ljust(12, "0"), "") for c in (prefix[:2], prefix[:4], prefix)
    )
    towns = dict(
        Division.objects.filter(code__startswith=prefix, level=Level.TOWN).values_list(
            "code", "name"
        )
    )
    rows = Division.objects.filter(
        code__startswith=prefix, level__in=[Level.VILLAGE, Level.COMMUNITY]
    ).order_by("code")
    return [
        Place(
            code=d.code,
            name=d.name,
            rural=d.level == Level.VILLAGE,
            town_code=d.parent_id or d.code[:9].ljust(12, "0"),
            town_name=towns.get(d.parent_id or "", ""),
            hukou_prefix=hukou_prefix,
            county_name=county_name,
        )
        for d in rows
    ]


def _recorded_at(day: date) -> datetime:
    """A creation time on ``day`` (local), for the history records."""
    return datetime.combine(day, clock(9), tzinfo=timezone.get_current_timezone())


class _Statement:
    """Fast inserts into some columns of one table, each value adapted for the driver as
    Django would (dates, datetimes, UUIDs, JSON), without Django's per-value compile step,
    which costs most of the time of ``bulk_create``.

    - SQLite: multi-row ``INSERT … VALUES (…), (…) RETURNING id`` with the driver's own ``?``
      placeholders on its own cursor (Django's wrapper rewrites ``%s`` with a regular
      expression over the whole, long statement).
    - PostgreSQL: ``COPY … FROM STDIN``; the new keys are first taken from the table's
      sequence in one query, so concurrent writers are safe.
    """

    def __init__(self, connection: Any, table: str, fields: list[Any], returning: str) -> None:
        if connection.vendor not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"no fast insert for {connection.vendor}")
        ops, quote = connection.ops, connection.ops.quote_name
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.table = table
        self.returning = returning
        self.pairs = [(f.attname, self._adapter(f, connection)) for f in fields]
        self.rows_per_statement = min(
            INSERT_BATCH, ops.bulk_batch_size(fields, range(INSERT_BATCH))
        )
        columns = [quote(f.column) for f in fields]
        # Only the model's own quoted table and column names go into the text; values are bound.
        if self.postgres:
            copied = [quote(returning), *columns] if returning else columns
            self.head = f"COPY {quote(table)} ({', '.join(copied)}) FROM STDIN"
        else:
            self.head = f"INSERT INTO {quote(table)} ({', '.join(columns)}) VALUES "  # noqa: S608
        self.one = "(" + ", ".join(["?"] * len(fields)) + ")"
        self.tail = f" RETURNING {quote(returning)}" if returning else ""

    @staticmethod
    def _adapter(f: Any, connection: Any) -> Callable[[Any], Any] | None:
        ops = connection.ops
        kind = f.get_internal_type()
        if kind == "DateField":
            return ops.adapt_datefield_value  # type: ignore[no-any-return]
        if kind == "DateTimeField":
            # Few distinct values (the batch's "now", one time per registration day).
            return lru_cache(maxsize=4096)(ops.adapt_datetimefield_value)
        if kind == "UUIDField" and not connection.features.has_native_uuid_field:
            return lambda v: v.hex if v is not None else None
        if kind == "JSONField":
            encoder = f.encoder
            return lambda v: ops.adapt_json_value(v, encoder)
        return None

    def _values(self, row: dict[str, Any]) -> list[Any]:
        return [
            value if adapt is None else adapt(value)
            for attname, adapt in self.pairs
            for value in (row[attname],)
        ]

    def run(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """Insert ``rows``; the keys of the new rows in the same order (when asked)."""
        self.connection.ensure_connection()
        raw = self.connection.connection
        if self.postgres:
            return self._copy(raw, rows)
        found: list[Any] = []
        step = self.rows_per_statement
        cursor = raw.cursor()
        try:
            for start in range(0, len(rows), step):
                chunk = rows[start : start + step]
                params = [value for row in chunk for value in self._values(row)]
                cursor.execute(self.head + ", ".join([self.one] * len(chunk)) + self.tail, params)
                if self.tail:
                    found += [r[0] for r in cursor.fetchall()]
        finally:
            cursor.close()
        return found

    def _copy(self, raw: Any, rows: Sequence[dict[str, Any]]) -> list[Any]:
        keys: list[Any] = []
        with raw.cursor() as cursor:
            if self.returning:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.table, self.returning, len(rows)],
                )
                keys = [r[0] for r in cursor.fetchall()]
            with cursor.copy(self.head) as copy:
                if keys:
                    for key, row in zip(keys, rows, strict=True):
                        copy.write_row([key, *self._values(row)])
                else:
                    for row in rows:
                        copy.write_row(self._values(row))
        return keys


class _Table:
    """Rows for one model, as dicts keyed by attname, inserted with their creation records in
    the model's history table (simple-history) when it has one."""

    def __init__(self, model: Any, now: datetime) -> None:
        connection = connections[router.db_for_write(model)]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.defaults: dict[str, Any] = {}
        self.uuids: list[str] = []
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self.defaults[f.attname] = now
            elif f.get_internal_type() == "UUIDField" and f.has_default():
                self.uuids.append(f.attname)
            else:  # the field's default, else "" for text and None for the rest
                self.defaults[f.attname] = f.get_default()
        pk = model._meta.pk.column
        self.insert = _Statement(connection, model._meta.db_table, fields, pk)
        self.history: _Statement | None = None
        manager = getattr(model, "history", None)
        if manager is not None:
            hist = manager.model
            hist_fields = [f for f in hist._meta.concrete_fields if not f.primary_key]
            self.history = _Statement(connection, hist._meta.db_table, hist_fields, "")

    def row(self, **values: Any) -> dict[str, Any]:
        row = {**self.defaults, **values}
        for attname in self.uuids:
            row[attname] = uuid.uuid4()
        return row

    def save(self, rows: list[dict[str, Any]], recorded: list[datetime]) -> int:
        """Insert ``rows`` (setting their ``id``) and their history records; rows written."""
        if not rows:
            return 0
        for row, pk in zip(rows, self.insert.run(rows), strict=True):
            row["id"] = pk
        if self.history is None:
            return len(rows)
        extra = {"history_change_reason": None, "history_type": "+", "history_user_id": None}
        self.history.run(
            [
                {**row, **extra, "history_date": when}
                for row, when in zip(rows, recorded, strict=True)
            ]
        )
        return 2 * len(rows)


class _Writer:
    def __init__(self, today: date, report: GenerationReport) -> None:
        self.today = today
        self.thresholds = policy.thresholds()
        self.report = report
        now = timezone.now()
        self.households = _Table(Household, now)
        self.parents = _Table(Parent, now)
        self.spells = _Table(Migration, now)
        self.agreements = _Table(CareAgreement, now)
        self.children = _Table(Child, now)
        self.spans = _Table(CategorySpan, now)
        self._category_json: dict[tuple[str, str], dict[str, str]] = {}

    def write(self, plans: list[HouseholdPlan]) -> None:
        report = self.report
        households = [self._household(p) for p in plans]
        h_when = [_recorded_at(p.registered_on) for p in plans]
        rows = self.households.save(households, h_when)

        parents: list[dict[str, Any]] = []
        p_when: list[datetime] = []
        agreements: list[dict[str, Any]] = []
        a_when: list[datetime] = []
        for plan, household, when in zip(plans, households, h_when, strict=True):
            for pp in plan.parents:
                enc, lookup = (
                    (crypto.encrypt(pp.id_number), crypto.lookup_hash(pp.id_number))
                    if pp.id_number
                    else (None, "")
                )
                parents.append(
                    self.parents.row(
                        household_id=household["id"],
                        role=pp.role,
                        name=pp.name,
                        birth_date=pp.birth_date,
                        id_number_enc=enc,
                        id_number_hash=lookup,
                        phone=pp.phone,
                        status=pp.status.value,
                        capacity=pp.capacity.value,
                        capacity_note=pp.capacity_note,
                    )
                )
                p_when.append(when)
            for ap in plan.agreements:
                agreements.append(
                    self.agreements.row(
                        household_id=household["id"],
                        entrusted_by=ap.entrusted_by,
                        caregiver_name=ap.caregiver_name,
                        caregiver_relation=ap.caregiver_relation,
                        caregiver_phone=ap.caregiver_phone,
                        caregiver_address=ap.caregiver_address,
                        signed_on=ap.signed_on,
                        valid_until=ap.valid_until,
                        document="",
                        terminated_on=ap.terminated_on,
                        caregiver_lacks_capacity=ap.caregiver_lacks_capacity,
                        parents_told_on=ap.parents_told_on,
                    )
                )
                a_when.append(_recorded_at(max(ap.signed_on, plan.registered_on)))
        rows += self.parents.save(parents, p_when)
        rows += self.agreements.save(agreements, a_when)

        spells: list[dict[str, Any]] = []
        s_when: list[datetime] = []
        parent_rows = iter(zip(parents, p_when, strict=True))
        for plan in plans:
            for pp in plan.parents:
                parent, when = next(parent_rows)
                for sp in pp.spells:
                    spells.append(
                        self.spells.row(
                            parent_id=parent["id"],
                            left_on=sp.left_on,
                            known_since=None,
                            returned_on=sp.returned_on,
                            destination=sp.destination.value,
                            work_place=sp.work_place,
                            phone=pp.phone if sp.returned_on is None else "",
                        )
                    )
                    s_when.append(when)
        rows += self.spells.save(spells, s_when)

        children: list[dict[str, Any]] = []
        c_when: list[datetime] = []
        facts: list[rules.ChildFacts] = []
        for plan, household in zip(plans, households, strict=True):
            for cp in plan.children:
                child_facts = plan_facts(plan, cp)
                children.append(self._child(plan, cp, household["id"], child_facts))
                c_when.append(_recorded_at(cp.registered_on))
                facts.append(child_facts)
        rows += self.children.save(children, c_when)

        spans: list[dict[str, Any]] = []
        for child, child_facts in zip(children, facts, strict=True):
            registered = child["registered_on"]
            for span in rules.category_history(
                ((registered, child_facts),), registered, self.today, self.thresholds
            ):
                spans.append(
                    {
                        "child_id": child["id"],
                        "code": span.code.value,
                        "start": span.start,
                        "end": span.end,
                    }
                )
        self.spans.insert.run(spans)
        rows += len(spans)

        report.households += len(households)
        report.parents += len(parents)
        report.spells += len(spells)
        report.agreements += len(agreements)
        report.children += len(children)
        report.spans += len(spans)
        report.rows += rows
        report.duplicate_pairs += sum(1 for p in plans if p.duplicate)

    def _household(self, plan: HouseholdPlan) -> dict[str, Any]:
        since = plan.registered_on
        return self.households.row(
            village_id=plan.place.code,
            address=plan.address,
            phone=plan.phone,
            parents_divorced=plan.parents_divorced,
            dibao=plan.dibao,
            dibao_since=since if plan.dibao else None,
            tekun=plan.tekun,
            tekun_since=since if plan.tekun else None,
            income_source=plan.income_source,
            assistance=plan.assistance,
            caregiver_name=plan.caregiver_name,
            caregiver_relation=plan.caregiver_relation,
            caregiver_birth_year=plan.caregiver_birth_year,
            caregiver_health=plan.caregiver_health,
            caregiver_capacity=plan.caregiver_capacity,
            caregiver_phone=plan.caregiver_phone,
            grandparents=plan.grandparents,
        )

    def _child(
        self, plan: HouseholdPlan, cp: ChildPlan, household_id: int, facts: rules.ChildFacts
    ) -> dict[str, Any]:
        result = rules.classify(facts, self.today, self.thresholds)
        counts = self.report.categories
        categories = []
        for c in result.categories:
            categories.append(self._category(c.code.value, c.reason))
            counts[c.code.value] = counts.get(c.code.value, 0) + 1
        pinyin, initials = pinyin_keys(cp.name)
        enc, lookup = (
            (crypto.encrypt(cp.id_number), crypto.lookup_hash(cp.id_number))
            if cp.id_number
            else (None, None)
        )
        return self.children.row(
            household_id=household_id,
            village_id=plan.place.code,
            name=cp.name,
            name_pinyin=pinyin,
            name_initials=initials,
            gender=cp.gender,
            ethnicity=cp.ethnicity,
            birth_date=cp.birth_date,
            id_number_enc=enc,
            id_number_hash=lookup,
            id_missing_reason=cp.id_missing_reason,
            hukou_registered=cp.id_missing_reason != "not_registered",
            hukou_place=cp.hukou_place,
            phone="",
            school=cp.school,
            grade=cp.grade,
            school_stage=cp.school_stage,
            enrolment=cp.enrolment,
            boarding=cp.boarding,
            health=cp.health,
            disability_type=cp.disability_type,
            disability_grade=cp.disability_grade,
            disability_certificate=cp.disability_certificate,
            disability_certificate_expiry=cp.disability_certificate_expiry,
            disability_since=cp.registered_on if cp.disability_grade else None,
            serious_illness=cp.serious_illness,
            illness=cp.illness,
            illness_since=cp.registered_on if cp.serious_illness else None,
            guardianship_assessment=cp.guardianship_assessment,
            status_reason="",
            status_since=cp.registered_on,
            registered_on=cp.registered_on,
            left_behind=rules.CategoryCode.LEFT_BEHIND in result.codes,
            in_difficulty=result.in_difficulty,
            categories=categories,
            classified_on=self.today,
        )

    def _category(self, code: str, reason: str) -> dict[str, str]:
        # Reasons repeat (same dates, same parents' facts): share the small dicts.
        key = (code, reason)
        found = self._category_json.get(key)
        if found is None:
            found = {"code": code, "reason": reason}
            if len(self._category_json) < 100_000:
                self._category_json[key] = found
        return found


def population_generate(
    *,
    children: int = DEFAULT_CHILDREN,
    seed: int = DEMO_SEED,
    county: str = "620724",
    today: date | None = None,
    batch: int = BATCH,
    duplicates: int | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> GenerationReport:
    """Generate and store ``children`` synthetic children in ``county``'s villages and
    communities. One transaction per ``batch`` children; one audit entry at the end."""
    if children < 1:
        raise ValueError("children must be at least 1")
    today = today or timezone.localdate()
    places = county_places(county)
    if not places:
        raise ValueError(f"no villages or communities under {county[:6]}: load the divisions")
    started = time.perf_counter()
    taken = frozenset(
        h for h in Child.objects.values_list("id_number_hash", flat=True).iterator() if h
    )
    report = GenerationReport()
    writer = _Writer(today, report)
    pending: list[HouseholdPlan] = []
    pending_children = 0

    def flush() -> None:
        nonlocal pending, pending_children
        with transaction.atomic():
            writer.write(pending)
        pending, pending_children = [], 0
        report.seconds = time.perf_counter() - started
        if progress is not None:
            progress(Progress(report.children, children, report.rows, report.seconds))

    for plan in plan_population(
        children=children,
        seed=seed,
        places=places,
        today=today,
        region=county[:6],
        duplicates=duplicates,
        taken_hashes=taken,
    ):
        pending.append(plan)
        pending_children += len(plan.children)
        if pending_children >= batch:
            flush()
    if pending:
        flush()
    with transaction.atomic():
        audit_record(
            actor=None,
            action="registry.generate",
            object_type="child",
            division_code=county[:6].ljust(12, "0"),
            detail={"children": report.children, "households": report.households, "seed": seed},
        )
    report.seconds = time.perf_counter() - started
    return report
