"""The gap list (应保尽保, 应退尽退) of issue 13: for a division and a date, one line per child
and programme, each explained (decision 025).

Kinds (``GapKind``):

- ``eligible_not_enrolled``: the rules say eligible, no enrolment covers the month of ``as_of``;
- ``enrolled_not_eligible``: enrolled on ``as_of``, the rules say no longer; with the month
  payment should have stopped and the months paid since, when the event's date is known, else
  neither: the file's death or transfer date, or a birthday (the month after it), or a change
  of the other enrolments (a dibao ended, tekun begun: that month); never before the
  enrolment's first month;
- ``conflict``: two programmes received together that must not be (``rules.EXCLUSIVE_PAIRS``);
- ``below_standard``: a month's payment below the standard in force that month; the de facto
  allowance paid as a top-up is checked against the standard minus what the child's own
  payment lines show for dibao and the disability living subsidy that month;
- ``missing_payment``: enrolled for a month of the ``months_back`` months before the month of
  ``as_of`` and no payment line in force for it, when that month's roll of that programme has
  been applied in the county (some line exists): a roll not yet imported is not a gap;
- ``classified_not_eligible``: the file's category is orphan or de facto unsupported, the child
  is not enrolled in the allowance, and the rules refuse it: the reason names the facts missing
  or failing.

Children in scope: the active children of the division, and any other child of it with an
enrolment of its own still running in the window (a child who died or moved out and is still
paid); for those, only ``enrolled_not_eligible`` is listed.

Reasons are Chinese domain sentences built from the rules' own texts, as ``rules.py`` writes
them (decision 009), not interface strings.

Queries: four for the run (the division, the children's ids, the standards, the months rolled)
and five per batch of ``facts.BATCH`` children (the children, parents, enrolments and two for
payments), whatever the number of children in a batch.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from django.db.models import Exists, OuterRef, Q

from tongxin.benefits import rules, selectors
from tongxin.benefits.facts import BATCH, CHILD_FIELDS, ChildRecord, records_for
from tongxin.benefits.models import BenefitEnrolment, month_start
from tongxin.benefits.policy import thresholds as policy_thresholds
from tongxin.benefits.roll_models import PaymentLine
from tongxin.benefits.roll_selectors import Payment, payments_for
from tongxin.core.dates import add_months, birthday, cn_date
from tongxin.geo.models import Division, Level, code_prefix
from tongxin.registry.models import CategoryCode, Child, ChildStatus


class GapKind(StrEnum):
    ELIGIBLE_NOT_ENROLLED = "eligible_not_enrolled"
    ENROLLED_NOT_ELIGIBLE = "enrolled_not_eligible"
    CONFLICT = "conflict"
    BELOW_STANDARD = "below_standard"
    MISSING_PAYMENT = "missing_payment"
    CLASSIFIED_NOT_ELIGIBLE = "classified_not_eligible"


# Programmes paid a fixed monthly amount, checked against their standard.
CHECKED_AGAINST_STANDARD = frozenset(
    {
        rules.Programme.ORPHAN_ALLOWANCE,
        rules.Programme.DE_FACTO_ALLOWANCE,
        rules.Programme.DISABILITY_LIVING_SUBSIDY,
        rules.Programme.DISABILITY_CARE_SUBSIDY,
        rules.Programme.TEKUN,
    }
)
# What a top-up de facto allowance tops up (补差发放).
TOPPED_UP_BY = (rules.Programme.DIBAO, rules.Programme.DISABILITY_LIVING_SUBSIDY)
# The categories whose allowance the rules must confirm.
CLASSIFIED = (
    (CategoryCode.ORPHAN, rules.Programme.ORPHAN_ALLOWANCE, "孤儿"),
    (CategoryCode.DE_FACTO_UNSUPPORTED, rules.Programme.DE_FACTO_ALLOWANCE, "事实无人抚养儿童"),
)


@dataclass(frozen=True, slots=True)
class Gap:
    """One line of the gap list. ``since``: the day the gap began, when known.

    ``other_programme``: for a conflict, the second programme of the pair. For
    ``enrolled_not_eligible``: ``stop_month`` (the first month that should not have been paid)
    and ``months_paid_since`` (months with a payment line from it through the month of
    ``as_of``), both None when the event's date is unknown. For ``below_standard`` and
    ``missing_payment``: ``month``; for ``below_standard`` also ``paid`` and ``standard`` (the
    amount due: the standard less what it tops up)."""

    child_id: int
    child_public_id: str
    programme: str
    kind: GapKind
    reason: str
    since: date | None = None
    other_programme: str = ""
    stop_month: date | None = None
    months_paid_since: int | None = None
    month: date | None = None
    paid: Decimal | None = None
    standard: Decimal | None = None
    fingerprint: str = ""


def gap_key(gap: Gap) -> str:
    """What identifies a gap from one run to the next: child, kind, programme(s), month."""
    parts = [str(gap.child_id), gap.kind.value, gap.programme]
    if gap.other_programme:
        parts.append(gap.other_programme)
    if gap.month is not None:
        parts.append(gap.month.strftime("%Y-%m"))
    return ":".join(parts)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, frozenset | set):
        return sorted(str(_plain(v)) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    return value


def facts_fingerprint(facts: Any, *extra: Any) -> str:
    """A stable SHA-256 of the facts a gap rests on (``rules.ChildFacts`` and any further
    values: missing facts, a month, amounts): equal facts give the same hex digest in every
    process, so a closed gap stays closed until it changes."""
    text = json.dumps(
        [_plain(facts), *(_plain(e) for e in extra)], ensure_ascii=False, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()


# --- helpers ---------------------------------------------------------------------------------


def _cn_month(month: date) -> str:
    return f"{month.year}年{month.month}月"


def _yuan(amount: Decimal) -> str:
    return f"{amount:.2f}元"


def _label(code: str) -> str:
    return rules.PROGRAMME_LABELS[rules.Programme(code)]


def _missing(record: ChildRecord) -> str:
    return "；".join(record.missing)


class _Stop(NamedTuple):
    day: date  # the event
    text: str  # the event, in Chinese
    month: date  # the first month that should not have been paid


def _stop_event(
    record: ChildRecord, code: rules.Programme, as_of: date, thresholds: rules.Thresholds
) -> _Stop | None:
    """The day the child stopped qualifying for ``code``, when it is dated: the file's death or
    transfer, else the latest day on or before ``as_of`` on which the rules' answer turned —
    a birthday (18th, 7th) or a change of enrolments (a dibao ended, tekun begun), the
    registry's undated facts being today's on both sides; None when no such day is known."""
    stop = _stop_month(record, code, as_of, thresholds)
    if stop is None:
        return None
    enrolment = record.enrolment_on(code, as_of)
    if enrolment is not None and enrolment.start_month > stop.month:
        return stop._replace(month=enrolment.start_month)
    return stop


def _stop_month(
    record: ChildRecord, code: rules.Programme, as_of: date, thresholds: rules.Thresholds
) -> _Stop | None:
    if record.events:
        day, text = record.events[0]
        return _Stop(day, text, add_months(month_start(day), 1))
    facts = record.facts
    points: dict[date, str] = {}
    for age in (thresholds.adult_age, thresholds.rehab_age):
        points[birthday(facts.birth_date, age)] = f"儿童于{{day}}年满{age}周岁"
    for span in record.enrolments:
        if span.programme == code:
            continue
        label = _label(span.programme)
        points.setdefault(span.start_month, f"自{{month}}起享受{label}")
        if span.end_month is not None:
            points.setdefault(add_months(span.end_month, 1), f"{label}于{{last}}停发")
    for day in sorted((d for d in points if d <= as_of), reverse=True):
        before = rules.eligibility(
            record.facts_on(day - timedelta(days=1)), day - timedelta(days=1), thresholds
        )
        after = rules.eligibility(record.facts_on(day), day, thresholds)
        if before[code].eligible and not after[code].eligible:
            last = _cn_month(add_months(day, -1))
            text = points[day].format(day=cn_date(day), month=_cn_month(day), last=last)
            # A birthday stops the payment the month after; an enrolment's change, on the first
            # of a month, that month itself.
            changed_enrolment = day.day == 1 and not text.startswith("儿童于")
            return _Stop(day, text, add_months(month_start(day), 0 if changed_enrolment else 1))
    return None


# --- the list --------------------------------------------------------------------------------


def _scope_ids(prefix: str, window_start: date) -> list[int]:
    running = BenefitEnrolment.objects.filter(child_id=OuterRef("pk")).filter(
        Q(end_month__isnull=True) | Q(end_month__gte=window_start)
    )
    return list(
        Child.objects.filter(village__code__startswith=prefix)
        .filter(Q(status=ChildStatus.ACTIVE) | Exists(running))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _rolled(division: Division, months: list[date]) -> set[tuple[str, date]]:
    """The (programme, month) pairs some roll applied in the division's county paid."""
    if division.level in (Level.PROVINCE, Level.CITY):
        county = division.prefix
    else:
        county = code_prefix(division.code, Level.COUNTY)
    return set(
        PaymentLine.objects.current()
        .filter(month__in=months, village__code__startswith=county)
        .values_list("programme", "month")
        .distinct()
    )


def compute_gaps(division_code: str, as_of: date, *, months_back: int = 12) -> list[Gap]:
    """The gap list of the division on ``as_of`` (raises ``Division.DoesNotExist`` for an
    unknown code): by child (pk), each child's lines in the order of ``GapKind`` (payments by
    month). Nothing is written."""
    if months_back < 0:
        raise ValueError("months_back must not be negative")
    division = Division.objects.get(code=division_code)
    thresholds = policy_thresholds()
    month = month_start(as_of)
    window = [add_months(month, -k) for k in range(months_back, 0, -1)]
    window_start = window[0] if window else month
    ids = _scope_ids(division.prefix, window_start)
    if not ids:
        return []
    standards = selectors.StandardTable()
    rolled = _rolled(division, window)
    gaps: list[Gap] = []
    for start in range(0, len(ids), BATCH):
        part = ids[start : start + BATCH]
        children = Child.objects.filter(pk__in=part).only(*CHILD_FIELDS).order_by("pk")
        records = records_for(children, as_of, enrolments_from=window_start)
        gaps += _batch_gaps(records, as_of, window, thresholds, standards, rolled)
    return gaps


def _batch_gaps(
    records: dict[int, ChildRecord],
    as_of: date,
    window: list[date],
    thresholds: rules.Thresholds,
    standards: selectors.StandardTable,
    rolled: set[tuple[str, date]],
) -> list[Gap]:
    month = month_start(as_of)
    results = {pk: rules.eligibility(r.facts, as_of, thresholds) for pk, r in records.items()}
    # The first month each programme should have stopped, to read the payments since.
    stops: dict[tuple[int, str], _Stop | None] = {}
    earliest = window[0] if window else month
    for pk, record in records.items():
        for code in results[pk].enrolled_not_eligible:
            stop = _stop_event(record, code, as_of, thresholds)
            stops[(pk, code)] = stop
            if stop is not None:
                earliest = min(earliest, stop.month)
    months = []
    cursor = earliest
    while cursor <= month:
        months.append(cursor)
        cursor = add_months(cursor, 1)
    paid = payments_for(records.keys(), months)
    gaps: list[Gap] = []
    for pk, record in records.items():
        gaps += _child_gaps(
            record,
            results[pk],
            paid.get(pk, []),
            as_of,
            window,
            thresholds,
            standards,
            rolled,
            stops,
        )
    return gaps


def _child_gaps(
    record: ChildRecord,
    result: rules.Eligibility,
    payments: list[Payment],
    as_of: date,
    window: list[date],
    thresholds: rules.Thresholds,
    standards: selectors.StandardTable,
    rolled: set[tuple[str, date]],
    stops: dict[tuple[int, str], _Stop | None],
) -> list[Gap]:
    facts = record.facts
    month = month_start(as_of)
    active = record.status == ChildStatus.ACTIVE
    missing = _missing(record)

    def line(**fields: Any) -> Gap:
        return Gap(child_id=record.child_id, child_public_id=record.public_id, **fields)

    by_month: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for payment in payments:
        by_month[(payment.programme, payment.month)] += payment.amount
    gaps: list[Gap] = []

    if active:
        for code in result.eligible_not_enrolled:
            entry = result[code]
            rate = f"（{rules.RATE_LABELS[entry.rate]}）" if entry.rate else ""
            gaps.append(
                line(
                    programme=code,
                    kind=GapKind.ELIGIBLE_NOT_ENROLLED,
                    reason=f"符合{_label(code)}条件{rate}，未纳入保障：{entry.reason}",
                    fingerprint=facts_fingerprint(facts, code, record.missing),
                )
            )

    for code in result.enrolled_not_eligible:
        stop = stops.get((record.child_id, code))
        reason = f"享受{_label(code)}，但已不符合条件：{result[code].reason}"
        if missing:
            reason += f"；{missing}"
        stop_month = paid_since = None
        since = None
        if stop is not None:
            since, stop_month = stop.day, stop.month
            paid_since = len({m for (p, m) in by_month if p == code and stop_month <= m <= month})
            reason += (
                f"；{stop.text}，应自{_cn_month(stop_month)}起停发，此后已发放{paid_since}个月"
            )
        else:
            reason += "；登记信息未记载情况变化的日期，停发月份待核实"
        gaps.append(
            line(
                programme=code,
                kind=GapKind.ENROLLED_NOT_ELIGIBLE,
                reason=reason,
                since=since,
                stop_month=stop_month,
                months_paid_since=paid_since,
                fingerprint=facts_fingerprint(facts, code, record.missing, since),
            )
        )

    if not active:
        return gaps

    for first, second in result.conflicts:
        spans = [record.enrolment_on(code, month) for code in (first, second)]
        starts = [s.start_month for s in spans if s is not None]
        since = max(starts) if starts else None
        texts = [
            f"{_label(code)}（{_cn_month(s.start_month)}起）" if s else _label(code)
            for code, s in zip((first, second), spans, strict=True)
        ]
        gaps.append(
            line(
                programme=first,
                other_programme=second,
                kind=GapKind.CONFLICT,
                reason=f"同时享受{texts[0]}和{texts[1]}，两者不得同时享受",
                since=since,
                fingerprint=facts_fingerprint(sorted(facts.enrolled), first, second),
            )
        )

    for (paid_code, paid_month), amount in sorted(
        by_month.items(), key=lambda kv: (kv[0][1], kv[0][0])
    ):
        if paid_code not in CHECKED_AGAINST_STANDARD or paid_month not in window:
            continue
        gap = _below_standard(record, paid_code, paid_month, amount, by_month, standards)
        if gap is not None:
            gaps.append(gap)

    for missing_month in window:
        for enrolment in record.enrolments:
            code = enrolment.programme
            if code == rules.Programme.DIBAO or not enrolment.covers(missing_month):
                continue
            if (code, missing_month) not in rolled or (code, missing_month) in by_month:
                continue
            gaps.append(
                line(
                    programme=code,
                    kind=GapKind.MISSING_PAYMENT,
                    reason=(
                        f"{_cn_month(missing_month)}享受{_label(code)}"
                        f"（{_cn_month(enrolment.start_month)}起，每月"
                        f"{_yuan(enrolment.monthly_amount)}），"
                        f"但当月发放花名册中没有该儿童的发放记录"
                    ),
                    since=missing_month,
                    month=missing_month,
                    fingerprint=facts_fingerprint(code, missing_month, enrolment),
                )
            )

    for category, code, label in CLASSIFIED:
        if category not in record.categories or result[code].eligible or code in facts.enrolled:
            continue
        why = "；".join(filter(None, [missing, result[code].reason]))
        gaps.append(
            line(
                programme=code,
                kind=GapKind.CLASSIFIED_NOT_ELIGIBLE,
                reason=f"档案类别为{label}，但不符合{_label(code)}条件：{why}",
                fingerprint=facts_fingerprint(facts, code, category, record.missing),
            )
        )
    return gaps


def _below_standard(
    record: ChildRecord,
    code: str,
    paid_month: date,
    amount: Decimal,
    by_month: dict[tuple[str, date], Decimal],
    standards: selectors.StandardTable,
) -> Gap | None:
    enrolment = record.enrolment_on(code, paid_month)
    rate = ""
    if code in rules.ALLOWANCES:
        fallback = rules.Rate.INSTITUTIONAL if record.facts.in_institution else rules.Rate.SCATTERED
        rate = enrolment.rate if enrolment is not None and enrolment.rate else fallback.value
    standard = standards.on(code, rate, paid_month)
    if standard is None:
        return None
    due = standard
    deducted: list[str] = []
    notes: list[str] = []
    if code == rules.Programme.DE_FACTO_ALLOWANCE:
        for programme in TOPPED_UP_BY:
            value = by_month.get((programme, paid_month))
            if value:
                due -= value
                deducted.append(f"减去当月{_label(programme)}{_yuan(value)}")
        receives_dibao = any(
            e.programme == rules.Programme.DIBAO and e.covers(paid_month) for e in record.enrolments
        )
        if receives_dibao and not by_month.get((rules.Programme.DIBAO, paid_month)):
            notes.append("家庭享受最低生活保障，但未找到儿童本人当月的低保发放记录，按全额标准核对")
    if amount >= due:
        return None
    rate_text = f"，{rules.RATE_LABELS[rules.Rate(rate)]}" if rate else ""
    paid_text = f"{_cn_month(paid_month)}{_label(code)}发放{_yuan(amount)}"
    if deducted:
        reason = (
            f"{paid_text}，低于按差额补齐应发的{_yuan(due)}"
            f"（当月标准{_yuan(standard)}{rate_text}，{'，'.join(deducted)}）"
        )
    else:
        reason = (
            f"{paid_text}，低于当月标准{_yuan(standard)}（{rate_text.lstrip('，') or '不分档'}）"
        )
    if notes:
        reason += f"；{'；'.join(notes)}"
    return Gap(
        child_id=record.child_id,
        child_public_id=record.public_id,
        programme=code,
        kind=GapKind.BELOW_STANDARD,
        reason=reason,
        since=paid_month,
        month=paid_month,
        paid=amount,
        standard=due,
        fingerprint=facts_fingerprint(code, paid_month, amount, standard, due),
    )
