"""The contact cadence (任务9): the policy versions, who counts, the calendar and rolling
status of an obligation and a child's worklist lines. Pure.

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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from tongxin.core.periods import Period, PeriodKind, period_at, period_index
from tongxin.visits.rules.risk import RiskHistory
from tongxin.visits.rules.vocabulary import (
    CHILD_OBLIGATIONS,
    OBLIGATIONS,
    VILLAGE_DIRECTOR,
    ContactKind,
    Obligation,
    RiskLevel,
    Status,
)

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


_URGENCY = {Status.OVERDUE: 0, Status.DUE_SOON: 1, Status.DUE: 2, Status.DONE: 3}


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
