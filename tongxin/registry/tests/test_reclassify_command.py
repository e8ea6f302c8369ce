"""``manage.py reclassify``: the daily run catches what time alone changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Prefetch
from django.utils import translation

from tongxin.core.versions import record_version
from tongxin.demo import DIVISIONS_FILE
from tongxin.geo.services import divisions_load
from tongxin.registry import rules, services
from tongxin.registry.generator import population_generate
from tongxin.registry.models import CategorySpan, Child, Parent
from tongxin.registry.selectors import current_facts
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors


@pytest.fixture(autouse=True)
def today() -> Iterator[None]:
    with time_machine.travel(date(2024, 6, 30), tick=False):
        yield


def reclassify(*args: str) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("reclassify", *args, stdout=out)
    return out.getvalue()


def spans(child: Child) -> list[tuple[str, date, date | None]]:
    return list(CategorySpan.objects.filter(child=child).values_list("code", "start", "end"))


def test_it_takes_a_child_out_of_left_behind_on_the_16th_birthday(actors: Actors) -> None:
    # Both parents away three months since 2024-05-01; 16 on 2024-07-01.
    child = make_family(actors, birth_date=date(2008, 7, 1))
    assert Child.objects.get(pk=child.pk).left_behind

    assert "1 children seen, 0 changed" in reclassify("--as-of", "2024-06-30")
    assert Child.objects.get(pk=child.pk).left_behind

    assert "1 children seen, 1 changed" in reclassify("--as-of", "2024-07-01")
    child.refresh_from_db()
    assert not child.left_behind
    assert child.categories == []
    assert child.classified_on == date(2024, 7, 1)
    assert spans(child) == [("left_behind", date(2024, 5, 1), date(2024, 7, 1))]


def test_it_puts_a_child_in_left_behind_when_a_spell_reaches_three_months(
    actors: Actors,
) -> None:
    # The father left on 2024-01-10, the mother on 2024-04-15: both away 3 months on 07-15.
    child = make_family(actors, mother_left=date(2024, 4, 15))
    assert not Child.objects.get(pk=child.pk).left_behind

    assert "0 changed" in reclassify("--as-of", "2024-07-14")
    assert not Child.objects.get(pk=child.pk).left_behind

    out = reclassify("--as-of", "2024-07-15")
    assert "Reclassified as of 2024-07-15: 1 children seen, 1 changed" in out
    child.refresh_from_db()
    assert child.left_behind
    assert [c["code"] for c in child.categories] == ["left_behind"]
    assert spans(child) == [("left_behind", date(2024, 7, 15), None)]


def test_a_second_run_changes_nothing(actors: Actors) -> None:
    make_family(actors, mother_left=date(2024, 4, 15))  # enters on 07-15
    make_family(actors, birth_date=date(2008, 7, 1), name="李小红")  # leaves on 07-01
    assert "2 children seen, 2 changed" in reclassify("--as-of", "2024-07-15")
    before = {c.pk: (c.categories, spans(c)) for c in Child.objects.all()}
    assert "2 children seen, 0 changed" in reclassify("--as-of", "2024-07-15")
    assert {c.pk: (c.categories, spans(c)) for c in Child.objects.all()} == before


def test_it_reclassifies_as_of_today_by_default(actors: Actors) -> None:
    make_family(actors)
    assert "Reclassified as of 2024-06-30: 1 children seen, 0 changed" in reclassify()


def test_it_skips_closed_files(actors: Actors) -> None:
    child = make_family(actors, birth_date=date(2008, 7, 1))
    Child.objects.filter(pk=child.pk).update(status="closed")
    assert "0 children seen, 0 changed" in reclassify("--as-of", "2024-07-01")
    assert Child.objects.get(pk=child.pk).left_behind


def test_it_refuses_a_date_it_cannot_read(actors: Actors) -> None:
    with pytest.raises(CommandError, match="2024-13-01"):
        reclassify("--as-of", "2024-13-01")


def test_it_finds_the_changes_the_stored_facts_give_on_the_date(actors: Actors) -> None:
    """The daily run reads plain values; it must see what ``current_facts`` sees."""
    divisions_load(source=DIVISIONS_FILE)
    population_generate(children=500, seed=21, today=date(2024, 6, 30))
    later = date(2025, 9, 1)
    parents = Prefetch("household__parents", queryset=Parent.objects.prefetch_related("migrations"))
    expected = {
        child.pk: [
            (c.code, c.reason) for c in rules.classify(current_facts(child), later).categories
        ]
        for child in Child.objects.select_related("household", "village").prefetch_related(parents)
    }
    before = dict(Child.objects.values_list("pk", "categories"))
    moved = [pk for pk, reasons in expected.items() if len(reasons) != len(before[pk])]
    assert len(moved) > 20  # a year on: children turn 16 or 18, spells reach 3 months

    result = services.reclassify_all(as_of=later, batch=64)
    assert result["children"] == 500
    after = dict(Child.objects.values_list("pk", "categories"))
    changed = [pk for pk in after if after[pk] != before[pk]]
    assert result["changed"] == len(changed) >= len(moved)
    for pk in changed:
        assert [(c["code"], c["reason"]) for c in after[pk]] == expected[pk]
    for pk in set(after) - set(changed):  # same codes (a reason may name another spell)
        assert [c["code"] for c in after[pk]] == [code for code, _ in expected[pk]]


def test_it_rebuilds_the_history_with_each_parents_own_spells(actors: Actors) -> None:
    # History ids run ahead of parent ids once a parent was edited: the spells of a parent
    # must be found by the parent's id, not by its history record's.
    other = make_family(actors, name="赵小军")
    father = Parent.objects.get(household=other.household, role="father")
    for n in range(3):
        services.parent_save(
            actor=actors.county_admin,
            household=other.household,
            role="father",
            fields={"name": f"赵{n}"},
            version=record_version(Parent, father.pk),
        )
    assert Parent.history.filter(id=father.pk).count() == 4
    child = make_family(actors, mother_left=date(2024, 4, 15))
    assert "1 changed" in reclassify("--as-of", "2024-07-15")
    assert spans(Child.objects.get(pk=child.pk)) == [("left_behind", date(2024, 7, 15), None)]
