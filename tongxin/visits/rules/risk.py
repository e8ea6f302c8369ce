"""A child's risk level: the factors that raise it, an officer's override, and the level
kept over time (the risk history). Pure.

Risk (``risk_level``, ``apply_override``)
    The plan's factors, each with a Chinese reason. Any one of no guardian (无人监护), a
    guardianship assessment of 差, an open problem of high severity, or school dropout makes the
    risk high on its own: each says the child's care or schooling is failing now. The others
    (both parents away ≥ 12 months, a parent's serious physical or intellectual disability, the
    child's disability, psychological or behavioural problems, a missing or expired care
    agreement for a left-behind child) make it medium one at a time and high two at a time
    (``RiskThresholds.factors_for_high``). An officer's override holds through its end date
    (inclusive); the computed risk stays alongside it.

Risk history (``RiskHistory``, ``record_level``, ``timeline``)
    The computed level is kept as spans (``RiskSpan``: from a day, until the next change,
    ``end`` exclusive), a new span only when the level changes; a computation as of a day holds
    from that day until the next change already recorded after it (``record_level``). An
    override (``OverrideSpan``) holds from the day it was set through its end date, until the
    day it was cleared or replaced (exclusive): it never reaches back before it was made. The
    level on a day is the override in force that day (the latest set, when two are), else the
    computed level of that day, else low (nothing recorded yet: as a child without a stored
    level).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import NamedTuple

from tongxin.core.dates import add_months, cn_date
from tongxin.visits.rules.vocabulary import RiskLevel

# --- risk ------------------------------------------------------------------------------------


class RiskFactor(StrEnum):
    BOTH_PARENTS_AWAY = "both_parents_away"
    PARENT_DISABILITY = "parent_disability"
    CHILD_DISABILITY = "child_disability"
    PSYCHOLOGICAL = "psychological"
    HIGH_SEVERITY_PROBLEM = "high_severity_problem"
    CARE_AGREEMENT = "care_agreement"
    DROPOUT = "dropout"
    POOR_GUARDIANSHIP = "poor_guardianship"
    NO_GUARDIAN = "no_guardian"


# Each alone makes the risk high (module doc).
SEVERE_FACTORS = frozenset(
    {
        RiskFactor.NO_GUARDIAN,
        RiskFactor.POOR_GUARDIANSHIP,
        RiskFactor.HIGH_SEVERITY_PROBLEM,
        RiskFactor.DROPOUT,
    }
)
POOR_ASSESSMENT = "poor"  # registry.models.GuardianshipAssessment.POOR (差)
_GRADE_LABELS = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}


class AgreementFact(NamedTuple):
    """A care agreement (委托照护协议): in force from ``signed_on`` through ``valid_until``
    (None: open), until ``terminated_on`` (the first day it no longer holds)."""

    signed_on: date
    valid_until: date | None = None
    terminated_on: date | None = None


@dataclass(frozen=True, slots=True)
class RiskFacts:
    """The facts the risk level reads.

    ``*_away_since``: the start of the parent's current continuous spell away from home (for a
    spell with an unknown start, the day it was recorded); None when at home. ``left_behind``:
    the child is in the left-behind category (the agreement factor applies only then).
    ``guardianship_assessment``: ``good`` / ``fair`` / ``poor`` (监护情况评估), or "".
    """

    father_away_since: date | None = None
    mother_away_since: date | None = None
    father_serious_disability: bool = False
    mother_serious_disability: bool = False
    child_disability: bool = False
    child_disability_grade: int | None = None
    psychological_problems: bool = False
    open_high_severity_problems: int = 0
    left_behind: bool = False
    care_agreements: tuple[AgreementFact, ...] = ()
    dropped_out: bool = False
    guardianship_assessment: str = ""
    no_guardian: bool = False


@dataclass(frozen=True, slots=True)
class RiskThresholds:
    """The county's numbers: months both parents away, and other factors that make it high."""

    parents_away_months: int = 12
    factors_for_high: int = 2

    def __post_init__(self) -> None:
        if self.parents_away_months < 1 or self.factors_for_high < 2:
            raise ValueError(f"risk thresholds out of range: {self}")


DEFAULT_RISK_THRESHOLDS = RiskThresholds()


class Risk(NamedTuple):
    level: RiskLevel
    reasons: tuple[str, ...]
    factors: tuple[RiskFactor, ...]


def risk_level(
    facts: RiskFacts, as_of: date, thresholds: RiskThresholds = DEFAULT_RISK_THRESHOLDS
) -> Risk:
    """The computed risk on ``as_of`` with a Chinese reason per factor found."""
    found: list[tuple[RiskFactor, str]] = []
    father, mother = facts.father_away_since, facts.mother_away_since
    months = thresholds.parents_away_months
    if (
        father is not None
        and mother is not None
        and add_months(max(father, mother), months) <= as_of
    ):
        found.append(
            (
                RiskFactor.BOTH_PARENTS_AWAY,
                f"父母均外出务工满{months}个月（父亲自{cn_date(father)}起，"
                f"母亲自{cn_date(mother)}起）",
            )
        )
    if facts.father_serious_disability or facts.mother_serious_disability:
        who = (
            "父母均"
            if facts.father_serious_disability and facts.mother_serious_disability
            else "父亲"
            if facts.father_serious_disability
            else "母亲"
        )
        found.append((RiskFactor.PARENT_DISABILITY, f"{who}有严重身体或智力残疾"))
    if facts.child_disability or facts.child_disability_grade is not None:
        grade = facts.child_disability_grade
        label = f"（残疾等级{_GRADE_LABELS.get(grade, f'{grade}级')}）" if grade else ""
        found.append((RiskFactor.CHILD_DISABILITY, f"儿童残疾{label}"))
    if facts.psychological_problems:
        found.append((RiskFactor.PSYCHOLOGICAL, "记录有心理或行为问题"))
    if facts.open_high_severity_problems > 0:
        found.append(
            (
                RiskFactor.HIGH_SEVERITY_PROBLEM,
                f"有{facts.open_high_severity_problems}个高严重程度的问题尚未解决",
            )
        )
    if facts.left_behind:
        reason = _agreement_gap(facts.care_agreements, as_of)
        if reason:
            found.append((RiskFactor.CARE_AGREEMENT, reason))
    if facts.dropped_out:
        found.append((RiskFactor.DROPOUT, "儿童辍学"))
    if facts.guardianship_assessment == POOR_ASSESSMENT:
        found.append((RiskFactor.POOR_GUARDIANSHIP, "监护情况评估为差"))
    if facts.no_guardian:
        found.append((RiskFactor.NO_GUARDIAN, "无人监护"))

    factors = tuple(factor for factor, _reason in found)
    severe = any(factor in SEVERE_FACTORS for factor in factors)
    if severe or len(factors) >= thresholds.factors_for_high:
        level = RiskLevel.HIGH
    elif factors:
        level = RiskLevel.MEDIUM
    else:
        level = RiskLevel.LOW
    return Risk(level, tuple(reason for _factor, reason in found), factors)


def _agreement_gap(agreements: Iterable[AgreementFact], as_of: date) -> str:
    """Why no care agreement holds on ``as_of`` ("" when one does); as registry.agreements."""
    signed = [a for a in agreements if a.signed_on <= as_of]
    if not signed:
        return "留守儿童没有委托照护协议"
    for agreement in signed:
        ended = agreement.terminated_on is not None and agreement.terminated_on <= as_of
        expired = agreement.valid_until is not None and agreement.valid_until < as_of
        if not ended and not expired:
            return ""
    latest = max(signed, key=lambda a: a.signed_on)
    if latest.terminated_on is not None and latest.terminated_on <= as_of:
        return f"留守儿童的委托照护协议已于{cn_date(latest.terminated_on)}解除"
    assert latest.valid_until is not None
    return f"留守儿童的委托照护协议已过期（有效期至{cn_date(latest.valid_until)}）"


class EffectiveRisk(NamedTuple):
    """The level that drives the worklist, with the computed risk kept beside it.
    ``override_level`` / ``override_until``: the override in force, None when there is none."""

    level: RiskLevel
    computed: Risk
    override_level: RiskLevel | None
    override_until: date | None


def apply_override(
    computed: Risk,
    override_level: RiskLevel | str | None,
    override_until: date | None,
    as_of: date,
) -> EffectiveRisk:
    """An officer's override holds through ``override_until`` (inclusive), then lapses."""
    if override_level is None:
        return EffectiveRisk(computed.level, computed, None, None)
    if override_until is None:
        raise ValueError("a risk override needs an end date")
    if as_of > override_until:
        return EffectiveRisk(computed.level, computed, None, None)
    level = RiskLevel(override_level)
    return EffectiveRisk(level, computed, level, override_until)


# --- risk history ----------------------------------------------------------------------------

_RISK_RANK = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


def risk_rank(level: RiskLevel | str) -> int:
    """0 low, 1 medium, 2 high (the order the SQL compares levels in)."""
    return _RISK_RANK[RiskLevel(level)]


class RiskSpan(NamedTuple):
    """The computed level from ``start`` until ``end`` (exclusive; None: still in force)."""

    start: date
    end: date | None
    level: RiskLevel

    def holds_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


class OverrideSpan(NamedTuple):
    """An officer's override: set on ``starts_on``, through ``ends_on`` (inclusive), until
    ``cleared_on`` (exclusive: the day it was cleared or replaced; None: never cleared)."""

    level: RiskLevel
    starts_on: date
    ends_on: date
    cleared_on: date | None = None

    def holds_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on and (
            self.cleared_on is None or day < self.cleared_on
        )


@dataclass(frozen=True, slots=True)
class RiskHistory:
    """A child's risk over time: the computed spans and the overrides in the order they were
    set. Empty: nothing recorded, low on every day."""

    computed: tuple[RiskSpan, ...] = ()
    overrides: tuple[OverrideSpan, ...] = ()

    def computed_on(self, day: date) -> RiskLevel | None:
        for span in self.computed:
            if span.holds_on(day):
                return span.level
        return None

    def override_index(self, day: date) -> int | None:
        """Which override is in force on ``day`` (its index): of two, the one set on the later
        day, then the one set later that day; None when none is."""
        found: int | None = None
        for i, override in enumerate(self.overrides):
            if override.holds_on(day) and (
                found is None or override.starts_on >= self.overrides[found].starts_on
            ):
                found = i
        return found

    def override_on(self, day: date) -> OverrideSpan | None:
        index = self.override_index(day)
        return None if index is None else self.overrides[index]

    def level_on(self, day: date) -> RiskLevel:
        override = self.override_on(day)
        if override is not None:
            return override.level
        return self.computed_on(day) or RiskLevel.LOW


NO_RISK_HISTORY = RiskHistory()


def record_level(
    spans: Iterable[RiskSpan], day: date, level: RiskLevel | str
) -> tuple[RiskSpan, ...]:
    """The computed spans once a computation as of ``day`` found ``level``: unchanged when that
    already is the level on ``day``; otherwise ``level`` holds from ``day`` until the span
    that held on ``day`` would have ended (or, on a day nothing held, until the next span
    begins). Touching spans of one level are merged: a span starts only where the level
    changes."""
    level = RiskLevel(level)
    ordered = sorted(spans)
    holding = next((s for s in ordered if s.holds_on(day)), None)
    if holding is not None and holding.level is level:
        return tuple(ordered)
    if holding is not None:
        stop = holding.end
    else:
        stop = min((s.start for s in ordered if s.start > day), default=None)
    kept: list[RiskSpan] = [RiskSpan(day, stop, level)]
    for span in ordered:
        if span.start < day:
            end = day if span.end is None else min(span.end, day)
            kept.append(RiskSpan(span.start, end, span.level))
        if stop is not None and (span.end is None or span.end > stop):
            kept.append(RiskSpan(max(span.start, stop), span.end, span.level))
    merged: list[RiskSpan] = []
    for span in sorted(kept):
        last = merged[-1] if merged else None
        if last is not None and last.end == span.start and last.level is span.level:
            merged[-1] = RiskSpan(last.start, span.end, span.level)
        else:
            merged.append(span)
    return tuple(merged)


class TimelineEntry(NamedTuple):
    """A stretch of days with one level in force: from ``start`` until ``end`` (exclusive; None:
    still), the computed level of those days (None: nothing computed yet) and the index in
    ``RiskHistory.overrides`` of the override in force (None: the computed level applies)."""

    start: date
    end: date | None
    level: RiskLevel
    computed: RiskLevel | None
    override: int | None


def timeline(history: RiskHistory, upto: date | None = None) -> tuple[TimelineEntry, ...]:
    """The level in force over time, newest first: one entry per stretch of days on which the
    level, the computed level and the override in force stay the same; with ``upto``, only the
    stretches begun by that day (the last one keeps its end: an override's last day)."""
    edges: set[date] = set()
    for span in history.computed:
        edges.add(span.start)
        if span.end is not None:
            edges.add(span.end)
    for override in history.overrides:
        stop = override.ends_on + timedelta(days=1)
        if override.cleared_on is not None:
            stop = min(stop, override.cleared_on)
        if override.starts_on < stop:
            edges |= {override.starts_on, stop}
    if not edges:
        return ()
    days = sorted(edges)
    ends: list[date | None] = [*days[1:], None]
    entries: list[TimelineEntry] = []
    for start, end in zip(days, ends, strict=True):
        if upto is not None and start > upto:
            break
        index = history.override_index(start)
        computed = history.computed_on(start)
        if index is None and computed is None:
            continue  # before anything was recorded, or after an override with nothing beneath
        level = history.overrides[index].level if index is not None else computed
        assert level is not None
        last = entries[-1] if entries else None
        if (
            last is not None
            and last.end == start
            and (last.level, last.computed, last.override) == (level, computed, index)
        ):
            entries[-1] = last._replace(end=end)
        else:
            entries.append(TimelineEntry(start, end, level, computed, index))
    return tuple(reversed(entries))
