"""The entrusted caregiver's ID number and address (the national form's 委托监护人 公民身份证号码
and 居住地地址): checked like every ID number, stored encrypted, masked on the file, revealed one
at a time to the roles allowed and audited; the same for the parents' numbers."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tongxin.audit.models import AuditEvent
from tongxin.core.versions import ID_CHANGED, record_version
from tongxin.lib import crypto, idcard
from tongxin.registry import agreements, services
from tongxin.registry.forms import HOUSEHOLD_FORM_FIELDS
from tongxin.registry.models import CareAgreement, Child, Household
from tongxin.registry.selectors import household_changes
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, api_client, web_client

GRANDMA = idcard.generate(
    random.Random(71), region="620724", birth_date=date(1958, 3, 3), gender="female"
)
FATHER = idcard.generate(
    random.Random(72), region="620724", birth_date=date(1985, 1, 1), gender="male"
)


def _bad(number: str) -> str:
    """The number with one digit changed: its check character no longer fits."""
    digit = str((int(number[10]) + 1) % 10)
    return number[:10] + digit + number[11:]


def _file(child: Child) -> str:
    return reverse("registry:child_detail", args=[child.public_id])


def _reveal(child: Child) -> str:
    return reverse("registry:child_reveal_id", args=[child.public_id])


def _household_form(household: Household, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {}
    for name in HOUSEHOLD_FORM_FIELDS:
        value = getattr(household, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return {**data, "version": household.version, **extra}


# --- the family's caregiver ------------------------------------------------------------------


def test_it_stores_the_caregivers_number_encrypted_and_shows_it_masked(actors: Actors) -> None:
    child = make_family(actors)
    household = Household.objects.get(pk=child.household_id)
    client = web_client(actors.village_director)
    data = _household_form(
        household,
        caregiver_name="王奶奶",
        caregiver_address="东村一组12号",
        caregiver_id_number=GRANDMA.lower(),  # a lowercase x is normalised
    )
    response = client.post(reverse("registry:household_edit", args=[child.public_id]), data)
    assert response.status_code == 302

    household.refresh_from_db()
    assert household.caregiver_id_enc is not None
    assert GRANDMA.encode() not in bytes(household.caregiver_id_enc)
    assert crypto.decrypt(household.caregiver_id_enc) == GRANDMA
    assert household.caregiver_id_hash == crypto.lookup_hash(GRANDMA)
    assert household.caregiver_address == "东村一组12号"
    html = client.get(_file(child)).content.decode()
    family = html[html.index('id="family"') : html.index('id="categories"')]
    assert idcard.mask(GRANDMA) in family
    assert "东村一组12号" in family
    assert GRANDMA not in html
    api = api_client(actors.village_director).get(
        reverse("api:child_detail", args=[child.public_id])
    )
    assert api.json()["household"]["caregiver_id_number"] == idcard.mask(GRANDMA)
    assert api.json()["household"]["caregiver_address"] == "东村一组12号"
    # The history says that the number changed, never what it was or became.
    changes = [c for c in household_changes(household) if c.field == "caregiver_id_enc"]
    assert [(c.old, c.new) for c in changes] == [(ID_CHANGED, ID_CHANGED)]


def test_it_refuses_a_bad_caregivers_number_with_its_reason(actors: Actors) -> None:
    child = make_family(actors)
    household = Household.objects.get(pk=child.household_id)
    with pytest.raises(ValidationError) as caught:
        services.household_update(
            actor=actors.village_director,
            household=household,
            version=household.version,
            changes={},
            caregiver_id_number=_bad(GRANDMA),
        )
    assert "caregiver_id_number" in caught.value.message_dict
    response = web_client(actors.village_director).post(
        reverse("registry:household_edit", args=[child.public_id]),
        _household_form(household, caregiver_id_number=_bad(GRANDMA)),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["caregiver_id_number"]
    household.refresh_from_db()
    assert household.caregiver_id_enc is None
    assert household.version == 1


def test_it_keeps_the_caregivers_number_when_the_field_is_left_empty(actors: Actors) -> None:
    child = make_family(actors)
    household = Household.objects.get(pk=child.household_id)
    services.household_update(
        actor=actors.village_director,
        household=household,
        version=household.version,
        changes={},
        caregiver_id_number=GRANDMA,
    )
    household.refresh_from_db()
    assert household.version == 2
    services.household_update(
        actor=actors.village_director,
        household=household,
        version=household.version,
        changes={"phone": "0936-1"},
        caregiver_id_number="",
    )
    household.refresh_from_db()
    assert household.caregiver_id_enc is not None
    assert crypto.decrypt(household.caregiver_id_enc) == GRANDMA
    # The same number again changes nothing (compared by its keyed hash).
    services.household_update(
        actor=actors.village_director,
        household=household,
        version=household.version,
        changes={},
        caregiver_id_number=GRANDMA,
    )
    household.refresh_from_db()
    assert household.version == 3


# --- the care agreement ----------------------------------------------------------------------


def _agreement_post(number: str) -> dict[str, str]:
    return {
        "entrusted_by": "both",
        "caregiver_name": "王奶奶",
        "caregiver_relation": "祖母",
        "caregiver_id_number": number,
        "caregiver_address": "东村一组12号",
        "signed_on": "2024-01-05",
    }


def test_the_agreement_form_takes_the_caregivers_number_and_address(actors: Actors) -> None:
    child = make_family(actors)
    client = web_client(actors.village_director)
    url = reverse("registry:agreement_create", args=[child.public_id])
    assert "caregiver_id_number" in client.get(url).context["form"].fields

    assert client.post(url, _agreement_post(GRANDMA)).status_code == 302

    agreement = CareAgreement.objects.get(household=child.household)
    assert agreement.caregiver_id_enc is not None
    assert crypto.decrypt(agreement.caregiver_id_enc) == GRANDMA
    assert agreement.caregiver_address == "东村一组12号"
    html = client.get(_file(child)).content.decode()
    section = html[html.index('id="agreement"') : html.index('id="contacts"')]
    assert idcard.mask(GRANDMA) in section
    assert "东村一组12号" in section
    assert GRANDMA not in html


def test_the_agreement_form_refuses_a_bad_caregivers_number(actors: Actors) -> None:
    child = make_family(actors)
    response = web_client(actors.village_director).post(
        reverse("registry:agreement_create", args=[child.public_id]), _agreement_post(_bad(GRANDMA))
    )
    assert response.status_code == 200
    assert response.context["form"].errors["caregiver_id_number"]
    assert not CareAgreement.objects.exists()


def test_the_agreement_form_offers_the_familys_caregiver(actors: Actors) -> None:
    child = make_family(actors)
    Household.objects.filter(pk=child.household_id).update(
        caregiver_name="王奶奶", caregiver_relation="祖母", caregiver_address="东村一组12号"
    )
    url = reverse("registry:agreement_create", args=[child.public_id])
    initial = web_client(actors.village_director).get(url).context["form"].initial
    assert (initial["caregiver_name"], initial["caregiver_address"]) == ("王奶奶", "东村一组12号")


# --- revealing -------------------------------------------------------------------------------


def _with_numbers(actors: Actors) -> tuple[Child, CareAgreement]:
    child = make_family(actors)
    household = Household.objects.get(pk=child.household_id)
    services.household_update(
        actor=actors.county_admin,
        household=household,
        version=household.version,
        changes={},
        caregiver_id_number=GRANDMA,
    )
    father = household.parents.get(role="father")
    services.parent_save(
        actor=actors.county_admin,
        household=household,
        role="father",
        fields={},
        version=record_version(type(father), father.pk),
        id_number=FATHER,
    )
    agreement = agreements.agreement_create(
        actor=actors.county_admin,
        household=household,
        fields={
            "entrusted_by": "both",
            "caregiver_name": "王奶奶",
            "caregiver_relation": "祖母",
            "signed_on": date(2024, 1, 5),
        },
        caregiver_id_number=GRANDMA,
    )
    return child, agreement


def test_it_reveals_each_number_on_the_file_one_at_a_time_and_audits_it(actors: Actors) -> None:
    child, agreement = _with_numbers(actors)
    client = web_client(actors.village_director)
    html = client.get(_file(child)).content.decode()
    wanted = {
        "caregiver": GRANDMA,
        "father": FATHER,
        f"agreement-{agreement.public_id.hex}": GRANDMA,
    }
    for whose, number in wanted.items():
        assert f'name="whose" value="{whose}"' in html, whose
        response = client.post(_reveal(child), {"whose": whose}, headers={"HX-Request": "true"})
        assert response.status_code == 200, whose
        body = response.content.decode()
        assert number in body
        assert f'id="id-{whose}"' in body  # the fragment htmx swaps in
        assert "<html" not in body
        assert "no-store" in response["Cache-Control"]
    events = AuditEvent.objects.filter(action="child.id_reveal", object_code=str(child.public_id))
    assert sorted(e.detail["whose"] for e in events) == sorted(wanted)
    # Without JavaScript: a page of its own, naming whose number it is.
    page = client.post(_reveal(child), {"whose": "caregiver"})
    assert "<html" in page.content.decode()
    assert GRANDMA in page.content.decode()


def test_it_refuses_a_reveal_of_nothing_and_to_other_roles(actors: Actors) -> None:
    child, _agreement = _with_numbers(actors)
    for whose in ("grandfather", "mother-in-law", "agreement-nonsense", "agreement-" + "0" * 32):
        response = web_client(actors.village_director).post(_reveal(child), {"whose": whose})
        assert response.status_code == 404, whose
    assert (
        web_client(actors.auditor).post(_reveal(child), {"whose": "caregiver"}).status_code == 403
    )
    response = web_client(actors.other_village_director).post(_reveal(child), {"whose": "father"})
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="child.id_reveal").exists()
    # The auditor reads the file with every number masked and no reveal offered.
    html = web_client(actors.auditor).get(_file(child)).content.decode()
    assert idcard.mask(GRANDMA) in html
    assert 'name="whose"' not in html
