"""Who is a service target (服务对象): the policy's categories, computed from plain facts.

Pure functions over frozen dataclasses: no ORM, no request. The same ``classify`` serves stored
children, the import preview and ``POST /api/v1/classify``.

Rules (issue 3, "Classification"; thresholds from ``Thresholds``, defaults 16 / 18 / 3 months):

- ``left_behind`` (农村留守儿童): the child lives in a village, is under 16 on the date, and
  either both parents have an open spell out of the county (or province) that has reached
  3 calendar months, or one has and the other lacks guardianship capacity (a capacity other
  than ``full`` or a status other than ``alive``). A spell that ended on or before the date, or
  one within the county, does not count.
- ``orphan``, ``de_facto_unsupported`` (never with ``orphan``), ``dibao_family``, ``tekun``,
  ``disabled``, ``seriously_ill``, ``single_parent`` (not with the first two): under 18 only.
- ``in_difficulty``: any category but ``left_behind``.

Dates:

- Calendar months (``add_months``): a spell that began on 2024-01-10 reaches 3 months on
  2024-04-10. A day that the target month lacks becomes its last day (2023-11-30 + 3 months =
  2024-02-29; 2022-11-30 + 3 months = 2023-02-28).
- Ages (``birthday``): a child is under 16 until the day before the 16th birthday. A child born
  on 29 February has its birthday on 1 March in a common year (our choice: only once February
  is over has the child lived the whole number of years). So "under 18" ends on 1 March 2026
  for a child born on 29 February 2008. (Their 16th birthday falls in a leap year, 2100 aside,
  so it is 29 February itself.)
- A spell whose start is unknown (``left_on=None``; ledgers carry no departure date) counts as
  having lasted 3 months from ``known_since`` (the date of the import) on, since the national
  form is filled only for parents already away that long.
- Before the birth date a child has no category.

History (``category_history``): when did the child enter and leave each category? The input is
the child's facts as a timeline of versions ``(since, ChildFacts)``: each version holds the facts
as recorded from ``since`` on (``FactsVersion``; plain tuples do too). Undated facts (dibao,
tekun, disability, illness, a parent's status and capacity, divorce, residence) therefore count
from the day they were recorded; the version in force on the registration date holds what was
entered at registration. Dated facts carry their own dates: put every migration spell as it is
known now into each version and it applies from its own dates, also before it was recorded.

``classify`` depends on the date only through comparisons ``as_of >= point`` with these points:
the birth date, the 16th and 18th birthdays, each spell's 3-month mark (or ``known_since``) and its
end (``returned_on``); and the facts change only at a version's ``since``. Between two
consecutive such change points nothing can change, so the history evaluates ``classify`` at the
registration date and at every change point up to ``until`` (never day by day) and merges the
results into spans. A span's ``end`` is the first day the category no longer applies; ``None``
when it still applies on ``until``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import NamedTuple

from tongxin.core.dates import add_months, birthday, cn_date


class ParentStatus(StrEnum):
    ALIVE = "alive"
    DECEASED = "deceased"
    DECLARED_DEAD = "declared_dead"
    DECLARED_MISSING = "declared_missing"
    LOST_CONTACT = "lost_contact"
    UNKNOWN = "unknown"


class Capacity(StrEnum):
    """Guardianship capacity (监护能力)."""

    FULL = "full"
    SERIOUS_ILLNESS = "serious_illness"
    SERIOUS_DISABILITY = "serious_disability"
    IMPRISONED = "imprisoned"
    COMPULSORY_DETOX = "compulsory_detox"
    RESTRICTED_FREEDOM = "restricted_freedom"


class Destination(StrEnum):
    IN_COUNTY = "in_county"
    OUT_OF_COUNTY = "out_of_county"
    OUT_OF_PROVINCE = "out_of_province"


class Residence(StrEnum):
    VILLAGE = "village"
    COMMUNITY = "community"


class CategoryCode(StrEnum):
    LEFT_BEHIND = "left_behind"
    ORPHAN = "orphan"
    DE_FACTO_UNSUPPORTED = "de_facto_unsupported"
    DIBAO_FAMILY = "dibao_family"
    TEKUN = "tekun"
    DISABLED = "disabled"
    SERIOUSLY_ILL = "seriously_ill"
    SINGLE_PARENT = "single_parent"


# Chinese labels: the words the reasons are made of (also usable as display labels).
STATUS_LABELS: dict[str, str] = {
    ParentStatus.ALIVE: "健在",
    ParentStatus.DECEASED: "已故",
    ParentStatus.DECLARED_DEAD: "被宣告死亡",
    ParentStatus.DECLARED_MISSING: "被宣告失踪",
    ParentStatus.LOST_CONTACT: "失联",
    ParentStatus.UNKNOWN: "不详",
}
CAPACITY_LABELS: dict[str, str] = {
    Capacity.FULL: "有监护能力",
    Capacity.SERIOUS_ILLNESS: "患重病",
    Capacity.SERIOUS_DISABILITY: "重度残疾",
    Capacity.IMPRISONED: "服刑在押",
    Capacity.COMPULSORY_DETOX: "强制隔离戒毒",
    Capacity.RESTRICTED_FREEDOM: "被限制人身自由",
}
DESTINATION_LABELS: dict[str, str] = {
    Destination.IN_COUNTY: "县内",
    Destination.OUT_OF_COUNTY: "省内县外",
    Destination.OUT_OF_PROVINCE: "省外",
}
RESIDENCE_LABELS: dict[str, str] = {Residence.VILLAGE: "农村", Residence.COMMUNITY: "城镇社区"}
CATEGORY_LABELS: dict[str, str] = {
    CategoryCode.LEFT_BEHIND: "农村留守儿童",
    CategoryCode.ORPHAN: "孤儿",
    CategoryCode.DE_FACTO_UNSUPPORTED: "事实无人抚养儿童",
    CategoryCode.DIBAO_FAMILY: "低保家庭儿童",
    CategoryCode.TEKUN: "特困供养儿童",
    CategoryCode.DISABLED: "残疾儿童",
    CategoryCode.SERIOUSLY_ILL: "重病儿童",
    CategoryCode.SINGLE_PARENT: "单亲家庭儿童",
}
_GRADE_LABELS = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}

_AWAY = frozenset({Destination.OUT_OF_COUNTY, Destination.OUT_OF_PROVINCE})
_GONE = frozenset(
    {ParentStatus.DECEASED, ParentStatus.DECLARED_DEAD, ParentStatus.DECLARED_MISSING}
)


@dataclass(frozen=True, slots=True)
class MigrationSpell:
    """One spell of work away from home (外出务工). ``returned_on=None``: still away.

    ``left_on=None``: the start is unknown; the spell then counts as having lasted the
    absence threshold from ``known_since`` (the date it was recorded, e.g. an import) on.
    """

    left_on: date | None
    returned_on: date | None
    destination: Destination
    known_since: date | None = None

    def __post_init__(self) -> None:
        if self.left_on is None and self.known_since is None:
            raise ValueError("a spell with an unknown start needs known_since")


@dataclass(frozen=True, slots=True)
class ParentFacts:
    status: ParentStatus
    capacity: Capacity
    migrations: tuple[MigrationSpell, ...] = ()


@dataclass(frozen=True, slots=True)
class ChildFacts:
    birth_date: date
    lives_in: Residence
    father: ParentFacts
    mother: ParentFacts
    parents_divorced: bool = False
    dibao: bool = False
    tekun: bool = False
    disability_grade: int | None = None
    serious_illness: bool = False


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The policy's numbers; a county may change them (``policy.thresholds()``)."""

    left_behind_age: int = 16
    difficulty_age: int = 18
    absence_months: int = 3

    def __post_init__(self) -> None:
        if min(self.left_behind_age, self.difficulty_age, self.absence_months) < 1:
            raise ValueError(f"thresholds must be positive: {self}")


DEFAULT_THRESHOLDS = Thresholds()


# The results are named tuples: as immutable as the facts, and three times cheaper to build
# than frozen dataclasses, which matters at 100,000 classifications a second.


class Category(NamedTuple):
    code: CategoryCode
    reason: str


class Classification(NamedTuple):
    as_of: date
    categories: tuple[Category, ...]
    in_difficulty: bool

    @property
    def codes(self) -> tuple[CategoryCode, ...]:
        return tuple(c.code for c in self.categories)


@dataclass(frozen=True, slots=True)
class CategorySpan:
    """A period in one category: from ``start`` up to the day before ``end`` (None: ongoing)."""

    code: CategoryCode
    start: date
    end: date | None


class FactsVersion(NamedTuple):
    """The child's facts as recorded from ``since`` on."""

    since: date
    facts: ChildFacts


# Dates


def absence_mark(spell: MigrationSpell, months: int) -> date:
    """The first day the spell counts as a long absence (its end aside)."""
    if spell.left_on is None:
        assert spell.known_since is not None  # enforced by MigrationSpell
        return spell.known_since
    return add_months(spell.left_on, months)


# Classification


def _long_absence(parent: ParentFacts, as_of: date, months: int) -> MigrationSpell | None:
    """The parent's open out-of-county spell that has reached ``months`` on ``as_of``."""
    for spell in parent.migrations:
        if spell.destination not in _AWAY:
            continue
        if spell.returned_on is not None and spell.returned_on <= as_of:
            continue
        left_on = spell.left_on
        if left_on is None:
            if spell.known_since is not None and spell.known_since <= as_of:
                return spell
            continue
        # Whole months apart decide without building the mark; only its own month needs the day.
        elapsed = (as_of.year - left_on.year) * 12 + as_of.month - left_on.month
        if elapsed > months or (elapsed == months and add_months(left_on, months) <= as_of):
            return spell
    return None


def _lacks_capacity(parent: ParentFacts) -> bool:
    return parent.capacity != Capacity.FULL or parent.status != ParentStatus.ALIVE


def _unable(parent: ParentFacts) -> bool:
    """In the de-facto-unsupported list: any restricting capacity, or lost contact."""
    return parent.capacity != Capacity.FULL or parent.status == ParentStatus.LOST_CONTACT


def classify(
    facts: ChildFacts, as_of: date, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Classification:
    """The child's categories on ``as_of``, each with the reason in Chinese."""
    birth = facts.birth_date
    if as_of < birth:
        return Classification(as_of, (), False)
    father, mother = facts.father, facts.mother
    categories: list[Category] = []

    if facts.lives_in == Residence.VILLAGE and _under(birth, as_of, thresholds.left_behind_age):
        months = thresholds.absence_months
        away_f = _long_absence(father, as_of, months)
        away_m = _long_absence(mother, as_of, months)
        if away_f is not None and away_m is not None:
            reason = _both_away(away_f, away_m, facts, thresholds)
        elif away_f is not None and _lacks_capacity(mother):
            reason = _one_away("父亲", away_f, "母亲", mother, facts, thresholds)
        elif away_m is not None and _lacks_capacity(father):
            reason = _one_away("母亲", away_m, "父亲", father, facts, thresholds)
        else:
            reason = ""
        if reason:
            categories.append(Category(CategoryCode.LEFT_BEHIND, reason))

    if not _under(birth, as_of, thresholds.difficulty_age):
        return Classification(as_of, tuple(categories), False)

    # In difficulty: each reason names its own facts, then the age.
    found: list[tuple[CategoryCode, str]] = []
    gone_f, gone_m = father.status in _GONE, mother.status in _GONE
    orphan = gone_f and gone_m
    unsupported = not orphan and ((_unable(father) or gone_f) and (_unable(mother) or gone_m))
    if orphan:
        found.append((CategoryCode.ORPHAN, _parents(father, mother)))
    elif unsupported:
        found.append((CategoryCode.DE_FACTO_UNSUPPORTED, _parents(father, mother)))
    if facts.dibao:
        found.append((CategoryCode.DIBAO_FAMILY, "家庭享受最低生活保障（低保）"))
    if facts.tekun:
        found.append((CategoryCode.TEKUN, "纳入特困人员救助供养（特困）"))
    if facts.disability_grade is not None:
        grade = _GRADE_LABELS.get(facts.disability_grade, f"{facts.disability_grade}级")
        found.append((CategoryCode.DISABLED, f"儿童残疾，残疾等级为{grade}"))
    if facts.serious_illness:
        found.append((CategoryCode.SERIOUSLY_ILL, "儿童患重病"))
    if not orphan and not unsupported:
        one_alive = (father.status == ParentStatus.ALIVE) != (mother.status == ParentStatus.ALIVE)
        if one_alive or facts.parents_divorced:
            found.append((CategoryCode.SINGLE_PARENT, _single_parent(facts, one_alive)))
    if not found:
        return Classification(as_of, tuple(categories), False)
    age = f"儿童未满{thresholds.difficulty_age}周岁（{cn_date(birth)}出生）"
    categories += [Category(code, f"{text}；{age}") for code, text in found]
    return Classification(as_of, tuple(categories), True)


def _under(birth_date: date, as_of: date, age: int) -> bool:
    """Whether the child is under ``age`` on ``as_of`` (``birthday`` only in that year)."""
    years = as_of.year - birth_date.year
    if years != age:
        return years < age
    return as_of < birthday(birth_date, age)


# Reasons: Chinese sentences that name the facts used.


def _spell(spell: MigrationSpell, months: int) -> str:
    where = DESTINATION_LABELS[spell.destination]
    if spell.left_on is None:
        assert spell.known_since is not None
        return (
            f"在{where}务工，起始日期不详（{cn_date(spell.known_since)}登记时按已满{months}个月计）"
        )
    return f"自{cn_date(spell.left_on)}起在{where}务工"


def _left_behind_age(facts: ChildFacts, thresholds: Thresholds) -> str:
    return (
        f"儿童居住在{RESIDENCE_LABELS[facts.lives_in]}，"
        f"未满{thresholds.left_behind_age}周岁（{cn_date(facts.birth_date)}出生）"
    )


def _both_away(
    father: MigrationSpell, mother: MigrationSpell, facts: ChildFacts, thresholds: Thresholds
) -> str:
    months = thresholds.absence_months
    return (
        f"父母均跨县外出务工满{months}个月（父亲{_spell(father, months)}，"
        f"母亲{_spell(mother, months)}）；{_left_behind_age(facts, thresholds)}"
    )


def _one_away(
    away_name: str,
    spell: MigrationSpell,
    other_name: str,
    other: ParentFacts,
    facts: ChildFacts,
    thresholds: Thresholds,
) -> str:
    months = thresholds.absence_months
    return (
        f"{away_name}跨县外出务工满{months}个月（{_spell(spell, months)}），"
        f"{other_name}无监护能力（{_condition(other)}）；{_left_behind_age(facts, thresholds)}"
    )


def _condition(parent: ParentFacts) -> str:
    """What keeps a parent from guardianship: the status unless alive, the capacity unless full."""
    parts = []
    if parent.status != ParentStatus.ALIVE:
        parts.append(STATUS_LABELS[parent.status])
    if parent.capacity != Capacity.FULL:
        parts.append(CAPACITY_LABELS[parent.capacity])
    return "、".join(parts) or STATUS_LABELS[parent.status]


def _parents(father: ParentFacts, mother: ParentFacts) -> str:
    return f"父亲{_condition(father)}，母亲{_condition(mother)}"


def _single_parent(facts: ChildFacts, one_alive: bool) -> str:
    parts = []
    if one_alive:
        parts.append(
            f"父亲{STATUS_LABELS[facts.father.status]}，母亲{STATUS_LABELS[facts.mother.status]}"
        )
    if facts.parents_divorced:
        parts.append("父母离异")
    return "；".join(parts)


# History


def change_points(facts: ChildFacts, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> set[date]:
    """The dates on which time alone may change the classification of ``facts``."""
    birth = facts.birth_date
    points = {
        birth,
        birthday(birth, thresholds.left_behind_age),
        birthday(birth, thresholds.difficulty_age),
    }
    for parent in (facts.father, facts.mother):
        for spell in parent.migrations:
            points.add(absence_mark(spell, thresholds.absence_months))
            if spell.returned_on is not None:
                points.add(spell.returned_on)
    return points


def category_history(
    timeline: Iterable[tuple[date, ChildFacts]],
    registration_date: date,
    until: date,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[CategorySpan]:
    """The spans in each category from ``registration_date`` through ``until``.

    ``timeline``: versions ``(since, facts)``; one must be in force on the registration date.
    Of two versions with the same ``since``, the later one given wins. Spans come ordered by
    start, then by category.
    """
    versions = sorted(timeline, key=lambda version: version[0])
    if not versions or versions[0][0] > registration_date:
        raise ValueError("no facts are in force on the registration date")
    if until < registration_date:
        return []
    points = {registration_date}
    for since, facts in versions:
        points.add(since)
        points |= change_points(facts, thresholds)
    days = sorted(p for p in points if registration_date <= p <= until)

    order = {code: i for i, code in enumerate(CategoryCode)}
    open_spans: dict[CategoryCode, date] = {}
    spans: list[CategorySpan] = []
    current = 0
    for day in days:
        while current + 1 < len(versions) and versions[current + 1][0] <= day:
            current += 1
        codes = classify(versions[current][1], day, thresholds).codes
        for code in [c for c in open_spans if c not in codes]:
            spans.append(CategorySpan(code, open_spans.pop(code), day))
        for code in codes:
            open_spans.setdefault(code, day)
    spans.extend(CategorySpan(code, start, None) for code, start in open_spans.items())
    spans.sort(key=lambda span: (span.start, order[span.code]))
    return spans
