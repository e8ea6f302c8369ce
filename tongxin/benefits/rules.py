"""Who is owed which benefit (应保尽保): the eligibility rules of issue 13, from plain facts.

Pure functions over frozen dataclasses: no ORM, no request. The same ``eligibility`` serves
``POST /api/v1/eligibility`` now and the gap list later.

Parents. On the date, each parent is ``gone``, ``unable`` (the set S, "cannot support") or
``able`` (``parent_standing``):

- A state is in force when it has begun (``since`` on or before the date, or no ``since``) and
  has not ended (no ``until``, or ``until`` after the date: on ``until`` itself the state is
  over, as the issue says "no until or until after the date").
- Gone: deceased, declared dead, declared missing, unknown (查找不到).
- S: a severe disability (certificate grade 1–2 in any category, 3–4 too in the intellectual or
  mental category: a grade-3 physical disability is not enough); a serious illness; imprisoned,
  compulsory detox or another restriction of freedom lasting 6 calendar months or more in all
  (``since`` + 6 months ≤ ``until``; no ``until`` is long enough); lost contact once 6 calendar
  months have passed since the police accepted the report (``since`` + 6 months ≤ the date; no
  ``since`` means no report was accepted, so never); guardianship revoked or deported.
- ``able``, or any state not in force, or a restriction too short: able.

Programmes (``COMPUTED``): ``orphan_allowance`` (both parents gone), ``de_facto_allowance``
(not both gone; each parent gone or in S), ``disability_living_subsidy``,
``disability_care_subsidy``, ``rehab_assistance``, as the issue words them. The allowances carry
a rate (``institutional`` in a welfare institution, else ``scattered``); ``top_up`` is true for
an eligible de facto allowance when the family receives dibao or the child receives the
disability living subsidy (补差发放). The orphan allowance is paid in full: the issue gives the
top-up to the de facto allowance only, so its ``top_up`` is always false. A programme the child
is not eligible for has no rate and no top-up.

Receipt facts: the family or child receives dibao (or tekun) when the household says so or the
code is in ``enrolled``; the disability living subsidy only through ``enrolled``.

Ages (``birthday`` of core.dates: a child born on 29 February has its birthday on 1 March
in a common year): every programme ends on the 18th birthday, rehabilitation assistance on the
7th. The orphan and de facto allowances continue past 18 while the child is in full-time
schooling below postgraduate level (``Thresholds.allowances_while_in_school``, on by default):
``FULL_TIME_BELOW_POSTGRADUATE`` is preschool, primary, junior, senior, vocational and college
(a young adult in special or late schooling still counts); ``none`` and ``postgraduate`` do not.
An adopted child, a child who has died, a child whose household registration left the county,
and a child not yet born on the date are eligible for nothing.

Conflicts are the exclusive pairs (``EXCLUSIVE_PAIRS``) found in ``enrolled``, tekun included;
``eligible_not_enrolled`` and ``enrolled_not_eligible`` compare ``enrolled`` with the five
computed programmes. Every result carries a Chinese reason naming the facts it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from tongxin.core.dates import add_months, birthday, cn_date


class ParentState(StrEnum):
    """A parent's legal state (父母的法定情形), as the contract names it."""

    ABLE = "able"
    DECEASED = "deceased"
    DECLARED_DEAD = "declared_dead"
    DECLARED_MISSING = "declared_missing"
    UNKNOWN = "unknown"
    SEVERE_DISABILITY = "severe_disability"
    SERIOUS_ILLNESS = "serious_illness"
    IMPRISONED = "imprisoned"
    COMPULSORY_DETOX = "compulsory_detox"
    RESTRICTED_FREEDOM = "restricted_freedom"
    LOST_CONTACT = "lost_contact"
    GUARDIANSHIP_REVOKED = "guardianship_revoked"
    DEPORTED = "deported"


class Schooling(StrEnum):
    NONE = "none"
    PRESCHOOL = "preschool"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    VOCATIONAL = "vocational"
    COLLEGE = "college"
    POSTGRADUATE = "postgraduate"


class DisabilityCategory(StrEnum):
    VISUAL = "visual"
    HEARING = "hearing"
    SPEECH = "speech"
    PHYSICAL = "physical"
    INTELLECTUAL = "intellectual"
    MENTAL = "mental"
    MULTIPLE = "multiple"
    AUTISM = "autism"


class Programme(StrEnum):
    """The programme catalogue (救助保障项目), with the issue's fixed codes."""

    ORPHAN_ALLOWANCE = "orphan_allowance"
    DE_FACTO_ALLOWANCE = "de_facto_allowance"
    DIBAO = "dibao"
    TEKUN = "tekun"
    TEMPORARY_ASSISTANCE = "temporary_assistance"
    DISABILITY_LIVING_SUBSIDY = "disability_living_subsidy"
    DISABILITY_CARE_SUBSIDY = "disability_care_subsidy"
    REHAB_ASSISTANCE = "rehab_assistance"
    EDUCATION_AID = "education_aid"


class Rate(StrEnum):
    INSTITUTIONAL = "institutional"
    SCATTERED = "scattered"


class Standing(StrEnum):
    """What a parent's state means for support on the date."""

    ABLE = "able"
    GONE = "gone"
    UNABLE = "unable"  # the set S: cannot support


# The programmes the rules decide; the others (dibao, tekun, temporary assistance, education
# aid) need a means test or another department's decision and enter only as receipt facts.
COMPUTED: tuple[Programme, ...] = (
    Programme.ORPHAN_ALLOWANCE,
    Programme.DE_FACTO_ALLOWANCE,
    Programme.DISABILITY_LIVING_SUBSIDY,
    Programme.DISABILITY_CARE_SUBSIDY,
    Programme.REHAB_ASSISTANCE,
)
ALLOWANCES = frozenset({Programme.ORPHAN_ALLOWANCE, Programme.DE_FACTO_ALLOWANCE})


def _pair(a: Programme, b: Programme) -> tuple[Programme, Programme]:
    return (a, b) if a <= b else (b, a)


# Programmes that must not be received together; each pair sorted by code.
EXCLUSIVE_PAIRS: frozenset[tuple[Programme, Programme]] = frozenset(
    _pair(a, b)
    for a, b in (
        (Programme.ORPHAN_ALLOWANCE, Programme.DE_FACTO_ALLOWANCE),
        (Programme.ORPHAN_ALLOWANCE, Programme.TEKUN),
        (Programme.DE_FACTO_ALLOWANCE, Programme.TEKUN),
        (Programme.ORPHAN_ALLOWANCE, Programme.DISABILITY_LIVING_SUBSIDY),
        (Programme.TEKUN, Programme.DISABILITY_LIVING_SUBSIDY),
        (Programme.TEKUN, Programme.DISABILITY_CARE_SUBSIDY),
    )
)

# Full-time schooling below postgraduate level: what keeps the two allowances going past 18.
FULL_TIME_BELOW_POSTGRADUATE = frozenset(
    {
        Schooling.PRESCHOOL,
        Schooling.PRIMARY,
        Schooling.JUNIOR,
        Schooling.SENIOR,
        Schooling.VOCATIONAL,
        Schooling.COLLEGE,
    }
)

REHAB_CATEGORIES = frozenset(
    {
        DisabilityCategory.VISUAL,
        DisabilityCategory.HEARING,
        DisabilityCategory.SPEECH,
        DisabilityCategory.PHYSICAL,
        DisabilityCategory.INTELLECTUAL,
        DisabilityCategory.AUTISM,
        DisabilityCategory.MULTIPLE,
    }
)
# Where a grade 3 or 4 certificate already makes a parent severely disabled.
_SEVERE_AT_LOWER_GRADES = frozenset({DisabilityCategory.INTELLECTUAL, DisabilityCategory.MENTAL})
_GONE = frozenset(
    {
        ParentState.DECEASED,
        ParentState.DECLARED_DEAD,
        ParentState.DECLARED_MISSING,
        ParentState.UNKNOWN,
    }
)
_RESTRICTIONS = frozenset(
    {ParentState.IMPRISONED, ParentState.COMPULSORY_DETOX, ParentState.RESTRICTED_FREEDOM}
)
# States whose rule is stated from a date: without ``since`` there is nothing to judge.
SINCE_REQUIRED = _RESTRICTIONS | {ParentState.GUARDIANSHIP_REVOKED, ParentState.DEPORTED}

# Chinese labels: the words the reasons are made of (also usable as display labels).
PROGRAMME_LABELS: dict[str, str] = {
    Programme.ORPHAN_ALLOWANCE: "孤儿基本生活费",
    Programme.DE_FACTO_ALLOWANCE: "事实无人抚养儿童基本生活补贴",
    Programme.DIBAO: "最低生活保障",
    Programme.TEKUN: "特困人员救助供养",
    Programme.TEMPORARY_ASSISTANCE: "临时救助",
    Programme.DISABILITY_LIVING_SUBSIDY: "困难残疾人生活补贴",
    Programme.DISABILITY_CARE_SUBSIDY: "重度残疾人护理补贴",
    Programme.REHAB_ASSISTANCE: "残疾儿童康复救助",
    Programme.EDUCATION_AID: "教育资助",
}
STATE_LABELS: dict[str, str] = {
    ParentState.ABLE: "有抚养能力",
    ParentState.DECEASED: "死亡",
    ParentState.DECLARED_DEAD: "宣告死亡",
    ParentState.DECLARED_MISSING: "宣告失踪",
    ParentState.UNKNOWN: "查找不到",
    ParentState.SEVERE_DISABILITY: "重残",
    ParentState.SERIOUS_ILLNESS: "重病",
    ParentState.IMPRISONED: "服刑在押",
    ParentState.COMPULSORY_DETOX: "强制隔离戒毒",
    ParentState.RESTRICTED_FREEDOM: "被执行其他限制人身自由的措施",
    ParentState.LOST_CONTACT: "失联",
    ParentState.GUARDIANSHIP_REVOKED: "被撤销监护资格",
    ParentState.DEPORTED: "被遣送或驱逐出境",
}
SCHOOLING_LABELS: dict[str, str] = {
    Schooling.NONE: "未在校",
    Schooling.PRESCHOOL: "学前教育",
    Schooling.PRIMARY: "小学",
    Schooling.JUNIOR: "初中",
    Schooling.SENIOR: "高中",
    Schooling.VOCATIONAL: "中等职业教育",
    Schooling.COLLEGE: "高等教育（专科、本科）",
    Schooling.POSTGRADUATE: "研究生教育",
}
DISABILITY_LABELS: dict[str, str] = {
    DisabilityCategory.VISUAL: "视力残疾",
    DisabilityCategory.HEARING: "听力残疾",
    DisabilityCategory.SPEECH: "言语残疾",
    DisabilityCategory.PHYSICAL: "肢体残疾",
    DisabilityCategory.INTELLECTUAL: "智力残疾",
    DisabilityCategory.MENTAL: "精神残疾",
    DisabilityCategory.MULTIPLE: "多重残疾",
    DisabilityCategory.AUTISM: "孤独症",
}
RATE_LABELS: dict[str, str] = {
    Rate.INSTITUTIONAL: "机构集中养育",
    Rate.SCATTERED: "社会散居",
}
_GRADES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
_TERM_WORDS = {
    ParentState.IMPRISONED: "刑期",
    ParentState.COMPULSORY_DETOX: "期限",
    ParentState.RESTRICTED_FREEDOM: "期限",
}


# Facts


@dataclass(frozen=True, slots=True)
class Disability:
    """A disability certificate (残疾人证): category and grade, 1 (most severe) to 4."""

    category: DisabilityCategory
    grade: int

    def __post_init__(self) -> None:
        if self.grade not in _GRADES:
            raise ValueError(f"a disability grade is 1 to 4, not {self.grade}")


@dataclass(frozen=True, slots=True)
class ParentFacts:
    """One parent's legal state with its dates; ``disability`` for ``severe_disability``.

    For ``lost_contact``, ``since`` is the day the police accepted the report (None: no report
    was accepted).
    """

    state: ParentState = ParentState.ABLE
    since: date | None = None
    until: date | None = None
    disability: Disability | None = None

    def __post_init__(self) -> None:
        if self.state in SINCE_REQUIRED and self.since is None:
            raise ValueError(f"{self.state} needs since")
        if self.state == ParentState.SEVERE_DISABILITY and self.disability is None:
            raise ValueError("severe_disability needs the certificate's disability")
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValueError("until is before since")


ABLE_PARENT = ParentFacts()


@dataclass(frozen=True, slots=True)
class Household:
    """Receipt of the means-tested benefits: the family's dibao, low income, the child's tekun."""

    dibao: bool = False
    low_income: bool = False
    tekun: bool = False


@dataclass(frozen=True, slots=True)
class ChildFacts:
    birth_date: date
    father: ParentFacts = ABLE_PARENT
    mother: ParentFacts = ABLE_PARENT
    in_institution: bool = False
    schooling: Schooling = Schooling.NONE
    adopted: bool = False
    deceased: bool = False
    hukou_in_county: bool = True
    disability: Disability | None = None
    household: Household = Household()
    enrolled: frozenset[Programme] = frozenset()


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The policy's numbers; a county may change them (``policy.thresholds()``)."""

    adult_age: int = 18
    rehab_age: int = 7
    restriction_months: int = 6
    lost_contact_months: int = 6
    # A certificate of this grade or better (1 is the most severe) makes a parent severely
    # disabled; intellectual and mental disabilities down to the second number.
    severe_grade: int = 2
    severe_grade_intellectual_mental: int = 4
    care_subsidy_grade: int = 2
    allowances_while_in_school: bool = True

    def __post_init__(self) -> None:
        if min(self.adult_age, self.rehab_age) < 1:
            raise ValueError(f"ages must be positive: {self}")
        if min(self.restriction_months, self.lost_contact_months) < 0:
            raise ValueError(f"months must not be negative: {self}")
        grades = (self.severe_grade, self.severe_grade_intellectual_mental, self.care_subsidy_grade)
        if any(g not in _GRADES for g in grades):
            raise ValueError(f"grades are 1 to 4: {self}")


DEFAULT_THRESHOLDS = Thresholds()


# Results


@dataclass(frozen=True, slots=True)
class ParentStanding:
    standing: Standing
    reason: str


@dataclass(frozen=True, slots=True)
class ProgrammeResult:
    code: Programme
    eligible: bool
    reason: str
    rate: Rate | None = None
    top_up: bool = False


@dataclass(frozen=True, slots=True)
class Eligibility:
    as_of: date
    programmes: tuple[ProgrammeResult, ...]  # in the order of COMPUTED
    conflicts: tuple[tuple[Programme, Programme], ...]
    eligible_not_enrolled: tuple[Programme, ...]
    enrolled_not_eligible: tuple[Programme, ...]

    def __getitem__(self, code: Programme) -> ProgrammeResult:
        return next(p for p in self.programmes if p.code == code)


# Parents


def parent_standing(
    parent: ParentFacts, who: str, as_of: date, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> ParentStanding:
    """Whether the parent is gone, cannot support (S) or is able on ``as_of``, with the reason.

    ``who``: 父亲 or 母亲, the subject of the reason.
    """
    state = parent.state
    fact = describe_parent(parent, who)
    if state == ParentState.ABLE:
        return ParentStanding(Standing.ABLE, fact)
    since, until = parent.since, parent.until
    if state == ParentState.LOST_CONTACT:
        # Counted from the police report, never from the start of the silence.
        months = thresholds.lost_contact_months
        if since is None:
            return ParentStanding(Standing.ABLE, f"{fact}，无法认定为失联")
        if until is not None and until <= as_of:
            return ParentStanding(Standing.ABLE, f"{fact}，已于{cn_date(until)}恢复联系")
        if add_months(since, months) > as_of:
            return ParentStanding(
                Standing.ABLE, f"{fact}，至{cn_date(as_of)}未满{months}个月，不能认定为失联"
            )
        return ParentStanding(Standing.UNABLE, f"{fact}，已满{months}个月")
    if since is not None and since > as_of:
        word = "尚未发生" if state in _GONE else "尚未开始"
        return ParentStanding(Standing.ABLE, f"{fact}，{cn_date(as_of)}时{word}")
    if until is not None and until <= as_of:
        return ParentStanding(Standing.ABLE, f"{fact}，已于{cn_date(until)}结束")
    if state in _GONE:
        return ParentStanding(Standing.GONE, fact)
    if state == ParentState.SEVERE_DISABILITY:
        assert parent.disability is not None  # enforced by ParentFacts
        if not _severe(parent.disability, thresholds):
            return ParentStanding(
                Standing.ABLE, f"{fact}，未达到重度残疾（{_severe_rule(thresholds)}）"
            )
        return ParentStanding(Standing.UNABLE, f"{fact}，属于重度残疾")
    if state in _RESTRICTIONS:
        assert since is not None  # enforced by ParentFacts
        months = thresholds.restriction_months
        if until is not None and add_months(since, months) > until:
            return ParentStanding(Standing.ABLE, f"{fact}，不足{months}个月")
        return ParentStanding(Standing.UNABLE, fact)
    # Serious illness, guardianship revoked, deported: in force is enough.
    return ParentStanding(Standing.UNABLE, fact)


def _severe(disability: Disability, thresholds: Thresholds) -> bool:
    if disability.category in _SEVERE_AT_LOWER_GRADES:
        return disability.grade <= thresholds.severe_grade_intellectual_mental
    return disability.grade <= thresholds.severe_grade


def _and_above(grade: int) -> str:
    return "一级" if grade == 1 else f"{_GRADES[grade]}及以上"


def _severe_rule(thresholds: Thresholds) -> str:
    return (
        f"{_and_above(thresholds.severe_grade)}，"
        f"或智力、精神残疾{_and_above(thresholds.severe_grade_intellectual_mental)}"
    )


def _certificate(disability: Disability) -> str:
    return f"{DISABILITY_LABELS[disability.category]}{_GRADES[disability.grade]}"


def _length(since: date, until: date) -> str:
    """``2年``, ``1年6个月``, ``5个月29天``: calendar months from ``since``, then days."""
    months = (until.year - since.year) * 12 + until.month - since.month
    while months > 0 and add_months(since, months) > until:
        months -= 1
    days = (until - add_months(since, months)).days
    years, months = divmod(months, 12)
    parts = [f"{years}年" if years else "", f"{months}个月" if months else ""]
    parts.append(f"{days}天" if days or not (years or months) else "")
    return "".join(parts)


def describe_parent(parent: ParentFacts, who: str) -> str:
    """The parent's state as a fact, in Chinese: ``父亲服刑在押（2023年3月1日起，刑期2年）``."""
    state, since, until = parent.state, parent.since, parent.until
    details: list[str] = []
    if state == ParentState.ABLE:
        return f"{who}有抚养能力"
    if state == ParentState.SEVERE_DISABILITY and parent.disability is not None:
        details.append(_certificate(parent.disability))
    if state == ParentState.LOST_CONTACT:
        if since is None:
            return f"{who}失联，但无公安机关受理报案的日期"
        details.append(f"{cn_date(since)}公安机关受理报案")
        if until is not None:
            details.append(f"{cn_date(until)}恢复联系")
    elif state in _RESTRICTIONS:
        assert since is not None  # enforced by ParentFacts
        details.append(f"{cn_date(since)}起")
        term = _TERM_WORDS[state]
        details.append(f"{term}{_length(since, until)}" if until else f"{term}未定结束日期")
        if until is not None:
            details.append(f"至{cn_date(until)}")
    else:
        if since is not None:
            # A death or a court's declaration happens on a day; the other states last.
            details.append(
                cn_date(since) if state in _GONE - {ParentState.UNKNOWN} else f"{cn_date(since)}起"
            )
        if until is not None:
            details.append(f"至{cn_date(until)}")
    word = {
        ParentState.DECEASED: "已故",
        ParentState.DECLARED_DEAD: "被宣告死亡",
        ParentState.DECLARED_MISSING: "被宣告失踪",
        ParentState.SEVERE_DISABILITY: "残疾",
        ParentState.SERIOUS_ILLNESS: "患重病",
    }.get(state, STATE_LABELS[state])
    return f"{who}{word}（{'，'.join(details)}）" if details else f"{who}{word}"


# Programmes


def eligibility(
    facts: ChildFacts, as_of: date, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Eligibility:
    """The five computed programmes on ``as_of``, the conflicts and the two gap lists."""
    results = _programmes(facts, as_of, thresholds)
    enrolled = facts.enrolled
    eligible = {r.code for r in results if r.eligible}
    return Eligibility(
        as_of=as_of,
        programmes=results,
        conflicts=conflicts(enrolled),
        eligible_not_enrolled=tuple(sorted(eligible - enrolled)),
        enrolled_not_eligible=tuple(sorted(c for c in COMPUTED if c in enrolled - eligible)),
    )


def conflicts(enrolled: frozenset[Programme]) -> tuple[tuple[Programme, Programme], ...]:
    """The exclusive pairs received together, each pair sorted, the list sorted."""
    return tuple(
        sorted(pair for pair in EXCLUSIVE_PAIRS if pair[0] in enrolled and pair[1] in enrolled)
    )


def _under(birth_date: date, as_of: date, age: int) -> bool:
    return as_of < birthday(birth_date, age)


def _barrier(facts: ChildFacts, as_of: date) -> str:
    """Why the child is eligible for nothing on the date ('' if nothing bars it)."""
    if as_of < facts.birth_date:
        return f"{cn_date(as_of)}时儿童尚未出生（{cn_date(facts.birth_date)}出生）"
    found = []
    if facts.deceased:
        found.append("儿童已死亡")
    if facts.adopted:
        found.append("儿童已被依法收养")
    if not facts.hukou_in_county:
        found.append("儿童户籍已迁出本县")
    return "，".join(found)


class _Check:
    """The facts a programme rests on: each condition met or not, with its words."""

    def __init__(self) -> None:
        self.met: list[str] = []
        self.unmet: list[str] = []

    def add(self, ok: bool, met: str, unmet: str) -> None:
        (self.met if ok else self.unmet).append(met if ok else unmet)

    @property
    def ok(self) -> bool:
        return not self.unmet

    @property
    def reason(self) -> str:
        return "；".join(self.unmet or self.met)


def _programmes(
    facts: ChildFacts, as_of: date, thresholds: Thresholds
) -> tuple[ProgrammeResult, ...]:
    barrier = _barrier(facts, as_of)
    if barrier:
        reason = f"{barrier}，不享受任何保障项目"
        return tuple(ProgrammeResult(code, False, reason) for code in COMPUTED)

    father = parent_standing(facts.father, "父亲", as_of, thresholds)
    mother = parent_standing(facts.mother, "母亲", as_of, thresholds)
    parents = f"{father.reason}，{mother.reason}"
    household, enrolled = facts.household, facts.enrolled
    dibao = household.dibao or Programme.DIBAO in enrolled
    tekun = household.tekun or Programme.TEKUN in enrolled
    living_subsidy = Programme.DISABILITY_LIVING_SUBSIDY in enrolled
    birth = cn_date(facts.birth_date)

    adult_age = thresholds.adult_age
    minor = _under(facts.birth_date, as_of, adult_age)
    minor_text = f"儿童未满{adult_age}周岁（{birth}出生）"
    adult_text = f"儿童已满{adult_age}周岁（{birth}出生）"
    in_school = facts.schooling in FULL_TIME_BELOW_POSTGRADUATE
    if minor:
        allowance_age = (True, minor_text)
    elif thresholds.allowances_while_in_school and in_school:
        allowance_age = (True, f"{adult_text}，仍在全日制{SCHOOLING_LABELS[facts.schooling]}就读")
    elif not thresholds.allowances_while_in_school:
        allowance_age = (False, adult_text)
    elif facts.schooling == Schooling.POSTGRADUATE:
        allowance_age = (False, f"{adult_text}，就读研究生，不在延续发放之列")
    else:
        allowance_age = (False, f"{adult_text}，未在全日制学校就读")
    rate = Rate.INSTITUTIONAL if facts.in_institution else Rate.SCATTERED
    rate_text = "儿童在福利机构集中养育" if facts.in_institution else "儿童社会散居"

    # Orphan allowance: both parents gone.
    orphan = _Check()
    both_gone = father.standing == Standing.GONE and mother.standing == Standing.GONE
    orphan.add(both_gone, parents, f"{parents}：父母并非均已死亡、被宣告死亡、被宣告失踪或查找不到")
    orphan.add(allowance_age[0], allowance_age[1], allowance_age[1])
    if orphan.ok:
        orphan.met.insert(1, rate_text)

    # De facto allowance: not both gone; each parent gone or in S.
    de_facto = _Check()
    if both_gone:
        de_facto.add(False, "", f"{parents}：父母均已死亡或失踪，属于孤儿")
    else:
        supported = Standing.ABLE in (father.standing, mother.standing)
        de_facto.add(
            not supported,
            parents,
            f"{parents}：不符合父母双方均不能履行抚养义务的情形",
        )
    de_facto.add(allowance_age[0], allowance_age[1], allowance_age[1])
    top_up = de_facto.ok and (dibao or living_subsidy)
    if de_facto.ok:
        de_facto.met.insert(1, rate_text)
        sources = [
            *(["家庭享受最低生活保障"] if dibao else []),
            *(["儿童享受困难残疾人生活补贴"] if living_subsidy else []),
        ]
        if sources:
            de_facto.met.append(f"{'、'.join(sources)}，按差额补齐（补差发放）")

    disability = facts.disability
    certificate = f"儿童持残疾人证（{_certificate(disability)}）" if disability else ""
    no_certificate = "儿童无残疾人证"
    no_tekun = ("未享受特困人员救助供养", "儿童享受特困人员救助供养")

    # Disability living subsidy.
    living = _Check()
    living.add(disability is not None, certificate, no_certificate)
    living.add(dibao, "家庭享受最低生活保障", "家庭未享受最低生活保障")
    living.add(not orphan.ok, "不符合孤儿基本生活费条件", "儿童符合孤儿基本生活费条件")
    living.add(not tekun, *no_tekun)
    living.add(not facts.in_institution, "未在福利机构生活", "儿童在福利机构生活")
    living.add(minor, minor_text, adult_text)

    # Disability care subsidy.
    care = _Check()
    grade = thresholds.care_subsidy_grade
    if disability is None:
        care.add(False, "", no_certificate)
    else:
        care.add(
            disability.grade <= grade,
            certificate,
            f"{certificate}，未达到{_and_above(grade)}",
        )
    care.add(not tekun, *no_tekun)
    care.add(minor, minor_text, adult_text)

    # Rehabilitation assistance.
    rehab = _Check()
    rehab_age = thresholds.rehab_age
    rehab.add(
        _under(facts.birth_date, as_of, rehab_age),
        f"儿童未满{rehab_age}周岁（{birth}出生）",
        f"儿童已满{rehab_age}周岁（{birth}出生）",
    )
    if disability is None:
        rehab.add(False, "", no_certificate)
    else:
        rehab.add(
            disability.category in REHAB_CATEGORIES,
            certificate,
            f"{certificate}，不属于康复救助的残疾类别",
        )
    grounds = [
        text
        for ok, text in (
            (dibao, "家庭享受最低生活保障"),
            (household.low_income, "家庭为低收入家庭"),
            (tekun, "儿童享受特困人员救助供养"),
            (orphan.ok, "儿童符合孤儿基本生活费条件"),
            (de_facto.ok, "儿童符合事实无人抚养儿童基本生活补贴条件"),
            (facts.in_institution, "儿童在福利机构生活"),
        )
        if ok
    ]
    rehab.add(
        bool(grounds),
        "、".join(grounds),
        "家庭未享受最低生活保障、不是低收入家庭，儿童未享受特困人员救助供养、"
        "不符合孤儿或事实无人抚养儿童基本生活补贴条件、未在福利机构生活",
    )

    return (
        ProgrammeResult(
            Programme.ORPHAN_ALLOWANCE,
            orphan.ok,
            orphan.reason,
            rate if orphan.ok else None,
            False,
        ),
        ProgrammeResult(
            Programme.DE_FACTO_ALLOWANCE,
            de_facto.ok,
            de_facto.reason,
            rate if de_facto.ok else None,
            top_up,
        ),
        ProgrammeResult(Programme.DISABILITY_LIVING_SUBSIDY, living.ok, living.reason),
        ProgrammeResult(Programme.DISABILITY_CARE_SUBSIDY, care.ok, care.reason),
        ProgrammeResult(Programme.REHAB_ASSISTANCE, rehab.ok, rehab.reason),
    )
