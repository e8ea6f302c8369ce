"""The synthetic population: valid numbers, categories as the rules compute them, realistic
shares, households of siblings, planted near-duplicates, one seed one population; the demo
loads it once."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Count, Prefetch
from django.utils import timezone, translation

from tongxin.demo import DIVISIONS_FILE
from tongxin.geo.models import Division, Level
from tongxin.geo.services import divisions_load
from tongxin.lib import crypto, idcard
from tongxin.lib.pinyin import name_keys
from tongxin.registry import rules, services
from tongxin.registry.duplicates import candidate_pairs
from tongxin.registry.generator import (
    DEMO_SEED,
    GenerationReport,
    HouseholdPlan,
    county_places,
    plan_population,
    population_generate,
)
from tongxin.registry.models import CareAgreement, CategorySpan, Child, Household, Migration, Parent
from tongxin.registry.selectors import current_facts
from tongxin.testing import Actors

TODAY = date(2024, 6, 30)


@pytest.fixture(autouse=True)
def today() -> Iterator[None]:
    with time_machine.travel(date(2024, 6, 30), tick=False):
        yield


@pytest.fixture
def gaotai(actors: Actors) -> None:
    """Gaotai's 9 towns, 136 villages and 9 communities, as the demo loads them."""
    divisions_load(source=DIVISIONS_FILE)


def generate(children: int, seed: int = DEMO_SEED, **kwargs: object) -> GenerationReport:
    return population_generate(children=children, seed=seed, today=TODAY, **kwargs)  # type: ignore[arg-type]


def children_with_facts() -> list[Child]:
    parents = Prefetch("household__parents", queryset=Parent.objects.prefetch_related("migrations"))
    return list(Child.objects.select_related("household", "village").prefetch_related(parents))


def test_it_stores_the_categories_the_rules_compute_from_the_stored_facts(gaotai: None) -> None:
    report = generate(400, seed=11)
    children = children_with_facts()
    assert len(children) == report.children == 400
    for child in children:
        result = rules.classify(current_facts(child), TODAY)
        assert child.categories == [{"code": c.code, "reason": c.reason} for c in result.categories]
        assert child.left_behind == (rules.CategoryCode.LEFT_BEHIND in result.codes)
        assert child.in_difficulty == result.in_difficulty
        assert child.classified_on == TODAY
    assert services.reclassify_all(as_of=TODAY) == {"children": 400, "changed": 0}


def test_it_derives_the_category_history_the_services_derive(gaotai: None) -> None:
    generate(150, seed=12)
    children = children_with_facts()
    assert CategorySpan.objects.exists()
    for child in children:
        generated = list(
            CategorySpan.objects.filter(child=child).values_list("code", "start", "end")
        )
        # The services read the facts back from the history records written with the rows.
        services.category_history_rebuild(child, until=TODAY)
        rebuilt = list(CategorySpan.objects.filter(child=child).values_list("code", "start", "end"))
        assert generated == rebuilt, child.pk


def test_it_records_each_row_as_created_on_its_registration_day(gaotai: None) -> None:
    report = generate(100, seed=13)
    children = {c.pk: c for c in Child.objects.all()}
    records = list(Child.history.all())
    assert len(records) == report.children
    for record in records:
        assert record.history_type == "+"
        assert timezone.localdate(record.history_date) == children[record.id].registered_on
    assert Household.history.count() == report.households
    assert Parent.history.count() == report.parents
    assert Migration.history.count() == report.spells
    assert CareAgreement.history.count() == report.agreements


def test_it_writes_valid_encrypted_id_numbers(gaotai: None) -> None:
    generate(1500)
    children = list(Child.objects.all())
    with_number = [c for c in children if c.id_number_enc]
    numbers = []
    for child in with_number:
        number = crypto.decrypt(child.id_number_enc)  # type: ignore[arg-type]
        check = idcard.validate(
            number, today=TODAY, birth_date=child.birth_date, gender=child.gender
        )
        assert check.errors == ()
        assert check.warnings == ()  # birth date and gender match; every child is under 18
        assert number[:6] == "620724"
        assert child.id_number_hash == crypto.lookup_hash(number)
        assert not child.id_missing_reason
        numbers.append(number)
    assert len(set(numbers)) == len(numbers)
    missing = [c for c in children if not c.id_number_enc]
    assert 0.03 <= len(missing) / len(children) <= 0.08
    assert all(c.id_missing_reason and c.id_number_hash is None for c in missing)
    assert all(not c.hukou_registered for c in missing if c.id_missing_reason == "not_registered")

    regions: Counter[str] = Counter()
    for parent in Parent.objects.exclude(id_number_enc=None):
        number = crypto.decrypt(parent.id_number_enc)  # type: ignore[arg-type]
        check = idcard.validate(number, today=TODAY, birth_date=parent.birth_date)
        assert check.errors == ()
        assert parent.id_number_hash == crypto.lookup_hash(number)
        regions[number[:6]] += 1
    assert set(regions) == {"620724", "622225"}  # Gaotai's code since 2002, and before


def test_it_draws_realistic_shares(gaotai: None) -> None:
    report = generate(1500)
    total = Child.objects.count()
    assert total == report.children == 1500
    share = {code: count / total for code, count in report.categories.items()}
    stored = Counter(
        c["code"] for cats in Child.objects.values_list("categories", flat=True) for c in cats
    )
    assert {code: n / total for code, n in stored.items()} == share
    assert 0.45 <= share["left_behind"] <= 0.65
    assert 0.003 <= share["orphan"] <= 0.025
    assert 0.01 <= share["de_facto_unsupported"] <= 0.04
    assert 0.08 <= share["dibao_family"] <= 0.17
    assert 0.015 <= share["disabled"] <= 0.05
    assert 0.008 <= share["seriously_ill"] <= 0.04
    assert 0.05 <= share["single_parent"] <= 0.12
    assert Child.objects.filter(left_behind=True).count() == stored["left_behind"]
    # Registered over the past three years, never before birth.
    dates = list(Child.objects.values_list("registered_on", "birth_date"))
    assert all(TODAY - timedelta(days=3 * 365) <= r <= TODAY and r >= b for r, b in dates)
    assert min(r for r, _ in dates) < TODAY - timedelta(days=2 * 365)


def test_it_gives_parents_spells_and_households_care_agreements(gaotai: None) -> None:
    generate(1500)
    spells = Migration.objects.all()
    by_destination = Counter(spells.values_list("destination", flat=True))
    assert set(by_destination) == {"in_county", "out_of_county", "out_of_province"}
    assert by_destination["out_of_province"] > by_destination["out_of_county"]
    assert spells.exclude(returned_on=None).count() > 50  # some came home
    places = set(spells.values_list("work_place", flat=True))
    assert {"浙江省宁波市", "甘肃省张掖市甘州区"} <= places
    assert any(p.startswith("新疆") for p in places)
    assert any(p.startswith("广东") for p in places)
    # A few left recently: the daily run will see them reach three months.
    assert spells.filter(returned_on=None, left_on__gt=TODAY - timedelta(days=90)).exists()

    agreements = CareAgreement.objects.all()
    left_behind_households = Household.objects.filter(children__left_behind=True).distinct()
    covered = left_behind_households.filter(agreements__isnull=False).distinct().count()
    assert covered / left_behind_households.count() >= 0.7
    expiring = agreements.filter(
        valid_until__gte=TODAY, valid_until__lte=TODAY + timedelta(days=30), terminated_on=None
    )
    assert expiring.count() >= 10
    assert agreements.filter(valid_until__lt=TODAY).count() >= 10
    assert all(a.signed_on <= TODAY for a in agreements)
    assert Parent.objects.filter(capacity="serious_illness").exists()
    assert Parent.objects.filter(status="deceased").exists()


def test_it_keeps_siblings_in_one_household(gaotai: None) -> None:
    generate(600, seed=14)
    sizes = Counter(Household.objects.annotate(n=Count("children")).values_list("n", flat=True))
    assert set(sizes) == {1, 2, 3}
    assert sizes[2] > 50
    by_household: dict[int, list[Child]] = defaultdict(list)
    for child in Child.objects.select_related("household"):
        by_household[child.household_id].append(child)
        assert child.village_id == child.household.village_id
    for siblings in by_household.values():
        if len(siblings) > 1:
            assert len({c.name[0] for c in siblings}) == 1  # one family name
            assert len({c.birth_date for c in siblings}) == len(siblings)
    assert Parent.objects.values("household").annotate(n=Count("id")).filter(n__gt=2).count() == 0


def test_it_uses_only_the_countys_villages_and_communities(gaotai: None) -> None:
    generate(400, seed=15)
    levels = dict(Division.objects.values_list("code", "level"))
    used = set(Child.objects.values_list("village_id", flat=True))
    assert all(code.startswith("620724") for code in used)
    assert {levels[code] for code in used} == {Level.VILLAGE, Level.COMMUNITY}
    assert len(used) > 100
    assert set(Household.objects.values_list("village_id", flat=True)) == used


def test_it_plants_near_duplicates_for_the_review_queue(gaotai: None) -> None:
    report = generate(1500)
    assert report.duplicate_pairs == 10
    pairs = candidate_pairs()  # what the review queue (find_duplicates) picks up
    children = Child.objects.select_related("village").in_bulk(
        {pk for pair in pairs for pk in pair}
    )
    same_name = same_pinyin = 0
    for (a_pk, b_pk), fields in pairs.items():
        a, b = children[a_pk], children[b_pk]
        assert a.birth_date == b.birth_date
        assert a.id_number_hash is None or b.id_number_hash is None  # no number is shared
        if a.name == b.name:
            assert a.village_id != b.village_id
            same_name += a.village.parent_id == b.village.parent_id
        else:
            assert "name_pinyin" in fields
            same_pinyin += 1
    assert same_name >= 5
    assert same_pinyin >= 5


def test_it_stores_the_pinyin_keys_the_search_uses(gaotai: None) -> None:
    generate(1500)
    for name, pinyin, initials in Child.objects.values_list("name", "name_pinyin", "name_initials"):
        assert (pinyin, initials) == name_keys(name)


def test_it_draws_the_same_population_from_the_same_seed(gaotai: None) -> None:
    places = county_places("620724")

    def draw(seed: int) -> list[HouseholdPlan]:
        return list(
            plan_population(children=300, seed=seed, places=places, today=TODAY, region="620724")
        )

    first = draw(5)
    assert draw(5) == first
    assert draw(6) != first
    assert sum(len(h.children) for h in first) == 300


def test_it_skips_id_numbers_already_registered(gaotai: None) -> None:
    generate(200, seed=16)
    generate(200, seed=16)  # the same draws: every number is taken already
    assert Child.objects.count() == 400
    hashes = list(
        Child.objects.exclude(id_number_hash=None).values_list("id_number_hash", flat=True)
    )
    assert len(set(hashes)) == len(hashes)


def test_it_refuses_a_county_whose_divisions_are_not_loaded(actors: Actors) -> None:
    with pytest.raises(ValueError, match="load the divisions"):
        generate(10, county="110101")


def test_the_command_reports_what_it_generated(gaotai: None) -> None:
    out = StringIO()
    with translation.override("en"):
        call_command("generate_children", "--children", "60", "--seed", "3", stdout=out)
    text = out.getvalue()
    assert "60 / 60 children" in text
    assert "Generated 60 children in " in text
    assert "rows/s" in text
    assert Child.objects.count() == 60


def test_the_command_refuses_a_bad_county_code(gaotai: None) -> None:
    with pytest.raises(CommandError):
        call_command("generate_children", "--children", "5", "--county", "62x", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command(
            "generate_children", "--children", "5", "--county", "110101", stdout=StringIO()
        )
    assert not Child.objects.exists()


def test_the_demo_generates_children_once(actors: Actors) -> None:
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "Children: 1500 generated" in out.getvalue()
    assert Child.objects.count() == 1500
    assert all(
        code.startswith("620724") for code in Child.objects.values_list("village_id", flat=True)
    )
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "Children: 0 generated" in out.getvalue()
    assert Child.objects.count() == 1500
