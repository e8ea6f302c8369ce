"""Contact cadence (任务9) and risk levels: pure rules over plain data (issue 4).

No ORM, no request, no Django. The worklist and compliance selectors compute the same answers in
the database; these functions are the reference the SQL is tested against, and what the
property tests pin down.

Obligations (``Obligation``, ``OBLIGATIONS``)
    ``monthly_contact``: the village director (``village_director``), any kind, per child, each
    calendar month. ``quarterly_home_visit``: the village director, a home visit, per child,
    each calendar quarter. ``yearly_family_contact``: the town supervisor (``town_supervisor``),
    any kind, per household, each calendar year. A contact qualifies only when its author held
    the obligation's role at the time (``ContactFact.author_role`` is that role, not today's)
    and, for the home visit, its kind is ``home_visit``. A household visit is credited to each
    sibling by the caller, which passes the same contact with each child. Contacts dated after
    ``as_of`` are ignored everywhere (backfilled paper records judged "as of" a date).

Periods (``Period``, ``period_of``, ``parse_period``)
    Calendar months, quarters and years, ``end`` inclusive; written ``2024-06``, ``2024-Q2``,
    ``2024``.

Policy versions (``CadencePolicy``, ``policy_on``)
    Each version holds from its ``effective_from`` until the next one. A calendar period is judged
    by the version in force on its first day: a change made mid-period applies from the next
    period, so no period is judged by two versions and a month is never re-judged by a rule made
    after it began. The worklist's own numbers (``due_soon_days``, the rolling intervals) are
    those in force on ``as_of``. A policy that switches an obligation off removes it for the
    periods it governs: they are not counted, and the worklist has no line for that code
    (rolling included). A raised-risk interval must be shorter than the calendar period it
    tightens (contact ≤ 27 days, home visit ≤ 89 days): higher risk raises the frequency, never
    lowers it, and then the rolling line is never less urgent than the calendar one (tested).
    ``policy_on`` raises ``ValueError`` on a day before every version: start the list at
    ``date.min`` (as ``DEFAULT_POLICIES`` does).

Who counts (``ChildWindow``, ``HouseholdWindow``)
    A child counts for a period when it was registered on or before the period's first day and,
    on the period's last day (on ``as_of`` for the current period), it is active (before
    ``active_until``, the day it left scope) and in at least one category. A household counts
    when at least one of its children counts.

Calendar status (``calendar_status``)
    No line (``None``) unless the child is active and in a category on ``as_of`` and the
    obligation is on for the current period. Otherwise, with ``last`` the last qualifying contact
    on or before ``as_of``:

    - ``done``: the current period counts and ``last`` lies in it; due = its end.
    - ``overdue``: a counted period has ended since ``last`` (or since registration) — that is,
      the last counted period ended unmet and nothing qualifying happened since. Due = the end
      of the *first* such period: when several periods were missed in a row, the line is overdue
      since the first miss, so the oldest neglect sorts first and "overdue by N days" (the
      escalation rule) measures the whole gap, not the last month of it.
    - otherwise ``due`` / ``due_soon`` (days left ≤ ``due_soon_days``, 7 by default; 0 on the last
      day), due = the end of the current period; or, when the current period is not counted
      because the child was registered after its first day, the end of the next period (the
      first counted one; no line if the policy switches the obligation off there).

Rolling status (``rolling_status``)
    Due = the last qualifying contact + the interval, or the registration date + the interval
    when there is none yet. ``overdue`` once ``as_of`` is past the due date, ``due_soon`` within
    ``due_soon_days`` of it, else ``due``; never ``done``.

Worklist (``worklist_lines``)
    One line per obligation code and child: ``monthly_contact`` and ``quarterly_home_visit``.
    Low risk: the calendar lines. Medium: the home visit line is the rolling one (every 60 days).
    High: both are rolling (a contact every 15 days, a home visit every 30 days). A rolling line
    replaces the calendar line of the same code, keeping the code, so the API contract (one line
    per code) holds; by the interval limits above the rolling line is never less urgent. The
    level is the one in force on ``as_of`` (``RiskHistory.level_on``): a worklist of a past day
    uses the level of that day, never a level computed or set later. The supervisor's
    per-household line is ``family_line``. ``urgency`` orders lines most urgent first.

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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import NamedTuple

from tongxin.core.dates import add_months, cn_date
from tongxin.core.periods import (
    PERIOD_RANK,
    Period,
    PeriodKind,
    period_at,
    period_index,
    period_of,
    periods_in,
)

# --- vocabulary ------------------------------------------------------------------------------

# Role keys, as in tongxin.accounts.roles.Role (kept as strings: this module stays Django-free).
VILLAGE_DIRECTOR = "village_director"
TOWN_SUPERVISOR = "town_supervisor"


class Obligation(StrEnum):
    MONTHLY_CONTACT = "monthly_contact"
    QUARTERLY_HOME_VISIT = "quarterly_home_visit"
    YEARLY_FAMILY_CONTACT = "yearly_family_contact"


class ContactKind(StrEnum):
    PHONE = "phone"
    VIDEO = "video"
    HOME_VISIT = "home_visit"  # 入户走访
    SCHOOL_VISIT = "school_visit"
    OTHER = "other"


class Status(StrEnum):
    DONE = "done"
    DUE = "due"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ObligationSpec(NamedTuple):
    role: str
    period: PeriodKind
    home_visit_only: bool
    per_household: bool


OBLIGATIONS: dict[Obligation, ObligationSpec] = {
    Obligation.MONTHLY_CONTACT: ObligationSpec(VILLAGE_DIRECTOR, PeriodKind.MONTH, False, False),
    Obligation.QUARTERLY_HOME_VISIT: ObligationSpec(
        VILLAGE_DIRECTOR, PeriodKind.QUARTER, True, False
    ),
    Obligation.YEARLY_FAMILY_CONTACT: ObligationSpec(TOWN_SUPERVISOR, PeriodKind.YEAR, False, True),
}
# The obligations on a child's worklist; the yearly one is per household (``family_line``).
CHILD_OBLIGATIONS = (Obligation.MONTHLY_CONTACT, Obligation.QUARTERLY_HOME_VISIT)

_URGENCY = {Status.OVERDUE: 0, Status.DUE_SOON: 1, Status.DUE: 2, Status.DONE: 3}


# --- policy ----------------------------------------------------------------------------------

MAX_CONTACT_INTERVAL = 27  # the shortest month (28 days) less one
MAX_VISIT_INTERVAL = 89  # the shortest quarter (90 days) less one


@dataclass(frozen=True, slots=True)
class CadencePolicy:
    """One version of the contact policy (任务9), in force from ``effective_from``."""

    effective_from: date
    monthly_contact: bool = True
    quarterly_home_visit: bool = True
    yearly_family_contact: bool = True
    high_contact_days: int = 15
    high_visit_days: int = 30
    medium_visit_days: int = 60
    due_soon_days: int = 7

    def __post_init__(self) -> None:
        if not 1 <= self.high_contact_days <= MAX_CONTACT_INTERVAL:
            raise ValueError(
                f"high_contact_days must be 1–{MAX_CONTACT_INTERVAL} (shorter than a month): "
                f"{self.high_contact_days}"
            )
        for name in ("high_visit_days", "medium_visit_days"):
            value = getattr(self, name)
            if not 1 <= value <= MAX_VISIT_INTERVAL:
                raise ValueError(
                    f"{name} must be 1–{MAX_VISIT_INTERVAL} (shorter than a quarter): {value}"
                )
        if self.due_soon_days < 0:
            raise ValueError(f"due_soon_days must not be negative: {self.due_soon_days}")

    def applies(self, obligation: Obligation) -> bool:
        if obligation is Obligation.MONTHLY_CONTACT:
            return self.monthly_contact
        if obligation is Obligation.QUARTERLY_HOME_VISIT:
            return self.quarterly_home_visit
        return self.yearly_family_contact


DEFAULT_POLICIES: tuple[CadencePolicy, ...] = (CadencePolicy(effective_from=date.min),)


def policy_on(policies: Sequence[CadencePolicy], day: date) -> CadencePolicy:
    """The version in force on ``day``: the latest ``effective_from`` on or before it (of two
    with the same date, the later given). ValueError when none is in force yet."""
    found: CadencePolicy | None = None
    for policy in policies:
        if policy.effective_from <= day and (
            found is None or policy.effective_from >= found.effective_from
        ):
            found = policy
    if found is None:
        raise ValueError(f"no cadence policy is in force on {day}")
    return found


def check_policies(policies: Iterable[CadencePolicy]) -> tuple[CadencePolicy, ...]:
    """The versions sorted by date; ValueError when there are none or two share a date."""
    ordered = tuple(sorted(policies, key=lambda policy: policy.effective_from))
    if not ordered:
        raise ValueError("at least one cadence policy is needed")
    dates = [policy.effective_from for policy in ordered]
    if len(set(dates)) != len(dates):
        raise ValueError("two cadence policies take effect on the same day")
    return ordered


# --- facts -----------------------------------------------------------------------------------


class ContactFact(NamedTuple):
    """A contact as the rules see it: when, what kind, and the author's role at the time."""

    day: date
    kind: str
    author_role: str


@dataclass(frozen=True, slots=True)
class ChildWindow:
    """When a child is in scope.

    ``active_until``: the day it left scope (transferred, aged out, closed), exclusive; None while
    active. ``categorised``: spans ``(start, end)`` in at least one category (``end`` exclusive,
    None when open: as ``registry.rules.CategorySpan``), or a predicate on a day; None means
    always in a category.
    """

    registered_on: date
    active_until: date | None = None
    categorised: Sequence[tuple[date, date | None]] | Callable[[date], bool] | None = None

    def active_on(self, day: date) -> bool:
        return self.registered_on <= day and (self.active_until is None or day < self.active_until)

    def categorised_on(self, day: date) -> bool:
        spans = self.categorised
        if spans is None:
            return True
        if callable(spans):
            return spans(day)
        return any(start <= day and (end is None or day < end) for start, end in spans)

    def in_scope(self, day: date) -> bool:
        """Active and in a category on ``day``: it has worklist lines."""
        return self.active_on(day) and self.categorised_on(day)

    def counts(self, period_start: date, day: date) -> bool:
        """Counted for the period starting ``period_start``, judged on ``day`` (its last day, or
        ``as_of`` for the current period)."""
        return self.registered_on <= period_start and self.in_scope(day)


@dataclass(frozen=True, slots=True)
class HouseholdWindow:
    """A household (for the yearly family contact): counted when one of its children is."""

    children: tuple[ChildWindow, ...]

    def __post_init__(self) -> None:
        if not self.children:
            raise ValueError("a household window needs at least one child")

    @property
    def registered_on(self) -> date:
        return min(child.registered_on for child in self.children)

    def in_scope(self, day: date) -> bool:
        return any(child.in_scope(day) for child in self.children)

    def counts(self, period_start: date, day: date) -> bool:
        return any(child.counts(period_start, day) for child in self.children)


type Window = ChildWindow | HouseholdWindow


class Line(NamedTuple):
    """One worklist line. ``interval_days``: the rolling interval, None for a calendar line."""

    obligation: Obligation
    last_contact: date | None
    due: date
    status: Status
    interval_days: int | None = None


def urgency(line: Line) -> tuple[int, date]:
    """Sort key, most urgent first: overdue, due soon, due, done; then by due date."""
    return _URGENCY[line.status], line.due


def qualifies(obligation: Obligation, contact: ContactFact) -> bool:
    spec = OBLIGATIONS[obligation]
    return contact.author_role == spec.role and (
        not spec.home_visit_only or contact.kind == ContactKind.HOME_VISIT
    )


def last_qualifying(
    obligation: Obligation, contacts: Iterable[ContactFact], as_of: date
) -> date | None:
    """The day of the last contact on or before ``as_of`` that satisfies ``obligation``."""
    spec = OBLIGATIONS[obligation]
    role, home_only = spec.role, spec.home_visit_only
    home_visit = ContactKind.HOME_VISIT
    last: date | None = None
    for day, kind, author_role in contacts:
        if (
            day <= as_of
            and author_role == role
            and (not home_only or kind == home_visit)
            and (last is None or day > last)
        ):
            last = day
    return last


# --- calendar and rolling status -------------------------------------------------------------


def calendar_status(
    obligation: Obligation,
    contacts: Iterable[ContactFact],
    window: Window,
    as_of: date,
    policies: Sequence[CadencePolicy] = DEFAULT_POLICIES,
) -> Line | None:
    """The calendar line of ``obligation`` on ``as_of``; None when nothing is owed (module doc)."""
    if not window.in_scope(as_of):
        return None
    last = last_qualifying(obligation, contacts, as_of)
    return _calendar(obligation, last, window, as_of, policies)


def _calendar(
    obligation: Obligation,
    last: date | None,
    window: Window,
    as_of: date,
    policies: Sequence[CadencePolicy],
) -> Line | None:
    kind = OBLIGATIONS[obligation].period
    current_index = period_index(as_of, kind)
    current = period_at(current_index, kind)
    if not policy_on(policies, current.start).applies(obligation):
        return None
    counted = window.counts(current.start, as_of)
    if counted and last is not None and last >= current.start:
        return Line(obligation, last, current.end, Status.DONE)
    missed = _first_missed(obligation, kind, last, window, current_index, policies)
    if missed is not None:
        return Line(obligation, last, missed.end, Status.OVERDUE)
    if counted:
        due = current.end
    else:
        # In scope today but not counted: registered after the period began. The first counted
        # period is the next one.
        following = period_at(current_index + 1, kind)
        if not policy_on(policies, following.start).applies(obligation):
            return None
        due = following.end
    soon = (due - as_of).days <= policy_on(policies, as_of).due_soon_days
    return Line(obligation, last, due, Status.DUE_SOON if soon else Status.DUE)


def _first_missed(
    obligation: Obligation,
    kind: PeriodKind,
    last: date | None,
    window: Window,
    current_index: int,
    policies: Sequence[CadencePolicy],
) -> Period | None:
    """The first counted period that ended before the current one and began after ``last``
    (each such period is unmet, and nothing qualifying has happened since it began)."""
    registered_on = window.registered_on
    index = period_index(registered_on, kind)
    if period_at(index, kind).start < registered_on:
        index += 1
    if last is not None:
        index = max(index, period_index(last, kind) + 1)
    while index < current_index:
        period = period_at(index, kind)
        if window.counts(period.start, period.end) and policy_on(policies, period.start).applies(
            obligation
        ):
            return period
        index += 1
    return None


def rolling_status(
    obligation: Obligation,
    contacts: Iterable[ContactFact],
    window: Window,
    as_of: date,
    interval_days: int,
    due_soon_days: int = 7,
) -> Line | None:
    """The rolling line: due ``interval_days`` after the last qualifying contact (or after the
    registration date); None when the child is not in scope on ``as_of``."""
    if not window.in_scope(as_of):
        return None
    last = last_qualifying(obligation, contacts, as_of)
    return _rolling(obligation, last, window.registered_on, as_of, interval_days, due_soon_days)


def _rolling(
    obligation: Obligation,
    last: date | None,
    registered_on: date,
    as_of: date,
    interval_days: int,
    due_soon_days: int,
) -> Line:
    due = (registered_on if last is None else last) + timedelta(days=interval_days)
    if as_of > due:
        status = Status.OVERDUE
    elif (due - as_of).days <= due_soon_days:
        status = Status.DUE_SOON
    else:
        status = Status.DUE
    return Line(obligation, last, due, status, interval_days)


def worklist_lines(
    contacts: Iterable[ContactFact],
    window: ChildWindow,
    risk: RiskHistory | RiskLevel | str,
    as_of: date,
    policies: Sequence[CadencePolicy] = DEFAULT_POLICIES,
) -> tuple[Line, ...]:
    """A child's lines for its village director: ``monthly_contact`` then
    ``quarterly_home_visit``, rolling in place of calendar where the risk raises the cadence.
    ``risk``: the child's history, judged on ``as_of`` (or a level taken as in force then)."""
    if not window.in_scope(as_of):
        return ()
    if isinstance(risk, RiskHistory):
        risk = risk.level_on(as_of)
    # One pass over the contacts for both obligations (both are the village director's).
    last_any: date | None = None
    last_home: date | None = None
    director, home_visit = VILLAGE_DIRECTOR, ContactKind.HOME_VISIT
    for day, kind, role in contacts:
        if day > as_of or role != director:
            continue
        if last_any is None or day > last_any:
            last_any = day
        if kind == home_visit and (last_home is None or day > last_home):
            last_home = day
    today = policy_on(policies, as_of)
    if risk == RiskLevel.HIGH:
        intervals: tuple[int | None, int | None] = (today.high_contact_days, today.high_visit_days)
    elif risk == RiskLevel.MEDIUM:
        intervals = (None, today.medium_visit_days)
    else:
        intervals = (None, None)
    lines = []
    for obligation, last, interval in zip(
        CHILD_OBLIGATIONS, (last_any, last_home), intervals, strict=True
    ):
        line = _calendar(obligation, last, window, as_of, policies)
        if line is None:
            continue
        if interval is not None:
            line = _rolling(
                obligation, last, window.registered_on, as_of, interval, today.due_soon_days
            )
        lines.append(line)
    return tuple(lines)


def family_line(
    contacts: Iterable[ContactFact],
    window: HouseholdWindow,
    as_of: date,
    policies: Sequence[CadencePolicy] = DEFAULT_POLICIES,
) -> Line | None:
    """The town supervisor's yearly line for a household (contacts: any child's)."""
    return calendar_status(Obligation.YEARLY_FAMILY_CONTACT, contacts, window, as_of, policies)


# --- compliance ------------------------------------------------------------------------------


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

    @property
    def overridden(self) -> bool:
        return self.override_level is not None


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


# --- what a contact must record ------------------------------------------------------------


class ContactGap(StrEnum):
    """Something a contact leaves out that makes it not count (issue 10)."""

    NOBODY_REACHED = "nobody_reached"  # neither the child, the caregiver nor a parent
    CHILD_NOT_SEEN = "child_not_seen"  # a home visit that neither saw the child nor says why
    LIVING_NOT_SEEN = "living_not_seen"  # a home visit that did not look at the living conditions
    SAFETY_NOT_SEEN = "safety_not_seen"  # … nor at the safety items


# The checklist values (visits.models.Check), as strings: this module stays Django-free.
CHECK_NOT_SEEN = "not_seen"
# The checklist items a home visit must look at, each with the gap its absence is.
HOME_VISIT_CHECKS = {
    "check_living": ContactGap.LIVING_NOT_SEEN,
    "check_safety": ContactGap.SAFETY_NOT_SEEN,
}


def contact_gaps(
    *,
    kind: str,
    met_child: bool,
    met_caregiver: bool,
    met_parent: bool,
    child_not_seen_reason: str,
    checks: Mapping[str, str],
) -> dict[str, ContactGap]:
    """What a contact lacks to count for the plan's obligations, by the field that must change.

    Any contact names whom it reached: the child, the caregiver or a parent (a call nobody
    answered is not a contact). A home visit (入户走访) also records that the child was seen, or
    why not, and what the visitor looked at in the home: the living conditions and the safety
    items (water, fire, electricity, traffic) are good or a concern, never "not seen". An empty
    answer means the contact may be recorded."""
    gaps: dict[str, ContactGap] = {}
    if not (met_child or met_caregiver or met_parent):
        gaps["met_child"] = ContactGap.NOBODY_REACHED
    if kind == ContactKind.HOME_VISIT:
        if not met_child and not child_not_seen_reason.strip():
            gaps["child_not_seen_reason"] = ContactGap.CHILD_NOT_SEEN
        for item, gap in HOME_VISIT_CHECKS.items():
            if checks.get(item, CHECK_NOT_SEEN) == CHECK_NOT_SEEN:
                gaps[item] = gap
    return gaps
