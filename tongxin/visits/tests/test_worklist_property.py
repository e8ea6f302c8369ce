"""The SQL worklist equals the pure rules on random small worlds (run on SQLite and on
PostgreSQL): registration dates, status changes, category spans, risk levels that change over
time and officers' overrides set, replaced and cleared, contacts of every kind and role, cadence
versions, and "as of" dates before, inside and after all of it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tongxin.registry.models import Child, ChildStatus, Household
from tongxin.testing import Actors
from tongxin.visits import rules
from tongxin.visits.tests import worklist_world as world
from tongxin.visits.worklist import sort_key, worklist_lines
from tongxin.visits.worklist_sql import child_lines, family_lines

pytestmark = pytest.mark.django_db

START = date(2023, 1, 1)
DAYS = 900  # to mid 2025


def days(lo: int = 0, hi: int = DAYS) -> st.SearchStrategy[date]:
    return st.integers(lo, hi).map(lambda n: START + timedelta(days=n))


# A day that is often a period's first or last day, where the edge cases are.
edge_days = st.one_of(
    days(),
    st.builds(
        lambda y, m, last: (
            (date(y, m, 1) - timedelta(days=1)) if last and (y, m) != (2023, 1) else date(y, m, 1)
        ),
        st.integers(2023, 2025),
        st.integers(1, 12),
        st.booleans(),
    ),
)


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    """Most contacts fall in the months before an anchor day and most "as of" days near it, so
    that lines are done, due soon and overdue by a little as often as by years."""
    anchor = draw(edge_days)

    def near(before: int, after: int) -> st.SearchStrategy[date]:
        return st.one_of(
            edge_days, st.integers(-before, after).map(lambda n: anchor + timedelta(days=n))
        )

    span = st.tuples(edge_days, st.one_of(st.none(), edge_days))
    level = st.sampled_from(["low", "medium", "high"])
    # (level, set on, ends on, cleared on): mostly around the anchor, where "as of" falls.
    override = st.tuples(
        level, near(60, 40), near(60, 60), st.one_of(st.none(), st.none(), near(60, 60))
    )
    children = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "household": st.integers(0, 2),
                    "village": st.sampled_from([world.VILLAGE, world.VILLAGE, world.OTHER_VILLAGE]),
                    "registered_on": near(400, 20),
                    "left": st.one_of(st.none(), st.none(), near(60, 60)),
                    "left_status": st.sampled_from(
                        [ChildStatus.AGED_OUT, ChildStatus.TRANSFERRED_OUT, ChildStatus.CLOSED]
                    ),
                    # None: in a category from the registration on.
                    "spans": st.one_of(st.none(), st.lists(span, max_size=3)),
                    "risk": st.sampled_from([None, "low", "medium", "high"]),
                    # Later computations (each recorded as of its day) and overrides.
                    "changes": st.lists(st.tuples(near(120, 40), level), max_size=3),
                    "overrides": st.lists(override, max_size=2),
                }
            ),
            min_size=1,
            max_size=5,
        )
    )
    contacts = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "child": st.integers(0, 5),
                    "day": near(150, 20),
                    "role": st.sampled_from(
                        [
                            rules.VILLAGE_DIRECTOR,
                            rules.VILLAGE_DIRECTOR,
                            rules.TOWN_SUPERVISOR,
                            "county_admin",
                        ]
                    ),
                    "kind": st.sampled_from(
                        [rules.ContactKind.PHONE, rules.ContactKind.HOME_VISIT]
                    ),
                    "siblings": st.booleans(),
                }
            ),
            max_size=14,
        )
    )
    policies = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "effective_from": near(200, 60),
                    "monthly_contact": st.sampled_from([True, True, False]),
                    "quarterly_home_visit": st.sampled_from([True, True, False]),
                    "yearly_family_contact": st.sampled_from([True, True, False]),
                    "high_contact_days": st.integers(1, rules.MAX_CONTACT_INTERVAL),
                    "high_visit_days": st.integers(1, rules.MAX_VISIT_INTERVAL),
                    "medium_visit_days": st.integers(1, rules.MAX_VISIT_INTERVAL),
                    "due_soon_days": st.integers(0, 12),
                }
            ),
            max_size=2,
            unique_by=lambda p: p["effective_from"],
        )
    )
    as_of = draw(st.lists(near(40, 40), min_size=1, max_size=4))
    return {"children": children, "contacts": contacts, "policies": policies, "as_of": as_of}


def build(actors: Actors, spec: dict[str, Any]) -> None:
    homes: dict[tuple[str, int], Household] = {}
    kids: list[Child] = []
    for c in spec["children"]:
        home = homes.get((c["village"], c["household"]))
        if home is None:
            home = homes[(c["village"], c["household"])] = world.household(c["village"])
        registered = c["registered_on"]
        left = c["left"]
        kid = world.child(
            home,
            registered_on=registered,
            status=c["left_status"] if left is not None else ChildStatus.ACTIVE,
            status_since=max(left, registered) if left is not None else registered,
            spans=None
            if c["spans"] is None
            else [(a, b) if b is None or b > a else (b, a) for a, b in c["spans"] if a != b],
            risk=c["risk"],
        )
        world.risk_history(kid, c["changes"], c["overrides"])
        kids.append(kid)
    for k in spec["contacts"]:
        kid = kids[k["child"] % len(kids)]
        credited = [kid]
        if k["siblings"]:
            credited += [o for o in kids if o.household_id == kid.household_id and o != kid]
        world.contact(actors.village_director, credited, k["day"], role=k["role"], kind=k["kind"])
    for p in spec["policies"]:
        world.policy(**p)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=worlds())
def test_the_sql_worklist_equals_the_rules(actors: Actors, spec: dict[str, Any]) -> None:
    with transaction.atomic():
        build(actors, spec)
        for as_of in spec["as_of"]:
            for prefix in (world.VILLAGE, world.TOWN):
                assert world.keys(child_lines(prefix, as_of)) == world.reference_child_lines(
                    prefix, as_of
                )
                assert world.keys(family_lines(prefix, as_of)) == world.reference_family_lines(
                    prefix, as_of
                )
            lines = worklist_lines(actors.village_director, as_of)
            assert world.keys(lines) == world.reference_child_lines(world.VILLAGE, as_of)
            assert [sort_key(line) for line in lines] == sorted(sort_key(line) for line in lines)
            supervised = worklist_lines(actors.town_supervisor, as_of)
            assert world.keys(supervised) == world.reference_family_lines(world.TOWN, as_of)
        transaction.set_rollback(True)
