"""Duplicate files: detection in the database, the review queue, merging and marking distinct."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Division
from tongxin.lib import idcard
from tongxin.registry import duplicates, services
from tongxin.registry.models import (
    CandidateStatus,
    CategorySpan,
    Child,
    ChildStatus,
    DuplicateCandidate,
    ManualDecision,
    MatchedField,
    TransferRequest,
)
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, web_client

EAST = "620724100201"  # 东村, 城关镇
WEST = "620724100202"  # 西村, 城关镇
SOUTH = "620724101201"  # 南村, 宣化镇
BORN = date(2014, 5, 1)


@pytest.fixture(autouse=True)
def today() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(date(2024, 6, 30), tick=False) as t:
        yield t


def _number(seed: int, birth_date: date = BORN) -> str:
    return idcard.generate(
        random.Random(seed), region="620724", birth_date=birth_date, gender="male"
    )


def _pair(a: Child, b: Child) -> DuplicateCandidate | None:
    low, high = sorted([a.pk, b.pk])
    return DuplicateCandidate.objects.filter(child_a_id=low, child_b_id=high).first()


def _candidate(actors: Actors, **kw: object) -> tuple[DuplicateCandidate, Child, Child]:
    """王小明 in 东村 and 王晓明 in 西村, born the same day: one pair in the queue."""
    a = make_family(actors, name="王小明", village=EAST, **kw)  # type: ignore[arg-type]
    b = make_family(actors, name="王晓明", village=WEST, registered_on=date(2023, 9, 1))
    duplicates.candidates_refresh()
    candidate = _pair(a, b)
    assert candidate is not None
    return candidate, a, b


# --- detection -------------------------------------------------------------------------------


def test_it_pairs_the_same_pinyin_written_with_other_characters(actors: Actors) -> None:
    a = make_family(actors, name="王小明", village=EAST)
    b = make_family(actors, name="王晓明", village=SOUTH)  # another town: pinyin is enough
    result = duplicates.candidates_refresh()
    candidate = _pair(a, b)
    assert candidate is not None
    assert candidate.status == CandidateStatus.OPEN
    assert candidate.matched_fields == ["name_pinyin", "birth_date", "gender"]
    assert candidate.county_code == "620724"
    assert result.created == 1


def test_it_pairs_a_similar_name_born_the_same_day_in_the_same_town(actors: Actors) -> None:
    a = make_family(actors, name="王小明", village=EAST)
    one_character_apart = make_family(actors, name="王小民", village=WEST)
    same_initials = make_family(actors, name="汪晓梅", village=EAST)
    duplicates.candidates_refresh()
    first = _pair(a, one_character_apart)
    assert first is not None
    assert first.matched_fields == ["name_similar", "birth_date", "gender", "town"]
    second = _pair(a, same_initials)
    assert second is not None
    assert second.matched_fields == ["name_similar", "birth_date", "gender", "town", "village"]


def test_it_does_not_pair_similar_names_across_towns(actors: Actors) -> None:
    a = make_family(actors, name="王小明", village=EAST)
    b = make_family(actors, name="王小民", village=SOUTH)
    duplicates.candidates_refresh()
    assert _pair(a, b) is None


def test_it_refreshes_only_the_pairs_of_the_files_named(actors: Actors) -> None:
    # As after a ledger import: the files it wrote are named; other pairs wait for the daily run.
    a = make_family(actors, name="王小明", village=EAST)
    b = make_family(actors, name="王晓明", village=WEST)
    duplicates.candidates_refresh()
    old = _pair(a, b)
    assert old is not None
    Child.objects.filter(pk=b.pk).update(birth_date=date(2014, 5, 9))  # no longer a pair
    c = make_family(actors, name="王晓鸣", village=SOUTH, birth_date=date(2015, 1, 1))
    d = make_family(actors, name="王小明", village=EAST, birth_date=date(2015, 1, 1))

    result = duplicates.candidates_refresh(prefix="620724", children=[d.pk])

    assert result.created == 1
    assert _pair(c, d) is not None
    assert DuplicateCandidate.objects.filter(pk=old.pk).exists()  # not one of d's pairs
    duplicates.candidates_refresh(prefix="620724", children=[b.pk])
    assert not DuplicateCandidate.objects.filter(pk=old.pk).exists()


def test_it_finds_no_pair_without_a_file_lacking_an_id_number(actors: Actors) -> None:
    make_family(actors, name="王小明", village=EAST, id_number=_number(1))
    make_family(actors, name="王晓明", village=WEST, id_number=_number(2))
    assert duplicates.candidate_pairs() == {}


def test_it_indexes_the_pinyin_and_birth_date_the_pairs_join_on(db: None) -> None:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Child._meta.db_table)
    assert any(
        c["index"] and c["columns"] == ["name_pinyin", "birth_date"] for c in found.values()
    ), found


def test_it_does_not_pair_children_born_on_different_days(actors: Actors) -> None:
    a = make_family(actors, name="王小明", village=EAST)
    b = make_family(actors, name="王晓明", village=EAST, birth_date=date(2014, 5, 2))
    c = make_family(actors, name="李小明", village=EAST, birth_date=date(2014, 5, 3))
    duplicates.candidates_refresh()
    assert not DuplicateCandidate.objects.filter(child_a__in=[a, b, c]).exists()


def test_it_does_not_pair_different_names_in_the_same_village(actors: Actors) -> None:
    a = make_family(actors, name="王小明", village=EAST)
    b = make_family(actors, name="李建国", village=EAST)
    duplicates.candidates_refresh()
    assert _pair(a, b) is None


def test_it_never_pairs_two_files_that_carry_their_own_id_numbers(actors: Actors) -> None:
    """Twins: each has an ID number, and ID numbers are unique."""
    a = make_family(actors, name="王小明", village=EAST, id_number=_number(1))
    b = make_family(actors, name="王晓明", village=EAST, id_number=_number(2))
    c = make_family(actors, name="王晓明", village=WEST)
    duplicates.candidates_refresh()
    assert _pair(a, b) is None
    assert _pair(a, c) is not None
    assert _pair(b, c) is not None


def test_it_drops_an_open_pair_that_no_longer_matches(actors: Actors) -> None:
    candidate, _a, b = _candidate(actors)
    services.child_update(
        actor=actors.county_admin, child=b, version=b.version, changes={"name": "李建国"}
    )
    result = duplicates.candidates_refresh()
    assert not DuplicateCandidate.objects.filter(pk=candidate.pk).exists()
    assert result.removed == 1


def test_it_stops_proposing_a_pair_marked_distinct(actors: Actors) -> None:
    candidate, a, b = _candidate(actors)
    duplicates.candidate_mark_distinct(
        actor=actors.county_admin, candidate=candidate, reason="双胞胎"
    )
    result = duplicates.candidates_refresh()
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.DISTINCT
    assert candidate.decided_by == actors.county_admin
    assert result.created == 0
    assert DuplicateCandidate.objects.filter(child_a=candidate.child_a_id).count() == 1
    events = AuditEvent.objects.filter(action="child.mark_distinct")
    assert {e.object_code for e in events} == {str(a.public_id), str(b.public_id)}


def test_it_finds_duplicates_from_the_command(actors: Actors) -> None:
    a = make_family(actors, name="王小明", village=EAST)
    b = make_family(actors, name="王晓明", village=SOUTH)
    out = StringIO()
    call_command("find_duplicates", "--division", "620724000000", stdout=out)
    assert _pair(a, b) is not None
    assert "1" in out.getvalue()
    assert AuditEvent.objects.filter(action="duplicates.refresh", actor=None).exists()


# --- merging ---------------------------------------------------------------------------------


def test_it_merges_keeping_history_and_links_and_closes_the_other(actors: Actors) -> None:
    admin = actors.county_admin
    number = _number(7)
    candidate, kept, other = _candidate(actors)
    services.child_update(
        actor=admin, child=other, version=other.version, changes={}, id_number=number
    )
    other.refresh_from_db()
    services.manual_decision_record(
        actor=admin, child=other, code="dibao_family", include=True, reason="核实为低保户"
    )
    request = TransferRequest.objects.create(
        child=other,
        county_code="620724",
        requested_by=actors.other_town_director,
        from_village_id=WEST,
        to_village_id=SOUTH,
        reason="搬家",
    )
    history_before = other.history.count()

    merged = duplicates.candidate_merge(
        actor=admin, candidate=candidate, keep=kept, reason="同一儿童重复建档"
    )

    kept.refresh_from_db()
    other.refresh_from_db()
    assert merged.pk == kept.pk
    # The other file is closed, not deleted; its history is kept and grows by the closing.
    assert other.status == ChildStatus.CLOSED
    assert str(kept.public_id) in other.status_reason
    assert other.history.count() == history_before + 1
    # Its ID number moved to the kept file, which had none.
    assert other.id_number_hash is None
    assert kept.id_number_hash is not None
    assert services.id_number_reveal(actor=admin, child=kept) == number
    # Links moved: the manual decision and the pending transfer request.
    assert ManualDecision.objects.filter(child=kept, code="dibao_family").exists()
    assert not ManualDecision.objects.filter(child=other).exists()
    request.refresh_from_db()
    assert request.child_id == kept.pk
    # Category history: the kept file counts from the earlier registration; the closed file
    # holds none, so the child is never counted twice.
    assert kept.registered_on == date(2023, 9, 1)
    assert not CategorySpan.objects.filter(child=other).exists()
    assert CategorySpan.objects.filter(child=kept, code="left_behind").exists()
    candidate.refresh_from_db()
    assert (candidate.status, candidate.decided_by) == (CandidateStatus.MERGED, admin)
    events = AuditEvent.objects.filter(action="child.merge")
    assert {e.object_code for e in events} == {str(kept.public_id), str(other.public_id)}
    assert all(e.detail["moved"] == {"registry.transferrequest": 1} for e in events)
    assert all(number not in str(e.detail) for e in events)
    # The closed file does not come back to the queue.
    duplicates.candidates_refresh()
    assert DuplicateCandidate.objects.filter(status=CandidateStatus.OPEN).count() == 0


def test_it_keeps_the_latest_standing_decision_when_both_files_hold_one(actors: Actors) -> None:
    admin = actors.county_admin
    candidate, kept, other = _candidate(actors)
    services.manual_decision_record(
        actor=admin, child=kept, code="dibao_family", include=False, reason="旧"
    )
    services.manual_decision_record(
        actor=admin, child=other, code="dibao_family", include=True, reason="新"
    )
    duplicates.candidate_merge(actor=admin, candidate=candidate, keep=kept, reason="重复")
    standing = ManualDecision.objects.filter(child=kept, withdrawn_at__isnull=True)
    assert [(d.code, d.include) for d in standing] == [("dibao_family", True)]
    assert ManualDecision.objects.filter(child=kept).count() == 2


def test_it_refuses_to_merge_two_files_with_different_id_numbers(actors: Actors) -> None:
    admin = actors.county_admin
    candidate, a, b = _candidate(actors)
    for child, seed in ((a, 11), (b, 12)):
        services.child_update(
            actor=admin, child=child, version=child.version, changes={}, id_number=_number(seed)
        )
    with pytest.raises(ValidationError):
        duplicates.candidate_merge(actor=admin, candidate=candidate, keep=a, reason="重复")
    b.refresh_from_db()
    candidate.refresh_from_db()
    assert b.status == ChildStatus.ACTIVE
    assert candidate.status == CandidateStatus.OPEN
    assert not AuditEvent.objects.filter(action="child.merge").exists()


def test_it_refuses_a_second_decision_on_the_same_pair(actors: Actors) -> None:
    candidate, a, _b = _candidate(actors)
    admin = actors.county_admin
    duplicates.candidate_merge(actor=admin, candidate=candidate, keep=a, reason="重复")
    with pytest.raises(ValidationError):
        duplicates.candidate_mark_distinct(actor=admin, candidate=candidate, reason="不是")


def test_it_lets_only_the_county_decide(actors: Actors) -> None:
    candidate, a, _b = _candidate(actors)
    for key in ("town_supervisor", "auditor", "village_director", "other_county_admin"):
        with pytest.raises(PermissionDenied):
            duplicates.candidate_merge(
                actor=getattr(actors, key), candidate=candidate, keep=a, reason="x"
            )
        with pytest.raises(PermissionDenied):
            duplicates.candidate_mark_distinct(
                actor=getattr(actors, key), candidate=candidate, reason="x"
            )


# --- the queue pages -------------------------------------------------------------------------


def test_it_lists_the_matched_fields_in_the_queue(actors: Actors) -> None:
    candidate, a, b = _candidate(actors)
    response = web_client(actors.county_admin).get(reverse("registry:duplicate_list"))
    assert response.status_code == 200
    with translation.override("zh-hans"):
        labels = [
            str(MatchedField(f).label) for f in ("name_pinyin", "birth_date", "gender", "town")
        ]
    [row] = response.context["rows"]
    assert row.candidate == candidate
    assert row.matched == labels
    body = response.content.decode()
    assert "、".join(labels) in body
    assert a.name in body
    assert b.name in body


def test_it_shows_the_pair_side_by_side_with_masked_numbers(actors: Actors) -> None:
    number = _number(21)
    candidate, a, _b = _candidate(actors, id_number=number)
    response = web_client(actors.county_admin).get(
        reverse("registry:duplicate_detail", args=[candidate.public_id])
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert idcard.mask(number) in body
    assert number not in body
    assert reverse("registry:duplicate_merge", args=[candidate.public_id]) in body
    assert AuditEvent.objects.filter(action="child.view", object_code=str(a.public_id)).exists()


def test_it_merges_from_the_page(actors: Actors) -> None:
    candidate, a, b = _candidate(actors)
    client = web_client(actors.county_admin)
    url = reverse("registry:duplicate_merge", args=[candidate.public_id])
    refused = client.post(url, {"keep": str(b.public_id), "reason": ""})
    assert refused.status_code == 400
    done = client.post(url, {"keep": str(b.public_id), "reason": "同一儿童"})
    assert done.status_code == 302
    a.refresh_from_db()
    assert a.status == ChildStatus.CLOSED
    assert str(b.public_id) in a.status_reason


def test_it_marks_distinct_from_the_page(actors: Actors) -> None:
    candidate, _a, _b = _candidate(actors)
    client = web_client(actors.county_admin)
    response = client.post(
        reverse("registry:duplicate_distinct", args=[candidate.public_id]), {"reason": "双胞胎"}
    )
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.DISTINCT
    open_list = client.get(reverse("registry:duplicate_list"))
    assert list(open_list.context["rows"]) == []
    decided = client.get(reverse("registry:duplicate_list"), {"status": "distinct"})
    assert [r.candidate for r in decided.context["rows"]] == [candidate]
    fragment = client.get(
        reverse("registry:duplicate_list"), {"status": "distinct"}, headers={"HX-Request": "true"}
    )
    body = fragment.content.decode().strip()
    assert body.startswith('<div id="queue">')
    assert str(candidate.public_id) in body


def test_it_refreshes_the_queue_from_the_page(actors: Actors) -> None:
    a = make_family(actors, name="王小明", village=EAST)
    b = make_family(actors, name="王晓明", village=WEST)
    response = web_client(actors.county_admin).post(reverse("registry:duplicate_refresh"))
    assert response.status_code == 302
    assert _pair(a, b) is not None


def test_it_shows_a_town_supervisor_the_pairs_of_their_town_read_only(actors: Actors) -> None:
    candidate, a, _b = _candidate(actors)
    across = make_family(actors, name="王晓明", village=SOUTH)
    duplicates.candidates_refresh()
    across_towns = _pair(a, across)
    assert across_towns is not None
    client = web_client(actors.town_supervisor)
    listed = client.get(reverse("registry:duplicate_list"))
    assert [r.candidate for r in listed.context["rows"]] == [candidate]
    page = client.get(reverse("registry:duplicate_detail", args=[candidate.public_id]))
    assert page.status_code == 200
    assert reverse("registry:duplicate_merge", args=[candidate.public_id]) not in (
        page.content.decode()
    )
    assert (
        client.get(reverse("registry:duplicate_detail", args=[across_towns.public_id])).status_code
        == 404
    )
    merge = client.post(
        reverse("registry:duplicate_merge", args=[candidate.public_id]),
        {"keep": str(a.public_id), "reason": "x"},
    )
    assert merge.status_code == 403
    assert client.post(reverse("registry:duplicate_refresh")).status_code == 403


def test_it_answers_404_to_outsiders_and_403_to_the_auditor(actors: Actors) -> None:
    candidate, a, _b = _candidate(actors)
    code = candidate.public_id
    reads = [reverse("registry:duplicate_list"), reverse("registry:duplicate_detail", args=[code])]
    writes = [
        reverse("registry:duplicate_refresh"),
        reverse("registry:duplicate_merge", args=[code]),
        reverse("registry:duplicate_distinct", args=[code]),
    ]
    data = {"keep": str(a.public_id), "reason": "x"}
    for key in (
        "village_director",
        "other_town_director",
        "department_officer",
        "reporter",
        "system_admin",
    ):
        client = web_client(getattr(actors, key))
        for url in reads:
            assert client.get(url).status_code == 404, (key, url)
        for url in writes:
            assert client.post(url, data).status_code == 404, (key, url)
    other_county = web_client(actors.other_county_admin)
    assert other_county.get(reads[1]).status_code == 404
    assert other_county.post(writes[1], data).status_code == 404
    auditor = web_client(actors.auditor)
    assert auditor.get(reads[1]).status_code == 200
    for url in writes:
        assert auditor.post(url, data).status_code == 403, url
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.OPEN


def test_it_reads_the_queue_in_a_constant_number_of_queries(actors: Actors) -> None:
    client = web_client(actors.county_admin)
    url = reverse("registry:duplicate_list")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def plant(n: int, born: date) -> None:
        make_family(actors, name=f"张{n}明", village=EAST, birth_date=born)
        make_family(actors, name=f"张{n}明", village=WEST, birth_date=born)

    plant(1, date(2015, 1, 1))
    duplicates.candidates_refresh()
    few = queries()
    for n, day in enumerate((2, 3, 4, 5), start=2):
        plant(n, date(2015, 1, day))
    duplicates.candidates_refresh()
    many = queries()
    assert DuplicateCandidate.objects.filter(status=CandidateStatus.OPEN).count() == 5
    assert many == few


def test_it_fills_the_county_admins_home_panel(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tongxin.registry.panels

    candidate, _a, _b = _candidate(actors)
    response = web_client(actors.county_admin).get(reverse("home"))
    [panel] = [p for p in response.context["panels"] if p.key == "duplicates"]
    assert (len(panel.items), panel.total) == (1, 1)
    body = response.content.decode()
    assert reverse("registry:duplicate_detail", args=[candidate.public_id]) in body
    for n in range(6):
        make_family(actors, name=f"李{n}", village=EAST, birth_date=date(2016, 1, n + 1))
        make_family(actors, name=f"李{n}", village=WEST, birth_date=date(2016, 1, n + 1))
    duplicates.candidates_refresh()
    monkeypatch.setattr(tongxin.registry.panels, "PANEL_LENGTH", 5)
    response = web_client(actors.county_admin).get(reverse("home"))
    [panel] = [p for p in response.context["panels"] if p.key == "duplicates"]
    # The five newest pairs, the number of pairs in all, and the link to the whole queue.
    assert (len(panel.items), panel.total) == (5, 7)
    assert panel.url == reverse("registry:duplicate_list")
    assert f'href="{reverse("registry:duplicate_list")}"' in response.content.decode()
    assert web_client(actors.village_director).get(reverse("home")).status_code == 200


def test_it_keeps_the_pair_ordered_and_unique(actors: Actors) -> None:
    from django.db import IntegrityError, transaction

    candidate, a, b = _candidate(actors)
    with pytest.raises(IntegrityError), transaction.atomic():
        DuplicateCandidate.objects.create(child_a=b, child_b=a, county_code="620724")
    with pytest.raises(IntegrityError), transaction.atomic():
        DuplicateCandidate.objects.create(
            child_a_id=candidate.child_a_id, child_b_id=candidate.child_b_id, county_code="620724"
        )


def test_it_tells_similar_names_apart_from_others() -> None:
    cases = [
        ("王小明", "王小民", "wxm", "wxm", True),
        ("王明", "王小明", "wm", "wxm", True),
        ("王小明", "汪晓梅", "wxm", "wxm", True),
        ("王小明", "李建国", "wxm", "ljg", False),
        ("王小明", "王大山", "wxm", "wds", False),
        ("", "王小明", "", "wxm", False),
    ]
    for a, b, ia, ib, similar in cases:
        assert duplicates.names_similar(a, b, ia, ib) is similar, (a, b)


def test_it_leaves_other_villages_alone_when_refreshing_one_division(actors: Actors) -> None:
    a = make_family(actors, name="王小明", village=EAST)
    b = make_family(actors, name="王晓明", village=SOUTH)
    duplicates.candidates_refresh(prefix=Division.objects.get(code="620724100000").prefix)
    assert _pair(a, b) is None
    duplicates.candidates_refresh(prefix="620724")
    assert _pair(a, b) is not None
