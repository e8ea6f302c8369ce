"""Compliance with the cadence over a report period: counted and met children (households
for the yearly contact), by obligation period and by risk level. Pure.

Compliance (``compliance``)
    The plan's minimums only (calendar obligations; risk plays no part). For a report period as
    long as the obligation's or longer (monthly contacts over a quarter or a year, home visits
    over a year), each obligation period inside it is judged separately (``by_period``); a child
    is counted when it counts for at least one of them and met when it met every one it counted
    for, so ``counted``, ``met`` and ``unmet`` are in children (households for the yearly
    contact), and the misses list names every child who missed at least one month. For a
    shorter report period (the yearly contact in a quarter report), the obligation period
    containing it is judged as of the report period's end: progress so far. With ``as_of``,
    periods that have not started are left out, and the current one is judged on ``as_of``.
    Given the children's risk histories, the figures of the per-child obligations are also
    broken down by risk level (``by_risk``; decision 012): each child under the level in force
    on the report's last day judged (``report_day``: its end, or ``as_of`` when earlier).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from tongxin.core.periods import PERIOD_RANK, Period, period_of, periods_in
from tongxin.visits.rules.cadence import (
    DEFAULT_POLICIES,
    CadencePolicy,
    ContactFact,
    Window,
    policy_on,
)
from tongxin.visits.rules.risk import NO_RISK_HISTORY, RiskHistory
from tongxin.visits.rules.vocabulary import OBLIGATIONS, ContactKind, Obligation, RiskLevel


class PeriodCount(NamedTuple):
    period: Period
    counted: int
    met: int


class RiskCount(NamedTuple):
    """The children at ``level`` on the report's day (``report_day``): counted and met."""

    level: RiskLevel
    counted: int
    met: int


@dataclass(frozen=True, slots=True)
class Compliance[K]:
    """``by_risk`` (a per-child obligation, risk histories given): low, medium, high in that
    order; ``unmet_risk``: the level of each child in ``unmet``, in step. Empty otherwise."""

    obligation: Obligation
    period: Period
    counted: int
    met: int
    unmet: tuple[K, ...]
    by_period: tuple[PeriodCount, ...]
    by_risk: tuple[RiskCount, ...] = ()
    unmet_risk: tuple[RiskLevel, ...] = ()

    @property
    def rate(self) -> float | None:
        return self.met / self.counted if self.counted else None


def judged_periods(
    obligation: Obligation,
    period: Period,
    policies: Sequence[CadencePolicy] = DEFAULT_POLICIES,
    as_of: date | None = None,
) -> tuple[tuple[Period, date], ...]:
    """The obligation periods a report on ``period`` judges, each with the day it is judged on
    (its last day, or ``as_of``, or the report's end for a longer obligation period)."""
    kind = OBLIGATIONS[obligation].period
    if PERIOD_RANK[kind] > PERIOD_RANK[period.kind]:
        candidates = [(period_of(period.start, kind), period.end)]
    else:
        candidates = [(sub, sub.end) for sub in periods_in(period, kind)]
    judged = []
    for sub, until in candidates:
        if as_of is not None:
            if sub.start > as_of:
                continue
            until = min(until, as_of)
        if policy_on(policies, sub.start).applies(obligation):
            judged.append((sub, until))
    return tuple(judged)


def report_day(period: Period, as_of: date | None = None) -> date:
    """The last day a report on ``period`` judges: its end, or ``as_of`` when earlier. A child's
    risk level on this day files it in the report's breakdown by risk (decision 012)."""
    return period.end if as_of is None else min(period.end, as_of)


def compliance[K](
    obligation: Obligation,
    period: Period,
    units: Iterable[tuple[K, Window, Iterable[ContactFact]]],
    policies: Sequence[CadencePolicy] = DEFAULT_POLICIES,
    as_of: date | None = None,
    risks: Mapping[K, RiskHistory] | None = None,
) -> Compliance[K]:
    """Counted and met children (households for the yearly contact) for a report period.

    ``units``: ``(key, window, contacts)``; for the yearly contact a ``HouseholdWindow`` with
    the contacts of all its children. See the module doc for longer and shorter periods.
    ``risks``: each child's risk history (a child left out: nothing recorded, low), for the
    breakdown by risk level of a per-child obligation.
    """
    judged = judged_periods(obligation, period, policies, as_of)
    spec = OBLIGATIONS[obligation]
    counted = [0] * len(judged)
    met = [0] * len(judged)
    counted_total = met_total = 0
    unmet: list[K] = []
    by_level = risks is not None and not spec.per_household
    day = report_day(period, as_of)
    level_counted = dict.fromkeys(RiskLevel, 0)
    level_met = dict.fromkeys(RiskLevel, 0)
    unmet_risk: list[RiskLevel] = []
    for key, window, contacts in units:
        days = [
            c.day
            for c in contacts
            if c.author_role == spec.role
            and (not spec.home_visit_only or c.kind == ContactKind.HOME_VISIT)
        ]
        was_counted = missed = False
        for i, (sub, until) in enumerate(judged):
            if not window.counts(sub.start, until):
                continue
            was_counted = True
            counted[i] += 1
            start = sub.start
            if any(start <= day <= until for day in days):
                met[i] += 1
            else:
                missed = True
        if was_counted:
            counted_total += 1
            level = RiskLevel.LOW
            if by_level:
                assert risks is not None
                level = risks.get(key, NO_RISK_HISTORY).level_on(day)
                level_counted[level] += 1
            if missed:
                unmet.append(key)
                if by_level:
                    unmet_risk.append(level)
            else:
                met_total += 1
                if by_level:
                    level_met[level] += 1
    return Compliance(
        obligation=obligation,
        period=period,
        counted=counted_total,
        met=met_total,
        unmet=tuple(unmet),
        by_period=tuple(
            PeriodCount(sub, c, m) for (sub, _until), c, m in zip(judged, counted, met, strict=True)
        ),
        by_risk=tuple(RiskCount(lv, level_counted[lv], level_met[lv]) for lv in RiskLevel)
        if by_level
        else (),
        unmet_risk=tuple(unmet_risk),
    )
