"""The registry's bulk import of ledger rows: matching, families, classification, bulk writes
with history, and a constant number of queries per batch."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tongxin.lib import crypto, idcard
from tongxin.registry import services
from tongxin.registry.ledger import LedgerParent, LedgerRejected, LedgerRow, ledger_import
from tongxin.registry.models import CategorySpan, Child, Household, Migration, Parent
from tongxin.registry.tests.conftest import VILLAGE, make_family
from tongxin.testing import Actors

TODAY = date(2024, 6, 30)
OTHER_VILLAGE = "620724100202"


@pytest.fixture(autouse=True)
def today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False), translation.override("en"):
        yield


def number(seed: int, birth: date = date(2014, 5, 1), gender: str = "male") -> str:
    return idcard.generate(random.Random(seed), region="620724", birth_date=birth, gender=gender)


def row(
    line: int,
    seed: int,
    *,
    name: str = "王小明",
    village: str = VILLAGE,
    father_seed: int | None = None,
    father_place: str = "浙江省宁波市",
    mother_place: str = "浙江省宁波市",
    household: dict[str, Any] | None = None,
    birth: date = date(2014, 5, 1),
) -> LedgerRow:
    fathers_number = number(father_seed or seed + 1000, date(1985, 1, 1))
    return LedgerRow(
        line=line,
        name=name,
        village_code=village,
        id_number=number(seed, birth),
        child={"name": name, "gender": "male", "birth_date": birth},
        household=dict(household or {}),
        parents=[
            LedgerParent(
                role="father",
                fields={"name": "父"},
                id_number=fathers_number,
                work_place=father_place,
                destination="out_of_province" if father_place else None,
            ),
            LedgerParent(
                role="mother",
                fields={"name": "母"},
                work_place=mother_place,
                destination="out_of_province" if mother_place else None,
            ),
        ],
    )


def run(actors: Actors, rows: list[LedgerRow], apply: bool = True, **kwargs: Any) -> dict[str, int]:
    results: list[Any] = []
    with transaction.atomic():
        counts = ledger_import(
            actor=actors.county_admin,
            rows=rows,
            apply=apply,
            on_result=results.append,
            **kwargs,
        )
    run.results = results  # type: ignore[attr-defined]
    return counts


def test_it_makes_new_files_with_history_and_categories(actors: Actors) -> None:
    counts = run(actors, [row(3, 1), row(4, 2)])

    assert counts["new"] == 2
    child = Child.objects.get(id_number_hash=crypto.lookup_hash(number(1)))
    assert child.left_behind
    assert child.history.get().history_type == "+"
    assert Household.history.count() == 2
    assert Parent.history.count() == 4
    assert Migration.history.count() == 4
    assert CategorySpan.objects.filter(child=child, code="left_behind", end=None).exists()
    assert child.created_by == actors.county_admin


def test_it_keeps_the_number_of_queries_per_batch_constant(actors: Actors) -> None:
    def queries(count: int) -> int:
        rows = [row(i, i) for i in range(3, 3 + count)]
        with CaptureQueriesContext(connection) as captured:
            ledger_import(actor=actors.county_admin, rows=rows, apply=False)
        return len(captured)

    queries(1)  # the user's scope, read once per user
    assert queries(5) == queries(50) <= 4


def test_it_matches_a_sibling_registered_before_by_the_parent_s_number(actors: Actors) -> None:
    run(actors, [row(3, 1)])
    run(actors, [row(3, 2, name="王小红", father_seed=1001)])

    first, second = Child.objects.order_by("pk")
    assert first.household_id == second.household_id
    assert Parent.objects.count() == 2


def test_it_reclassifies_a_sibling_who_is_not_in_the_file(actors: Actors) -> None:
    run(actors, [row(3, 1), row(4, 2, name="王小红", father_seed=1001)])
    sister = Child.objects.get(name="王小红")
    assert sister.category_codes == ["left_behind"]

    # Only the brother is in the next ledger, which says the family now has dibao.
    counts = run(actors, [row(3, 1, household={"dibao": True, "assistance": ["低保"]})])

    assert counts["update"] == 1
    sister.refresh_from_db()
    assert set(sister.category_codes) == {"left_behind", "dibao_family"}
    assert CategorySpan.objects.filter(child=sister, code="dibao_family", start=TODAY).exists()
    assert Household.objects.get(pk=sister.household_id).dibao_since == TODAY


def test_it_refuses_siblings_who_disagree_on_a_fact_that_decides_categories(
    actors: Actors,
) -> None:
    rows = [
        row(3, 1, household={"dibao": True}),
        row(4, 2, name="王小红", father_seed=1001, household={"dibao": False}),
    ]
    counts = run(actors, rows, apply=False)

    assert counts["error"] == 1
    assert "Row 3 gives this child's family a different" in run.results[1].messages[0]  # type: ignore[attr-defined]


def test_it_keeps_the_first_of_two_addresses_with_a_warning(actors: Actors) -> None:
    rows = [
        row(3, 1, household={"address": "东关村三组"}),
        row(4, 2, name="王小红", father_seed=1001, household={"address": "东关村3组"}),
    ]
    counts = run(actors, rows)

    assert counts["new"] == 2
    assert "kept that one" in run.results[1].warnings[0]  # type: ignore[attr-defined]
    assert Household.objects.get().address == "东关村三组"


def test_it_leaves_stored_facts_when_a_cell_is_empty(actors: Actors) -> None:
    child = make_family(actors, id_number=number(7))
    services.household_update(
        actor=actors.county_admin,
        household=child.household,
        version=child.household.version,
        changes={"phone": "0936-1234567"},
    )
    bare = LedgerRow(
        line=3,
        name=child.name,
        village_code=VILLAGE,
        id_number=number(7),
        child={"name": child.name, "gender": "male", "birth_date": child.birth_date},
    )
    counts = run(actors, [bare])

    assert counts["unchanged"] == 1
    assert Household.objects.get(pk=child.household_id).phone == "0936-1234567"


def test_it_refuses_a_child_whose_file_is_in_another_village(actors: Actors) -> None:
    child = make_family(actors, id_number=number(8))
    moved = row(3, 8, name=child.name, village=OTHER_VILLAGE)
    moved.child["birth_date"] = child.birth_date

    counts = run(actors, [moved], apply=False)

    assert counts["error"] == 1
    assert "transfer the family" in run.results[0].messages[0]  # type: ignore[attr-defined]


def test_an_error_row_stops_the_apply_and_writes_nothing(actors: Actors) -> None:
    bad = row(4, 2)
    bad.errors.append("出生日期: bad")
    with pytest.raises(LedgerRejected):
        run(actors, [row(3, 1), bad], batch_size=1)
    assert Child.objects.count() == Household.objects.count() == 0


def test_it_updates_a_spell_in_place_and_keeps_its_history(actors: Actors) -> None:
    run(actors, [row(3, 1)])
    counts = run(actors, [row(3, 1, father_place="上海市浦东新区")])

    assert counts["update"] == 1
    spell = Migration.objects.get(parent__role="father")
    assert spell.work_place == "上海市浦东新区"
    assert spell.left_on is None
    assert spell.known_since == TODAY
    assert spell.history.count() == 2


def test_its_fast_pinyin_reads_names_as_the_search_keys_do() -> None:
    from tongxin.lib.pinyin import name_keys
    from tongxin.registry.ledger.run import fast_name_keys

    rng = random.Random(7)
    common = "王李张刘陈杨赵黄周吴单曾解查朴长乐重庆小明红华军丽强伟芳敏静行长银行"
    names = {"".join(rng.choice(common) for _ in range(rng.choice((2, 3, 4)))) for _ in range(3000)}
    names |= {"Anna", "王Anna", "长江", "欧阳修", "单于", ""}
    assert all(fast_name_keys(n) == name_keys(n) for n in names)


def test_it_shows_the_id_number_s_warnings(actors: Actors) -> None:
    other_birth = row(3, 1)
    other_birth.child["birth_date"] = date(2014, 5, 2)  # the number says 2014-05-01
    other_gender = row(4, 2)
    other_gender.child["gender"] = "female"
    unknown_region = row(5, 3)
    unknown_region.id_number = idcard.generate(
        random.Random(3), region="629999", birth_date=date(2014, 5, 1), gender="male"
    )
    plain = row(6, 4)

    run(actors, [other_birth, other_gender, unknown_region, plain], apply=False)

    warnings = [r.warnings for r in run.results]  # type: ignore[attr-defined]
    assert "birth date" in warnings[0][0]
    assert "17th digit" in warnings[1][0]
    assert "629999" in warnings[2][0]
    assert warnings[3] == []
