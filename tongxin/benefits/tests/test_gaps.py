"""The gap list (应保尽保, 应退尽退): one test per kind, at the edges, and the query count."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongxin.benefits.gaps import Gap, GapKind, compute_gaps, facts_fingerprint, gap_key
from tongxin.benefits.tests.gap_world import (
    COUNTY,
    OTHER_TOWN_VILLAGE,
    TOWN,
    VILLAGE,
    D,
    enrol,
    family,
    pay,
    standard,
)
from tongxin.geo.models import Division
from tongxin.registry.models import Child
from tongxin.testing import Actors

pytestmark = pytest.mark.django_db
AS_OF = D("2025-06-15")
ORPHAN = (("deceased", "full"), ("deceased", "full"))


def gaps_of(child: Child, as_of: date = AS_OF, **options: Any) -> list[Gap]:
    return [g for g in compute_gaps(TOWN, as_of, **options) if g.child_id == child.pk]


def kinds(gaps: list[Gap]) -> list[tuple[str, str]]:
    return [(g.kind.value, g.programme) for g in gaps]


def months(start: str, end: str) -> list[date]:
    found, day = [], D(start)
    while day <= D(end):
        found.append(day)
        day = D(f"{day.year + day.month // 12}-{day.month % 12 + 1:02d}-01")
    return found


# --- eligible, not enrolled -------------------------------------------------------------------


def test_an_orphan_not_enrolled_is_a_gap_with_the_rules_reason() -> None:
    child = family(father=ORPHAN[0], mother=ORPHAN[1])
    (gap,) = gaps_of(child)
    assert gap.kind == GapKind.ELIGIBLE_NOT_ENROLLED
    assert gap.programme == "orphan_allowance"
    assert gap.child_public_id == str(child.public_id)
    assert gap.reason.startswith("符合孤儿基本生活费条件（社会散居），未纳入保障：")
    assert "父亲已故，母亲已故" in gap.reason


def test_an_enrolled_orphan_has_no_gap() -> None:
    child = family(father=ORPHAN[0], mother=ORPHAN[1])
    enrol(child, "orphan_allowance", D("2024-01-01"))
    assert gaps_of(child) == []


def test_a_child_with_able_parents_has_no_gap() -> None:
    assert gaps_of(family()) == []


# --- enrolled, not eligible: the 18th birthday -------------------------------------------------


def test_aged_out_at_18_out_of_school(actors: Actors) -> None:
    child = family(father=ORPHAN[0], mother=ORPHAN[1], birth_date=D("2007-03-10"))
    enrol(child, "orphan_allowance", D("2024-01-01"))
    for month in months("2025-01-01", "2025-06-01"):
        pay(actors.county_admin, child, "orphan_allowance", month)
    (gap,) = gaps_of(child)
    assert gap.kind == GapKind.ENROLLED_NOT_ELIGIBLE
    assert gap.programme == "orphan_allowance"
    assert gap.since == D("2025-03-10")
    assert gap.stop_month == D("2025-04-01")  # the month after the birthday
    assert gap.months_paid_since == 3  # April, May, June
    assert "儿童已满18周岁（2007年3月10日出生），未在全日制学校就读" in gap.reason
    assert "儿童于2025年3月10日年满18周岁，应自2025年4月起停发，此后已发放3个月" in gap.reason


def test_on_the_day_before_the_18th_birthday_nothing_is_due(actors: Actors) -> None:
    child = family(father=ORPHAN[0], mother=ORPHAN[1], birth_date=D("2007-03-10"))
    enrol(child, "orphan_allowance", D("2024-01-01"))
    assert gaps_of(child, D("2025-03-09")) == []
    assert kinds(gaps_of(child, D("2025-03-10"))) == [("enrolled_not_eligible", "orphan_allowance")]


def test_past_18_in_full_time_schooling_the_allowance_continues() -> None:
    child = family(
        father=ORPHAN[0],
        mother=ORPHAN[1],
        birth_date=D("2007-03-10"),
        school_stage="senior",
        enrolment="in_school",
    )
    enrol(child, "orphan_allowance", D("2024-01-01"))
    assert gaps_of(child) == []


def test_a_child_who_died_and_is_still_paid(actors: Actors) -> None:
    child = family(
        father=ORPHAN[0], mother=ORPHAN[1], status="deceased", status_since=D("2025-04-20")
    )
    enrol(child, "orphan_allowance", D("2024-01-01"))
    pay(actors.county_admin, child, "orphan_allowance", D("2025-04-01"))
    pay(actors.county_admin, child, "orphan_allowance", D("2025-05-01"))
    (gap,) = gaps_of(child)
    assert gap.kind == GapKind.ENROLLED_NOT_ELIGIBLE
    assert (gap.since, gap.stop_month, gap.months_paid_since) == (
        D("2025-04-20"),
        D("2025-05-01"),
        1,
    )
    assert "儿童已死亡" in gap.reason
    assert "儿童于2025年4月20日死亡" in gap.reason


def test_the_living_subsidy_stops_the_month_the_dibao_ended(actors: Actors) -> None:
    child = family(disability_type="肢体", disability_grade=3)
    enrol(child, "dibao", D("2024-01-01"), D("2025-03-01"), amount="600.00")
    enrol(child, "disability_living_subsidy", D("2024-01-01"), amount="100.00")
    for month in months("2025-03-01", "2025-06-01"):
        pay(actors.county_admin, child, "disability_living_subsidy", month, "100.00")
    (gap,) = gaps_of(child)
    assert (gap.kind, gap.programme) == (
        GapKind.ENROLLED_NOT_ELIGIBLE,
        "disability_living_subsidy",
    )
    assert (gap.since, gap.stop_month, gap.months_paid_since) == (
        D("2025-04-01"),
        D("2025-04-01"),
        3,
    )
    assert "家庭未享受最低生活保障" in gap.reason
    assert "最低生活保障于2025年3月停发，应自2025年4月起停发，此后已发放3个月" in gap.reason


def test_no_longer_eligible_without_a_dated_event() -> None:
    # The father's status was corrected to alive: the registry keeps no date for it.
    child = family(father=("alive", "full"), mother=ORPHAN[1])
    enrol(child, "orphan_allowance", D("2024-01-01"))
    (gap,) = gaps_of(child)
    assert gap.kind == GapKind.ENROLLED_NOT_ELIGIBLE
    assert (gap.since, gap.stop_month, gap.months_paid_since) == (None, None, None)
    assert "停发月份待核实" in gap.reason


# --- classified, not eligible ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "programme"),
    [("orphan", "orphan_allowance"), ("de_facto_unsupported", "de_facto_allowance")],
)
def test_classified_but_a_parent_imprisoned_without_dates(category: str, programme: str) -> None:
    child = family(
        father=("deceased", "full"), mother=("alive", "imprisoned"), categories=(category,)
    )
    (gap,) = gaps_of(child)
    assert (gap.kind, gap.programme) == (GapKind.CLASSIFIED_NOT_ELIGIBLE, programme)
    assert "母亲服刑在押：缺少起始日期" in gap.reason
    assert gap.reason.startswith("档案类别为")


def test_classified_and_eligible_is_no_classification_gap() -> None:
    child = family(father=ORPHAN[0], mother=ORPHAN[1], categories=("orphan",))
    assert kinds(gaps_of(child)) == [("eligible_not_enrolled", "orphan_allowance")]


def test_lost_contact_without_a_police_report() -> None:
    child = family(
        father=("deceased", "full"),
        mother=("lost_contact", "full"),
        categories=("de_facto_unsupported",),
    )
    (gap,) = gaps_of(child)
    assert gap.kind == GapKind.CLASSIFIED_NOT_ELIGIBLE
    assert "母亲失联：缺少公安机关受理报案的日期" in gap.reason


# --- conflict ----------------------------------------------------------------------------------


def test_orphan_allowance_with_tekun_is_a_conflict() -> None:
    child = family(father=ORPHAN[0], mother=ORPHAN[1])
    enrol(child, "orphan_allowance", D("2024-01-01"))
    enrol(child, "tekun", D("2024-09-01"), amount="800.00")
    (gap,) = gaps_of(child)
    assert gap.kind == GapKind.CONFLICT
    assert (gap.programme, gap.other_programme) == ("orphan_allowance", "tekun")
    assert gap.since == D("2024-09-01")
    assert gap.reason == (
        "同时享受孤儿基本生活费（2024年1月起）和特困人员救助供养（2024年9月起），两者不得同时享受"
    )


# --- missing payment ---------------------------------------------------------------------------


def test_a_missing_payment_in_one_month_of_three(actors: Actors) -> None:
    officer = actors.county_admin
    child = family(father=ORPHAN[0], mother=ORPHAN[1])
    enrol(child, "orphan_allowance", D("2024-12-01"))
    pay(officer, child, "orphan_allowance", D("2025-01-01"))
    pay(officer, child, "orphan_allowance", D("2025-03-01"))
    other = family(father=ORPHAN[0], mother=ORPHAN[1], village="620724100202")
    enrol(other, "orphan_allowance", D("2024-12-01"))
    for month in months("2025-01-01", "2025-03-01"):
        pay(officer, other, "orphan_allowance", month)
    # December's roll was never imported: no gap for it; April is the month asked about.
    gaps = gaps_of(child, D("2025-04-15"), months_back=4)
    assert kinds(gaps) == [("missing_payment", "orphan_allowance")]
    (gap,) = gaps
    assert gap.month == gap.since == D("2025-02-01")
    assert gap.reason == (
        "2025年2月享受孤儿基本生活费（2024年12月起，每月1000.00元），"
        "但当月发放花名册中没有该儿童的发放记录"
    )
    assert gaps_of(other, D("2025-04-15"), months_back=4) == []


def test_months_outside_the_window_are_not_checked(actors: Actors) -> None:
    officer = actors.county_admin
    child = family(father=ORPHAN[0], mother=ORPHAN[1])
    enrol(child, "orphan_allowance", D("2024-12-01"))
    other = family(father=ORPHAN[0], mother=ORPHAN[1])
    pay(officer, other, "orphan_allowance", D("2025-01-01"))
    assert kinds(gaps_of(child, D("2025-04-15"), months_back=4)) == [
        ("missing_payment", "orphan_allowance")
    ]
    assert gaps_of(child, D("2025-04-15"), months_back=2) == []


# --- below standard ----------------------------------------------------------------------------


def test_below_the_standard_that_changed_mid_year(actors: Actors) -> None:
    officer = actors.county_admin
    standard("orphan_allowance", "1000.00", D("2024-01-01"), "scattered")
    # Published to take effect on 15 July: a month is judged on its first day, so from August.
    standard("orphan_allowance", "1200.00", D("2025-07-15"), "scattered")
    child = family(father=ORPHAN[0], mother=ORPHAN[1])
    enrol(child, "orphan_allowance", D("2025-01-01"))
    pay(officer, child, "orphan_allowance", D("2025-07-01"), "1000.00")
    pay(officer, child, "orphan_allowance", D("2025-08-01"), "1000.00")
    pay(officer, child, "orphan_allowance", D("2025-09-01"), "1200.00")
    (gap,) = gaps_of(child, D("2025-10-10"), months_back=3)
    assert gap.kind == GapKind.BELOW_STANDARD
    assert (gap.month, gap.paid, gap.standard) == (
        D("2025-08-01"),
        Decimal("1000.00"),
        Decimal("1200.00"),
    )
    assert gap.reason == "2025年8月孤儿基本生活费发放1000.00元，低于当月标准1200.00元（社会散居）"


def test_a_top_up_is_checked_against_the_standard_less_what_it_tops_up(actors: Actors) -> None:
    officer = actors.county_admin
    standard("de_facto_allowance", "1200.00", D("2024-01-01"), "scattered")
    child = family(father=("deceased", "full"), mother=("alive", "serious_illness"))
    enrol(child, "de_facto_allowance", D("2025-01-01"))
    enrol(child, "dibao", D("2025-01-01"), amount="600.00")
    pay(officer, child, "dibao", D("2025-04-01"), "300.00")
    pay(officer, child, "de_facto_allowance", D("2025-04-01"), "900.00")  # 1200 - 300: enough
    pay(officer, child, "dibao", D("2025-05-01"), "300.00")
    pay(officer, child, "de_facto_allowance", D("2025-05-01"), "800.00")
    (gap,) = gaps_of(child, D("2025-06-15"), months_back=2)
    assert (gap.kind, gap.month, gap.paid, gap.standard) == (
        GapKind.BELOW_STANDARD,
        D("2025-05-01"),
        Decimal("800.00"),
        Decimal("900.00"),
    )
    assert "减去当月最低生活保障300.00元" in gap.reason


def test_a_top_up_without_the_childs_dibao_line_is_checked_in_full(actors: Actors) -> None:
    officer = actors.county_admin
    standard("de_facto_allowance", "1200.00", D("2024-01-01"), "scattered")
    child = family(father=("deceased", "full"), mother=("alive", "serious_illness"))
    enrol(child, "de_facto_allowance", D("2025-01-01"))
    enrol(child, "dibao", D("2025-01-01"), amount="600.00")
    pay(officer, child, "de_facto_allowance", D("2025-05-01"), "900.00")
    (gap,) = gaps_of(child, D("2025-06-15"), months_back=1)
    assert gap.standard == Decimal("1200.00")
    assert "未找到儿童本人当月的低保发放记录，按全额标准核对" in gap.reason


# --- scope, keys, fingerprints, queries ----------------------------------------------------------


def test_only_the_divisions_children() -> None:
    inside = family(father=ORPHAN[0], mother=ORPHAN[1])
    outside = family(father=ORPHAN[0], mother=ORPHAN[1], village=OTHER_TOWN_VILLAGE)
    closed = family(father=ORPHAN[0], mother=ORPHAN[1], status="closed")
    found = {g.child_id for g in compute_gaps(TOWN, AS_OF)}
    assert inside.pk in found
    assert outside.pk not in found
    assert closed.pk not in found
    assert {outside.pk, inside.pk} <= {g.child_id for g in compute_gaps(COUNTY, AS_OF)}
    assert compute_gaps(VILLAGE, AS_OF)[0].child_id == inside.pk
    with pytest.raises(Division.DoesNotExist):
        compute_gaps("999999999999", AS_OF)


def test_every_reason_is_chinese_and_every_key_distinct(actors: Actors) -> None:
    officer = actors.county_admin
    standard("orphan_allowance", "1200.00", D("2024-01-01"), "scattered")
    child = family(father=ORPHAN[0], mother=ORPHAN[1])
    enrol(child, "orphan_allowance", D("2025-01-01"))
    enrol(child, "tekun", D("2025-01-01"))
    for month in months("2025-01-01", "2025-05-01"):
        pay(officer, child, "orphan_allowance", month, "1000.00")
    gaps = gaps_of(child)
    assert {g.kind for g in gaps} == {GapKind.CONFLICT, GapKind.BELOW_STANDARD}
    assert all(g.reason for g in gaps)
    assert len({gap_key(g) for g in gaps}) == len(gaps)
    assert gap_key(gaps[0]) == f"{child.pk}:conflict:orphan_allowance:tekun"


def test_the_fingerprint_changes_with_the_facts_only() -> None:
    child = family(father=ORPHAN[0], mother=ORPHAN[1])
    (first,) = gaps_of(child)
    (again,) = gaps_of(child, D("2025-07-01"))
    assert first.fingerprint == again.fingerprint
    assert gap_key(first) == gap_key(again) == f"{child.pk}:eligible_not_enrolled:orphan_allowance"
    child.disability_type, child.disability_grade = "肢体", 2
    child.save()
    (changed, *_) = gaps_of(child)
    assert changed.fingerprint != first.fingerprint
    assert facts_fingerprint({"a": 1}, D("2025-01-01")) == facts_fingerprint(
        {"a": 1}, D("2025-01-01")
    )
    assert len(facts_fingerprint(None)) == 64


def _world(size: int, officer: Any) -> None:
    standard("orphan_allowance", "1200.00", D("2024-01-01"), "scattered")
    for n in range(size):
        child = family(
            father=ORPHAN[0],
            mother=("alive", "imprisoned") if n % 3 == 0 else ORPHAN[1],
            birth_date=D("2007-03-10") if n % 2 else D("2015-01-01"),
            categories=("orphan",),
        )
        enrol(child, "orphan_allowance", D("2025-01-01"))
        enrol(child, "dibao", D("2025-01-01"))
        if n % 4 == 0:
            enrol(child, "tekun", D("2025-01-01"))
        pay(officer, child, "orphan_allowance", D("2025-03-01"), "1000.00")
        if n % 2 == 0:
            pay(officer, child, "orphan_allowance", D("2025-04-01"), "1200.00")


@pytest.mark.parametrize("size", [3, 30])
def test_queries_do_not_grow_with_the_children(size: int, actors: Actors) -> None:
    _world(size, actors.county_admin)
    with CaptureQueriesContext(connection) as queries:
        gaps = compute_gaps(TOWN, AS_OF)
    # division, ids, standards, rolled months; then children, parents, enrolments, payments (2)
    assert len(queries) == 9, [q["sql"] for q in queries]
    assert {g.kind for g in gaps} >= {
        GapKind.ENROLLED_NOT_ELIGIBLE,
        GapKind.CONFLICT,
        GapKind.BELOW_STANDARD,
        GapKind.MISSING_PAYMENT,
    }
    assert len({g.child_id for g in gaps}) == size


def test_batches_give_the_same_list(actors: Actors, monkeypatch: pytest.MonkeyPatch) -> None:
    _world(7, actors.county_admin)
    whole = compute_gaps(TOWN, AS_OF)
    monkeypatch.setattr("tongxin.benefits.gaps.BATCH", 3)
    monkeypatch.setattr("tongxin.benefits.facts.BATCH", 3)
    with CaptureQueriesContext(connection) as queries:
        batched = compute_gaps(TOWN, AS_OF)
    assert batched == whole
    assert len(queries) == 4 + 5 * 3  # three batches of 3, 3 and 1 children
