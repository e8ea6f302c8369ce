"""The rules' facts (``rules.ChildFacts``) read from today's registry and enrolments, for the
gap list (decision 025).

An adapter: the registry does not yet hold every fact the rules need (a parent's dated legal
states, a parent's disability certificate, the child's welfare institution, adoption, low
income). Where a fact is missing it is not invented: the parent counts as able for the rules
(the state cannot qualify without it) and the record names the missing fact in Chinese
(``ChildRecord.missing``), so that the gap list says what to collect. A later facts model with
dated states replaces this module's mapping, not its callers.

Batches of ``BATCH`` children; two queries per batch (parents, enrolments), whatever the
number of children in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q

from tongxin.benefits import rules
from tongxin.benefits.models import BenefitEnrolment, month_start
from tongxin.benefits.policy import thresholds
from tongxin.core.dates import cn_date
from tongxin.registry.models import (
    Capacity,
    Child,
    ChildStatus,
    Enrolment,
    Parent,
    ParentRole,
    ParentStatus,
    SchoolStage,
)

BATCH = 500

# The child's fields the adapter reads (``Child.objects.only(*CHILD_FIELDS)``).
CHILD_FIELDS = (
    "id",
    "public_id",
    "household_id",
    "village_id",
    "birth_date",
    "status",
    "status_since",
    "school_stage",
    "enrolment",
    "disability_type",
    "disability_grade",
    "disability_certificate_expiry",
    "categories",
)

_GONE_STATUS = {
    ParentStatus.DECEASED: rules.ParentState.DECEASED,
    ParentStatus.DECLARED_DEAD: rules.ParentState.DECLARED_DEAD,
    ParentStatus.DECLARED_MISSING: rules.ParentState.DECLARED_MISSING,
    ParentStatus.UNKNOWN: rules.ParentState.UNKNOWN,
}
# A restriction of freedom counts only from a date, for 6 months or more: without its dates
# the registry cannot say, so the parent counts as able and the date is named as missing.
_RESTRICTION_CAPACITY = {
    Capacity.IMPRISONED: rules.ParentState.IMPRISONED,
    Capacity.COMPULSORY_DETOX: rules.ParentState.COMPULSORY_DETOX,
    Capacity.RESTRICTED_FREEDOM: rules.ParentState.RESTRICTED_FREEDOM,
}
_SCHOOLING = {
    SchoolStage.KINDERGARTEN: rules.Schooling.PRESCHOOL,
    SchoolStage.PRIMARY: rules.Schooling.PRIMARY,
    SchoolStage.JUNIOR: rules.Schooling.JUNIOR,
    SchoolStage.SENIOR: rules.Schooling.SENIOR,
    SchoolStage.VOCATIONAL: rules.Schooling.VOCATIONAL,
}
# The registry's disability type is the ledger's free text (肢体, 智力残疾, …): its words.
_DISABILITY_WORDS = (
    ("多重", rules.DisabilityCategory.MULTIPLE),
    ("孤独", rules.DisabilityCategory.AUTISM),
    ("视力", rules.DisabilityCategory.VISUAL),
    ("听力", rules.DisabilityCategory.HEARING),
    ("言语", rules.DisabilityCategory.SPEECH),
    ("语言", rules.DisabilityCategory.SPEECH),
    ("肢体", rules.DisabilityCategory.PHYSICAL),
    ("智力", rules.DisabilityCategory.INTELLECTUAL),
    ("精神", rules.DisabilityCategory.MENTAL),
)


@dataclass(frozen=True, slots=True)
class EnrolmentSpan:
    """An enrolment of the child (or of its household, for dibao), months as first days."""

    programme: rules.Programme
    rate: str
    monthly_amount: Decimal
    start_month: date
    end_month: date | None  # inclusive; None: open

    def covers(self, month: date) -> bool:
        month = month_start(month)
        return self.start_month <= month and (self.end_month is None or month <= self.end_month)


@dataclass(frozen=True, slots=True)
class ChildRecord:
    """One child's facts for the rules on ``as_of``, with what the registry lacks.

    ``missing``: facts the rules would need and the registry does not hold, in Chinese
    (``父亲服刑在押：缺少起始日期``); ``events``: dated facts of the file the rules read as
    undated ones (the child's death, its transfer out of the county), for the date a benefit
    should have stopped."""

    child_id: int
    public_id: str
    status: str
    facts: rules.ChildFacts
    missing: tuple[str, ...]
    categories: tuple[str, ...]
    enrolments: tuple[EnrolmentSpan, ...]
    events: tuple[tuple[date, str], ...] = ()

    def facts_on(self, day: date) -> rules.ChildFacts:
        """The facts with the receipts of ``day``'s month (the enrolments read): what the rules
        would have been given then, the registry's undated facts being today's."""
        return replace(self.facts, **_receipts(self.enrolments, day))

    def enrolment_on(self, programme: str, month: date) -> EnrolmentSpan | None:
        return next(
            (e for e in self.enrolments if e.programme == programme and e.covers(month)), None
        )


def _parent_facts(parent: Parent | None, who: str) -> tuple[rules.ParentFacts, list[str]]:
    """The rules' parent from the registry's status and capacity, and the facts missing."""
    if parent is None:
        return rules.ABLE_PARENT, [f"缺少{who}的登记信息"]
    status = parent.status
    if status in _GONE_STATUS:
        # A death or a declaration is gone whatever its date: the rules need none.
        return rules.ParentFacts(_GONE_STATUS[ParentStatus(status)]), []
    if status == ParentStatus.LOST_CONTACT:
        # The rules read "lost contact" without a police report as never counting.
        return rules.ParentFacts(rules.ParentState.LOST_CONTACT), [
            f"{who}失联：缺少公安机关受理报案的日期"
        ]
    capacity = parent.capacity
    if capacity == Capacity.SERIOUS_ILLNESS:
        return rules.ParentFacts(rules.ParentState.SERIOUS_ILLNESS), []
    if capacity == Capacity.SERIOUS_DISABILITY:
        return rules.ABLE_PARENT, [f"{who}重残：缺少残疾人证的类别和等级"]
    if capacity in _RESTRICTION_CAPACITY:
        label = rules.STATE_LABELS[_RESTRICTION_CAPACITY[Capacity(capacity)]]
        return rules.ABLE_PARENT, [f"{who}{label}：缺少起始日期"]
    return rules.ABLE_PARENT, []


def _disability(child: Child, as_of: date) -> tuple[rules.Disability | None, list[str]]:
    kind, grade = child.disability_type.strip(), child.disability_grade
    if not kind and grade is None:
        return None, []
    category = next((c for word, c in _DISABILITY_WORDS if word in kind), None)
    if category is None:
        try:
            category = rules.DisabilityCategory(kind)
        except ValueError:
            return None, [f"儿童残疾：缺少可识别的残疾类别（登记为“{kind or '空'}”）"]
    if grade is None or not 1 <= grade <= 4:
        return None, ["儿童残疾：缺少残疾等级"]
    expiry = child.disability_certificate_expiry
    if expiry is not None and expiry < as_of:
        return None, [f"儿童残疾人证已于{cn_date(expiry)}过期"]
    return rules.Disability(category, grade), []


def _schooling(child: Child) -> rules.Schooling:
    """Full-time schooling from the school stage; not in school (dropped out, graduated, not
    enrolled) is none whatever the stage. The registry has no college or postgraduate stage."""
    if child.enrolment != Enrolment.IN_SCHOOL or not child.school_stage:
        return rules.Schooling.NONE
    return _SCHOOLING.get(SchoolStage(child.school_stage), rules.Schooling.NONE)


def _receipts(enrolments: Iterable[EnrolmentSpan], day: date) -> dict[str, Any]:
    month = month_start(day)
    codes = frozenset(e.programme for e in enrolments if e.covers(month))
    return {
        "household": rules.Household(
            dibao=rules.Programme.DIBAO in codes,
            low_income=False,  # not in the registry yet
            tekun=rules.Programme.TEKUN in codes,
        ),
        "enrolled": codes,
    }


def _record(
    child: Child,
    parents: dict[str, Parent],
    enrolments: Sequence[EnrolmentSpan],
    as_of: date,
    adult_age: int,
) -> ChildRecord:
    missing: list[str] = []
    father, lacking = _parent_facts(parents.get(ParentRole.FATHER), "父亲")
    missing += lacking
    mother, lacking = _parent_facts(parents.get(ParentRole.MOTHER), "母亲")
    missing += lacking
    disability, lacking = _disability(child, as_of)
    missing += lacking
    schooling = _schooling(child)
    if (
        child.enrolment == Enrolment.IN_SCHOOL
        and not child.school_stage
        and as_of.year - child.birth_date.year >= adult_age - 1
    ):
        # Past 18 the allowances continue only in full-time schooling: the stage decides.
        missing.append("儿童在校，但缺少就学阶段")
    deceased = child.status == ChildStatus.DECEASED
    moved = child.status == ChildStatus.TRANSFERRED_OUT
    events: list[tuple[date, str]] = []
    if deceased:
        events.append((child.status_since, f"儿童于{cn_date(child.status_since)}死亡"))
    if moved:
        events.append((child.status_since, f"儿童于{cn_date(child.status_since)}转出本县"))
    facts = rules.ChildFacts(
        birth_date=child.birth_date,
        father=father,
        mother=mother,
        # Not in the registry yet: no welfare institution or adoption recorded.
        in_institution=False,
        schooling=schooling,
        adopted=False,
        deceased=deceased,
        hukou_in_county=not moved,
        disability=disability,
        **_receipts(enrolments, as_of),
    )
    return ChildRecord(
        child_id=child.pk,
        public_id=str(child.public_id),
        status=child.status,
        facts=facts,
        missing=tuple(missing),
        categories=tuple(c["code"] for c in child.categories or ()),
        enrolments=tuple(enrolments),
        events=tuple(events),
    )


def records_for(
    children: Iterable[Child], as_of: date, *, enrolments_from: date | None = None
) -> dict[int, ChildRecord]:
    """Child pk → its record on ``as_of``. ``children`` hold at least ``CHILD_FIELDS``; the
    enrolments read are those covering a month from ``enrolments_from`` (default: the month of
    ``as_of``) on. Two queries per ``BATCH`` children."""
    adult_age = thresholds().adult_age
    since = month_start(enrolments_from or as_of)
    found: dict[int, ChildRecord] = {}
    batch: list[Child] = []

    def flush() -> None:
        if not batch:
            return
        child_ids = [c.pk for c in batch]
        household_ids = sorted({c.household_id for c in batch})
        parents: dict[int, dict[str, Parent]] = defaultdict(dict)
        for parent in Parent.objects.filter(household_id__in=household_ids).only(
            "id", "household_id", "role", "status", "capacity"
        ):
            parents[parent.household_id][parent.role] = parent
        of_child: dict[int, list[EnrolmentSpan]] = defaultdict(list)
        of_household: dict[int, list[EnrolmentSpan]] = defaultdict(list)
        rows = (
            BenefitEnrolment.objects.filter(
                Q(child_id__in=child_ids) | Q(household_id__in=household_ids)
            )
            .filter(Q(end_month__isnull=True) | Q(end_month__gte=since))
            .order_by("start_month", "programme", "pk")
            .values_list(
                "child_id",
                "household_id",
                "programme",
                "rate",
                "monthly_amount",
                "start_month",
                "end_month",
            )
        )
        for child_id, household_id, programme, rate, amount, start, end in rows:
            span = EnrolmentSpan(rules.Programme(programme), rate, amount, start, end)
            if child_id is not None:
                of_child[child_id].append(span)
            else:
                of_household[household_id].append(span)
        for child in batch:
            spans = of_child.get(child.pk, []) + of_household.get(child.household_id, [])
            found[child.pk] = _record(
                child, parents.get(child.household_id, {}), spans, as_of, adult_age
            )
        batch.clear()

    for child in children:
        batch.append(child)
        if len(batch) >= BATCH:
            flush()
    flush()
    return found


def facts_for(children: Iterable[Child], as_of: date) -> dict[int, ChildRecord]:
    """Child pk → its facts for the rules on ``as_of`` and the facts the registry lacks
    (``ChildRecord.facts``, ``ChildRecord.missing``). Two queries per ``BATCH`` children."""
    return records_for(children, as_of)
