"""Phone numbers are encrypted at rest (decision 018): every phone column, history included,
holds only sealed text; the application reads the number back; the data migrations encrypt
the numbers already stored (and decrypt them on the way back) without lifting the database's
guards for longer than their own transaction."""

from __future__ import annotations

import base64
import importlib
from datetime import date
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from tongxin.accounts.models import User
from tongxin.demo import DIVISIONS_FILE
from tongxin.geo.services import divisions_load
from tongxin.lib import crypto
from tongxin.lib.fields import EncryptedPhoneField
from tongxin.protection.models import MandatoryReport
from tongxin.protection.tests.conftest import file_report
from tongxin.registry import ledger
from tongxin.registry.forms import (
    AgreementForm,
    ChildFactsForm,
    HouseholdForm,
    MigrationForm,
    ParentForm,
)
from tongxin.registry.generator import DEMO_SEED, population_generate
from tongxin.registry.models import CareAgreement, Child, Household, Migration, Parent
from tongxin.registry.tests.conftest import make_family
from tongxin.registry.tests.test_ledger import TODAY as LEDGER_TODAY
from tongxin.registry.tests.test_ledger import row as ledger_row
from tongxin.testing import Actors, database_owner

MIGRATIONS = [
    importlib.import_module("tongxin.accounts.migrations.0004_encrypt_phones"),
    importlib.import_module("tongxin.registry.migrations.0006_encrypt_phones"),
    importlib.import_module("tongxin.protection.migrations.0009_encrypt_phones"),
]
# Every phone column and its history copy (issue 12): 14 columns.
COLUMNS = {
    ("accounts_user", "phone"),
    ("protection_mandatoryreport", "reporter_phone"),
    *(
        (f"registry_{prefix}{model}", column)
        for prefix in ("", "historical")
        for model, column in (
            ("household", "phone"),
            ("household", "caregiver_phone"),
            ("parent", "phone"),
            ("migration", "phone"),
            ("child", "phone"),
            ("careagreement", "caregiver_phone"),
        )
    ),
}


def _phone_columns() -> set[tuple[str, str | None]]:
    return {
        (model._meta.db_table, f.column)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedPhoneField)
    }


def _raw(table: str, column: str) -> list[str]:
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {q(column)} FROM {q(table)} WHERE {q(column)} <> ''")  # noqa: S608
        return [value for (value,) in cursor.fetchall()]


def _fill(actors: Actors) -> dict[tuple[str, str], str]:
    """A phone in every column, each its own number, through the models (and so their history
    rows); the number each column was given."""
    child = make_family(actors)
    household = Household.objects.get(pk=child.household_id)
    household.phone, household.caregiver_phone = "13900000001", "13900000002"
    household.save()
    father = Parent.objects.get(household=household, role="father")
    father.phone = "13900000003"
    father.save()
    spell = Migration.objects.get(parent=father)
    spell.phone = "13900000004"
    spell.save()
    child.phone = "13900000005"
    child.save()
    CareAgreement.objects.create(
        household=household,
        entrusted_by="both",
        caregiver_name="王奶奶",
        caregiver_relation="祖母",
        caregiver_phone="13900000006",
        signed_on=date(2024, 1, 5),
    )
    actors.reporter.phone = "13900000007"
    actors.reporter.save(update_fields=["phone"])
    file_report(actors, reporter_phone="13900000008")
    numbers = {
        "household.phone": "13900000001",
        "household.caregiver_phone": "13900000002",
        "parent.phone": "13900000003",
        "migration.phone": "13900000004",
        "child.phone": "13900000005",
        "careagreement.caregiver_phone": "13900000006",
    }
    given = {
        ("accounts_user", "phone"): "13900000007",
        ("protection_mandatoryreport", "reporter_phone"): "13900000008",
    }
    for key, number in numbers.items():
        model, column = key.split(".")
        given[(f"registry_{model}", column)] = number
        given[(f"registry_historical{model}", column)] = number
    return given


def test_it_encrypts_exactly_the_fourteen_phone_columns() -> None:
    assert _phone_columns() == COLUMNS


def test_it_stores_every_phone_sealed_and_reads_it_back(actors: Actors) -> None:
    given = _fill(actors)
    for (table, column), number in given.items():
        stored = _raw(table, column)
        assert stored, (table, column)
        for value in stored:
            assert number not in value, (table, column)
            assert len(value) >= crypto.SEALED_TEXT_MIN
        assert number in {crypto.decrypt_phone(v) for v in stored}, (table, column)

    filled = Household.objects.exclude(phone="").get()  # only emptiness can be compared
    assert (filled.phone, filled.caregiver_phone) == ("13900000001", "13900000002")
    assert Child.objects.get().phone == "13900000005"
    assert {h.phone for h in Child.history.all()} == {"", "13900000005"}
    assert Parent.history.filter(role="father").first().phone == "13900000003"
    assert User.objects.get(pk=actors.reporter.pk).phone == "13900000007"
    assert MandatoryReport.objects.get().reporter_phone == "13900000008"
    values = Household.objects.exclude(phone="").values_list("phone", flat=True)
    assert list(values) == ["13900000001"]


def test_equal_numbers_are_stored_differently(actors: Actors) -> None:
    make_family(actors, name="王小红")
    make_family(actors, name="李小兰")
    for household in Household.objects.all():
        household.phone = "13900000009"
        household.save()
    stored = _raw("registry_household", "phone")
    assert len(stored) == len(set(stored)) == 2
    assert {h.phone for h in Household.objects.all()} == {"13900000009"}


def test_an_empty_phone_stays_empty(actors: Actors) -> None:
    make_family(actors)
    assert _raw("registry_household", "phone") == []
    assert Household.objects.get().phone == ""


def test_phones_have_a_key_of_their_own(actors: Actors) -> None:
    make_family(actors)
    Household.objects.update(phone="13900000009")
    text = _raw("registry_household", "phone")[0]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(base64.b64decode(text))  # the ID numbers' key does not open it


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (ChildFactsForm, "phone"),
        (HouseholdForm, "phone"),
        (HouseholdForm, "caregiver_phone"),
        (ParentForm, "phone"),
        (MigrationForm, "phone"),
        (AgreementForm, "caregiver_phone"),
    ],
)
def test_forms_still_ask_for_a_number_of_twenty_characters_at_most(form: Any, field: str) -> None:
    asked = form().fields[field]
    assert asked.max_length == 20
    assert not asked.required


# --- the fast writers, which bypass the ORM's value preparation -------------------------------


def _all_sealed(table: str, column: str, *, some: bool = True) -> list[str]:
    stored = _raw(table, column)
    assert stored or not some, (table, column)
    numbers = [crypto.decrypt_phone(v) for v in stored]
    assert all(n.isdigit() and n not in v for n, v in zip(numbers, stored, strict=True))
    return numbers


def test_the_generator_writes_phones_sealed(actors: Actors) -> None:
    divisions_load(source=DIVISIONS_FILE)
    population_generate(children=60, seed=DEMO_SEED, today=date(2024, 6, 30))
    for table, column in COLUMNS:
        if table.startswith("registry_"):  # the generator leaves a child's own phone empty
            _all_sealed(table, column, some="household" in table or "parent" in table)
    read = sorted(p.phone for p in Parent.objects.exclude(phone=""))
    assert read == sorted(_all_sealed("registry_parent", "phone"))


def test_a_ledger_import_writes_phones_sealed(actors: Actors) -> None:
    line = ledger_row(3, 1, household={"phone": "13900000021", "caregiver_phone": "13900000022"})
    line.parents[0].fields["phone"] = "13900000023"
    with time_machine.travel(LEDGER_TODAY, tick=False), transaction.atomic():
        ledger.ledger_import(actor=actors.county_admin, rows=[line], apply=True)
    assert _all_sealed("registry_household", "phone") == ["13900000021"]
    assert _all_sealed("registry_historicalhousehold", "caregiver_phone") == ["13900000022"]
    assert _all_sealed("registry_historicalparent", "phone") == ["13900000023"]
    assert Parent.objects.get(role="father").phone == "13900000023"


# --- the data migrations ----------------------------------------------------------------------


def _refused(sql: str, params: list[Any]) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        return True
    return False


def test_the_migrations_encrypt_the_numbers_already_stored_and_keep_the_guards(
    actors: Actors,
) -> None:
    given = _fill(actors)
    with database_owner():
        # Backwards first: every column as it was before, plain numbers.
        for migration in reversed(MIGRATIONS):
            migration.seal(connection, forward=False)
        for (table, column), number in given.items():
            assert number in _raw(table, column), (table, column)

        for migration in MIGRATIONS:
            migration.seal(connection, forward=True)
            migration.seal(connection, forward=True)  # a second run changes nothing
        for (table, column), number in given.items():
            stored = _raw(table, column)
            assert all(number not in value for value in stored), (table, column)
            assert number in {crypto.decrypt_phone(v) for v in stored}, (table, column)

        # The guards are back on: history rows and a report's content stay unchangeable.
        assert _refused("UPDATE registry_historicalchild SET phone = %s", [""])
        assert _refused("DELETE FROM registry_historicalhousehold", [])
        assert _refused("UPDATE protection_mandatoryreport SET reporter_phone = %s", [""])
    assert Child.objects.get().phone == "13900000005"
    assert MandatoryReport.objects.get().reporter_phone == "13900000008"
