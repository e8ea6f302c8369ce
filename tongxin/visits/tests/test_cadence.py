"""The cadence semantics of issue 4 ("Exact semantics"), at every edge the reports depend on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongxin.core.periods import (
    Period,
    PeriodKind,
    format_period,
    parse_period,
    period_of,
    periods_in,
    shift_period,
)
from tongxin.visits.rules import (
    DEFAULT_POLICIES,
    OBLIGATIONS,
    TOWN_SUPERVISOR,
    VILLAGE_DIRECTOR,
    CadencePolicy,
    ChildWindow,
    ContactFact,
    ContactKind,
    HouseholdWindow,
    Line,
    Obligation,
    RiskLevel,
    Status,
    Window,
    calendar_status,
    check_policies,
    compliance,
    family_line,
    policy_on,
    qualifies,
    rolling_status,
    urgency,
    worklist_lines,
)

D = date.fromisoformat
MONTHLY = Obligation.MONTHLY_CONTACT
QUARTERLY = Obligation.QUARTERLY_HOME_VISIT
YEARLY = Obligation.YEARLY_FAMILY_CONTACT
DONE, DUE, SOON, OVERDUE = Status.DONE, Status.DUE, Status.DUE_SOON, Status.OVERDUE


def phone(day: str, role: str = VILLAGE_DIRECTOR) -> ContactFact:
    return ContactFact(D(day), ContactKind.PHONE, role)


def home(day: str, role: str = VILLAGE_DIRECTOR) -> ContactFact:
    return ContactFact(D(day), ContactKind.HOME_VISIT, role)


def child(
    registered: str = "2024-01-01",
    until: str | None = None,
    spans: Sequence[tuple[str, str | None]] | None = None,
) -> ChildWindow:
    return ChildWindow(
        registered_on=D(registered),
        active_until=D(until) if until else None,
        categorised=None
        if spans is None
        else tuple((D(start), D(end) if end else None) for start, end in spans),
    )


def line(obligation: Obligation, last: str | None, due: str, status: Status) -> Line:
    return Line(obligation, D(last) if last else None, D(due), status)


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "kind", "start", "end", "text"),
    [
        ("2024-01-31", PeriodKind.MONTH, "2024-01-01", "2024-01-31", "2024-01"),
        ("2024-02-01", PeriodKind.MONTH, "2024-02-01", "2024-02-29", "2024-02"),
        ("2023-02-15", PeriodKind.MONTH, "2023-02-01", "2023-02-28", "2023-02"),
        ("2024-12-31", PeriodKind.MONTH, "2024-12-01", "2024-12-31", "2024-12"),
        ("2024-03-31", PeriodKind.QUARTER, "2024-01-01", "2024-03-31", "2024-Q1"),
        ("2024-04-01", PeriodKind.QUARTER, "2024-04-01", "2024-06-30", "2024-Q2"),
        ("2024-11-30", PeriodKind.QUARTER, "2024-10-01", "2024-12-31", "2024-Q4"),
        ("2024-07-04", PeriodKind.YEAR, "2024-01-01", "2024-12-31", "2024"),
    ],
)
def test_it_finds_the_calendar_period(
    day: str, kind: PeriodKind, start: str, end: str, text: str
) -> None:
    period = period_of(D(day), kind)
    assert period == Period(D(start), D(end), kind)
    assert format_period(period) == str(period) == text
    assert parse_period(text) == period


@pytest.mark.parametrize("text", ["2024-13", "2024-00", "2024-Q5", "2024-Q0", "24", "2024-6", ""])
def test_it_rejects_a_malformed_period(text: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        parse_period(text)


def test_it_splits_and_shifts_periods() -> None:
    q2 = parse_period("2024-Q2")
    assert [str(p) for p in periods_in(q2, PeriodKind.MONTH)] == ["2024-04", "2024-05", "2024-06"]
    assert [str(p) for p in periods_in(parse_period("2024"), "quarter")] == [
        "2024-Q1",
        "2024-Q2",
        "2024-Q3",
        "2024-Q4",
    ]
    assert str(shift_period(parse_period("2024-Q4"), 1)) == "2025-Q1"
    assert str(shift_period(parse_period("2024-01"), -1)) == "2023-12"
    with pytest.raises(ValueError, match="not made of"):
        periods_in(parse_period("2024-06"), PeriodKind.QUARTER)


# --- policy versions -------------------------------------------------------------------------


def test_it_picks_the_policy_in_force() -> None:
    first, second = CadencePolicy(D("2024-01-01")), CadencePolicy(D("2024-07-01"), False)
    policies = [second, first]  # any order
    assert policy_on(policies, D("2024-06-30")) is first
    assert policy_on(policies, D("2024-07-01")) is second
    with pytest.raises(ValueError, match="no cadence policy"):
        policy_on(policies, D("2023-12-31"))
    assert check_policies(policies) == (first, second)
    with pytest.raises(ValueError, match="same day"):
        check_policies([first, CadencePolicy(D("2024-01-01"))])
    with pytest.raises(ValueError, match="at least one"):
        check_policies([])


@pytest.mark.parametrize(
    "changes",
    [
        {"high_contact_days": 28},
        {"high_contact_days": 0},
        {"high_visit_days": 90},
        {"medium_visit_days": 90},
        {"due_soon_days": -1},
    ],
)
def test_it_refuses_a_policy_that_lowers_the_frequency(changes: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must"):
        CadencePolicy(date.min, **changes)  # type: ignore[arg-type]


def test_it_keeps_role_and_kind_codes_in_step_with_the_accounts_app() -> None:
    from tongxin.accounts.roles import Role

    assert VILLAGE_DIRECTOR == Role.VILLAGE_DIRECTOR
    assert TOWN_SUPERVISOR == Role.TOWN_SUPERVISOR
    assert [o.value for o in Obligation] == [
        "monthly_contact",
        "quarterly_home_visit",
        "yearly_family_contact",
    ]


# --- calendar status: month and quarter boundaries -------------------------------------------

# A child registered on 1 January 2024 (so January counts): contacts, as_of, expected line.
MONTH_CASES = [
    ([], "2024-01-10", line(MONTHLY, None, "2024-01-31", DUE)),
    ([], "2024-01-23", line(MONTHLY, None, "2024-01-31", DUE)),  # 8 days left
    ([], "2024-01-24", line(MONTHLY, None, "2024-01-31", SOON)),  # 7 days left
    ([], "2024-01-31", line(MONTHLY, None, "2024-01-31", SOON)),  # last day of the month
    ([], "2024-02-01", line(MONTHLY, None, "2024-01-31", OVERDUE)),  # first day of the next
    (["2024-01-31"], "2024-01-31", line(MONTHLY, "2024-01-31", "2024-01-31", DONE)),
    (["2024-01-31"], "2024-02-01", line(MONTHLY, "2024-01-31", "2024-02-29", DUE)),
    (["2024-01-31"], "2024-02-21", line(MONTHLY, "2024-01-31", "2024-02-29", DUE)),
    (["2024-01-31"], "2024-02-22", line(MONTHLY, "2024-01-31", "2024-02-29", SOON)),  # leap Feb
    (["2024-01-31"], "2024-02-29", line(MONTHLY, "2024-01-31", "2024-02-29", SOON)),
    (["2024-01-31"], "2024-03-01", line(MONTHLY, "2024-01-31", "2024-02-29", OVERDUE)),
    (["2024-02-29"], "2024-02-29", line(MONTHLY, "2024-02-29", "2024-02-29", DONE)),
    (["2024-02-29"], "2024-03-01", line(MONTHLY, "2024-02-29", "2024-03-31", DUE)),
    # Several months missed: overdue since the first miss.
    (["2024-01-15"], "2024-04-10", line(MONTHLY, "2024-01-15", "2024-02-29", OVERDUE)),
    # A contact in the current month clears the overdue and makes it done.
    (
        ["2024-01-15", "2024-04-02"],
        "2024-04-10",
        line(MONTHLY, "2024-04-02", "2024-04-30", DONE),
    ),
    # Contacts after as_of are ignored (backfilled records judged as of a date).
    (["2024-02-10"], "2024-02-05", line(MONTHLY, None, "2024-01-31", OVERDUE)),
    (["2024-02-10"], "2024-02-10", line(MONTHLY, "2024-02-10", "2024-02-29", DONE)),
    # Year end.
    (["2024-12-31"], "2025-01-01", line(MONTHLY, "2024-12-31", "2025-01-31", DUE)),
]


@pytest.mark.parametrize(("contacts", "as_of", "expected"), MONTH_CASES)
def test_it_judges_the_monthly_contact(contacts: list[str], as_of: str, expected: Line) -> None:
    got = calendar_status(MONTHLY, [phone(day) for day in contacts], child(), D(as_of))
    assert got == expected


def test_it_knows_february_has_28_days_in_a_common_year() -> None:
    window = child("2023-01-01")
    contacts = [phone("2023-01-31")]
    assert calendar_status(MONTHLY, contacts, window, D("2023-02-20")) == line(
        MONTHLY, "2023-01-31", "2023-02-28", DUE
    )
    assert calendar_status(MONTHLY, contacts, window, D("2023-02-21")) == line(
        MONTHLY, "2023-01-31", "2023-02-28", SOON
    )
    assert calendar_status(MONTHLY, contacts, window, D("2023-03-01")) == line(
        MONTHLY, "2023-01-31", "2023-02-28", OVERDUE
    )


QUARTER_CASES = [
    ([], "2024-03-24", line(QUARTERLY, None, "2024-03-31", SOON)),
    ([], "2024-03-23", line(QUARTERLY, None, "2024-03-31", DUE)),
    ([], "2024-04-01", line(QUARTERLY, None, "2024-03-31", OVERDUE)),  # Q1 → Q2
    ([home("2024-03-31")], "2024-03-31", line(QUARTERLY, "2024-03-31", "2024-03-31", DONE)),
    ([home("2024-03-31")], "2024-04-01", line(QUARTERLY, "2024-03-31", "2024-06-30", DUE)),
    ([home("2024-03-31")], "2024-06-22", line(QUARTERLY, "2024-03-31", "2024-06-30", DUE)),
    ([home("2024-03-31")], "2024-06-23", line(QUARTERLY, "2024-03-31", "2024-06-30", SOON)),
    ([home("2024-02-01")], "2024-07-01", line(QUARTERLY, "2024-02-01", "2024-06-30", OVERDUE)),
    ([home("2024-02-01")], "2024-10-15", line(QUARTERLY, "2024-02-01", "2024-06-30", OVERDUE)),
    (
        [home("2024-02-01"), home("2024-10-01")],
        "2024-10-15",
        line(QUARTERLY, "2024-10-01", "2024-12-31", DONE),
    ),
    ([home("2024-12-31")], "2025-01-01", line(QUARTERLY, "2024-12-31", "2025-03-31", DUE)),
    # A phone call is a contact, not a home visit.
    ([phone("2024-03-15")], "2024-03-20", line(QUARTERLY, None, "2024-03-31", DUE)),
    # A home visit is also a contact.
]


@pytest.mark.parametrize(("contacts", "as_of", "expected"), QUARTER_CASES)
def test_it_judges_the_quarterly_home_visit(
    contacts: list[ContactFact], as_of: str, expected: Line
) -> None:
    assert calendar_status(QUARTERLY, contacts, child(), D(as_of)) == expected


def test_it_counts_a_home_visit_as_a_contact() -> None:
    got = calendar_status(MONTHLY, [home("2024-03-05")], child(), D("2024-03-10"))
    assert got == line(MONTHLY, "2024-03-05", "2024-03-31", DONE)


@pytest.mark.parametrize(
    ("obligation", "contact"),
    [
        (MONTHLY, phone("2024-03-05", TOWN_SUPERVISOR)),
        (QUARTERLY, home("2024-03-05", TOWN_SUPERVISOR)),
        (QUARTERLY, home("2024-03-05", "county_admin")),
        (YEARLY, phone("2024-03-05", VILLAGE_DIRECTOR)),
    ],
)
def test_it_ignores_contacts_by_the_wrong_role(
    obligation: Obligation, contact: ContactFact
) -> None:
    window = HouseholdWindow((child(),)) if obligation is YEARLY else child()
    as_of = D("2024-03-10")
    assert not qualifies(obligation, contact)
    got = calendar_status(obligation, [contact], window, as_of)
    assert got == calendar_status(obligation, [], window, as_of)
    assert got is not None
    assert got.last_contact is None
    assert got.status != DONE
    # The same contact by the obligation's role satisfies it.
    right = contact._replace(author_role=OBLIGATIONS[obligation].role)
    assert calendar_status(obligation, [right], window, as_of) == Line(
        obligation, contact.day, period_of(as_of, OBLIGATIONS[obligation].period).end, DONE
    )


# --- who counts: registration mid-period, leaving scope, categories ---------------------------


@pytest.mark.parametrize(
    ("registered", "contacts", "as_of", "expected"),
    [
        # Registered mid-June: June is not counted; the first due date is the end of July.
        ("2024-06-10", [], "2024-06-10", line(MONTHLY, None, "2024-07-31", DUE)),
        ("2024-06-10", [], "2024-06-30", line(MONTHLY, None, "2024-07-31", DUE)),
        (
            "2024-06-10",
            ["2024-06-15"],
            "2024-06-20",
            line(MONTHLY, "2024-06-15", "2024-07-31", DUE),
        ),
        (
            "2024-06-10",
            ["2024-06-15"],
            "2024-07-25",
            line(MONTHLY, "2024-06-15", "2024-07-31", SOON),
        ),
        (
            "2024-06-10",
            ["2024-06-15"],
            "2024-08-01",
            line(MONTHLY, "2024-06-15", "2024-07-31", OVERDUE),
        ),
        (
            "2024-06-10",
            ["2024-07-02"],
            "2024-07-05",
            line(MONTHLY, "2024-07-02", "2024-07-31", DONE),
        ),
        # Registered on the first day: that month counts.
        ("2024-06-01", [], "2024-06-30", line(MONTHLY, None, "2024-06-30", SOON)),
        ("2024-06-01", [], "2024-07-01", line(MONTHLY, None, "2024-06-30", OVERDUE)),
    ],
)
def test_it_starts_counting_after_registration(
    registered: str, contacts: list[str], as_of: str, expected: Line
) -> None:
    got = calendar_status(MONTHLY, [phone(d) for d in contacts], child(registered), D(as_of))
    assert got == expected


def test_it_starts_the_home_visit_at_the_end_of_the_first_counted_quarter() -> None:
    window = child("2024-05-20")
    assert calendar_status(QUARTERLY, [], window, D("2024-06-30")) == line(
        QUARTERLY, None, "2024-09-30", DUE
    )
    assert calendar_status(QUARTERLY, [], window, D("2024-09-23")) == line(
        QUARTERLY, None, "2024-09-30", SOON
    )
    assert calendar_status(QUARTERLY, [], window, D("2024-10-01")) == line(
        QUARTERLY, None, "2024-09-30", OVERDUE
    )


def test_it_has_no_line_before_registration() -> None:
    assert calendar_status(MONTHLY, [], child("2024-06-10"), D("2024-06-09")) is None
    assert worklist_lines([], child("2024-06-10"), RiskLevel.HIGH, D("2024-06-09")) == ()


def test_it_stops_counting_a_child_who_left_scope() -> None:
    window = child("2024-01-01", until="2024-06-15")
    assert calendar_status(MONTHLY, [], window, D("2024-06-14")) == line(
        MONTHLY, None, "2024-01-31", OVERDUE
    )
    assert calendar_status(MONTHLY, [], window, D("2024-06-15")) is None
    assert worklist_lines([], window, RiskLevel.LOW, D("2024-06-15")) == ()
    report = compliance(MONTHLY, parse_period("2024-Q2"), [("c", window, [])])
    assert [(str(p.period), p.counted) for p in report.by_period] == [
        ("2024-04", 1),
        ("2024-05", 1),
        ("2024-06", 0),
    ]


def test_it_counts_only_periods_ending_in_a_category() -> None:
    # In a category until 10 May (exclusive end), again from 15 July.
    window = child("2024-01-01", spans=[("2024-01-01", "2024-05-10"), ("2024-07-15", None)])
    assert calendar_status(MONTHLY, [], window, D("2024-06-20")) is None
    # April was the last counted month (May and June end outside a category): met in April,
    # so not overdue; July counts because the child is in a category today.
    contacts = [phone("2024-04-10")]
    assert calendar_status(MONTHLY, contacts, window, D("2024-07-20")) == line(
        MONTHLY, "2024-04-10", "2024-07-31", DUE
    )
    contacts = [phone("2024-03-10")]
    assert calendar_status(MONTHLY, contacts, window, D("2024-07-20")) == line(
        MONTHLY, "2024-03-10", "2024-04-30", OVERDUE
    )
    # A contact in an uncounted month is still "something qualifying since".
    contacts = [phone("2024-03-10"), phone("2024-06-01")]
    assert calendar_status(MONTHLY, contacts, window, D("2024-07-20")) == line(
        MONTHLY, "2024-06-01", "2024-07-31", DUE
    )


def test_it_accepts_a_predicate_for_the_categories() -> None:
    window = ChildWindow(D("2024-01-01"), categorised=lambda day: day.month != 2)
    assert calendar_status(MONTHLY, [], window, D("2024-02-10")) is None
    # February is not counted, so January is the missed month.
    assert calendar_status(MONTHLY, [], window, D("2024-03-10")) == line(
        MONTHLY, None, "2024-01-31", OVERDUE
    )


# --- households and siblings -----------------------------------------------------------------


def test_it_credits_a_household_visit_to_every_sibling() -> None:
    visit = home("2024-05-08")
    older, younger = child("2023-03-01"), child("2024-02-01")
    for risk in RiskLevel:
        lines_older = worklist_lines([visit], older, risk, D("2024-05-20"))
        lines_younger = worklist_lines([visit], younger, risk, D("2024-05-20"))
        assert lines_older == lines_younger
        assert {line.last_contact for line in lines_older} == {D("2024-05-08")}
    assert [ln.status for ln in worklist_lines([visit], older, RiskLevel.LOW, D("2024-05-20"))] == [
        DONE,
        DONE,
    ]


def test_it_judges_the_yearly_family_contact_per_household() -> None:
    household = HouseholdWindow((child("2023-05-01"), child("2024-03-01")))
    call = phone("2024-06-01", TOWN_SUPERVISOR)
    assert family_line([call], household, D("2024-12-31")) == line(
        YEARLY, "2024-06-01", "2024-12-31", DONE
    )
    assert family_line([], household, D("2024-12-24")) == line(YEARLY, None, "2024-12-31", SOON)
    assert family_line([], household, D("2025-01-01")) == line(YEARLY, None, "2024-12-31", OVERDUE)
    # Registered in March: the household's first counted year is the next one.
    newcomer = HouseholdWindow((child("2024-03-01"),))
    assert family_line([], newcomer, D("2024-06-01")) == line(YEARLY, None, "2025-12-31", DUE)
    # Every child gone: no line.
    gone = HouseholdWindow((child("2023-05-01", until="2024-02-01"),))
    assert family_line([], gone, D("2024-06-01")) is None


# --- rolling cadence for raised risk ---------------------------------------------------------


def test_it_rolls_the_high_risk_cadence_from_the_last_contact() -> None:
    window = child("2024-01-01")
    contacts = [home("2024-02-20"), phone("2024-03-01")]
    assert worklist_lines(contacts, window, RiskLevel.HIGH, D("2024-03-10")) == (
        Line(MONTHLY, D("2024-03-01"), D("2024-03-16"), SOON, 15),
        Line(QUARTERLY, D("2024-02-20"), D("2024-03-21"), DUE, 30),
    )
    assert worklist_lines(contacts, window, RiskLevel.HIGH, D("2024-03-16"))[0].status == SOON
    assert worklist_lines(contacts, window, RiskLevel.HIGH, D("2024-03-17"))[0] == Line(
        MONTHLY, D("2024-03-01"), D("2024-03-16"), OVERDUE, 15
    )
    # The calendar line would say done for March; the tighter cadence drives the worklist.
    assert calendar_status(MONTHLY, contacts, window, D("2024-03-17")) == line(
        MONTHLY, "2024-03-01", "2024-03-31", DONE
    )


def test_it_rolls_from_the_registration_date_when_there_is_no_contact() -> None:
    window = child("2024-06-10")
    got = rolling_status(MONTHLY, [], window, D("2024-06-12"), 15)
    assert got == Line(MONTHLY, None, D("2024-06-25"), DUE, 15)
    assert rolling_status(MONTHLY, [], window, D("2024-06-18"), 15) == got._replace(status=SOON)
    assert rolling_status(MONTHLY, [], window, D("2024-06-26"), 15) == got._replace(status=OVERDUE)
    assert rolling_status(MONTHLY, [], window, D("2024-06-09"), 15) is None


def test_it_rolls_only_the_home_visit_for_medium_risk() -> None:
    window = child("2024-01-01")
    contacts = [home("2024-01-05"), phone("2024-03-02")]
    assert worklist_lines(contacts, window, RiskLevel.MEDIUM, D("2024-03-10")) == (
        line(MONTHLY, "2024-03-02", "2024-03-31", DONE),
        Line(QUARTERLY, D("2024-01-05"), D("2024-03-05"), OVERDUE, 60),
    )
    assert worklist_lines(contacts, window, RiskLevel.LOW, D("2024-03-10")) == (
        line(MONTHLY, "2024-03-02", "2024-03-31", DONE),
        line(QUARTERLY, "2024-01-05", "2024-03-31", DONE),
    )


def test_it_orders_lines_most_urgent_first() -> None:
    lines = [
        line(MONTHLY, None, "2024-03-31", DONE),
        line(MONTHLY, None, "2024-03-31", DUE),
        line(MONTHLY, None, "2024-02-29", OVERDUE),
        line(MONTHLY, None, "2024-01-31", OVERDUE),
        line(MONTHLY, None, "2024-03-31", SOON),
    ]
    assert [(ln.status, ln.due.month) for ln in sorted(lines, key=urgency)] == [
        (OVERDUE, 1),
        (OVERDUE, 2),
        (SOON, 3),
        (DUE, 3),
        (DONE, 3),
    ]


# --- a policy change with an effective date --------------------------------------------------


def test_it_judges_each_quarter_by_the_policy_then_in_force() -> None:
    policies = (CadencePolicy(date.min), CadencePolicy(D("2024-07-01"), quarterly_home_visit=False))
    window = child("2024-01-01")
    assert calendar_status(QUARTERLY, [], window, D("2024-06-30"), policies) == line(
        QUARTERLY, None, "2024-03-31", OVERDUE
    )
    assert calendar_status(QUARTERLY, [], window, D("2024-07-01"), policies) is None
    assert (
        compliance(QUARTERLY, parse_period("2024-Q2"), [("c", window, [])], policies).counted == 1
    )
    q3 = compliance(QUARTERLY, parse_period("2024-Q3"), [("c", window, [])], policies)
    assert (q3.counted, q3.by_period) == (0, ())
    assert q3.rate is None
    year = compliance(QUARTERLY, parse_period("2024"), [("c", window, [])], policies)
    assert [str(p.period) for p in year.by_period] == ["2024-Q1", "2024-Q2"]


def test_it_applies_a_mid_month_change_from_the_next_month() -> None:
    policies = [CadencePolicy(date.min), CadencePolicy(D("2024-05-15"), monthly_contact=False)]
    window = child("2024-01-01")
    contacts = [phone("2024-04-30")]
    assert calendar_status(MONTHLY, contacts, window, D("2024-05-20"), policies) == line(
        MONTHLY, "2024-04-30", "2024-05-31", DUE
    )
    assert calendar_status(MONTHLY, contacts, window, D("2024-06-01"), policies) is None
    assert worklist_lines(contacts, window, RiskLevel.HIGH, D("2024-06-01"), policies) == (
        Line(QUARTERLY, None, D("2024-01-31"), OVERDUE, 30),
    )
    may = compliance(MONTHLY, parse_period("2024-05"), [("c", window, contacts)], policies)
    assert (may.counted, may.met) == (1, 0)


def test_it_does_not_hold_a_child_to_months_before_an_obligation_began() -> None:
    policies = [CadencePolicy(date.min, monthly_contact=False), CadencePolicy(D("2024-07-01"))]
    window = child("2024-01-01")
    assert calendar_status(MONTHLY, [], window, D("2024-06-30"), policies) is None
    assert calendar_status(MONTHLY, [], window, D("2024-07-10"), policies) == line(
        MONTHLY, None, "2024-07-31", DUE
    )
    assert calendar_status(MONTHLY, [], window, D("2024-08-01"), policies) == line(
        MONTHLY, None, "2024-07-31", OVERDUE
    )


def test_it_uses_the_rolling_interval_in_force_on_the_day() -> None:
    policies = [CadencePolicy(date.min), CadencePolicy(D("2024-06-15"), high_contact_days=10)]
    contacts = [phone("2024-06-01")]
    before = worklist_lines(contacts, child(), RiskLevel.HIGH, D("2024-06-14"), policies)
    after = worklist_lines(contacts, child(), RiskLevel.HIGH, D("2024-06-15"), policies)
    assert before[0] == Line(MONTHLY, D("2024-06-01"), D("2024-06-16"), SOON, 15)
    assert after[0] == Line(MONTHLY, D("2024-06-01"), D("2024-06-11"), OVERDUE, 10)


# --- compliance ------------------------------------------------------------------------------


def test_it_measures_monthly_compliance() -> None:
    units: list[tuple[str, Window, list[ContactFact]]] = [
        ("met", child(), [phone("2024-06-05")]),
        ("silent", child(), [phone("2024-05-31"), phone("2024-07-01")]),
        ("new", child("2024-06-10"), []),  # registered mid-month: not counted
        ("gone", child(until="2024-06-15"), []),  # left scope: not counted
        ("supervisor_only", child(), [phone("2024-06-05", TOWN_SUPERVISOR)]),
    ]
    report = compliance(MONTHLY, parse_period("2024-06"), units)
    assert (report.counted, report.met, report.unmet) == (3, 1, ("silent", "supervisor_only"))
    assert report.rate == pytest.approx(1 / 3)


def test_it_measures_a_quarter_month_by_month() -> None:
    units: list[tuple[str, Window, list[ContactFact]]] = [
        ("every_month", child(), [phone("2024-04-01"), phone("2024-05-31"), home("2024-06-30")]),
        ("missed_may", child(), [phone("2024-04-10"), phone("2024-06-10")]),
        ("from_may", child("2024-05-01"), [phone("2024-05-02"), phone("2024-06-02")]),
    ]
    report = compliance(MONTHLY, parse_period("2024-Q2"), units)
    assert (report.counted, report.met, report.unmet) == (3, 2, ("missed_may",))
    assert [(str(p.period), p.counted, p.met) for p in report.by_period] == [
        ("2024-04", 2, 2),
        ("2024-05", 3, 2),
        ("2024-06", 3, 3),
    ]


def test_it_judges_a_report_as_of_a_date() -> None:
    units: list[tuple[str, Window, list[ContactFact]]] = [
        ("a", child(), [phone("2024-04-01"), phone("2024-05-20")]),
        ("b", child(), [phone("2024-04-01"), phone("2024-05-10")]),
    ]
    report = compliance(MONTHLY, parse_period("2024-Q2"), units, as_of=D("2024-05-15"))
    assert [(str(p.period), p.counted, p.met) for p in report.by_period] == [
        ("2024-04", 2, 2),
        ("2024-05", 2, 1),
    ]
    assert report.unmet == ("a",)


def test_it_reports_yearly_contact_progress_in_a_quarter() -> None:
    units: list[tuple[int, Window, list[ContactFact]]] = [
        (1, HouseholdWindow((child("2023-05-01"),)), [phone("2024-05-01", TOWN_SUPERVISOR)]),
        (2, HouseholdWindow((child("2023-05-01"),)), [phone("2024-08-01", TOWN_SUPERVISOR)]),
        (3, HouseholdWindow((child("2024-02-01"),)), []),  # first counted year: 2025
    ]
    q2 = compliance(YEARLY, parse_period("2024-Q2"), units)
    assert (q2.counted, q2.met, q2.unmet) == (2, 1, (2,))
    assert [(str(p.period), p.counted) for p in q2.by_period] == [("2024", 2)]
    year = compliance(YEARLY, parse_period("2024"), units)
    assert (year.counted, year.met, year.unmet) == (2, 2, ())


# --- properties ------------------------------------------------------------------------------

FIRST, LAST = date(2023, 1, 1), date(2025, 12, 31)
days = st.dates(min_value=FIRST, max_value=LAST)
roles = st.sampled_from([VILLAGE_DIRECTOR] * 4 + [TOWN_SUPERVISOR] * 2 + ["county_admin"])
kinds = st.sampled_from([*ContactKind, ContactKind.HOME_VISIT, ContactKind.HOME_VISIT])


@st.composite
def child_windows(draw: st.DrawFn, registered: date | None = None) -> ChildWindow:
    if registered is None:
        registered = draw(days)
    until = None
    if draw(st.integers(0, 3)) == 0:
        until = registered + timedelta(days=draw(st.integers(0, 900)))
    spans: tuple[tuple[date, date | None], ...] | None = None
    if draw(st.booleans()):
        offsets = draw(st.lists(st.integers(-60, 900), min_size=1, max_size=6, unique=True))
        cuts = [registered + timedelta(days=offset) for offset in sorted(offsets)]
        pairs = [(start, end) for start, end in zip(cuts[::2], cuts[1::2], strict=False)]
        spans = tuple(pairs) + (((cuts[-1], None),) if len(cuts) % 2 else ())
    return ChildWindow(registered, until, spans)


@st.composite
def scenarios(draw: st.DrawFn, households: bool = True) -> tuple[list[ContactFact], Window, date]:
    """A window, a day mostly after its registration, and contacts around both."""
    registered = draw(days)
    first = draw(child_windows(registered))
    window: Window = first
    if households and draw(st.booleans()):
        others = draw(st.lists(child_windows(), max_size=2))
        window = HouseholdWindow((first, *others))
    as_of = registered + timedelta(days=draw(st.integers(-20, 800)))
    span = (as_of - registered).days + 60
    contacts = draw(
        st.lists(
            st.builds(
                ContactFact,
                st.integers(-30, span).map(lambda n: registered + timedelta(days=n)),
                kinds,
                roles,
            ),
            max_size=10,
        )
    )
    return contacts, window, as_of


mostly_on = st.sampled_from([True, True, True, False])


@st.composite
def policy_lists(draw: st.DrawFn) -> tuple[CadencePolicy, ...]:
    def version(effective_from: date) -> CadencePolicy:
        return CadencePolicy(
            effective_from,
            monthly_contact=draw(mostly_on),
            quarterly_home_visit=draw(mostly_on),
            yearly_family_contact=draw(mostly_on),
            high_contact_days=draw(st.integers(1, 27)),
            high_visit_days=draw(st.integers(1, 89)),
            medium_visit_days=draw(st.integers(1, 89)),
            due_soon_days=draw(st.integers(0, 20)),
        )

    later = draw(st.lists(days, max_size=2, unique=True))
    return (version(date.min), *(version(day) for day in later))


def reference_status(
    obligation: Obligation,
    contacts: list[ContactFact],
    window: Window,
    as_of: date,
    policies: Sequence[CadencePolicy],
) -> Line | None:
    """The issue's sentences, read literally and evaluated period by period."""
    qualifying = sorted(c.day for c in contacts if c.day <= as_of and qualifies(obligation, c))
    last = qualifying[-1] if qualifying else None
    if not window.in_scope(as_of):
        return None
    kind = OBLIGATIONS[obligation].period
    current = period_of(as_of, kind)
    if not policy_on(policies, current.start).applies(obligation):
        return None

    def applies(period: Period) -> bool:
        return policy_on(policies, period.start).applies(obligation)

    def met(period: Period) -> bool:
        return any(period.contains(day) for day in qualifying)

    def nothing_since(period: Period) -> bool:
        return not any(day >= period.start for day in qualifying)

    ended: list[Period] = []
    period = period_of(window.registered_on, kind)
    while period.start < current.start:
        if window.counts(period.start, period.end) and applies(period):
            ended.append(period)
        period = shift_period(period, 1)
    counted_now = window.counts(current.start, as_of)
    if counted_now and met(current):
        return Line(obligation, last, current.end, Status.DONE)
    if ended and not met(ended[-1]) and nothing_since(ended[-1]):
        first = min(p for p in ended if nothing_since(p))
        return Line(obligation, last, first.end, Status.OVERDUE)
    due = current.end
    if not counted_now:
        following = shift_period(current, 1)
        if not applies(following):
            return None
        due = following.end
    soon = (due - as_of).days <= policy_on(policies, as_of).due_soon_days
    return Line(obligation, last, due, Status.DUE_SOON if soon else Status.DUE)


@settings(max_examples=300, deadline=None)
@given(obligation=st.sampled_from(list(Obligation)), scenario=scenarios(), policies=policy_lists())
def test_it_agrees_with_the_literal_reading_of_the_issue(
    obligation: Obligation,
    scenario: tuple[list[ContactFact], Window, date],
    policies: tuple[CadencePolicy, ...],
) -> None:
    contacts, window, as_of = scenario
    got = calendar_status(obligation, contacts, window, as_of, policies)
    assert got == reference_status(obligation, contacts, window, as_of, policies)


@settings(max_examples=300, deadline=None)
@given(obligation=st.sampled_from(list(Obligation)), scenario=scenarios(), policies=policy_lists())
def test_it_keeps_the_status_and_due_date_sane(
    obligation: Obligation,
    scenario: tuple[list[ContactFact], Window, date],
    policies: tuple[CadencePolicy, ...],
) -> None:
    contacts, window, as_of = scenario
    got = calendar_status(obligation, contacts, window, as_of, policies)
    if got is None:
        return
    current = period_of(as_of, OBLIGATIONS[obligation].period)
    in_current = [
        c for c in contacts if current.start <= c.day <= as_of and qualifies(obligation, c)
    ]
    if not in_current:
        assert got.status != Status.DONE
    # The due date ends a period that started on or after the registration date.
    due_period = period_of(got.due, current.kind)
    assert due_period.end == got.due
    assert due_period.start >= window.registered_on
    if got.status == Status.OVERDUE:
        assert got.due < current.start
    else:
        assert got.due >= current.start
        assert got.due >= as_of
    if got.last_contact is not None:
        assert got.last_contact <= as_of


@settings(max_examples=300, deadline=None)
@given(
    scenario=scenarios(households=False),
    policies=policy_lists(),
    risk=st.sampled_from([RiskLevel.MEDIUM, RiskLevel.HIGH]),
)
def test_it_never_lets_raised_risk_lower_the_urgency(
    scenario: tuple[list[ContactFact], Window, date],
    policies: tuple[CadencePolicy, ...],
    risk: RiskLevel,
) -> None:
    contacts, window, as_of = scenario
    assert isinstance(window, ChildWindow)
    plain = {
        ln.obligation: ln for ln in worklist_lines(contacts, window, RiskLevel.LOW, as_of, policies)
    }
    raised = {ln.obligation: ln for ln in worklist_lines(contacts, window, risk, as_of, policies)}
    assert raised.keys() == plain.keys()
    for obligation, rolled in raised.items():
        assert urgency(rolled)[0] <= urgency(plain[obligation])[0]


@given(day=days, kind=st.sampled_from(list(PeriodKind)))
def test_it_reads_back_what_it_writes(day: date, kind: PeriodKind) -> None:
    period = period_of(day, kind)
    assert parse_period(str(period)) == period
    assert period.contains(day)
    assert shift_period(shift_period(period, 1), -1) == period
    assert shift_period(period, 1).start == period.end + timedelta(days=1)


def test_it_defaults_to_the_plan() -> None:
    policy = policy_on(DEFAULT_POLICIES, date.today())
    assert (policy.high_contact_days, policy.high_visit_days, policy.medium_visit_days) == (
        15,
        30,
        60,
    )
    assert policy.due_soon_days == 7
