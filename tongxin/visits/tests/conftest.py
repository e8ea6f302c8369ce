"""Visits fixtures: the registry's family builder, and a sibling."""

from __future__ import annotations

from datetime import date

import pytest

from tongxin.registry import services as registry
from tongxin.registry.models import Child
from tongxin.registry.tests.conftest import VILLAGE, make_family
from tongxin.testing import Actors

__all__ = ["REACHED", "VILLAGE", "VISITED", "add_sibling", "make_family"]

# What a contact must record to count (rules.contact_gaps): whom it reached, and for a home
# visit that the child was seen and the living conditions and safety were looked at.
REACHED = {"met_caregiver": True}
VISITED = {"met_child": True, "check_living": "good", "check_safety": "good"}


def add_sibling(
    actors: Actors, child: Child, *, name: str = "王小红", registered_on: date | None = None
) -> Child:
    return registry.child_register(
        actor=actors.county_admin,
        household=child.household,
        fields={
            "name": name,
            "gender": "female",
            "birth_date": date(2016, 3, 1),
            "registered_on": registered_on or child.registered_on,
            "id_missing_reason": "not_registered",
        },
    ).child


@pytest.fixture
def child(actors: Actors) -> Child:
    """A left-behind child (both parents away since early 2024) cared for by a grandmother."""
    child = make_family(actors)
    registry.household_update(
        actor=actors.county_admin,
        household=child.household,
        version=child.household.version,
        changes={
            "caregiver_name": "王奶奶",
            "caregiver_relation": "祖母",
            "caregiver_capacity": "capable",
        },
    )
    child.refresh_from_db()
    return child
