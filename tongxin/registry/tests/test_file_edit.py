"""The edit forms of the file and the registration of a new child: each saves through its
service, an edit based on an old version is refused with what changed meanwhile (the user's
input kept, nothing overwritten), and duplicates say only what the user may know."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Division
from tongxin.lib import idcard
from tongxin.registry import services
from tongxin.registry.forms import CHILD_FORM_FIELDS, HOUSEHOLD_FORM_FIELDS
from tongxin.registry.models import Child, Household, ManualDecision, Migration, Parent
from tongxin.registry.tests.conftest import VILLAGE, make_family
from tongxin.testing import Actors, web_client


def _form_data(obj: Any, names: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    """What a browser sends back for an unchanged form (checkboxes: absent when off)."""
    data: dict[str, Any] = {}
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        elif isinstance(value, date):
            data[name] = value.isoformat()
        else:
            data[name] = value
    return {**data, **extra}


def _child_data(child: Child, **changes: Any) -> dict[str, Any]:
    return _form_data(
        child, CHILD_FORM_FIELDS, **{"version": child.version, "id_number": "", **changes}
    )


def _url(name: str, child: Child, *args: Any) -> str:
    return reverse(f"registry:{name}", args=[child.public_id, *args])


def _number(seed: int, birth_date: date = date(2014, 5, 1)) -> str:
    return idcard.generate(
        random.Random(seed), region="620724", birth_date=birth_date, gender="male"
    )


# --- the child -------------------------------------------------------------------------------


def test_it_shows_the_current_facts_and_the_version(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    html = web_client(actors.village_director).get(_url("child_edit", child)).content.decode()
    assert 'value="王小明"' in html
    assert f'name="version" value="{child.version}"' in html


def test_it_saves_the_childs_facts_and_audits_them(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    response = web_client(actors.village_director).post(
        _url("child_edit", child), _child_data(child, school="城关镇中心小学", grade="三年级")
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#basic")
    child.refresh_from_db()
    assert (child.school, child.grade) == ("城关镇中心小学", "三年级")
    event = AuditEvent.objects.get(action="child.update", object_code=str(child.public_id))
    assert event.detail == {"fields": ["grade", "school"]}


def test_it_refuses_a_stale_edit_and_keeps_both_the_first_edit_and_the_input(
    actors: Actors, child: Child
) -> None:
    child.refresh_from_db()
    first, second = web_client(actors.village_director), web_client(actors.town_supervisor)
    old = _child_data(child)  # both opened the form at this version
    assert (
        first.post(_url("child_edit", child), {**old, "school": "城关镇中心小学"}).status_code
        == 302
    )
    response = second.post(_url("child_edit", child), {**old, "illness": "哮喘"})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="stale"' in html
    assert "城关镇中心小学" in html  # what changed meanwhile …
    assert "village director" in html  # … and who changed it
    assert "哮喘" in html  # the user's input is kept
    assert f'name="version" value="{child.version + 1}"' in html  # now based on the current one
    child.refresh_from_db()
    assert (child.school, child.illness) == ("城关镇中心小学", "")  # nothing overwritten
    # Sent again after seeing the changes, it applies.
    again = second.post(
        _url("child_edit", child), {**old, "version": child.version, "illness": "哮喘"}
    )
    assert again.status_code == 302
    child.refresh_from_db()
    assert child.illness == "哮喘"


def test_it_keeps_the_id_number_when_the_field_is_left_empty(actors: Actors) -> None:
    number = _number(21)
    child = make_family(actors, id_number=number)
    child.refresh_from_db()
    before = child.id_number_hash
    response = web_client(actors.village_director).post(
        _url("child_edit", child), _child_data(child, phone="13800000000")
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.id_number_hash == before
    assert child.phone == "13800000000"


def test_it_shows_id_warnings_after_saving(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    # A valid number whose gender differs from the one entered: saved, with a warning.
    number = idcard.generate(
        random.Random(22), region="620724", birth_date=child.birth_date, gender="female"
    )
    client = web_client(actors.village_director)
    response = client.post(
        _url("child_edit", child), _child_data(child, id_number=number), follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("17" in m for m in shown), shown
    assert number not in response.content.decode()
    child.refresh_from_db()
    assert child.id_number_hash


def test_it_keeps_a_typed_id_number_when_the_form_is_refused(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    number = _number(23)
    response = web_client(actors.village_director).post(
        _url("child_edit", child), _child_data(child, id_number=number, name="")
    )
    assert response.status_code == 200  # the name is missing
    # The 18 characters the user typed stay in the field, nowhere else; never in the address.
    html = response.content.decode()
    assert html.count(number) == 1
    assert f'value="{number}"' in html
    assert number not in response.wsgi_request.get_full_path()
    assert "no-store" in response["Cache-Control"]


def test_it_links_to_a_duplicate_the_user_may_see(actors: Actors, child: Child) -> None:
    number = _number(24)
    existing = make_family(actors, id_number=number, name="王大明")
    child.refresh_from_db()
    response = web_client(actors.village_director).post(
        _url("child_edit", child), _child_data(child, id_number=number)
    )
    html = response.content.decode()
    assert reverse("registry:child_detail", args=[existing.public_id]) in html
    assert html.count(number) == 1  # only in the field, as the user typed it


def test_it_reveals_nothing_of_a_duplicate_outside_the_users_area(actors: Actors) -> None:
    number = _number(25)
    elsewhere = make_family(actors, id_number=number, name="赵远方", village="620724101201")
    response = web_client(actors.village_director).post(
        reverse("registry:child_create"),
        {
            "village": VILLAGE,
            "address": "三组",
            "name": "赵近处",
            "gender": "male",
            "ethnicity": "汉族",
            "birth_date": "2014-05-01",
            "enrolment": "in_school",
            "health": "healthy",
            "registered_on": timezone.localdate().isoformat(),
            "id_number": number,
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="duplicate"' in html
    assert "transfer" in html.lower() or "转" in html
    assert "赵远方" not in html
    assert str(elsewhere.public_id) not in html
    assert html.count(number) == 1  # only in the field, as the user typed it
    # Nothing half-done: no new household either.
    assert not Child.objects.filter(name="赵近处").exists()
    assert not Household.objects.filter(address="三组").exists()


def test_it_changes_the_status_with_a_reason_and_a_past_date(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    since = timezone.localdate() - timedelta(days=10)
    response = web_client(actors.village_director).post(
        _url("child_status", child),
        {
            "status": "transferred_out",
            "status_reason": "随父母迁往宁波",
            "status_since": since.isoformat(),
            "version": child.version,
        },
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.status, child.status_since) == ("transferred_out", since)


def test_it_refuses_a_stale_status_change(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    old = child.version
    services.child_update(
        actor=actors.town_supervisor, child=child, version=old, changes={"grade": "四年级"}
    )
    response = web_client(actors.village_director).post(
        _url("child_status", child),
        {
            "status": "closed",
            "status_reason": "x",
            "status_since": timezone.localdate().isoformat(),
            "version": old,
        },
    )
    assert response.status_code == 409
    assert "四年级" in response.content.decode()
    child.refresh_from_db()
    assert child.status == "active"


def test_it_records_a_manual_decision_for_county_officers_only(
    actors: Actors, child: Child
) -> None:
    child.refresh_from_db()
    data = {
        "code": "single_parent",
        "include": "1",
        "reason": "村委会证明",
        "version": child.version,
    }
    assert (
        web_client(actors.village_director).post(_url("manual_decision", child), data).status_code
        == 404
    )
    assert web_client(actors.town_supervisor).get(_url("manual_decision", child)).status_code == 404
    response = web_client(actors.county_admin).post(_url("manual_decision", child), data)
    assert response.status_code == 302
    decision = ManualDecision.objects.get(child=child)
    assert (decision.code, decision.include, decision.reason) == (
        "single_parent",
        True,
        "村委会证明",
    )
    child.refresh_from_db()
    assert child.category_codes == ["left_behind"]  # the computed result is untouched


# --- the family ------------------------------------------------------------------------------


def test_it_saves_the_familys_facts_and_reclassifies(actors: Actors, child: Child) -> None:
    household = Household.objects.get(pk=child.household_id)
    data = _form_data(household, HOUSEHOLD_FORM_FIELDS, version=household.version, dibao="on")
    response = web_client(actors.village_director).post(_url("household_edit", child), data)
    assert response.status_code == 302
    child.refresh_from_db()
    assert "dibao_family" in child.category_codes


def test_it_refuses_a_stale_family_edit(actors: Actors, child: Child) -> None:
    household = Household.objects.get(pk=child.household_id)
    old = _form_data(household, HOUSEHOLD_FORM_FIELDS, version=household.version)
    client = web_client(actors.village_director)
    assert client.post(_url("household_edit", child), {**old, "address": "二组"}).status_code == 302
    response = client.post(_url("household_edit", child), {**old, "phone": "0936-1234567"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "二组" in html
    assert "0936-1234567" in html
    household.refresh_from_db()
    assert (household.address, household.phone) == ("二组", "")


def test_it_saves_a_parent_and_refuses_a_stale_parent_edit(actors: Actors, child: Child) -> None:
    client = web_client(actors.village_director)
    url = _url("parent_edit", child, "mother")
    token = client.get(url).context["form"].initial["token"]
    mother = {
        "name": "李秀英",
        "status": "alive",
        "capacity": "serious_illness",
        "capacity_note": "尿毒症",
        "token": token,
    }
    assert client.post(url, mother).status_code == 302
    parent = Parent.objects.get(household=child.household, role="mother")
    assert (parent.name, parent.capacity) == ("李秀英", "serious_illness")
    stale = client.post(url, {**mother, "capacity": "full", "phone": "13900000000"})
    assert stale.status_code == 409
    assert "尿毒症" in stale.content.decode()
    parent.refresh_from_db()
    assert (parent.capacity, parent.phone) == ("serious_illness", "")


def test_it_records_a_spell_with_an_unknown_start_and_edits_it(
    actors: Actors, child: Child
) -> None:
    client = web_client(actors.village_director)
    response = client.post(
        _url("migration_create", child, "father"),
        {"left_on": "", "destination": "out_of_province", "work_place": "新疆", "token": 0},
    )
    assert response.status_code == 302
    spell = Migration.objects.get(parent__household=child.household, work_place="新疆")
    assert spell.left_on is None
    assert spell.known_since == timezone.localdate()
    html = client.get(reverse("registry:child_detail", args=[child.public_id])).content.decode()
    assert "start unknown" in html or "不详" in html
    url = _url("migration_edit", child, spell.public_id)
    token = client.get(url).context["form"].initial["token"]
    returned = timezone.localdate().isoformat()
    data = {
        "left_on": "",
        "returned_on": returned,
        "destination": "out_of_province",
        "token": token,
    }
    assert client.post(url, data).status_code == 302
    spell.refresh_from_db()
    assert spell.returned_on == timezone.localdate()
    # Based on the old token, a second edit is refused.
    assert client.post(url, {**data, "work_place": "西藏"}).status_code == 409


def test_it_refuses_a_return_before_the_departure(actors: Actors, child: Child) -> None:
    response = web_client(actors.village_director).post(
        _url("migration_create", child, "father"),
        {"left_on": "2024-03-01", "returned_on": "2024-02-01", "destination": "in_county"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["returned_on"]


def test_it_transfers_the_family_inside_the_users_area(actors: Actors, child: Child) -> None:
    household = Household.objects.get(pk=child.household_id)
    client = web_client(actors.town_supervisor)
    form = client.get(_url("household_transfer", child)).context["form"]
    offered = {d.code for d in form.fields["village"].queryset}
    assert offered == {"620724100202", "620724100001"}  # the town's other villages
    response = client.post(
        _url("household_transfer", child),
        {"village": "620724100202", "reason": "易地搬迁", "version": household.version},
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.village_id == "620724100202"
    assert (
        web_client(actors.village_director)
        .get(reverse("registry:child_detail", args=[child.public_id]))
        .status_code
        == 404
    )


def test_it_offers_a_village_director_no_village_to_move_to(actors: Actors, child: Child) -> None:
    household = Household.objects.get(pk=child.household_id)
    client = web_client(actors.village_director)
    response = client.post(
        _url("household_transfer", child),
        {"village": "620724101201", "reason": "搬迁", "version": household.version},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["village"]
    child.refresh_from_db()
    assert child.village_id == VILLAGE


# --- a new child -----------------------------------------------------------------------------


def _new_child(**extra: Any) -> dict[str, Any]:
    return {
        "name": "王小红",
        "gender": "female",
        "ethnicity": "汉族",
        "birth_date": "2016-03-03",
        "enrolment": "in_school",
        "health": "healthy",
        "registered_on": timezone.localdate().isoformat(),
        "id_missing_reason": "not_registered",
        **extra,
    }


def test_it_finds_a_family_by_address_or_a_siblings_name(actors: Actors, child: Child) -> None:
    client = web_client(actors.village_director)
    for q in ("一组", "王小明", "wangxiaoming", "wxm"):
        response = client.get(reverse("registry:child_create"), {"q": q})
        assert [h.pk for h in response.context["matches"]] == [child.household_id], q
    elsewhere = make_family(actors, village="620724100202", name="王小刚")
    outside = client.get(reverse("registry:child_create"), {"q": "王小刚"})
    assert outside.context["matches"] == []
    assert str(elsewhere.household.public_id) not in outside.content.decode()


def test_it_registers_a_sibling_in_the_family_on_file(actors: Actors, child: Child) -> None:
    client = web_client(actors.village_director)
    url = reverse("registry:child_create")
    assert client.get(url, {"household": str(child.household.public_id)}).status_code == 200
    response = client.post(url, _new_child(household=str(child.household.public_id)))
    assert response.status_code == 302
    sibling = Child.objects.get(name="王小红")
    assert sibling.household_id == child.household_id
    assert response["Location"] == reverse("registry:child_detail", args=[sibling.public_id])
    assert sibling.left_behind  # the family's facts count for the sibling at once


def test_it_registers_a_child_in_a_new_family(actors: Actors) -> None:
    response = web_client(actors.village_director).post(
        reverse("registry:child_create"), _new_child(village=VILLAGE, address="五组")
    )
    assert response.status_code == 302
    child = Child.objects.get(name="王小红")
    assert (child.village_id, child.household.address) == (VILLAGE, "五组")
    assert child.created_by == actors.village_director


def test_it_offers_only_villages_in_the_users_area(actors: Actors) -> None:
    client = web_client(actors.village_director)
    form = client.get(reverse("registry:child_create")).context["new_household"]
    assert [d.code for d in form.fields["village"].queryset] == [VILLAGE]
    response = client.post(
        reverse("registry:child_create"), _new_child(village="620724100202", address="x")
    )
    assert response.status_code == 200
    assert not Child.objects.filter(name="王小红").exists()


def test_it_answers_404_for_a_family_outside_the_users_area(actors: Actors) -> None:
    elsewhere = make_family(actors, village="620724100202")
    response = web_client(actors.village_director).get(
        reverse("registry:child_create"), {"household": str(elsewhere.household.public_id)}
    )
    assert response.status_code == 404


def test_it_needs_the_id_number_or_the_reason_there_is_none(actors: Actors) -> None:
    response = web_client(actors.village_director).post(
        reverse("registry:child_create"),
        _new_child(village=VILLAGE, id_missing_reason=""),
    )
    assert response.status_code == 200
    assert response.context["facts"].errors["id_missing_reason"]
    assert not Household.objects.filter(village_id=VILLAGE).exists()


def test_it_keeps_the_read_only_and_the_outsiders_out_of_registration(actors: Actors) -> None:
    url = reverse("registry:child_create")
    assert web_client(actors.auditor).get(url).status_code == 403
    for key in ("department_officer", "system_admin", "reporter"):
        assert web_client(getattr(actors, key)).get(url).status_code == 404, key
    assert Client().get(url).status_code == 302
    assert Division.objects.filter(code=VILLAGE).exists()
