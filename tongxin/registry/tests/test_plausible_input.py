"""Dates and names no child's file can hold are refused by the file's forms and its API alike
(issue 10), with a message naming the field in Chinese; a birth date that is not the one in
the ID number is refused naming both dates, and what was typed (the ID number too) is kept."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from tongxin.lib import idcard
from tongxin.registry.forms import CHILD_FORM_FIELDS
from tongxin.registry.models import Child, Household, Migration, Parent
from tongxin.registry.tests.conftest import VILLAGE, make_family
from tongxin.testing import Actors, api_client, web_client

TODAY = date(2025, 6, 30)
BORN = date(2014, 5, 1)  # the stock child's birth date (conftest.make_family)


@pytest.fixture(autouse=True)
def today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(TODAY, tick=False) as t:
        yield t


def _number(seed: int, birth_date: date = BORN) -> str:
    return idcard.generate(
        random.Random(seed), region="620724", birth_date=birth_date, gender="male"
    )


def _patch(actors: Actors, url: str, body: dict[str, Any], version: int) -> Any:
    return api_client(actors.village_director).patch(
        url, body, format="json", headers={"If-Match": f'"{version}"'}
    )


def _child_url(child: Child) -> str:
    return reverse("api:child_detail", args=[child.public_id])


# --- the API ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth_date", "shown"),
    [
        ("9999-12-31", "9999年12月31日"),  # a 500 before: classification overflowed
        ("0001-01-01", "1年1月1日"),
        ("1900-01-01", "1900年1月1日"),
        ("2099-01-01", "2099年1月1日"),
        ("2025-07-01", "2025年7月1日"),  # tomorrow: the file showed "-1岁"
        ("2000-06-29", "2000年6月29日"),  # 25 years and a day back
    ],
)
def test_the_api_refuses_a_birth_date_no_child_can_have(
    actors: Actors, child: Child, birth_date: str, shown: str
) -> None:
    child.refresh_from_db()
    response = _patch(actors, _child_url(child), {"birth_date": birth_date}, child.version)
    assert response.status_code == 400, response.content
    (message,) = response.json()["birth_date"]
    assert shown in message
    child.refresh_from_db()
    assert child.birth_date == BORN


def test_the_api_takes_a_plausible_birth_date(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    response = _patch(actors, _child_url(child), {"birth_date": "2013-02-03"}, child.version)
    assert response.status_code == 200, response.content
    child.refresh_from_db()
    assert child.birth_date == date(2013, 2, 3)


def test_the_api_refuses_a_birth_date_the_stored_id_number_contradicts(actors: Actors) -> None:
    child = make_family(actors, id_number=_number(1))
    child.refresh_from_db()
    response = _patch(actors, _child_url(child), {"birth_date": "2011-03-02"}, child.version)
    assert response.status_code == 400
    (message,) = response.json()["birth_date"]
    assert "2011年3月2日" in message
    assert "2014年5月1日" in message


def test_the_api_refuses_a_new_id_number_that_contradicts_the_birth_date(
    actors: Actors, child: Child
) -> None:
    child.refresh_from_db()
    number = _number(2, birth_date=date(2011, 3, 2))
    response = _patch(actors, _child_url(child), {"id_number": number}, child.version)
    assert response.status_code == 400
    (message,) = response.json()["birth_date"]
    assert "2011年3月2日" in message
    assert "2014年5月1日" in message
    assert number not in response.content.decode()
    child.refresh_from_db()
    assert not child.id_number_hash


def test_the_api_takes_a_birth_date_and_number_that_agree(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    born = date(2012, 8, 9)
    body = {"birth_date": born.isoformat(), "id_number": _number(3, birth_date=born)}
    response = _patch(actors, _child_url(child), body, child.version)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "name",
    ["<script>alert(1)</script>", "王<b>小明</b>", "王小明1", "王小明;", "·王小明", "王\u202e明"],
)
def test_the_api_refuses_a_name_that_is_not_a_name(actors: Actors, child: Child, name: str) -> None:
    child.refresh_from_db()
    response = _patch(actors, _child_url(child), {"name": name}, child.version)
    assert response.status_code == 400
    assert "name" in response.json()
    child.refresh_from_db()
    assert child.name == "王小明"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("Anna Li", "Anna Li"),
    ],
)
def test_the_api_takes_minority_and_latin_names(
    actors: Actors, child: Child, typed: str, stored: str
) -> None:
    child.refresh_from_db()
    response = _patch(actors, _child_url(child), {"name": typed}, child.version)
    assert response.status_code == 200, response.content
    child.refresh_from_db()
    assert child.name == stored


def test_the_api_refuses_a_registration_before_the_birth(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    response = _patch(actors, _child_url(child), {"registered_on": "2014-04-30"}, child.version)
    assert response.status_code == 400
    assert "2014年5月1日" in response.json()["registered_on"][0]
    # Against a new birth date sent with it, the same.
    body = {"registered_on": "2012-01-01", "birth_date": "2012-06-01"}
    response = _patch(actors, _child_url(child), body, child.version)
    assert response.status_code == 400
    assert "registered_on" in response.json()


def test_the_api_refuses_a_certificate_expiring_in_the_year_9999(
    actors: Actors, child: Child
) -> None:
    child.refresh_from_db()
    body = {"disability_certificate_expiry": "9999-12-31"}
    response = _patch(actors, _child_url(child), body, child.version)
    assert response.status_code == 400
    assert "disability_certificate_expiry" in response.json()


def _father(child: Child) -> Parent:
    return Parent.objects.get(household=child.household, role="father")


def _record_version(model: Any, pk: int) -> int:
    from tongxin.core.versions import record_version

    return record_version(model, pk)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "<img src=x onerror=alert(1)>"}, "name"),
        ({"birth_date": "1800-01-01"}, "birth_date"),
        ({"birth_date": "2030-01-01"}, "birth_date"),
    ],
)
def test_the_api_refuses_a_parent_no_one_can_be(
    actors: Actors, child: Child, body: dict[str, str], field: str
) -> None:
    father = _father(child)
    url = reverse("api:child_parent", args=[child.public_id, "father"])
    response = _patch(actors, url, body, _record_version(Parent, father.pk))
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("left_on", "reason"),
    [("0001-01-01", "1年1月1日"), ("2030-01-01", "2030年1月1日"), ("1979-12-31", "1980年1月1日")],
)
def test_the_api_refuses_a_spell_no_parent_can_have(
    actors: Actors, child: Child, left_on: str, reason: str
) -> None:
    father = _father(child)
    Parent.objects.filter(pk=father.pk).update(birth_date=date(1980, 1, 1))
    url = reverse("api:parent_migration_create", args=[child.public_id, "father"])
    body = {"left_on": left_on, "destination": "out_of_province"}
    response = api_client(actors.village_director).post(url, body, format="json")
    assert response.status_code == 400, response.content
    assert reason in response.json()["left_on"][0]
    # A change of a spell, the same.
    spell = Migration.objects.filter(parent=father).get()
    url = reverse("api:child_migration", args=[child.public_id, spell.public_id])
    response = _patch(actors, url, {"returned_on": left_on}, _record_version(Migration, spell.pk))
    assert response.status_code == 400
    assert "returned_on" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"birth_date": "9999-12-31"},
        {"as_of": "9999-12-31"},
        {"as_of": "0001-01-01"},
    ],
)
def test_the_calculator_refuses_dates_out_of_any_childs_range(
    actors: Actors, body: dict[str, str]
) -> None:
    parent = {"status": "alive", "capacity": "full", "migrations": []}
    facts = {
        "as_of": "2025-06-30",
        "birth_date": "2014-05-01",
        "lives_in": "village",
        "father": parent,
        "mother": parent,
        "parents_divorced": False,
        "dibao": False,
        "tekun": False,
        "disability_grade": None,
        "serious_illness": False,
    }
    response = api_client(actors.village_director).post(
        reverse("api:classify"), {**facts, **body}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == set(body)


# --- the forms -------------------------------------------------------------------------------


def _register(actors: Actors, **changes: str) -> Any:
    data = {
        "village": VILLAGE,
        "address": "三组",
        "name": "赵近处",
        "gender": "male",
        "ethnicity": "汉族",
        "birth_date": BORN.isoformat(),
        "enrolment": "in_school",
        "health": "healthy",
        "registered_on": TODAY.isoformat(),
        "id_missing_reason": "not_registered",
        **changes,
    }
    return web_client(actors.village_director).post(reverse("registry:child_create"), data)


def _field_errors(response: Any, form: str = "facts") -> dict[str, list[str]]:
    return {k: [str(m) for m in v] for k, v in response.context[form].errors.items()}


def test_the_form_refuses_a_birth_date_in_the_future_and_keeps_the_input(
    actors: Actors,
) -> None:
    response = _register(actors, birth_date="2029-05-01")
    assert response.status_code == 200
    assert "2029年5月1日" in _field_errors(response)["birth_date"][0]
    html = response.content.decode()
    assert 'value="赵近处"' in html
    assert 'value="2029-05-01"' in html
    assert not Child.objects.filter(name="赵近处").exists()
    assert not Household.objects.filter(address="三组").exists()


def test_the_form_refuses_a_birth_date_the_id_number_contradicts_and_keeps_the_number(
    actors: Actors,
) -> None:
    number = _number(4, birth_date=date(2011, 3, 2))
    response = _register(actors, id_number=number, id_missing_reason="")
    assert response.status_code == 200
    (message,) = _field_errors(response)["birth_date"]
    assert "2011年3月2日" in message
    assert "2014年5月1日" in message
    # The 18 characters are kept in their field: nobody retypes them on a phone.
    html = response.content.decode()
    assert f'value="{number}"' in html
    assert html.count(number) == 1
    assert not Child.objects.filter(name="赵近处").exists()


def test_the_form_keeps_an_id_number_with_a_wrong_check_character(actors: Actors) -> None:
    number = _number(5)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    response = _register(actors, id_number=wrong, id_missing_reason="")
    assert response.status_code == 200
    assert "id_number" in _field_errors(response)
    assert f'value="{wrong}"' in response.content.decode()


def test_the_form_refuses_a_registration_before_the_birth(actors: Actors) -> None:
    response = _register(actors, registered_on="2014-04-30")
    assert "2014年5月1日" in _field_errors(response)["registered_on"][0]


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "赵&近处", "赵近处2"])
def test_the_form_refuses_markup_in_a_name(actors: Actors, name: str) -> None:
    response = _register(actors, name=name)
    assert response.status_code == 200
    assert "name" in _field_errors(response)
    assert not Child.objects.exists() or not Child.objects.filter(name=name).exists()


def test_the_form_takes_a_minority_name_and_stores_it_normalised(actors: Actors) -> None:
    response = _register(actors, name=" 阿依古丽 ・ 买买提 ")
    assert response.status_code == 302
    assert Child.objects.filter(name="阿依古丽 · 买买提").exists()


def _edit(actors: Actors, child: Child, name: str, data: dict[str, Any]) -> Any:
    url = reverse(f"registry:{name}", args=[child.public_id, *data.pop("_args", [])])
    return web_client(actors.village_director).post(url, data)


def _child_data(child: Child, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in CHILD_FORM_FIELDS:
        value = getattr(child, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, date):
            data[name] = value.isoformat()
        else:
            data[name] = "" if value is None else value
    return {**data, "version": child.version, "id_number": "", **changes}


def test_the_edit_form_refuses_a_birth_date_in_the_future(actors: Actors, child: Child) -> None:
    child.refresh_from_db()
    response = _edit(actors, child, "child_edit", _child_data(child, birth_date="2026-01-01"))
    assert response.status_code == 200
    assert "birth_date" in response.context["form"].errors
    child.refresh_from_db()
    assert child.birth_date == BORN


@pytest.mark.parametrize(
    ("view", "data", "field"),
    [
        (
            "child_status",
            {"status": "closed", "status_reason": "迁出", "status_since": "2014-04-30"},
            "status_since",
        ),
        (
            "child_status",
            {"status": "closed", "status_reason": "迁出", "status_since": "0001-01-01"},
            "status_since",
        ),
    ],
)
def test_the_status_form_refuses_a_date_before_the_birth(
    actors: Actors, child: Child, view: str, data: dict[str, str], field: str
) -> None:
    child.refresh_from_db()
    response = _edit(actors, child, view, {**data, "version": child.version})
    assert response.status_code == 200
    assert field in response.context["form"].errors


def test_the_parent_form_refuses_markup_and_an_impossible_birth_date(
    actors: Actors, child: Child
) -> None:
    father = _father(child)
    data = {
        "_args": ["father"],
        "name": "<b>父</b>",
        "birth_date": "1800-01-01",
        "status": father.status,
        "capacity": father.capacity,
        "token": _record_version(Parent, father.pk),
    }
    response = _edit(actors, child, "parent_edit", data)
    assert response.status_code == 200
    assert {"name", "birth_date"} <= set(response.context["form"].errors)


def test_the_spell_form_refuses_a_departure_in_the_year_1(actors: Actors, child: Child) -> None:
    data = {
        "_args": ["father"],
        "left_on": "0001-01-01",
        "destination": "out_of_province",
        "token": 0,
    }
    response = _edit(actors, child, "migration_create", data)
    assert response.status_code == 200
    assert "left_on" in response.context["form"].errors


def test_the_family_form_refuses_a_caregiver_born_in_1800_or_named_with_markup(
    actors: Actors, child: Child
) -> None:
    household = child.household
    data = {
        "caregiver_name": "<script>",
        "caregiver_birth_year": "1800",
        "dibao_since": "0001-01-01",
        "version": household.version,
    }
    response = _edit(actors, child, "household_edit", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"caregiver_name", "caregiver_birth_year", "dibao_since"} <= set(errors)


def test_the_agreement_form_refuses_a_signing_before_the_eldest_childs_birth(
    actors: Actors, child: Child
) -> None:
    data = {
        "entrusted_by": "father",
        "caregiver_name": "王奶奶",
        "caregiver_relation": "祖母",
        "signed_on": "2014-04-30",
        "valid_until": "9999-12-31",
    }
    response = _edit(actors, child, "agreement_create", data)
    assert response.status_code == 200
    assert {"signed_on", "valid_until"} <= set(response.context["form"].errors)
