"""The worklist selector (``visits/worklist.py``): the cadence semantics at their edges, whose
lines each role sees, and a query count that does not grow with the number of children."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongxin.registry import services as registry
from tongxin.registry.models import Child, ChildStatus
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors
from tongxin.visits import rules, services
from tongxin.visits.models import ChildRisk, RiskSpan
from tongxin.visits.tests import worklist_world as world
from tongxin.visits.tests.conftest import VISITED, add_sibling
from tongxin.visits.worklist import escalate_after_days, escalations, worklist_lines
from tongxin.visits.worklist_sql import WorkLine, mask_name

pytestmark = pytest.mark.django_db

D = date.fromisoformat
MONTHLY, QUARTERLY = rules.Obligation.MONTHLY_CONTACT, rules.Obligation.QUARTERLY_HOME_VISIT
YEARLY = rules.Obligation.YEARLY_FAMILY_CONTACT
HOME = rules.ContactKind.HOME_VISIT


def lines_of(actors: Actors, kid: Child, as_of: str) -> dict[str, tuple[object, ...]]:
    """The director's lines of ``kid``: obligation → (last contact, due, status, interval)."""
    return {
        str(line.obligation): (
            line.last_contact and line.last_contact.isoformat(),
            line.due.isoformat(),
            str(line.status),
            line.interval_days,
        )
        for line in worklist_lines(actors.village_director, D(as_of))
        if line.child == kid.public_id
    }


# --- calendar edges ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2024-05-31", ("2024-05-31", "done", None)),  # the contact's own month
        ("2024-06-01", ("2024-06-30", "due", None)),  # a new month
        ("2024-06-22", ("2024-06-30", "due", None)),  # 8 days left
        ("2024-06-23", ("2024-06-30", "due_soon", None)),  # 7 days left
        ("2024-06-30", ("2024-06-30", "due_soon", None)),  # the last day
        ("2024-07-01", ("2024-06-30", "overdue", None)),  # June missed
        ("2024-09-15", ("2024-06-30", "overdue", None)),  # since the first miss
    ],
)
def test_it_turns_the_month_at_its_boundaries(
    actors: Actors, as_of: str, expected: tuple[object, ...]
) -> None:
    kid = world.child(registered_on=D("2024-01-01"))
    world.contact(actors.village_director, [kid], D("2024-05-31"))
    assert lines_of(actors, kid, as_of)[MONTHLY] == ("2024-05-31", *expected)


@pytest.mark.parametrize(
    ("as_of", "due", "status"),
    [
        ("2024-03-31", "2024-03-31", "done"),
        ("2024-04-01", "2024-06-30", "due"),
        ("2024-06-24", "2024-06-30", "due_soon"),
        ("2024-07-01", "2024-06-30", "overdue"),
    ],
)
def test_it_turns_the_quarter_at_its_boundaries(
    actors: Actors, as_of: str, due: str, status: str
) -> None:
    kid = world.child(registered_on=D("2024-01-01"))
    world.contact(actors.village_director, [kid], D("2024-03-31"), kind=HOME)
    # A phone call in the quarter is a contact, not a home visit.
    world.contact(actors.village_director, [kid], D("2024-05-10"))
    assert lines_of(actors, kid, as_of)[QUARTERLY] == ("2024-03-31", due, status, None)


def test_contacts_after_as_of_are_ignored(actors: Actors) -> None:
    kid = world.child(registered_on=D("2024-01-01"))
    world.contact(actors.village_director, [kid], D("2024-06-20"), kind=HOME)
    assert lines_of(actors, kid, "2024-06-19") == {
        MONTHLY: (None, "2024-01-31", "overdue", None),
        QUARTERLY: (None, "2024-03-31", "overdue", None),
    }
    assert lines_of(actors, kid, "2024-06-20")[QUARTERLY][2] == "done"


def test_only_the_authors_role_at_the_time_counts(actors: Actors) -> None:
    kid = world.child(registered_on=D("2024-01-01"))
    # Recorded by the stock director's account, but while it held another role.
    world.contact(actors.village_director, [kid], D("2024-06-03"), role=rules.TOWN_SUPERVISOR)
    world.contact(actors.village_director, [kid], D("2024-06-04"), role="county_admin")
    assert lines_of(actors, kid, "2024-06-10")[MONTHLY] == (None, "2024-01-31", "overdue", None)


def test_a_registration_mid_period_is_first_due_at_the_end_of_the_first_counted_period(
    actors: Actors,
) -> None:
    kid = world.child(registered_on=D("2024-05-15"))
    assert lines_of(actors, kid, "2024-05-20") == {
        MONTHLY: (None, "2024-06-30", "due", None),  # May began before the registration
        QUARTERLY: (None, "2024-09-30", "due", None),  # so did the second quarter
    }
    assert lines_of(actors, kid, "2024-06-25")[MONTHLY] == (None, "2024-06-30", "due_soon", None)
    # May was never counted: the first miss is June.
    assert lines_of(actors, kid, "2024-07-02")[MONTHLY] == (None, "2024-06-30", "overdue", None)
    # Not registered yet: no line at all.
    assert lines_of(actors, kid, "2024-05-14") == {}


def test_a_child_counts_only_while_active_and_in_a_category(actors: Actors) -> None:
    kid = world.child(
        registered_on=D("2024-01-01"),
        status=ChildStatus.AGED_OUT,
        status_since=D("2024-08-01"),
        spans=[(D("2024-01-01"), D("2024-04-01")), (D("2024-05-01"), None)],
    )
    assert lines_of(actors, kid, "2024-04-15") == {}  # between two categories
    # April (not in a category on its last day) is not a missed month; March is.
    world.contact(actors.village_director, [kid], D("2024-03-05"), kind=HOME)
    assert lines_of(actors, kid, "2024-05-10")[MONTHLY] == (
        "2024-03-05",
        "2024-05-31",
        "due",
        None,
    )
    assert lines_of(actors, kid, "2024-07-31") != {}
    assert lines_of(actors, kid, "2024-08-01") == {}  # aged out that day


def test_a_home_visit_credits_every_sibling(actors: Actors, child: Child) -> None:
    """Through the real service: one visit, one entry, both children's quarter done (at low
    risk: the family's facts make the computed risk high, and rolling lines are never done)."""
    sibling = add_sibling(actors, child)
    ChildRisk.objects.filter(child__in=[child, sibling]).update(level="low")
    services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[child],
        fields={"kind": "home_visit", "day": D("2024-06-03"), **VISITED},
    )
    services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[child],
        fields={"kind": "phone", "day": D("2024-07-02"), "met_caregiver": True},
    )
    for kid in (child, sibling):
        assert lines_of(actors, kid, "2024-06-10") == {
            MONTHLY: ("2024-06-03", "2024-06-30", "done", None),
            QUARTERLY: ("2024-06-03", "2024-06-30", "done", None),
        }
    # The phone call names one child only.
    assert lines_of(actors, child, "2024-07-05")[MONTHLY][2] == "done"
    assert lines_of(actors, sibling, "2024-07-05")[MONTHLY] == (
        "2024-06-03",
        "2024-07-31",
        "due",
        None,
    )


# --- rolling cadence --------------------------------------------------------------------------


def test_high_risk_rolls_both_lines(actors: Actors) -> None:
    kid = world.child(registered_on=D("2024-01-01"), risk="high")
    world.contact(actors.village_director, [kid], D("2024-05-01"), kind=HOME)
    world.contact(actors.village_director, [kid], D("2024-06-01"))
    assert lines_of(actors, kid, "2024-06-10") == {
        MONTHLY: ("2024-06-01", "2024-06-16", "due_soon", 15),  # every 15 days
        QUARTERLY: ("2024-05-01", "2024-05-31", "overdue", 30),  # every 30 days
    }
    # Done for the calendar month, still due on the rolling one: never "done".
    assert lines_of(actors, kid, "2024-06-02")[MONTHLY] == ("2024-06-01", "2024-06-16", "due", 15)
    assert lines_of(actors, kid, "2024-06-17")[MONTHLY][2] == "overdue"


def test_medium_risk_rolls_the_home_visit_and_no_contact_counts_from_registration(
    actors: Actors,
) -> None:
    kid = world.child(registered_on=D("2024-05-20"), risk="medium")
    assert lines_of(actors, kid, "2024-06-10") == {
        MONTHLY: (None, "2024-06-30", "due", None),
        QUARTERLY: (None, "2024-07-19", "due", 60),  # registration + 60 days
    }


def test_a_child_without_a_risk_row_is_low_risk(actors: Actors) -> None:
    kid = world.child(registered_on=D("2024-01-01"))
    assert all(line[3] is None for line in lines_of(actors, kid, "2024-06-10").values())


# --- the level then, not now (issue 10, decision 012) -----------------------------------------


def test_a_past_day_is_judged_by_the_level_then(actors: Actors) -> None:
    """High in the first quarter of 2024, low since April; an officer raised it in 2026."""
    kid = world.child(registered_on=D("2024-01-01"))
    world.risk_history(
        kid,
        [(D("2024-01-01"), "high"), (D("2024-04-01"), "low")],
        [("high", D("2026-11-02"), D("2027-01-31"), None)],
    )
    world.contact(actors.village_director, [kid], D("2024-02-01"), kind=HOME)
    world.contact(actors.village_director, [kid], D("2024-03-01"))
    assert lines_of(actors, kid, "2024-03-25") == {
        MONTHLY: ("2024-03-01", "2024-03-16", "overdue", 15),  # every 15 days
        QUARTERLY: ("2024-02-01", "2024-03-02", "overdue", 30),  # every 30 days
    }
    assert lines_of(actors, kid, "2024-05-10") == {
        MONTHLY: ("2024-03-01", "2024-04-30", "overdue", None),  # April missed
        QUARTERLY: ("2024-02-01", "2024-06-30", "due", None),
    }
    # The override holds from the day it was set, never before it.
    assert lines_of(actors, kid, "2026-11-01")[MONTHLY][3] is None
    assert lines_of(actors, kid, "2026-11-02")[MONTHLY][3] == 15
    assert {line.risk for line in worklist_lines(actors.village_director, D("2024-03-25"))} == {
        rules.RiskLevel.HIGH
    }


def test_the_level_then_comes_from_the_daily_run_and_the_fact_changes(actors: Actors) -> None:
    """Through the real writes: a disabled child (in difficulty: medium risk) dropped out in
    January 2024 (the fact change recomputes its level: high) and went back to school in April
    (medium again, as today)."""
    with time_machine.travel(date(2024, 1, 2), tick=False):
        kid = make_family(actors, father_left=None, mother_left=None)
        kid = registry.child_update(
            actor=actors.county_admin,
            child=kid,
            version=kid.version,
            changes={"disability_grade": 2, "enrolment": "dropped_out"},
        ).child
        call_command("refresh_risk", stdout=StringIO())  # the daily run: nothing changes
    with time_machine.travel(date(2024, 4, 1), tick=False):
        kid = registry.child_update(
            actor=actors.county_admin,
            child=kid,
            version=kid.version,
            changes={"enrolment": "in_school"},
        ).child
    call_command("refresh_risk", stdout=StringIO())  # today's run: still medium
    assert ChildRisk.objects.get(pk=kid.pk).level == "medium"
    assert [(s.valid_from, s.valid_to, s.level) for s in RiskSpan.objects.filter(child=kid)] == [
        (D("2024-04-01"), None, "medium"),
        (D("2024-01-02"), D("2024-04-01"), "high"),
    ]
    assert [line[3] for line in lines_of(actors, kid, "2024-03-25").values()] == [15, 30]
    assert [line[3] for line in lines_of(actors, kid, "2024-04-10").values()] == [None, 60]


# --- cadence versions -------------------------------------------------------------------------


def test_a_policy_change_is_judged_by_the_version_of_each_period(actors: Actors) -> None:
    kid = world.child(registered_on=D("2024-01-01"), risk="high")
    # Monthly contacts off from 15 July: July began under the old version and keeps it.
    world.policy(D("2024-07-15"), monthly_contact=False, high_contact_days=10)
    world.contact(actors.village_director, [kid], D("2024-07-01"))
    before = lines_of(actors, kid, "2024-07-14")
    after = lines_of(actors, kid, "2024-07-20")
    assert before[MONTHLY] == ("2024-07-01", "2024-07-16", "due_soon", 15)
    # The interval in force on as_of (10 days) and July still judged.
    assert after[MONTHLY] == ("2024-07-01", "2024-07-11", "overdue", 10)
    assert MONTHLY not in lines_of(actors, kid, "2024-08-02")  # August: off


def test_months_before_an_obligation_was_switched_on_are_not_missed(actors: Actors) -> None:
    kid = world.child(registered_on=D("2024-01-01"))
    world.policy(D("2024-01-01"), monthly_contact=False)
    world.policy(D("2024-04-10"), monthly_contact=True)
    # April began under "off"; May is the first month judged.
    assert lines_of(actors, kid, "2024-04-20").get(MONTHLY) is None
    assert lines_of(actors, kid, "2024-05-03")[MONTHLY] == (None, "2024-05-31", "due", None)
    assert lines_of(actors, kid, "2024-06-03")[MONTHLY] == (None, "2024-05-31", "overdue", None)


def test_a_family_line_for_the_town_supervisor(actors: Actors) -> None:
    kid = world.child(registered_on=D("2023-03-01"))
    sibling = world.child(kid.household, registered_on=D("2023-03-01"))
    world.contact(
        actors.village_director,
        [sibling],
        D("2024-02-10"),
        role=rules.TOWN_SUPERVISOR,
    )
    (line,) = worklist_lines(actors.town_supervisor, D("2024-06-10"))
    assert (line.obligation, line.child, line.household) == (YEARLY, None, kid.household.public_id)
    assert (line.last_contact, line.due, line.status) == (D("2024-02-10"), D("2024-12-31"), "done")
    assert {code for code, _name in line.children} == {kid.public_id, sibling.public_id}
    # Registered in March 2023: the first counted year is 2024, so nothing was missed.
    (line,) = worklist_lines(actors.town_supervisor, D("2024-01-05"))
    assert (line.due, line.status) == (D("2024-12-31"), "due")
    (line,) = worklist_lines(actors.town_supervisor, D("2025-01-02"))
    assert (line.due, line.status) == (D("2025-12-31"), "due")
    (line,) = worklist_lines(actors.town_supervisor, D("2026-01-02"))
    assert (line.due, line.status) == (D("2025-12-31"), "overdue")


# --- who sees what ----------------------------------------------------------------------------


def _world_of_two_villages(actors: Actors) -> tuple[Child, Child, Child]:
    here = world.child(registered_on=D("2024-01-01"), name="张三丰")
    there = world.child(world.household(world.OTHER_VILLAGE), registered_on=D("2024-01-01"))
    far = world.child(world.household("620724101201"), registered_on=D("2024-01-01"))
    return here, there, far


def _children(lines: list[WorkLine]) -> set[object]:
    return {line.child for line in lines if line.child} | {
        code for line in lines for code, _name in line.children
    }


def test_each_role_sees_its_own_lines(actors: Actors) -> None:
    here, there, far = _world_of_two_villages(actors)
    as_of = D("2024-06-10")
    assert _children(worklist_lines(actors.village_director, as_of)) == {here.public_id}
    assert _children(worklist_lines(actors.other_village_director, as_of)) == {there.public_id}
    supervised = worklist_lines(actors.town_supervisor, as_of)
    assert {line.obligation for line in supervised} == {YEARLY}
    assert {line.child for line in supervised} == {None}
    assert _children(supervised) == {here.public_id, there.public_id}
    narrowed = worklist_lines(actors.town_supervisor, as_of, village=world.OTHER_VILLAGE)
    assert _children(narrowed) == {there.public_id}
    # County roles: nothing until a division is chosen, then that worker's lines.
    for key in ("county_admin", "auditor"):
        user = getattr(actors, key)
        assert worklist_lines(user, as_of) == []
        assert _children(worklist_lines(user, as_of, village=world.VILLAGE)) == {here.public_id}
        town = worklist_lines(user, as_of, village="620724101000")
        assert _children(town) == {far.public_id}
        assert {line.obligation for line in town} == {YEARLY}
    # Outside the scope, or roles without a worklist: nothing.
    assert worklist_lines(actors.village_director, as_of, village=world.OTHER_VILLAGE) == []
    assert worklist_lines(actors.other_county_admin, as_of, village=world.VILLAGE) == []
    assert worklist_lines(actors.department_officer, as_of) == []
    assert worklist_lines(actors.reporter, as_of) == []


def test_it_orders_most_urgent_first_and_filters_by_status(actors: Actors) -> None:
    done = world.child(registered_on=D("2024-01-01"), name="王一")
    world.contact(actors.village_director, [done], D("2024-06-02"), kind=HOME)
    late = world.child(registered_on=D("2024-01-01"), name="王二")
    world.contact(actors.village_director, [late], D("2024-05-02"), kind=HOME)
    new = world.child(registered_on=D("2024-06-05"))
    lines = worklist_lines(actors.village_director, D("2024-06-25"))
    assert [(line.child, line.obligation, str(line.status)) for line in lines] == [
        (late.public_id, MONTHLY, "due_soon"),
        (new.public_id, MONTHLY, "due"),
        (new.public_id, QUARTERLY, "due"),
        (done.public_id, MONTHLY, "done"),
        (done.public_id, QUARTERLY, "done"),
        (late.public_id, QUARTERLY, "done"),
    ]
    due_soon = worklist_lines(actors.village_director, D("2024-06-25"), status="due_soon")
    assert [line.child for line in due_soon] == [late.public_id]


def test_escalations_take_the_policys_days(actors: Actors) -> None:
    kid = world.child(registered_on=D("2024-01-01"), name="李四")
    world.contact(actors.village_director, [kid], D("2024-05-20"), kind=HOME)
    # Monthly missed in June (due 30 June): 15 days over on 15 July, 16 on the 16th.
    assert escalations(actors.town_supervisor, D("2024-07-15")) == []
    (line,) = escalations(actors.town_supervisor, D("2024-07-16"))
    assert (line.child, line.obligation, line.days_overdue(D("2024-07-16"))) == (
        kid.public_id,
        MONTHLY,
        16,
    )
    assert escalations(actors.village_director, D("2024-07-16")) == []
    world.policy(D("2024-07-01"), escalate_after_days=20)
    assert escalate_after_days(D("2024-07-16")) == 20
    assert escalate_after_days(D("2024-06-30")) == 15
    assert escalations(actors.town_supervisor, D("2024-07-16")) == []


@pytest.mark.parametrize(
    ("name", "masked"),
    [("王小明", "王*明"), ("王明", "王*"), ("欧阳小明", "欧**明"), ("王", "王"), ("", "")],
)
def test_it_masks_names(name: str, masked: str) -> None:
    assert mask_name(name) == masked


# --- queries ----------------------------------------------------------------------------------


def _queries(actors: Actors, key: str, as_of: date) -> int:
    user = getattr(actors, key)
    worklist_lines(user, as_of)  # the scope prefix is read once per user object
    with CaptureQueriesContext(connection) as ctx:
        lines = worklist_lines(user, as_of)
    assert lines
    return len(ctx.captured_queries)


@pytest.mark.parametrize("key", ["village_director", "town_supervisor"])
def test_the_query_count_does_not_grow_with_the_children(actors: Actors, key: str) -> None:
    def grow(n: int) -> None:
        for i in range(n):
            home = world.household(world.VILLAGE if i % 3 else world.OTHER_VILLAGE)
            kid = world.child(
                home, registered_on=D("2024-01-01"), risk=["low", "high", None][i % 3]
            )
            world.child(home, registered_on=D("2024-02-01"), spans=[(D("2024-02-01"), None)])
            world.contact(actors.village_director, [kid], D("2024-06-01"), kind=HOME)
            world.contact(actors.village_director, [kid], D("2024-06-02"), role="town_supervisor")
            if i % 3 == 1:  # a history with changes and overrides: still one statement
                world.risk_history(
                    kid,
                    [(D("2024-03-01"), "medium"), (D("2024-06-05"), "low")],
                    [("high", D("2024-06-08"), D("2024-07-01"), None)],
                )

    grow(3)
    few = _queries(actors, key, D("2024-06-10"))
    grow(27)
    many = _queries(actors, key, D("2024-06-10"))
    assert few == many == 2  # the cadence versions, the lines
