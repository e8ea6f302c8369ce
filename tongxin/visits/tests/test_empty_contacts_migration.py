"""Migration visits 0004: a contact stored before issue 10 that names nobody reached stops
counting (its credits go); a contact that reached someone keeps counting."""

from __future__ import annotations

from datetime import date
from importlib import import_module

from django.apps import apps

from tongxin.registry.models import Child
from tongxin.testing import Actors
from tongxin.visits import services
from tongxin.visits.models import Contact, ContactCredit
from tongxin.visits.tests.conftest import REACHED

_migration = import_module("tongxin.visits.migrations.0004_uncount_empty_contacts")


def _record(actors: Actors, child: Child, day: date) -> Contact:
    return services.contact_record(
        actor=actors.village_director,
        household=child.household,
        children=[child],
        fields={"kind": "phone", "day": day, **REACHED},
    ).contact


def test_it_drops_the_credits_of_contacts_that_reached_nobody(actors: Actors, child: Child) -> None:
    # Stored as the old form allowed: nobody marked as reached.
    empty = _record(actors, child, date(2024, 5, 3))
    Contact.objects.filter(pk=empty.pk).update(
        met_child=False, met_caregiver=False, met_parent=False
    )
    kept = _record(actors, child, date(2024, 6, 3))

    _migration.uncount(apps, None)

    assert not ContactCredit.objects.filter(contact=empty).exists()
    assert Contact.objects.filter(pk=empty.pk).exists()
    assert ContactCredit.objects.filter(contact=kept, child=child).exists()
