"""How a ledger import writes its new rows (``ledger.bulk.Writer``): the values the ORM would
read back, history rows equal to their records, and all or nothing when a write fails, also
when PostgreSQL's COPY of a batch fails behind the import's back (in its thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import translation

from tongxin.core import generation
from tongxin.lib import crypto
from tongxin.registry import ledger
from tongxin.registry.ledger import run
from tongxin.registry.models import CategorySpan, Child, Household, Migration, Parent
from tongxin.registry.tests.conftest import make_family
from tongxin.registry.tests.test_ledger import TODAY, number, row
from tongxin.testing import Actors


@pytest.fixture(autouse=True)
def today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False), translation.override("en"):
        yield


def _import(actors: Actors, rows: list[ledger.LedgerRow], **kwargs: Any) -> dict[str, int]:
    with transaction.atomic():
        return ledger.ledger_import(actor=actors.county_admin, rows=rows, apply=True, **kwargs)


def _copy_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ledger-copy"]


def _records() -> int:
    return sum(m.objects.count() + m.history.count() for m in (Child, Household, Parent, Migration))


def test_it_writes_the_values_the_orm_reads_back(actors: Actors) -> None:
    disabled = row(3, 1)
    disabled.child |= {"disability_grade": 2, "health": "disabled"}
    counts = _import(actors, [disabled, row(4, 2, father_seed=1001, name="王小红")])

    assert counts["new"] == 2
    child = Child.objects.get(id_number_hash=crypto.lookup_hash(number(1)))
    assert child.id_number_enc is not None
    assert crypto.decrypt(child.id_number_enc) == number(1)
    assert child.birth_date == date(2014, 5, 1)
    assert child.registered_on == child.status_since == child.disability_since == TODAY
    assert child.disability_grade == 2
    assert [c["code"] for c in child.categories] == ["left_behind", "disabled"]
    assert all(c["reason"] for c in child.categories)
    assert child.left_behind
    assert child.in_difficulty
    assert child.name_pinyin == "wangxiaoming"
    assert child.name_initials == "wxm"
    assert child.created_by == actors.county_admin
    assert child.created_at.date() == TODAY
    # Siblings in one household; the spells hang on the parents written in the same batch.
    sister = Child.objects.get(name="王小红")
    assert sister.household_id == child.household_id
    assert child.public_id != sister.public_id
    father = child.household.parents.get(role="father")
    assert father.migrations.get().destination == "out_of_province"
    assert father.id_number_enc is not None
    assert crypto.decrypt(father.id_number_enc) == number(1001, date(1985, 1, 1))
    assert set(CategorySpan.objects.filter(child=child).values_list("code", "start", "end")) == {
        ("left_behind", TODAY, None),
        ("disabled", TODAY, None),
    }


@pytest.mark.parametrize("model", [Child, Household, Parent, Migration])
def test_each_history_row_holds_its_record_s_values(actors: Actors, model: type[Model]) -> None:
    _import(actors, [row(3, 1), row(4, 2)])

    history = model.history.model  # type: ignore[attr-defined]
    shared = [
        f.attname
        for f in history._meta.concrete_fields
        if not f.attname.startswith("history_") and f.attname != "history_id"
    ]
    records = model._default_manager.order_by("pk")
    assert records.exists()
    for record in records:
        entry = history.objects.get(id=record.pk)
        assert {n: getattr(entry, n) for n in shared} == {n: getattr(record, n) for n in shared}
        assert entry.history_type == "+"
        assert entry.history_user_id == actors.county_admin.pk
        assert entry.history_change_reason == "ledger import"


@pytest.mark.parametrize("conflict_at", [1, 2])  # in a middle batch, in the last one
def test_a_write_that_fails_undoes_the_whole_import(
    actors: Actors, monkeypatch: pytest.MonkeyPatch, conflict_at: int
) -> None:
    # Another officer registered the child between the lookup and the write: the insert
    # breaks the ID number's uniqueness. Every batch is written before it is found.
    make_family(actors, id_number=number(9))
    before = _records()
    monkeypatch.setattr(run, "existing_children", lambda _run, hashes: {})
    rows = [row(3, 1), row(4, 2), row(5, 3)]
    rows[conflict_at] = row(3 + conflict_at, 9)

    with pytest.raises(IntegrityError):
        _import(actors, rows, batch_size=1)

    assert _records() == before
    assert not _copy_threads()
    # The connection is usable again: no COPY or wrapper was left behind.
    assert Child.objects.count() == 1
    # (The data generation's watch stays: every connection has it from the start.)
    assert connection.execute_wrappers == [generation.watch_writes]


def test_a_rejected_row_leaves_no_write_running(actors: Actors) -> None:
    bad = row(5, 3)
    bad.errors.append("出生日期: bad")

    with pytest.raises(ledger.LedgerRejected):
        _import(actors, [row(3, 1), row(4, 2), bad], batch_size=1)

    assert not _copy_threads()
    assert _records() == 0


def test_a_later_batch_finds_the_family_an_earlier_one_wrote(actors: Actors) -> None:
    counts = _import(
        actors, [row(3, 1), row(4, 2, father_seed=1001, name="王小红"), row(5, 3)], batch_size=1
    )

    assert counts["new"] == 3
    assert Household.objects.count() == 2
    assert Child.objects.get(name="王小红").household_id == (
        Child.objects.get(id_number_hash=crypto.lookup_hash(number(1))).household_id
    )
