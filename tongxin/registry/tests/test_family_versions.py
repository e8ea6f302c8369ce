"""No lost update of a parent or a spell of work away: ``parent_save`` and ``migration_save`` take
the version the edit was based on (the record's latest history entry) and refuse a stale one
with what changed meanwhile; the API sends the version as an ETag and wants it in If-Match
(428 without, 412 when stale), as for the child's own facts."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.urls import reverse

from tongxin.core.versions import StaleEdit, record_version
from tongxin.lib import idcard
from tongxin.registry import services
from tongxin.registry.models import Child, Migration, Parent
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, api_client


def _father(child: Child) -> Parent:
    return Parent.objects.select_related("household").get(household=child.household, role="father")


def _spell(child: Child) -> Migration:
    return Migration.objects.select_related("parent__household").get(
        parent__household=child.household, parent__role="father"
    )


# --- the services ----------------------------------------------------------------------------


def test_it_refuses_a_stale_parent_edit_and_says_what_changed(actors: Actors, child: Child) -> None:
    father = _father(child)
    seen = record_version(Parent, father.pk)
    services.parent_save(
        actor=actors.town_supervisor,
        household=father.household,
        role="father",
        fields={"phone": "13900000001"},
        version=seen,
    )
    with pytest.raises(StaleEdit) as caught:
        services.parent_save(
            actor=actors.village_director,
            household=father.household,
            role="father",
            fields={"capacity": "imprisoned"},
            version=seen,
        )
    assert caught.value.current_version == record_version(Parent, father.pk) > seen
    assert [(c.field, c.new, c.by) for c in caught.value.changes] == [
        ("phone", "13900000001", "town supervisor")
    ]
    father.refresh_from_db()
    assert (father.phone, father.capacity) == ("13900000001", "full")


def test_it_refuses_to_record_a_parent_someone_recorded_meanwhile(actors: Actors) -> None:
    child = make_family(actors, father_left=None)
    household = child.household
    Parent.objects.filter(household=household, role="father").delete()
    services.parent_save(
        actor=actors.town_supervisor, household=household, role="father", fields={}, version=0
    )
    with pytest.raises(StaleEdit):
        services.parent_save(
            actor=actors.village_director,
            household=household,
            role="father",
            fields={"status": "deceased"},
            version=0,
        )
    assert Parent.objects.get(household=household, role="father").status == "alive"


def test_it_refuses_a_stale_spell_edit_and_says_what_changed(actors: Actors, child: Child) -> None:
    spell = _spell(child)
    seen = record_version(Migration, spell.pk)
    services.migration_save(
        actor=actors.town_supervisor,
        parent=spell.parent,
        migration=spell,
        fields={"work_place": "浙江省杭州市"},
        version=seen,
    )
    with pytest.raises(StaleEdit) as caught:
        services.migration_save(
            actor=actors.village_director,
            parent=spell.parent,
            migration=_spell(child),
            fields={"returned_on": date(2024, 6, 1)},
            version=seen,
        )
    assert [(c.field, c.new) for c in caught.value.changes] == [("work_place", "浙江省杭州市")]
    spell.refresh_from_db()
    assert spell.returned_on is None
    child.refresh_from_db()
    assert child.left_behind  # the refused return changed nothing


def test_a_new_spell_is_based_on_no_version(actors: Actors, child: Child) -> None:
    father = _father(child)
    with pytest.raises(StaleEdit):
        services.migration_save(
            actor=actors.village_director,
            parent=father,
            fields={"destination": "in_county"},
            version=12345,
        )
    saved = services.migration_save(
        actor=actors.village_director, parent=father, fields={"destination": "in_county"}, version=0
    )
    assert record_version(Migration, saved.pk) > 0


# --- the API ---------------------------------------------------------------------------------


def _parent_url(child: Child, role: str = "father") -> str:
    return reverse("api:child_parent", args=[child.public_id, role])


def _spell_url(child: Child, spell: Migration) -> str:
    return reverse("api:child_migration", args=[child.public_id, spell.public_id])


def test_the_api_returns_a_parent_with_its_version_as_etag(actors: Actors, child: Child) -> None:
    number = idcard.generate(
        random.Random(5), region="620724", birth_date=date(1985, 1, 1), gender="male"
    )
    father = _father(child)
    services.parent_save(
        actor=actors.county_admin,
        household=father.household,
        role="father",
        fields={},
        version=record_version(Parent, father.pk),
        id_number=number,
    )
    response = api_client(actors.village_director).get(_parent_url(child))
    assert response.status_code == 200
    version = record_version(Parent, father.pk)
    assert response["ETag"] == f'"{version}"'
    body = response.json()
    assert body["version"] == version
    assert body["id_number"] == idcard.mask(number)
    assert number not in response.content.decode()
    assert body["migrations"][0]["id"] == str(_spell(child).public_id)
    assert api_client(actors.village_director).get(_parent_url(child, "uncle")).status_code == 404


def test_the_api_changes_a_parent_based_on_the_current_version(
    actors: Actors, child: Child
) -> None:
    client = api_client(actors.village_director)
    etag = client.get(_parent_url(child))["ETag"]
    assert "single_parent" not in Child.objects.get(pk=child.pk).category_codes
    response = client.patch(
        _parent_url(child), {"status": "deceased"}, format="json", headers={"If-Match": etag}
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] != etag
    assert response.json()["status"] == "deceased"
    # Reclassified at once: the father died, the mother is alive.
    assert "single_parent" in Child.objects.get(pk=child.pk).category_codes


def test_the_api_answers_428_and_412_for_a_parent(actors: Actors, child: Child) -> None:
    client = api_client(actors.village_director)
    etag = client.get(_parent_url(child))["ETag"]
    missing = client.patch(_parent_url(child), {"phone": "1"}, format="json")
    assert missing.status_code == 428
    father = _father(child)
    services.parent_save(
        actor=actors.town_supervisor,
        household=father.household,
        role="father",
        fields={"phone": "13900000002"},
        version=record_version(Parent, father.pk),
    )
    stale = client.patch(
        _parent_url(child), {"phone": "13900000003"}, format="json", headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    body = stale.json()
    assert stale["ETag"] == f'"{record_version(Parent, father.pk)}"'
    assert body["current_version"] == record_version(Parent, father.pk)
    assert [(c["field"], c["new"]) for c in body["changes"]] == [("phone", "13900000002")]
    father.refresh_from_db()
    assert father.phone == "13900000002"


def test_the_api_records_a_parent_not_yet_on_file_with_if_match_zero(actors: Actors) -> None:
    child = make_family(actors, mother_left=None)
    Parent.objects.filter(household=child.household, role="mother").delete()
    client = api_client(actors.village_director)
    assert client.get(_parent_url(child, "mother")).status_code == 404
    response = client.patch(
        _parent_url(child, "mother"),
        {"status": "deceased"},
        format="json",
        headers={"If-Match": '"0"'},
    )
    assert response.status_code == 200, response.content
    assert Parent.objects.get(household=child.household, role="mother").status == "deceased"
    again = client.patch(
        _parent_url(child, "mother"),
        {"status": "alive"},
        format="json",
        headers={"If-Match": '"0"'},
    )
    assert again.status_code == 412


def test_the_api_changes_a_spell_and_refuses_a_stale_one(actors: Actors, child: Child) -> None:
    spell = _spell(child)
    client = api_client(actors.village_director)
    got = client.get(_spell_url(child, spell))
    assert got.status_code == 200
    etag = got["ETag"]
    assert got.json()["role"] == "father"
    assert client.patch(_spell_url(child, spell), {"phone": "1"}, format="json").status_code == 428
    done = client.patch(
        _spell_url(child, spell),
        {"returned_on": "2024-06-01"},
        format="json",
        headers={"If-Match": etag},
    )
    assert done.status_code == 200, done.content
    assert done.json()["returned_on"] == "2024-06-01"
    child.refresh_from_db()
    assert not child.left_behind
    stale = client.patch(
        _spell_url(child, spell), {"work_place": "西藏"}, format="json", headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert [c["field"] for c in stale.json()["changes"]] == ["returned_on"]
    spell.refresh_from_db()
    assert spell.work_place == "浙江省宁波市"


def test_the_api_refuses_a_return_before_the_departure(actors: Actors, child: Child) -> None:
    spell = _spell(child)
    client = api_client(actors.village_director)
    etag = client.get(_spell_url(child, spell))["ETag"]
    response = client.patch(
        _spell_url(child, spell),
        {"returned_on": "2020-01-01"},
        format="json",
        headers={"If-Match": etag},
    )
    assert response.status_code == 400
    assert "returned_on" in response.json()


def test_the_api_records_a_new_spell(actors: Actors, child: Child) -> None:
    url = reverse("api:parent_migration_create", args=[child.public_id, "mother"])
    client = api_client(actors.village_director)
    assert client.post(url, {}, format="json").status_code == 400
    response = client.post(
        url, {"destination": "out_of_county", "work_place": "张掖市甘州区"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    spell = Migration.objects.get(public_id=body["id"])
    assert response["ETag"] == f'"{record_version(Migration, spell.pk)}"'
    assert (spell.left_on, spell.work_place) == (None, "张掖市甘州区")


@pytest.mark.parametrize("key", ["other_village_director", "department_officer", "reporter"])
def test_the_api_answers_404_to_outsiders(actors: Actors, child: Child, key: str) -> None:
    client = api_client(getattr(actors, key))
    assert client.get(_parent_url(child)).status_code == 404
    assert client.get(_spell_url(child, _spell(child))).status_code == 404


def test_the_api_answers_403_to_the_auditor_on_a_change(actors: Actors, child: Child) -> None:
    client = api_client(actors.auditor)
    etag = client.get(_parent_url(child))["ETag"]
    response = client.patch(
        _parent_url(child), {"phone": "1"}, format="json", headers={"If-Match": etag}
    )
    assert response.status_code == 403
