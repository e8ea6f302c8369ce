"""The mandatory report's workflow and clocks as pure rules: every allowed and refused
transition, for every party; clocks across a weekend and the 2024 National Day holiday (1–7
October, with Sunday 29 September and Saturday 12 October made working days), on the calendar
chinese-calendar gives (as the county's table is loaded); the routing of a new report."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import product
from zoneinfo import ZoneInfo

import pytest

from tongxin.protection.rules import (
    AWAITING_ACCEPTANCE,
    DEFAULT_POLICY,
    DEFAULT_ROUTING,
    ClockName,
    ClockPolicy,
    ClockState,
    Harm,
    Input,
    Limit,
    Party,
    Refusal,
    ReportTimes,
    RoutingProblem,
    Status,
    Transition,
    TransitionRefused,
    Unit,
    Urgency,
    available_transitions,
    check_transition,
    concern_categories,
    deadline,
    masks_names,
    report_clocks,
    route,
    routing_problems,
    times_after,
)
from tongxin.workdays.rules import WorkCalendar, chinese_calendar_entries, chinese_calendar_years

TZ = ZoneInfo("Asia/Shanghai")
# The calendar as loaded from chinese-calendar (2004–2026).
CALENDAR = WorkCalendar.of(
    chinese_calendar_entries(chinese_calendar_years()), chinese_calendar_years()
)


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=TZ)


# --- transitions -----------------------------------------------------------------------------

# Written out by hand from issue 5 (not derived from rules.STEPS, so that a change there fails).
ALLOWED: dict[tuple[Status, Transition], Status] = {
    (Status.RECEIVED, Transition.ACCEPT): Status.ACCEPTED,
    (Status.TRANSFERRED, Transition.ACCEPT): Status.ACCEPTED,
    (Status.ACCEPTED, Transition.START_VERIFICATION): Status.VERIFYING,
    (Status.VERIFYING, Transition.RECORD_RESULT): Status.RESULT_RECORDED,
    (Status.RESULT_RECORDED, Transition.INFORM_REPORTER): Status.REPORTER_INFORMED,
    (Status.REPORTER_INFORMED, Transition.CLOSE): Status.CLOSED,
    (Status.RECEIVED, Transition.REJECT): Status.REJECTED,
    (Status.TRANSFERRED, Transition.REJECT): Status.REJECTED,
    (Status.ACCEPTED, Transition.REJECT): Status.REJECTED,
    (Status.RECEIVED, Transition.TRANSFER): Status.TRANSFERRED,
    (Status.TRANSFERRED, Transition.TRANSFER): Status.TRANSFERRED,
    (Status.ACCEPTED, Transition.TRANSFER): Status.TRANSFERRED,
    (Status.VERIFYING, Transition.TRANSFER): Status.TRANSFERRED,
}
MOVERS = [frozenset({Party.COUNTY}), frozenset({Party.HANDLER})]
NON_MOVERS = [
    frozenset(),
    frozenset({Party.REPORTER}),
    frozenset({Party.VILLAGE}),
    frozenset({Party.AUDITOR}),
    frozenset({Party.RECIPIENT}),  # a department it went to at once reads it, does not move it
    frozenset({Party.REPORTER, Party.VILLAGE, Party.AUDITOR, Party.RECIPIENT}),
]
ALL_PAIRS = list(product(Status, Transition))


@pytest.mark.parametrize(("status", "transition"), list(ALLOWED))
@pytest.mark.parametrize("parties", MOVERS, ids=["county", "handler"])
def test_it_allows_the_county_and_the_handler_each_step(
    status: Status, transition: Transition, parties: frozenset[Party]
) -> None:
    assert check_transition(status, transition, parties) == ALLOWED[(status, transition)]
    assert transition in available_transitions(status, parties)


@pytest.mark.parametrize(("status", "transition"), list(ALLOWED))
@pytest.mark.parametrize(
    "parties",
    NON_MOVERS,
    ids=["nobody", "reporter", "village", "auditor", "recipient", "all-readers"],
)
def test_it_refuses_every_step_to_those_who_do_not_handle(
    status: Status, transition: Transition, parties: frozenset[Party]
) -> None:
    with pytest.raises(TransitionRefused) as refused:
        check_transition(status, transition, parties)
    assert refused.value.refusal == Refusal.PARTY
    assert available_transitions(status, parties) == ()


@pytest.mark.parametrize(
    ("status", "transition"), [p for p in ALL_PAIRS if p not in ALLOWED], ids=str
)
def test_it_refuses_every_step_not_from_its_status(status: Status, transition: Transition) -> None:
    for parties in (*MOVERS, frozenset(Party)):
        with pytest.raises(TransitionRefused) as refused:
            check_transition(status, transition, parties)
        # A step from the wrong status is a conflict, whoever asks.
        assert refused.value.refusal == Refusal.STATE
        assert transition not in available_transitions(status, parties)


def test_it_counts_the_table() -> None:
    assert len(ALL_PAIRS) == 8 * 7
    assert len(ALLOWED) == 13
    assert available_transitions(Status.CLOSED, frozenset(Party)) == ()
    assert available_transitions(Status.REJECTED, frozenset(Party)) == ()
    assert available_transitions(Status.VERIFYING, {Party.HANDLER}) == (
        Transition.RECORD_RESULT,
        Transition.TRANSFER,
    )


@pytest.mark.parametrize(
    ("transition", "needs"),
    [
        (Transition.ACCEPT, set()),
        (Transition.START_VERIFICATION, set()),
        (Transition.RECORD_RESULT, {Input.RESULT}),
        (Transition.INFORM_REPORTER, {Input.RESULT_FOR_REPORTER}),
        (Transition.CLOSE, set()),
        (Transition.REJECT, {Input.REASON}),
        (Transition.TRANSFER, {Input.DEPARTMENT, Input.REASON}),
    ],
)
def test_it_names_what_each_step_needs(transition: Transition, needs: set[Input]) -> None:
    from tongxin.protection.rules import STEPS

    assert STEPS[transition].needs == needs


# --- limits and working days -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("24h", Limit(24, Unit.HOURS)),
        ("15d", Limit(15, Unit.DAYS)),
        ("3wd", Limit(3, Unit.WORKING_DAYS)),
        (" 2 wd ", Limit(2, Unit.WORKING_DAYS)),
    ],
)
def test_it_reads_a_limit_from_the_settings(text: str, limit: Limit) -> None:
    assert Limit.parse(text) == limit
    assert Limit.parse(str(limit)) == limit


@pytest.mark.parametrize("text", ["", "24", "h24", "0h", "3 weeks", "-1d"])
def test_it_refuses_a_limit_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match="limit"):
        Limit.parse(text)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2024, 9, 27), True),  # Friday
        (date(2024, 9, 28), False),  # Saturday
        (date(2024, 9, 29), True),  # Sunday, made a working day for National Day
        (date(2024, 10, 1), False),  # National Day
        (date(2024, 10, 7), False),  # Monday, still the holiday
        (date(2024, 10, 8), True),
        (date(2024, 10, 12), True),  # Saturday, made a working day
        (date(2024, 10, 13), False),
        (date(2030, 1, 7), True),  # beyond the calendar: Monday to Friday
        (date(2030, 1, 5), False),
    ],
)
def test_it_knows_chinese_working_days(day: date, working: bool) -> None:
    assert CALENDAR.is_workday(day) is working


@pytest.mark.parametrize(
    ("start", "limit", "due"),
    [
        # Hours are exact: a weekend or a holiday does not pause them.
        (at(2024, 6, 14, 17), "24h", at(2024, 6, 15, 17)),
        (at(2024, 9, 30, 20), "24h", at(2024, 10, 1, 20)),
        # Working days: the start day does not count; the last one ends at midnight.
        (at(2024, 6, 14, 17), "1wd", at(2024, 6, 17, 23, 59, 59) + timedelta(microseconds=999999)),
        # Friday before the Dragon Boat Festival (Monday 10 June 2024 a holiday).
        (at(2024, 6, 7, 9), "3wd", at(2024, 6, 13, 23, 59, 59) + timedelta(microseconds=999999)),
        # Friday before National Day: Sunday 29/9 works, then 30/9, then 8/10.
        (at(2024, 9, 27, 15), "3wd", at(2024, 10, 8, 23, 59, 59) + timedelta(microseconds=999999)),
        # Inside the holiday.
        (at(2024, 10, 5, 10), "3wd", at(2024, 10, 10, 23, 59, 59) + timedelta(microseconds=999999)),
        # Calendar days: 15 days from 16/9 fall on 1/10, a holiday: it ends with 8/10.
        (at(2024, 9, 16, 11), "15d", at(2024, 10, 8, 23, 59, 59) + timedelta(microseconds=999999)),
        # ... and on a Saturday: it ends with Monday.
        (at(2024, 6, 7, 11), "15d", at(2024, 6, 24, 23, 59, 59) + timedelta(microseconds=999999)),
        (at(2024, 6, 3, 11), "15d", at(2024, 6, 18, 23, 59, 59) + timedelta(microseconds=999999)),
    ],
)
def test_it_computes_a_deadline(start: datetime, limit: str, due: datetime) -> None:
    assert deadline(start, Limit.parse(limit), TZ, CALENDAR) == due


def test_it_counts_days_on_the_local_calendar() -> None:
    # 23:30 UTC on Friday is 07:30 on Saturday in China: the next working day is Monday.
    start = datetime(2024, 6, 14, 23, 30, tzinfo=ZoneInfo("UTC"))
    due = deadline(start, Limit(1, Unit.WORKING_DAYS), TZ, CALENDAR)
    assert due.date() == date(2024, 6, 17)


def test_it_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="aware"):
        deadline(datetime(2024, 6, 14, 17), Limit(24, Unit.HOURS), TZ, CALENDAR)


# --- clocks ----------------------------------------------------------------------------------


def _states(
    times: ReportTimes, now: datetime, policy: ClockPolicy = DEFAULT_POLICY
) -> tuple[ClockState, ClockState]:
    acceptance, result = report_clocks(times, now, policy, calendar=CALENDAR)
    assert acceptance.name == ClockName.ACCEPTANCE
    assert result.name == ClockName.RESULT
    return acceptance.state, result.state


FRIDAY = at(2024, 6, 14, 17)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (FRIDAY + timedelta(hours=23, minutes=59), ClockState.RUNNING),
        (FRIDAY + timedelta(hours=24), ClockState.RUNNING),  # the limit's own instant is in time
        (FRIDAY + timedelta(hours=24, seconds=1), ClockState.BREACHED),  # Saturday 17:00:01
    ],
)
def test_the_acceptance_clock_runs_out_after_24_hours_even_on_a_weekend(
    now: datetime, state: ClockState
) -> None:
    times = ReportTimes(Status.RECEIVED, received_at=FRIDAY)
    assert _states(times, now) == (state, ClockState.NOT_STARTED)
    acceptance, _result = report_clocks(times, now, calendar=CALENDAR)
    assert acceptance.deadline == at(2024, 6, 15, 17)
    assert acceptance.running
    assert acceptance.breached is (state == ClockState.BREACHED)


def test_a_limit_in_working_days_waits_for_monday() -> None:
    policy = ClockPolicy(acceptance=Limit(1, Unit.WORKING_DAYS))
    times = ReportTimes(Status.RECEIVED, received_at=FRIDAY)
    assert _states(times, at(2024, 6, 16, 23), policy)[0] == ClockState.RUNNING  # Sunday
    assert _states(times, at(2024, 6, 17, 23, 59), policy)[0] == ClockState.RUNNING  # Monday
    assert _states(times, at(2024, 6, 18, 0, 0), policy)[0] == ClockState.BREACHED


def test_the_result_clock_runs_over_the_national_day_holiday() -> None:
    accepted = at(2024, 9, 16, 11)
    times = ReportTimes(Status.VERIFYING, received_at=accepted, accepted_at=accepted)
    # Day 15 is 1 October, a holiday: the period ends with 8 October.
    assert _states(times, at(2024, 10, 1, 12)) == (ClockState.MET, ClockState.RUNNING)
    assert _states(times, at(2024, 10, 8, 23, 59)) == (ClockState.MET, ClockState.RUNNING)
    assert _states(times, at(2024, 10, 9, 0, 0, 1)) == (ClockState.MET, ClockState.BREACHED)
    # A referral in 3 working days, sent the Friday before: Sunday 29/9, Monday 30/9, 8/10.
    sent = at(2024, 9, 27, 15)
    due = deadline(sent, DEFAULT_POLICY.referral_acceptance, TZ, CALENDAR)
    assert due.date() == date(2024, 10, 8)


@pytest.mark.parametrize(
    ("accepted_after", "state"),
    [(timedelta(hours=3), ClockState.MET), (timedelta(hours=30), ClockState.MET_LATE)],
)
def test_the_acceptance_clock_stops_on_acceptance(
    accepted_after: timedelta, state: ClockState
) -> None:
    accepted = FRIDAY + accepted_after
    times = ReportTimes(Status.ACCEPTED, received_at=FRIDAY, accepted_at=accepted)
    acceptance, result = report_clocks(times, accepted + timedelta(days=30), calendar=CALENDAR)
    assert acceptance.state == state
    assert acceptance.stopped_at == accepted
    assert acceptance.breached is (state == ClockState.MET_LATE)
    # The result clock started at acceptance: 15 days later it has run out.
    assert result.state == ClockState.BREACHED
    assert result.started_at == accepted


def test_a_rejection_stops_the_clock_that_runs() -> None:
    rejected = FRIDAY + timedelta(hours=2)
    times = times_after(ReportTimes(Status.RECEIVED, FRIDAY), Transition.REJECT, rejected)
    assert times.status == Status.REJECTED
    assert times.ended_at == rejected
    assert _states(times, FRIDAY + timedelta(days=40)) == (
        ClockState.MET,
        ClockState.NOT_STARTED,
    )
    accepted = ReportTimes(Status.ACCEPTED, FRIDAY, accepted_at=FRIDAY + timedelta(hours=1))
    late = times_after(accepted, Transition.REJECT, FRIDAY + timedelta(days=20))
    assert _states(late, FRIDAY + timedelta(days=40)) == (ClockState.MET, ClockState.MET_LATE)


def test_a_transfer_starts_the_clocks_again_for_the_new_department() -> None:
    times = ReportTimes(Status.VERIFYING, FRIDAY, accepted_at=FRIDAY + timedelta(hours=1))
    moved_at = FRIDAY + timedelta(days=3)
    moved = times_after(times, Transition.TRANSFER, moved_at)
    assert moved == ReportTimes(Status.TRANSFERRED, received_at=moved_at)
    assert moved.status in AWAITING_ACCEPTANCE
    acceptance, result = report_clocks(moved, moved_at + timedelta(hours=1), calendar=CALENDAR)
    assert acceptance.state == ClockState.RUNNING
    assert acceptance.deadline == moved_at + timedelta(hours=24)
    assert result.state == ClockState.NOT_STARTED


def test_the_whole_workflow_records_each_moment() -> None:
    t = [FRIDAY + timedelta(hours=h) for h in range(6)]
    times = ReportTimes(Status.RECEIVED, t[0])
    for step, moment in zip(
        [
            Transition.ACCEPT,
            Transition.START_VERIFICATION,
            Transition.RECORD_RESULT,
            Transition.INFORM_REPORTER,
            Transition.CLOSE,
        ],
        t[1:],
        strict=True,
    ):
        times = times_after(times, step, moment)
    assert times == ReportTimes(
        Status.CLOSED,
        received_at=t[0],
        accepted_at=t[1],
        result_at=t[3],
        informed_at=t[4],
        ended_at=t[5],
    )
    assert _states(times, t[5] + timedelta(days=100)) == (ClockState.MET, ClockState.MET)


# --- routing ---------------------------------------------------------------------------------


# Written out by hand from the law (not derived from DEFAULT_ROUTING, so that a change there
# fails): a suspected crime, or imminent danger, goes to the police and civil affairs at once.
POLICE_AND_CIVIL = ("police", "civil_affairs")


@pytest.mark.parametrize(
    ("harms", "urgency", "departments"),
    [
        ({Harm.PHYSICAL_ABUSE}, Urgency.NORMAL, POLICE_AND_CIVIL),
        ({Harm.DOMESTIC_VIOLENCE}, Urgency.URGENT, POLICE_AND_CIVIL),
        ({Harm.SEXUAL_ABUSE}, Urgency.NORMAL, POLICE_AND_CIVIL),
        ({Harm.TRAFFICKING, Harm.NEGLECT}, Urgency.NORMAL, POLICE_AND_CIVIL),
        ({Harm.OTHER_CRIME}, Urgency.URGENT, POLICE_AND_CIVIL),
        ({Harm.BULLYING}, Urgency.URGENT, ("education", "civil_affairs")),
        ({Harm.BULLYING}, Urgency.IMMINENT, ("police", "education", "civil_affairs")),
        (
            {Harm.BULLYING, Harm.PHYSICAL_ABUSE},
            Urgency.NORMAL,
            ("police", "education", "civil_affairs"),
        ),
        ({Harm.NEGLECT}, Urgency.URGENT, ("civil_affairs",)),
        ({Harm.NEGLECT}, Urgency.IMMINENT, POLICE_AND_CIVIL),
        ({Harm.ABANDONMENT, Harm.OTHER}, Urgency.NORMAL, ("civil_affairs",)),
        ({Harm.ACCIDENTAL_INJURY}, Urgency.NORMAL, ("civil_affairs",)),
    ],
)
def test_it_routes_a_new_report_to_every_department_at_once(
    harms: set[Harm], urgency: Urgency, departments: tuple[str, ...]
) -> None:
    routing = route(harms, urgency, DEFAULT_ROUTING)
    assert routing.departments == departments
    assert routing.lead == departments[0]


def test_it_routes_by_the_countys_table_and_lead_order() -> None:
    table = {**DEFAULT_ROUTING, "neglect": ("womens_federation", "civil_affairs")}
    routing = route({Harm.NEGLECT}, Urgency.NORMAL, table)
    # A department outside the lead order comes after those in it.
    assert routing.departments == ("civil_affairs", "womens_federation")
    assert route({Harm.NEGLECT}, Urgency.NORMAL, table, ("womens_federation",)).lead == (
        "womens_federation"
    )
    # A table that names nobody for the harm: civil affairs, the fallback guardian.
    assert route({Harm.OTHER}, Urgency.NORMAL, {}).departments == ("civil_affairs",)


DEPARTMENTS = ("police", "civil_affairs", "education", "womens_federation")


def test_the_default_table_is_complete_and_lawful() -> None:
    assert set(DEFAULT_ROUTING) == {*(h.value for h in Harm), "imminent"}
    assert routing_problems(DEFAULT_ROUTING, DEPARTMENTS) == {}


@pytest.mark.parametrize(
    ("key", "row", "problem"),
    [
        ("neglect", (), RoutingProblem.MISSING),
        ("neglect", ("civil_affairs", "fire_brigade"), RoutingProblem.UNKNOWN),
        ("physical_abuse", ("civil_affairs",), RoutingProblem.POLICE),
        ("other_crime", ("education", "civil_affairs"), RoutingProblem.POLICE),
        ("imminent", ("civil_affairs",), RoutingProblem.POLICE),
    ],
)
def test_it_refuses_a_table_that_breaks_the_law_or_names_nobody(
    key: str, row: tuple[str, ...], problem: RoutingProblem
) -> None:
    table = {**DEFAULT_ROUTING, key: row}
    assert routing_problems(table, DEPARTMENTS) == {key: problem}
    # Neglect may go to civil affairs alone; a crime may go to more than the police.
    assert routing_problems({**DEFAULT_ROUTING, "neglect": ("civil_affairs",)}, DEPARTMENTS) == {}


def test_it_raises_one_problem_per_category_and_masks_sexual_abuse() -> None:
    assert concern_categories([Harm.NEGLECT, Harm.ABANDONMENT]) == ("guardianship",)
    # Any iterable, a generator too.
    assert concern_categories(h for h in [Harm.NEGLECT, Harm.PHYSICAL_ABUSE]) == (
        "safety",
        "guardianship",
    )
    assert concern_categories([Harm.TRAFFICKING, Harm.PHYSICAL_ABUSE, Harm.BULLYING]) == (
        "safety",
        "psychological",
        "legal",
    )
    assert masks_names([Harm.NEGLECT, Harm.SEXUAL_ABUSE])
    assert not masks_names([Harm.PHYSICAL_ABUSE])
