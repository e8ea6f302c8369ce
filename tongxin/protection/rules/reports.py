"""Mandatory reports (强制报告, task 6) as pure rules: the workflow, who may move a report along
it, the report's two clocks, and the routing of a new report with the problems it raises.

The workflow::

    received ─accept─▶ accepted ─start_verification─▶ verifying ─record_result─▶
    result_recorded ─inform_reporter─▶ reporter_informed ─close─▶ closed

    received / transferred / accepted ─reject (with a reason)─▶ rejected
    received / transferred / accepted / verifying ─transfer─▶ transferred

A transferred report stays open: it waits for the new handling department to accept it, as a
received report waits for the first one, and its acceptance clock starts again at the transfer.

Clocks: acceptance within 24 hours of receipt, a result within 15 days of acceptance (each limit
a setting, see ``clocks.ClockPolicy``, which also says how a limit counts).

Routing: a new report goes at once to every department the routing table names for its harms
(and for imminent danger); one of them, the first in ``LEAD_ORDER``, handles it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from enum import StrEnum

from tongxin.protection.rules.clocks import DEFAULT_POLICY, ClockPolicy, Limit, due
from tongxin.workdays.rules import WorkCalendar

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


# --- the report's clocks ---------------------------------------------------------------------


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


# The problem category (rules.problems.ConcernCategory values) each harm raises.
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
