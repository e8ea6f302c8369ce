"""Registry fixtures: a household with parents away, in the stock village 东村."""

from __future__ import annotations

from datetime import date

import pytest

from tongxin.geo.models import Division
from tongxin.registry import services
from tongxin.registry.models import Child, Household
from tongxin.testing import Actors

VILLAGE = "620724100201"


def make_family(
    actors: Actors,
    *,
    village: str = VILLAGE,
    father_left: date | None = date(2024, 1, 10),
    mother_left: date | None = date(2024, 2, 1),
    birth_date: date = date(2014, 5, 1),
    registered_on: date = date(2024, 1, 1),
    id_number: str = "",
    name: str = "王小明",
) -> Child:
    actor = actors.county_admin
    household = services.household_create(
        actor=actor, village=Division.objects.get(code=village), fields={"address": "一组"}
    )
    for role, left in (("father", father_left), ("mother", mother_left)):
        parent = services.parent_save(
            actor=actor, household=household, role=role, fields={"name": f"{role}名"}, version=0
        )
        if left:
            services.migration_save(
                actor=actor,
                parent=parent,
                fields={
                    "left_on": left,
                    "destination": "out_of_province",
                    "work_place": "浙江省宁波市",
                },
                version=0,
            )
    return services.child_register(
        actor=actor,
        household=household,
        fields={
            "name": name,
            "gender": "male",
            "birth_date": birth_date,
            "registered_on": registered_on,
            "id_missing_reason": "" if id_number else "not_registered",
        },
        id_number=id_number,
    ).child


@pytest.fixture
def child(actors: Actors) -> Child:
    return make_family(actors)


@pytest.fixture
def household(child: Child) -> Household:
    return child.household
