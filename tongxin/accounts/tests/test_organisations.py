"""Registering organisations: county and system administrators list, create and edit the
organisations inside their own division (schools, hospitals … with their type, which their
reporters' reports are counted under); every write audited; the type required in the database
for an institution and only for one; the name words the migration read the existing
institutions' types from."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tongxin.accounts import services
from tongxin.accounts.models import Organisation, OrganisationKind, User
from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Division
from tongxin.testing import Actors, web_client

LIST_URL = reverse("accounts:organisation_list")
CREATE_URL = reverse("accounts:organisation_create")
TOWN = "620724100000"
SCHOOL = "城关镇中心小学"
migration = importlib.import_module(
    "tongxin.accounts.migrations.0002_organisation_institution_type"
)


def _client(user: User) -> Client:
    """Signed in, with English pages (the messages as the code writes them)."""
    client = web_client(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _new(**changes: str) -> dict[str, str]:
    return {
        "name": "城关镇第二小学",
        "kind": "institution",
        "institution_type": "school",
        "department": "",
        "division": TOWN,
        **changes,
    }


def _detail_url(organisation: Organisation) -> str:
    return reverse("accounts:organisation_detail", args=[organisation.public_id])


def _errors(response: Any) -> dict[str, list[str]]:
    return {k: list(v) for k, v in response.context["form"].errors.items()}


# --- the database ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "institution_type"),
    [("institution", ""), ("department", "school"), ("village_committee", "other")],
)
def test_the_database_wants_a_type_for_an_institution_and_only_for_one(
    actors: Actors, kind: str, institution_type: str
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(
            name="某单位", kind=kind, institution_type=institution_type, division_id=TOWN
        )


# --- the list --------------------------------------------------------------------------------


def test_it_lists_the_organisations_of_the_admins_county(actors: Actors) -> None:
    response = _client(actors.county_admin).get(LIST_URL)
    assert response.status_code == 200
    names = [o.name for o in response.context["page"]]
    assert set(names) == {"高台县民政局", "高台县公安局", "高台县教育局", SCHOOL}
    html = response.content.decode()
    assert "甘州区民政局" not in html
    assert f'href="{_detail_url(Organisation.objects.get(name=SCHOOL))}"' in html
    assert "School · 城关镇" in html  # an institution shows its type
    # The user list links here.
    assert (
        f'href="{LIST_URL}"'
        in _client(actors.county_admin).get(reverse("accounts:user_list")).content.decode()
    )


def test_the_other_county_sees_only_its_own(actors: Actors) -> None:
    response = _client(actors.other_county_admin).get(LIST_URL)
    assert [o.name for o in response.context["page"]] == ["甘州区民政局"]


def test_it_filters_by_kind_and_searches_by_name(actors: Actors) -> None:
    client = _client(actors.county_admin)
    by_kind = client.get(LIST_URL, {"kind": "institution"})
    assert [o.name for o in by_kind.context["page"]] == [SCHOOL]
    by_name = client.get(LIST_URL, {"q": "公安"})
    assert [o.name for o in by_name.context["page"]] == ["高台县公安局"]
    nothing = client.get(LIST_URL, {"q": "\x00", "kind": "no-such-kind"})
    assert nothing.status_code == 200
    assert len(nothing.context["page"]) == 4


def test_the_list_counts_the_accounts_and_its_queries_do_not_grow(actors: Actors) -> None:
    client = _client(actors.county_admin)
    with CaptureQueriesContext(connection) as before:
        first = client.get(LIST_URL)
    school = next(o for o in first.context["page"] if o.name == SCHOOL)
    assert school.accounts == 1  # the stock reporter
    for n in range(5):
        Organisation.objects.create(
            name=f"城关镇第{n + 3}小学",
            kind="institution",
            institution_type="school",
            division_id=TOWN,
        )
    with CaptureQueriesContext(connection) as after:
        second = client.get(LIST_URL)
    assert len(second.context["page"]) == 9
    assert len(after) == len(before)


# --- create ----------------------------------------------------------------------------------


def test_it_registers_a_school_with_its_type_and_audits_it(actors: Actors) -> None:
    client = _client(actors.county_admin)
    form = client.get(CREATE_URL)
    assert form.status_code == 200
    assert 'name="institution_type"' in form.content.decode()
    response = client.post(CREATE_URL, _new())
    created = Organisation.objects.get(name="城关镇第二小学")
    assert (response.status_code, response["Location"]) == (302, _detail_url(created))
    assert (created.kind, created.institution_type, created.division_id, created.department) == (
        "institution",
        "school",
        TOWN,
        "",
    )
    event = AuditEvent.objects.get(action="organisation.create")
    assert (event.actor, event.object_type) == (actors.county_admin, "organisation")
    assert (event.object_code, event.division_code) == (str(created.public_id), TOWN)
    assert event.detail == {"kind": "institution", "institution_type": "school", "department": ""}


def test_a_system_admin_registers_a_department(actors: Actors) -> None:
    response = _client(actors.system_admin).post(
        CREATE_URL,
        _new(
            name="高台县卫生健康局",
            kind="department",
            institution_type="",
            department="health",
            division="620724000000",
        ),
    )
    assert response.status_code == 302
    created = Organisation.objects.get(name="高台县卫生健康局")
    assert (created.kind, created.department, created.institution_type) == (
        "department",
        "health",
        "",
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"institution_type": ""}, "institution_type", "Choose the institution's type."),
        (
            {"kind": "town_government", "name": "城关镇人民政府"},
            "institution_type",
            "Leave the institution type empty: only an institution has one.",
        ),
        (
            {"department": "education"},
            "department",
            "Leave the department empty: only a county department has one.",
        ),
        (
            {"kind": "village_committee", "institution_type": ""},
            "division",
            "An organisation of the kind “Village or community committee” is registered at a "
            "Village / Community.",
        ),
        (
            {"name": SCHOOL},
            "name",
            "An organisation of this name is already registered in this division.",
        ),
        (
            {
                "kind": "department",
                "institution_type": "",
                "department": "police",
                "division": "620724000000",
                "name": "高台县公安局交警大队",
            },
            "department",
            "This department is already registered in this division.",
        ),
        ({"name": "  "}, "name", "This field is required."),
        ({"institution_type": "bank"}, "institution_type", "Select a valid choice."),
    ],
)
def test_it_says_what_is_wrong(
    actors: Actors, changes: dict[str, str], field: str, message: str
) -> None:
    before = Organisation.objects.count()
    response = _client(actors.county_admin).post(CREATE_URL, _new(**changes))
    assert response.status_code == 400
    errors = _errors(response)
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert message.split(":")[0] in response.content.decode().replace("&#x27;", "'")
    assert Organisation.objects.count() == before
    assert not AuditEvent.objects.filter(action="organisation.create").exists()


def test_it_refuses_a_division_outside_the_admins_own(actors: Actors) -> None:
    response = _client(actors.county_admin).post(CREATE_URL, _new(division="620702100000"))
    assert response.status_code == 400
    assert "division" in _errors(response)
    offered = {d.code for d in response.context["form"].fields["division"].queryset}
    assert "620702100000" not in offered
    assert TOWN in offered
    # The service checks again, in the words used for a division that is not there.
    with pytest.raises(ValidationError) as exc:
        services.organisation_create(
            actor=actors.county_admin,
            name="梁家墩镇小学",
            kind="institution",
            institution_type="school",
            division=Division.objects.get(code="620702100000"),
        )
    assert exc.value.message_dict == {"division": ["No such division."]}
    assert not Organisation.objects.filter(name="梁家墩镇小学").exists()


def test_only_administrators_register_organisations(actors: Actors) -> None:
    for key in ("village_director", "reporter", "department_officer"):
        assert web_client(getattr(actors, key)).post(CREATE_URL, _new()).status_code == 404
    assert web_client(actors.auditor).post(CREATE_URL, _new()).status_code == 403
    with pytest.raises(PermissionDenied):
        services.organisation_create(
            actor=actors.town_supervisor,
            name="城关镇第二小学",
            kind="institution",
            institution_type="school",
            division=Division.objects.get(code=TOWN),
        )
    assert not Organisation.objects.filter(name="城关镇第二小学").exists()


# --- edit ------------------------------------------------------------------------------------


def test_it_corrects_an_institutions_type_and_audits_the_fields(actors: Actors) -> None:
    school = Organisation.objects.get(name=SCHOOL)
    client = _client(actors.county_admin)
    page = client.get(_detail_url(school))
    assert page.status_code == 200
    assert page.context["form"].initial["institution_type"] == "school"
    response = client.post(
        _detail_url(school),
        _new(name="城关镇中心幼儿园", institution_type="kindergarten"),
    )
    assert (response.status_code, response["Location"]) == (302, _detail_url(school))
    school.refresh_from_db()
    assert (school.name, school.institution_type) == ("城关镇中心幼儿园", "kindergarten")
    event = AuditEvent.objects.get(action="organisation.update")
    assert (event.actor, event.object_code) == (actors.county_admin, str(school.public_id))
    assert event.detail == {"fields": ["institution_type", "name"]}


def test_it_records_nothing_when_nothing_changes(actors: Actors) -> None:
    school = Organisation.objects.get(name=SCHOOL)
    response = _client(actors.county_admin).post(_detail_url(school), _new(name=SCHOOL))
    assert response.status_code == 302
    assert not AuditEvent.objects.exists()


def test_it_keeps_the_kind_of_an_organisation_accounts_belong_to(actors: Actors) -> None:
    school = Organisation.objects.get(name=SCHOOL)  # the stock reporter's
    response = _client(actors.county_admin).post(
        _detail_url(school), _new(name=SCHOOL, kind="village_committee", institution_type="")
    )
    assert response.status_code == 400
    assert _errors(response)["kind"] == [
        "Accounts belong to this organisation: move them to another one before changing its "
        "kind or division."
    ]
    school.refresh_from_db()
    assert school.kind == OrganisationKind.INSTITUTION


def test_an_admin_of_another_county_gets_404(actors: Actors) -> None:
    school = Organisation.objects.get(name=SCHOOL)
    client = _client(actors.other_county_admin)
    assert client.get(_detail_url(school)).status_code == 404
    assert client.post(_detail_url(school), _new(name="改名")).status_code == 404
    school.refresh_from_db()
    assert school.name == SCHOOL
    with pytest.raises(PermissionDenied):
        services.organisation_update(
            actor=actors.other_county_admin, organisation=school, name="改名"
        )
    assert not AuditEvent.objects.filter(action="organisation.update").exists()


# --- the migration: the existing institutions' types from their names -----------------------


@pytest.mark.parametrize(
    ("name", "institution", "expected"),
    [
        ("城关镇中心小学", True, "school"),
        ("高台县第一中学", True, "school"),
        ("城关镇中心幼儿园", True, "kindergarten"),
        ("巷道镇托育中心", True, "kindergarten"),
        ("高台县第二人民医院", True, "medical"),
        ("南华镇卫生院", True, "medical"),
        ("城北社区卫生服务中心", True, "medical"),  # medical before it is a community
        ("高台县儿童福利院", True, "welfare"),
        ("高台县救助管理站", True, "welfare"),
        ("如意宾馆", True, "hotel"),
        ("黑河民宿", True, "hotel"),
        ("高台县某某公司", True, "other"),
        ("城北社区", True, "other"),  # an institution is never a committee
        ("城北社区", False, "village_committee"),
        ("东村村民委员会", False, "village_committee"),
        ("城关镇人民政府", False, "government"),
        ("高台县公安局", False, "government"),
        ("", False, "other"),
    ],
)
def test_the_migration_reads_an_institutions_type_from_its_name(
    name: str, institution: bool, expected: str
) -> None:
    assert migration.type_from_name(name, institution=institution) == expected


def test_the_migration_fills_the_institutions_from_their_names(actors: Actors) -> None:
    from types import SimpleNamespace

    from django.apps import apps

    second = Organisation.objects.create(
        name="城关镇第二小学", kind="institution", institution_type="other", division_id=TOWN
    )
    hotel = Organisation.objects.create(
        name="城关镇如意宾馆", kind="institution", institution_type="other", division_id=TOWN
    )
    migration.fill(apps, SimpleNamespace(connection=connection))
    types = dict(Organisation.objects.values_list("name", "institution_type"))
    assert types == {
        "高台县民政局": "",
        "高台县公安局": "",
        "高台县教育局": "",
        SCHOOL: "school",
        "甘州区民政局": "",
        second.name: "school",
        hotel.name: "hotel",
    }
