"""Mandatory reports (强制报告, task 6) as pure rules: the workflow, who may move a report along
it, the statutory clocks, and the routing of a new report. No ORM, no request: plain data in,
plain data out.

The workflow::

    received ─accept─▶ accepted ─start_verification─▶ verifying ─record_result─▶
    result_recorded ─inform_reporter─▶ reporter_informed ─close─▶ closed

    received / transferred / accepted ─reject (with a reason)─▶ rejected
    received / transferred / accepted / verifying ─transfer─▶ transferred

A transferred report stays open: it waits for the new handling department to accept it, as a
received report waits for the first one, and its acceptance clock starts again at the transfer.

Clocks (each limit a setting, see ``ClockPolicy``): acceptance within 24 hours of receipt, a
result within 15 days of acceptance. Limits count in hours (exact), in calendar days, or in
working days (the State Council's calendar, kept by the county as data and passed in as a
``workdays.rules.WorkCalendar``: weekends, public holidays and the Saturdays or Sundays made
working days around them). A period in days does not count the day it starts on and ends at the
end of its last day; when that last day is a rest day, the period ends with the next working day
(the rule of 期间 in 民事诉讼法 art. 85 and 行政诉讼法 art. 83). A deadline that counted a day of a
year the calendar does not know is an estimate (``Due.estimated``), shown as one.

Routing: a new report goes at once to every department the routing table names for its harms
(and for imminent danger); one of them, the first in ``LEAD_ORDER``, handles it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongxin.workdays.rules import WorkCalendar, add_workdays, next_workday

# --- the workflow ----------------------------------------------------------------------------


class Status(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    VERIFYING = "verifying"
    RESULT_RECORDED = "result_recorded"
    REPORTER_INFORMED = "reporter_informed"
    CLOSED = "closed"
    REJECTED = "rejected"
    TRANSFERRED = "transferred"


# Waiting for a handling department to accept it.
AWAITING_ACCEPTANCE = frozenset({Status.RECEIVED, Status.TRANSFERRED})
ENDED = frozenset({Status.CLOSED, Status.REJECTED})
OPEN = frozenset(Status) - ENDED


class Transition(StrEnum):
    ACCEPT = "accept"
    START_VERIFICATION = "start_verification"
    RECORD_RESULT = "record_result"
    INFORM_REPORTER = "inform_reporter"
    CLOSE = "close"
    REJECT = "reject"
    TRANSFER = "transfer"


class Party(StrEnum):
    """What a user is to one report. One user may be several (a county officer who filed it)."""

    COUNTY = "county"  # a county civil-affairs officer whose area holds the report
    HANDLER = "handler"  # an officer of the report's handling department
    REPORTER = "reporter"  # who submitted it
    # An officer of another department the report was sent to at once (the police and civil
    # affairs both receive a suspected crime): reads it all, does not move it.
    RECIPIENT = "recipient"
    VILLAGE = "village"  # the child director of the child's village
    AUDITOR = "auditor"  # read-only, every read audited


class Input(StrEnum):
    """What a transition needs besides the actor."""

    REASON = "reason"
    DEPARTMENT = "department"
    RESULT = "result"
    RESULT_FOR_REPORTER = "result_for_reporter"


@dataclass(frozen=True)
class Step:
    sources: frozenset[Status]
    target: Status
    parties: frozenset[Party]
    needs: frozenset[Input] = frozenset()


# The county officer or the handling department moves a report; nobody else does.
_ACTORS = frozenset({Party.COUNTY, Party.HANDLER})

STEPS: dict[Transition, Step] = {
    Transition.ACCEPT: Step(AWAITING_ACCEPTANCE, Status.ACCEPTED, _ACTORS),
    Transition.START_VERIFICATION: Step(frozenset({Status.ACCEPTED}), Status.VERIFYING, _ACTORS),
    Transition.RECORD_RESULT: Step(
        frozenset({Status.VERIFYING}), Status.RESULT_RECORDED, _ACTORS, frozenset({Input.RESULT})
    ),
    Transition.INFORM_REPORTER: Step(
        frozenset({Status.RESULT_RECORDED}),
        Status.REPORTER_INFORMED,
        _ACTORS,
        frozenset({Input.RESULT_FOR_REPORTER}),
    ),
    Transition.CLOSE: Step(frozenset({Status.REPORTER_INFORMED}), Status.CLOSED, _ACTORS),
    Transition.REJECT: Step(
        AWAITING_ACCEPTANCE | {Status.ACCEPTED}, Status.REJECTED, _ACTORS, frozenset({Input.REASON})
    ),
    Transition.TRANSFER: Step(
        AWAITING_ACCEPTANCE | {Status.ACCEPTED, Status.VERIFYING},
        Status.TRANSFERRED,
        _ACTORS,
        frozenset({Input.DEPARTMENT, Input.REASON}),
    ),
}


class Refusal(StrEnum):
    STATE = "state"  # not from this status (a conflict: 409)
    PARTY = "party"  # not for this user (403)


class TransitionRefused(Exception):
    def __init__(self, transition: Transition, status: Status, refusal: Refusal) -> None:
        super().__init__(f"{transition} refused from {status}: {refusal}")
        self.transition, self.status, self.refusal = transition, status, refusal


def check_transition(status: Status, transition: Transition, parties: Iterable[Party]) -> Status:
    """The status ``transition`` leads to from ``status``, for a user who is ``parties`` to the
    report; TransitionRefused (STATE before PARTY) when it may not happen."""
    step = STEPS[transition]
    if status not in step.sources:
        raise TransitionRefused(transition, status, Refusal.STATE)
    if not step.parties & frozenset(parties):
        raise TransitionRefused(transition, status, Refusal.PARTY)
    return step.target


def available_transitions(status: Status, parties: Iterable[Party]) -> tuple[Transition, ...]:
    """The transitions this user may make now, in the workflow's order."""
    held = frozenset(parties)
    return tuple(t for t, step in STEPS.items() if status in step.sources and step.parties & held)


# --- limits and working days -----------------------------------------------------------------


class Unit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WORKING_DAYS = "working_days"


_LIMIT = re.compile(r"^\s*(\d+)\s*(h|d|wd)\s*$")
_UNIT_SUFFIX = {"h": Unit.HOURS, "d": Unit.DAYS, "wd": Unit.WORKING_DAYS}


@dataclass(frozen=True)
class Limit:
    """A time limit: ``24 hours``, ``15 days``, ``3 working days``."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.amount < 1:
            raise ValueError(f"a limit must be at least 1: {self.amount}")

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``"24h"``, ``"15d"``, ``"3wd"`` (how a county writes it in its settings)."""
        found = _LIMIT.match(text)
        if found is None:
            raise ValueError(f"not a limit (24h, 15d, 3wd): {text!r}")
        return cls(int(found.group(1)), _UNIT_SUFFIX[found.group(2)])

    def __str__(self) -> str:
        suffix = {v: k for k, v in _UNIT_SUFFIX.items()}[self.unit]
        return f"{self.amount}{suffix}"


@dataclass(frozen=True)
class Due:
    """When a clock runs out, and the years whose holidays the count had to guess (none: the
    deadline is certain)."""

    at: datetime
    guessed_years: tuple[int, ...] = ()

    @property
    def estimated(self) -> bool:
        return bool(self.guessed_years)


def _end_of(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.max, tzinfo=tz)


def due(start: datetime, limit: Limit, tz: tzinfo, calendar: WorkCalendar) -> Due:
    """When a clock started at ``start`` (aware) runs out; it is breached after this instant.
    Days are counted on the local calendar of ``tz``, working days on ``calendar``."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if limit.unit == Unit.HOURS:
        return Due(start + timedelta(hours=limit.amount))
    day = start.astimezone(tz).date()
    if limit.unit == Unit.DAYS:
        counted = next_workday(day + timedelta(days=limit.amount), calendar)
    else:
        counted = add_workdays(day, limit.amount, calendar)
    return Due(_end_of(counted.day, tz), counted.guessed_years)


def deadline(start: datetime, limit: Limit, tz: tzinfo, calendar: WorkCalendar) -> datetime:
    """``due(...).at``: the instant alone, for the columns that store it."""
    return due(start, limit, tz, calendar).at


def guessed_years(
    start: datetime, end: datetime, limit: Limit, tz: tzinfo, calendar: WorkCalendar
) -> tuple[int, ...]:
    """The years a clock from ``start`` to its stored deadline ``end`` may have counted without
    knowing their holidays: none for a limit in hours; else every year, from the day after the
    start to the deadline's day, that the calendar does not know (erring towards "estimated")."""
    if limit.unit == Unit.HOURS:
        return ()
    first = start.astimezone(tz).date() + timedelta(days=1)
    return calendar.missing_years(first, end.astimezone(tz).date())


# --- clocks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockPolicy:
    acceptance: Limit = Limit(24, Unit.HOURS)
    result: Limit = Limit(15, Unit.DAYS)
    # For referrals between departments (issue 5, later): accepted within 3 working days.
    referral_acceptance: Limit = Limit(3, Unit.WORKING_DAYS)
    time_zone: str = "Asia/Shanghai"

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.time_zone)


DEFAULT_POLICY = ClockPolicy()


@dataclass(frozen=True)
class ReportTimes:
    """The moments a report's clocks read. ``received_at``: submission, or the latest transfer;
    ``accepted_at`` / ``result_at``: since then; ``ended_at``: rejected or closed."""

    status: Status
    received_at: datetime
    accepted_at: datetime | None = None
    result_at: datetime | None = None
    informed_at: datetime | None = None
    ended_at: datetime | None = None


def times_after(times: ReportTimes, transition: Transition, at: datetime) -> ReportTimes:
    """The report's moments after ``transition`` at ``at`` (checked by ``check_transition``
    first; this only records)."""
    target = STEPS[transition].target
    moved = replace(times, status=target)
    match transition:
        case Transition.ACCEPT:
            return replace(moved, accepted_at=at)
        case Transition.RECORD_RESULT:
            return replace(moved, result_at=at)
        case Transition.INFORM_REPORTER:
            return replace(moved, informed_at=at)
        case Transition.CLOSE | Transition.REJECT:
            return replace(moved, ended_at=at)
        case Transition.TRANSFER:
            # The new department receives it now: its clocks start again.
            return ReportTimes(status=target, received_at=at)
    return moved


class ClockName(StrEnum):
    ACCEPTANCE = "acceptance"
    RESULT = "result"


class ClockState(StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"  # started, not stopped, within its limit
    BREACHED = "breached"  # started, not stopped, past its limit
    MET = "met"  # stopped within its limit
    MET_LATE = "met_late"  # stopped, but after its limit


@dataclass(frozen=True)
class Clock:
    name: ClockName
    state: ClockState
    limit: Limit
    started_at: datetime | None = None
    deadline: datetime | None = None
    stopped_at: datetime | None = None
    # The years whose holidays the deadline guessed: it is an estimate (预计) if any.
    guessed_years: tuple[int, ...] = ()

    @property
    def estimated(self) -> bool:
        return bool(self.guessed_years)

    @property
    def running(self) -> bool:
        return self.state in (ClockState.RUNNING, ClockState.BREACHED)

    @property
    def breached(self) -> bool:
        """Its limit was passed, whether it still runs or stopped late."""
        return self.state in (ClockState.BREACHED, ClockState.MET_LATE)


def _clock(
    name: ClockName,
    limit: Limit,
    started: datetime | None,
    stopped: datetime | None,
    now: datetime,
    tz: tzinfo,
    calendar: WorkCalendar,
) -> Clock:
    if started is None:
        return Clock(name, ClockState.NOT_STARTED, limit)
    until = due(started, limit, tz, calendar)
    if stopped is not None:
        state = ClockState.MET if stopped <= until.at else ClockState.MET_LATE
    else:
        state = ClockState.RUNNING if now <= until.at else ClockState.BREACHED
    return Clock(name, state, limit, started, until.at, stopped, until.guessed_years)


def report_clocks(
    times: ReportTimes,
    now: datetime,
    policy: ClockPolicy = DEFAULT_POLICY,
    *,
    calendar: WorkCalendar,
) -> tuple[Clock, Clock]:
    """The acceptance and the result clock of a report at ``now``.

    Acceptance runs from receipt until the report is accepted, or rejected unaccepted (a
    decision was made in time or not). Result runs from acceptance until a result is recorded,
    or the report is rejected after acceptance."""
    tz = policy.tz
    rejected = times.status == Status.REJECTED
    acceptance_stop = times.accepted_at or (times.ended_at if rejected else None)
    acceptance = _clock(
        ClockName.ACCEPTANCE,
        policy.acceptance,
        times.received_at,
        acceptance_stop,
        now,
        tz,
        calendar,
    )
    result_stop = times.result_at or (times.ended_at if rejected else None)
    result = _clock(
        ClockName.RESULT, policy.result, times.accepted_at, result_stop, now, tz, calendar
    )
    return acceptance, result


# --- routing and the problem it raises ------------------------------------------------------


class Harm(StrEnum):
    PHYSICAL_ABUSE = "physical_abuse"
    SEXUAL_ABUSE = "sexual_abuse"
    NEGLECT = "neglect"
    ABANDONMENT = "abandonment"
    DOMESTIC_VIOLENCE = "domestic_violence"
    BULLYING = "bullying"
    ACCIDENTAL_INJURY = "accidental_injury"
    TRAFFICKING = "trafficking"
    OTHER_CRIME = "other_crime"  # another suspected crime against the child (其他涉嫌违法犯罪)
    OTHER = "other"


class Urgency(StrEnum):
    IMMINENT = "imminent"  # imminent danger (面临现实危险)
    URGENT = "urgent"
    NORMAL = "normal"


# Department keys (accounts.models.Department values).
POLICE, CIVIL_AFFAIRS, EDUCATION = "police", "civil_affairs", "education"

# The routing table's row for imminent danger, beside one row per harm.
IMMINENT_ROUTE = "imminent"
ROUTE_KEYS: tuple[str, ...] = (*(h.value for h in Harm), IMMINENT_ROUTE)

# Suspected crimes, and imminent danger, go to the police at once (强制报告: 立即向公安机关报案)
# and to civil affairs, which holds the fallback guardianship duty (task 7), at the same
# moment; bullying to education too; the rest to civil affairs.
CRIME_ROUTES = frozenset(
    {
        Harm.PHYSICAL_ABUSE.value,
        Harm.SEXUAL_ABUSE.value,
        Harm.DOMESTIC_VIOLENCE.value,
        Harm.TRAFFICKING.value,
        Harm.OTHER_CRIME.value,
        IMMINENT_ROUTE,
    }
)
DEFAULT_ROUTING: dict[str, tuple[str, ...]] = {
    **{key: (POLICE, CIVIL_AFFAIRS) for key in ROUTE_KEYS if key in CRIME_ROUTES},
    Harm.BULLYING.value: (EDUCATION, CIVIL_AFFAIRS),
    Harm.NEGLECT.value: (CIVIL_AFFAIRS,),
    Harm.ABANDONMENT.value: (CIVIL_AFFAIRS,),
    Harm.ACCIDENTAL_INJURY.value: (CIVIL_AFFAIRS,),
    Harm.OTHER.value: (CIVIL_AFFAIRS,),
}
# Of the departments a report goes to, the first of these handles it (accepts it and runs
# the clocks); a department not listed comes after them, in the table's order.
LEAD_ORDER: tuple[str, ...] = (POLICE, EDUCATION, CIVIL_AFFAIRS)


@dataclass(frozen=True)
class Routing:
    """The departments a new report goes to at once, the handling one first."""

    departments: tuple[str, ...]

    @property
    def lead(self) -> str:
        return self.departments[0]


def route(
    harms: Iterable[Harm],
    urgency: Urgency,
    table: Mapping[str, Sequence[str]],
    lead_order: Sequence[str] = LEAD_ORDER,
) -> Routing:
    """Where a new report goes: the union of the table's rows for its harms (and for imminent
    danger), ordered so that the handling department comes first. Civil affairs when the table
    names nobody."""
    found = frozenset(harms)
    keys = [IMMINENT_ROUTE] if urgency == Urgency.IMMINENT else []
    keys += [h.value for h in Harm if h in found]
    named: dict[str, None] = {}
    for key in keys:
        for department in table.get(key, ()):
            named.setdefault(department, None)
    if not named:
        named[CIVIL_AFFAIRS] = None
    rank = {d: i for i, d in enumerate(lead_order)}
    return Routing(tuple(sorted(named, key=lambda d: rank.get(d, len(rank)))))


class RoutingProblem(StrEnum):
    MISSING = "missing"  # a row names no department
    UNKNOWN = "unknown"  # a department key that is not a department
    POLICE = "police"  # a suspected crime's row without the police


def routing_problems(
    table: Mapping[str, Sequence[str]], departments: Iterable[str]
) -> dict[str, RoutingProblem]:
    """What is wrong with a routing table, by row (empty: it may be used). ``departments``: the
    department keys there are."""
    known = frozenset(departments)
    problems: dict[str, RoutingProblem] = {}
    for key in ROUTE_KEYS:
        row = list(table.get(key, ()))
        if not row:
            problems[key] = RoutingProblem.MISSING
        elif any(d not in known for d in row):
            problems[key] = RoutingProblem.UNKNOWN
        elif key in CRIME_ROUTES and POLICE not in row:
            problems[key] = RoutingProblem.POLICE
    return problems


# The problem category (protection.models.ConcernCategory values) each harm raises.
HARM_CATEGORY: dict[Harm, str] = {
    Harm.PHYSICAL_ABUSE: "safety",
    Harm.SEXUAL_ABUSE: "safety",
    Harm.NEGLECT: "guardianship",
    Harm.ABANDONMENT: "guardianship",
    Harm.DOMESTIC_VIOLENCE: "guardianship",
    Harm.BULLYING: "psychological",
    Harm.ACCIDENTAL_INJURY: "health",
    Harm.TRAFFICKING: "legal",
    Harm.OTHER_CRIME: "legal",
    Harm.OTHER: "other",
}


def concern_categories(harms: Iterable[Harm]) -> tuple[str, ...]:
    """One high-severity problem per distinct category the harms raise, in a fixed order."""
    found = frozenset(harms)
    seen: dict[str, None] = {}
    for harm in Harm:
        if harm in found:
            seen.setdefault(HARM_CATEGORY[harm], None)
    return tuple(seen)


def masks_names(harms: Iterable[Harm]) -> bool:
    """Names in a report of suspected sexual abuse are shown as *** but to its handlers."""
    return Harm.SEXUAL_ABUSE in frozenset(harms)


# --- problems found (问题和解决方案) ------------------------------------------------------------
#
#     open ─start─▶ in_progress ─resolve (the solution)─▶ resolved
#     open / in_progress ─give_up (the reason)─▶ not_resolvable
#     resolved / not_resolvable ─reopen (the reason)─▶ open


# The problem's category, severity and status as stored (labelled for forms, pages and the
# API): protection's public names for them, read by the apps that raise or count problems.


class ConcernCategory(TextChoices):
    GUARDIANSHIP = "guardianship", _("Guardianship")
    SAFETY = "safety", _("Safety")
    SCHOOLING = "schooling", _("Schooling")
    HEALTH = "health", _("Health")
    PSYCHOLOGICAL = "psychological", _("Psychological or behavioural")
    ECONOMIC = "economic", _("Economic")
    LEGAL = "legal", _("Legal")
    OTHER = "other", _("Other")


class Severity(TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ConcernStatus(TextChoices):
    OPEN = "open", pgettext_lazy("problem status", "Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    NOT_RESOLVABLE = "not_resolvable", _("Cannot be resolved")


OPEN_STATUSES = (ConcernStatus.OPEN, ConcernStatus.IN_PROGRESS)


class ProblemStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    NOT_RESOLVABLE = "not_resolvable"


PROBLEM_OPEN = frozenset({ProblemStatus.OPEN, ProblemStatus.IN_PROGRESS})
PROBLEM_CLOSED = frozenset(ProblemStatus) - PROBLEM_OPEN

# From → the statuses a problem may move to; closing needs a text (the solution or the reason),
# and so does reopening (why it is not over).
PROBLEM_MOVES: dict[ProblemStatus, frozenset[ProblemStatus]] = {
    ProblemStatus.OPEN: frozenset(
        {ProblemStatus.IN_PROGRESS, ProblemStatus.RESOLVED, ProblemStatus.NOT_RESOLVABLE}
    ),
    ProblemStatus.IN_PROGRESS: frozenset({ProblemStatus.RESOLVED, ProblemStatus.NOT_RESOLVABLE}),
    ProblemStatus.RESOLVED: frozenset({ProblemStatus.OPEN}),
    ProblemStatus.NOT_RESOLVABLE: frozenset({ProblemStatus.OPEN}),
}


def problem_move_allowed(before: ProblemStatus, after: ProblemStatus) -> bool:
    return after in PROBLEM_MOVES[before]


def problem_move_needs_text(before: ProblemStatus, after: ProblemStatus) -> bool:
    """Closing needs the solution or the reason; reopening needs the reason."""
    return after in PROBLEM_CLOSED or before in PROBLEM_CLOSED


def problem_overdue(status: ProblemStatus, due_on: date | None, today: date) -> bool:
    """Still open after its due date (the due day itself is not late)."""
    return status in PROBLEM_OPEN and due_on is not None and due_on < today


# --- referrals (转介) --------------------------------------------------------------------------
#
#     sent ─accept─▶ accepted ─complete (the outcome)─▶ done
#     sent ─decline (the reason)─▶ declined
#
# Only the receiving department's officers move a referral. It must be accepted (or declined)
# within ``ClockPolicy.referral_acceptance`` (3 working days); past it, it is escalated.


class ReferralStatus(StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    DONE = "done"


REFERRAL_OPEN = frozenset({ReferralStatus.SENT, ReferralStatus.ACCEPTED})


class ReferralTransition(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    COMPLETE = "complete"


# transition → (from, to, what it needs: "reason" or "outcome" or "")
REFERRAL_STEPS: dict[ReferralTransition, tuple[ReferralStatus, ReferralStatus, str]] = {
    ReferralTransition.ACCEPT: (ReferralStatus.SENT, ReferralStatus.ACCEPTED, ""),
    ReferralTransition.DECLINE: (ReferralStatus.SENT, ReferralStatus.DECLINED, "reason"),
    ReferralTransition.COMPLETE: (ReferralStatus.ACCEPTED, ReferralStatus.DONE, "outcome"),
}


def referral_target(status: ReferralStatus, transition: ReferralTransition) -> ReferralStatus:
    """The status ``transition`` leads to from ``status``; ValueError when it may not."""
    source, target, _needs = REFERRAL_STEPS[transition]
    if status != source:
        raise ValueError(f"{transition} refused from {status}")
    return target


def referral_transitions(status: ReferralStatus) -> tuple[ReferralTransition, ...]:
    return tuple(t for t, (source, _t, _n) in REFERRAL_STEPS.items() if source == status)


def referral_acceptance_due(
    sent_at: datetime, policy: ClockPolicy = DEFAULT_POLICY, *, calendar: WorkCalendar
) -> datetime:
    return deadline(sent_at, policy.referral_acceptance, policy.tz, calendar)


def referral_overdue(status: ReferralStatus, due: datetime, now: datetime) -> bool:
    """Not accepted (nor declined) by its deadline: escalated."""
    return status == ReferralStatus.SENT and now > due
