"""The file page: every section in one place, each opening audited, the ID number masked and
revealed one at a time to the roles allowed, the access log for county officers and auditors,
and a 404 for everyone outside, on every address of the file."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest
from django.urls import reverse

from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Division
from tongxin.lib import idcard
from tongxin.registry import agreements, services
from tongxin.registry.models import CareAgreement, Child, Migration
from tongxin.registry.tests.conftest import make_family
from tongxin.testing import Actors, web_client

OUTSIDERS = (
    "other_village_director",
    "other_county_admin",
    "department_officer",
    "system_admin",
    "reporter",
)
SECTIONS = (
    "basic",
    "family",
    "categories",
    "category-history",
    "agreement",
    "contacts",
    "problems",
    "history",
)


def _number(seed: int, birth_date: date = date(2014, 5, 1)) -> str:
    return idcard.generate(
        random.Random(seed), region="620724", birth_date=birth_date, gender="male"
    )


def _file(child: Child) -> str:
    return reverse("registry:child_detail", args=[child.public_id])


def _agreement(actors: Actors, child: Child) -> CareAgreement:
    return agreements.agreement_create(
        actor=actors.village_director,
        household=child.household,
        fields={
            "entrusted_by": "both",
            "caregiver_name": "王奶奶",
            "caregiver_relation": "祖母",
            "signed_on": date(2024, 1, 5),
            "valid_until": date(2030, 1, 5),
        },
    )


def _every_url(actors: Actors, child: Child) -> list[tuple[str, str]]:
    """(method, url) for every address of the file, built to real objects."""
    agreement = _agreement(actors, child)
    spell = Migration.objects.filter(parent__household=child.household).first()
    assert spell is not None
    args = [child.public_id]
    both = [child.public_id, agreement.public_id]
    urls = [
        reverse("registry:child_detail", args=args),
        reverse("registry:child_edit", args=args),
        reverse("registry:child_status", args=args),
        reverse("registry:manual_decision", args=args),
        reverse("registry:household_edit", args=args),
        reverse("registry:household_transfer", args=args),
        reverse("registry:parent_edit", args=[child.public_id, "father"]),
        reverse("registry:migration_create", args=[child.public_id, "mother"]),
        reverse("registry:migration_edit", args=[child.public_id, spell.public_id]),
        reverse("registry:agreement_create", args=args),
        reverse("registry:agreement_terminate", args=both),
        reverse("registry:agreement_incapable", args=both),
        reverse("registry:agreement_document", args=both),
    ]
    return [
        *[("get", u) for u in urls],
        *[("post", u) for u in urls[1:-1]],
        ("post", reverse("registry:child_reveal_id", args=args)),
    ]


def test_it_shows_every_section_of_the_file(actors: Actors, child: Child) -> None:
    _agreement(actors, child)
    response = web_client(actors.village_director).get(_file(child))
    assert response.status_code == 200
    html = response.content.decode()
    for section in SECTIONS:
        assert re.search(rf'<section id="{section}">\s*<details', html), section
    assert "王小明" in html
    assert "王奶奶" in html  # the care agreement
    assert "浙江省宁波市" in html  # the parents' work place
    assert "父母均" in html or "父亲" in html  # the reason of the computed category
    assert 'id="access-log"' not in html  # village directors do not see who opened the file


def test_it_records_one_audit_event_per_opening(actors: Actors, child: Child) -> None:
    client = web_client(actors.town_supervisor)
    client.get(_file(child))
    client.get(_file(child))
    events = AuditEvent.objects.filter(action="child.view", object_code=str(child.public_id))
    assert events.count() == 2
    assert {e.actor_username for e in events} == {"town_supervisor"}
    assert {e.division_code for e in events} == {child.village_id}


def test_it_records_a_refused_opening(actors: Actors, child: Child) -> None:
    response = web_client(actors.other_village_director).get(_file(child))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        action="child.view", object_code=str(child.public_id), result="denied"
    ).exists()


@pytest.mark.parametrize("key", ["county_admin", "auditor"])
def test_it_shows_the_access_log_to_county_officers_and_auditors(
    actors: Actors, child: Child, key: str
) -> None:
    web_client(actors.village_director).get(_file(child))
    html = web_client(getattr(actors, key)).get(_file(child)).content.decode()
    log = html[html.index('id="access-log"') :]
    assert "village_director" in log
    assert key in log


def test_it_keeps_the_access_log_from_other_roles(actors: Actors, child: Child) -> None:
    for key in ("village_director", "town_supervisor"):
        html = web_client(getattr(actors, key)).get(_file(child)).content.decode()
        assert 'id="access-log"' not in html


def test_it_shows_an_unknown_start_and_the_computed_result_beside_the_decision(
    actors: Actors, child: Child
) -> None:
    mother = child.household.parents.get(role="mother")
    services.migration_save(
        actor=actors.village_director,
        parent=mother,
        fields={"left_on": None, "destination": "out_of_county", "work_place": "张掖市甘州区"},
        version=0,
    )
    services.manual_decision_record(
        actor=actors.county_admin,
        child=child,
        code="single_parent",
        include=True,
        reason="父亲长期不与家庭联系（村委会证明）",
    )
    html = web_client(actors.village_director).get(_file(child)).content.decode()
    assert "start unknown" in html or "出发日期不详" in html or "外出时间不详" in html
    categories = html[html.index('id="categories"') : html.index('id="category-history"')]
    assert "父亲长期不与家庭联系（村委会证明）" in categories  # the decision …
    assert "left_behind" not in categories  # (labels, not codes)
    assert categories.count("<tr>") == 3  # header, left_behind (computed), single_parent


def test_it_lists_the_category_history(actors: Actors, child: Child) -> None:
    html = web_client(actors.village_director).get(_file(child)).content.decode()
    history = html[html.index('id="category-history"') : html.index('id="agreement"')]
    assert "2024" in history
    assert history.count("<tr>") == 2  # header + the left-behind span


def test_it_never_shows_the_full_id_number(actors: Actors) -> None:
    number = _number(11)
    child = make_family(actors, id_number=number)
    child.refresh_from_db()
    # A change of number puts the number in the history: still never shown in full.
    new_number = _number(12)
    services.child_update(
        actor=actors.village_director,
        child=child,
        version=child.version,
        changes={"school": "城关镇中心小学"},
        id_number=new_number,
    )
    client = web_client(actors.county_admin)
    pages = [
        _file(child),
        reverse("registry:child_edit", args=[child.public_id]),
        reverse("registry:parent_edit", args=[child.public_id, "father"]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert number not in html, url
        assert new_number not in html, url
    html = client.get(_file(child)).content.decode()
    assert idcard.mask(new_number) in html
    history = html[html.index('id="history"') :]
    assert "城关镇中心小学" in history


def test_it_reveals_the_number_to_the_roles_allowed_and_audits_it(actors: Actors) -> None:
    number = _number(13)
    child = make_family(actors, id_number=number)
    url = reverse("registry:child_reveal_id", args=[child.public_id])
    for key in ("village_director", "town_supervisor", "county_admin"):
        response = web_client(getattr(actors, key)).post(url, headers={"HX-Request": "true"})
        assert response.status_code == 200, key
        body = response.content.decode()
        assert number in body
        assert "<html" not in body  # the fragment, for htmx to swap in
        assert "no-store" in response["Cache-Control"]
    assert (
        AuditEvent.objects.filter(
            action="child.id_reveal", object_code=str(child.public_id)
        ).count()
        == 3
    )
    # Without JavaScript: a page of its own.
    page = web_client(actors.village_director).post(url)
    assert page.status_code == 200
    assert number in page.content.decode()
    assert "<html" in page.content.decode()


def test_it_refuses_the_reveal_to_other_roles(actors: Actors) -> None:
    child = make_family(actors, id_number=_number(14))
    url = reverse("registry:child_reveal_id", args=[child.public_id])
    assert web_client(actors.auditor).post(url).status_code == 403
    for key in OUTSIDERS:
        assert web_client(getattr(actors, key)).post(url).status_code == 404, key
    assert web_client(actors.village_director).get(url).status_code == 405
    assert not AuditEvent.objects.filter(action="child.id_reveal").exists()


def test_it_offers_the_reveal_button_only_to_the_roles_allowed(actors: Actors) -> None:
    child = make_family(actors, id_number=_number(15))
    url = reverse("registry:child_reveal_id", args=[child.public_id])
    assert url in web_client(actors.village_director).get(_file(child)).content.decode()
    assert url not in web_client(actors.auditor).get(_file(child)).content.decode()


def test_it_answers_404_to_outsiders_on_every_address(actors: Actors, child: Child) -> None:
    failures = []
    for method, url in _every_url(actors, child):
        for key in OUTSIDERS:
            status = getattr(web_client(getattr(actors, key)), method)(url).status_code
            if status != 404:
                failures.append(f"{method.upper()} {url} {key}: {status}")
    assert not failures, "\n".join(failures)


def test_it_answers_404_for_a_file_that_is_not_there(actors: Actors) -> None:
    url = reverse("registry:child_detail", args=["8c5b8f8e-6f7e-4a39-9f0e-2b8e3c1d4a5f"])
    assert web_client(actors.county_admin).get(url).status_code == 404


def test_it_answers_403_to_the_auditor_on_every_write(actors: Actors, child: Child) -> None:
    reads = {_file(child)}
    failures = []
    for method, url in _every_url(actors, child):
        if url in reads or url.endswith("/document/"):
            continue
        status = getattr(web_client(actors.auditor), method)(url).status_code
        if status != 403:
            failures.append(f"{method.upper()} {url}: {status}")
    assert not failures, "\n".join(failures)


def test_it_shows_the_other_village_the_file_after_a_transfer(actors: Actors, child: Child) -> None:
    services.household_transfer(
        actor=actors.town_supervisor,
        household=child.household,
        village=Division.objects.get(code="620724100202"),
        reason="搬迁",
    )
    assert web_client(actors.village_director).get(_file(child)).status_code == 404
    assert web_client(actors.other_village_director).get(_file(child)).status_code == 200


def test_it_opens_the_file_in_a_bounded_number_of_queries(
    actors: Actors, child: Child, django_assert_max_num_queries: object
) -> None:
    _agreement(actors, child)
    client = web_client(actors.county_admin)
    client.get(_file(child))  # warm the session
    with django_assert_max_num_queries(40):  # type: ignore[operator]
        assert client.get(_file(child)).status_code == 200
