"""The registry's writes: registration, classification kept current, stale edits refused,
transfers, ID numbers stored encrypted and unique."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from tongxin.audit.models import AuditEvent
from tongxin.core.versions import StaleEdit, record_version
from tongxin.geo.models import Division
from tongxin.lib import idcard
from tongxin.registry import rules, services
from tongxin.registry.models import (
    Capacity as ModelCapacity,
)
from tongxin.registry.models import (
    CategoryCode as ModelCategory,
)
from tongxin.registry.models import CategorySpan, Child, ChildStatus, Household, Migration
from tongxin.registry.models import (
    Destination as ModelDestination,
)
from tongxin.registry.models import (
    ParentStatus as ModelStatus,
)
from tongxin.registry.tests.conftest import VILLAGE, make_family
from tongxin.testing import Actors

TODAY = date(2024, 6, 30)


@pytest.fixture(autouse=True)
def today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(date(2024, 6, 30), tick=False) as t:
        yield t


def test_it_keeps_the_rules_codes_and_the_database_codes_the_same() -> None:
    assert set(ModelStatus.values) == {s.value for s in rules.ParentStatus}
    assert set(ModelCapacity.values) == {c.value for c in rules.Capacity}
    assert set(ModelDestination.values) == {d.value for d in rules.Destination}
    assert set(ModelCategory.values) == {c.value for c in rules.CategoryCode}


def test_it_classifies_a_child_at_registration(child: Child) -> None:
    child.refresh_from_db()
    assert child.left_behind
    assert [c["code"] for c in child.categories] == ["left_behind"]
    assert "父母均跨县" in child.categories[0]["reason"] or "父亲" in child.categories[0]["reason"]
    spans = list(CategorySpan.objects.filter(child=child))
    # Both away 3 months from 2024-05-01 (the mother left on 2024-02-01).
    assert [(s.code, s.start, s.end) for s in spans] == [("left_behind", date(2024, 5, 1), None)]
    assert AuditEvent.objects.filter(
        action="child.register", object_code=str(child.public_id)
    ).exists()


def test_it_reclassifies_the_siblings_when_a_parent_comes_home(
    actors: Actors, child: Child
) -> None:
    household = child.household
    sibling = services.child_register(
        actor=actors.village_director,
        household=household,
        fields={
            "name": "王小红",
            "gender": "female",
            "birth_date": date(2016, 3, 3),
            "registered_on": date(2024, 1, 1),
            "id_missing_reason": "not_registered",
        },
    ).child
    assert sibling.left_behind
    father = household.parents.get(role="father")
    spell = father.migrations.get()
    services.migration_save(
        actor=actors.village_director,
        parent=father,
        migration=spell,
        fields={"returned_on": date(2024, 6, 1)},
        version=record_version(Migration, spell.pk),
    )
    for c in (child, sibling):
        c.refresh_from_db()
        assert not c.left_behind
        assert list(CategorySpan.objects.filter(child=c).values_list("code", "start", "end")) == [
            ("left_behind", date(2024, 5, 1), date(2024, 6, 1))
        ]


def test_it_refuses_a_stale_edit_and_says_what_changed(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    version = child.version
    services.child_update(
        actor=actors.village_director,
        child=child,
        version=version,
        changes={"school": "城关镇中心小学"},
    )
    stale = Child.objects.get(pk=child.pk)
    with pytest.raises(StaleEdit) as refused:
        services.child_update(
            actor=actors.town_supervisor,
            child=stale,
            version=version,
            changes={"school": "另一所学校"},
        )
    assert refused.value.current_version == version + 1
    assert [(c.field, c.new) for c in refused.value.changes] == [("school", "城关镇中心小学")]
    assert Child.objects.get(pk=child.pk).school == "城关镇中心小学"


def test_it_stores_the_id_number_encrypted_and_refuses_it_twice(actors: Actors) -> None:
    number = idcard.generate(
        random.Random(1), region="620724", birth_date=date(2014, 5, 1), gender="male"
    )
    child = make_family(actors, id_number=number)
    stored = Child.objects.values_list("id_number_enc", flat=True).get(pk=child.pk)
    assert stored is not None
    raw = bytes(stored)
    assert number.encode() not in raw
    assert services.id_number_reveal(actor=actors.village_director, child=child) == number
    with pytest.raises(services.DuplicateIdNumber) as dup:
        make_family(actors, id_number=number)
    assert dup.value.child == child  # the county admin may see it
    with pytest.raises(PermissionDenied):
        services.id_number_reveal(actor=actors.auditor, child=child)
    assert AuditEvent.objects.filter(action="child.id_reveal").count() == 1


def test_it_hides_a_duplicate_outside_the_users_scope(actors: Actors) -> None:
    number = idcard.generate(
        random.Random(2), region="620724", birth_date=date(2015, 1, 1), gender="female"
    )
    make_family(actors, id_number=number, village="620724101201", birth_date=date(2015, 1, 1))
    household = services.household_create(
        actor=actors.village_director, village=Division.objects.get(code=VILLAGE)
    )
    with pytest.raises(services.DuplicateIdNumber) as dup:
        services.child_register(
            actor=actors.village_director,
            household=household,
            fields={"name": "李四", "gender": "female", "birth_date": date(2015, 1, 1)},
            id_number=number,
        )
    assert dup.value.child is None


def test_it_refuses_a_bad_id_number_with_its_reason(actors: Actors) -> None:
    with pytest.raises(ValidationError) as bad:
        make_family(actors, id_number="62072420140501001")
    assert "id_number" in bad.value.message_dict


def test_it_moves_a_family_to_another_village(actors: Actors, child: Child) -> None:
    household = child.household
    services.household_transfer(
        actor=actors.county_admin,
        household=household,
        village=Division.objects.get(code="620724101201"),
        reason="搬迁",
    )
    child.refresh_from_db()
    assert child.village_id == household.village_id == "620724101201"
    assert not Child.objects.visible_to(actors.village_director).filter(pk=child.pk).exists()
    assert Child.objects.visible_to(actors.other_town_director).filter(pk=child.pk).exists()
    events = AuditEvent.objects.filter(action="household.transfer")
    assert {e.division_code for e in events} == {VILLAGE, "620724101201"}


def test_it_lets_only_keepers_in_scope_write(actors: Actors, child: Child) -> None:
    for key in ("auditor", "other_village_director", "department_officer", "system_admin"):
        with pytest.raises(PermissionDenied):
            services.child_update(
                actor=getattr(actors, key),
                child=child,
                version=child.version,
                changes={"school": "x"},
            )


def test_it_ages_a_child_out_of_left_behind_by_the_daily_run(actors: Actors) -> None:
    child = make_family(actors, birth_date=date(2008, 7, 15))
    assert Child.objects.get(pk=child.pk).left_behind
    assert services.reclassify_all(as_of=date(2024, 7, 14))["changed"] == 0
    assert services.reclassify_all(as_of=date(2024, 7, 15))["changed"] == 1
    child.refresh_from_db()
    assert not child.left_behind
    assert child.classified_on == date(2024, 7, 15)


def test_it_closes_a_file_with_a_reason_and_a_past_date(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    services.child_set_status(
        actor=actors.village_director,
        child=child,
        version=child.version,
        status=ChildStatus.TRANSFERRED_OUT,
        reason="随父母迁往宁波",
        since=date(2024, 6, 1),
    )
    child.refresh_from_db()
    assert (child.status, child.status_since) == ("transferred_out", date(2024, 6, 1))


def test_it_counts_dibao_from_the_day_it_was_recorded(
    actors: Actors, child: Child, today: time_machine.Traveller
) -> None:
    today.shift(timedelta(days=5))
    household = Household.objects.get(pk=child.household_id)
    services.household_update(
        actor=actors.village_director,
        household=household,
        version=household.version,
        changes={"dibao": True},
    )
    child.refresh_from_db()
    assert "dibao_family" in child.category_codes
    span = CategorySpan.objects.get(child=child, code="dibao_family")
    assert span.start == date(2024, 7, 5)


def test_it_counts_dibao_entered_at_registration_from_the_registration_date(
    actors: Actors,
) -> None:
    child = make_family(actors, registered_on=date(2023, 9, 1))
    household = Household.objects.get(pk=child.household_id)
    services.household_update(
        actor=actors.village_director,
        household=household,
        version=household.version,
        changes={"dibao": True},
    )
    span = CategorySpan.objects.get(child=child, code="dibao_family")
    assert span.start == date(2023, 9, 1)


def test_it_shows_an_id_number_change_in_the_history_without_the_number(actors: Actors) -> None:
    first = idcard.generate(
        random.Random(5), region="620724", birth_date=date(2014, 5, 1), gender="male"
    )
    second = idcard.generate(
        random.Random(6), region="620724", birth_date=date(2014, 5, 1), gender="male"
    )
    child = make_family(actors, id_number=first)
    child.refresh_from_db()
    services.child_update(
        actor=actors.village_director,
        child=child,
        version=child.version,
        changes={},
        id_number=second,
    )
    from tongxin.core.versions import ID_CHANGED
    from tongxin.registry.selectors import child_changes

    changes = [c for c in child_changes(child) if c.field == "id_number_enc"]
    assert [(c.old, c.new) for c in changes] == [(ID_CHANGED, ID_CHANGED)]
    assert all(first not in str(c) and second not in str(c) for c in child_changes(child))
