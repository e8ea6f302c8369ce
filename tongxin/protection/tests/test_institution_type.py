"""The kind of a report's institution, fixed at submission: from the reporting organisation
(an institution's registered type; a department or town government as the government; a village
committee), from the submitter's role for a report filed online without one, and for a caller
by the kind the officer chooses (page and API); guarded by the trigger like the other content;
counted as stored by the statistics, whatever the organisation's type became later; and the
migration's backfill reckons it as the intake does."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from tongxin.accounts.models import Organisation, OrganisationKind, User
from tongxin.accounts.roles import Role
from tongxin.core.periods import parse_period
from tongxin.geo.models import Division
from tongxin.protection import services
from tongxin.protection.models import MandatoryReport
from tongxin.protection.stats import report_stats
from tongxin.protection.tests.conftest import CHILD_NAME, FACTS, file_report
from tongxin.testing import Actors, api_client, web_client

backfill_migration = importlib.import_module(
    "tongxin.protection.migrations.0007_report_institution_type"
)
HOSPITAL = "高台县第二人民医院"


def _call(actors: Actors, **kwargs: Any) -> MandatoryReport:
    """A call the county officer records."""
    return file_report(actors, actor="county_admin", channel="phone", **kwargs)


def _file_as(user: User) -> MandatoryReport:
    return services.report_submit(
        actor=user,
        harms=["neglect"],
        facts=FACTS,
        urgency="normal",
        described=services.ChildDescription(name=CHILD_NAME),
    )


def _reporter_of(actors: Actors, name: str, institution_type: str) -> User:
    """A reporter of a new institution of 城关镇."""
    organisation = Organisation.objects.create(
        name=name,
        kind=OrganisationKind.INSTITUTION,
        institution_type=institution_type,
        division_id="620724100000",
    )
    return User.objects.create(
        username=f"reporter_{institution_type}",
        role=Role.REPORTER,
        division_id="620724100000",
        organisation=organisation,
        phone="13900000009",
    )


def _by_institution(actors: Actors) -> dict[str, int]:
    stats = report_stats(
        actors.county_admin,
        Division.objects.get(code="620724000000"),
        parse_period(str(timezone.localdate().year)),
    )
    return {b.key: b.count for b in stats.by_institution if b.count}


# --- at submission ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("reporter", "school"),  # 城关镇中心小学, registered as a school
        ("county_admin", "government"),  # the civil affairs bureau
        ("department_officer", "government"),  # the police
        ("town_supervisor", "government"),  # no organisation: an officer
        ("village_director", "village_committee"),  # no organisation: the village's director
    ],
)
def test_a_report_filed_online_takes_the_kind_of_its_filer(
    actors: Actors, actor: str, expected: str
) -> None:
    assert file_report(actors, actor=actor).reporting_institution_type == expected


def test_a_village_committees_account_files_for_the_committee(actors: Actors) -> None:
    director = actors.village_director
    director.organisation = Organisation.objects.create(
        name="东村村民委员会",
        kind=OrganisationKind.VILLAGE_COMMITTEE,
        division_id=director.division_id or "",
    )
    director.save(update_fields=["organisation"])
    report = file_report(actors, actor="village_director")
    assert report.reporting_institution_type == "village_committee"


def test_an_online_report_ignores_a_kind_given_for_a_caller(actors: Actors) -> None:
    report = file_report(actors, actor="county_admin", reporting_institution_type="hotel")
    assert report.reporting_institution_type == "government"


def test_an_officer_records_a_call_with_the_kind_of_the_callers_institution(
    actors: Actors,
) -> None:
    report = _call(
        actors, reporting_organisation_name=HOSPITAL, reporting_institution_type="medical"
    )
    assert (report.reporting_organisation_name, report.reporting_institution_type) == (
        HOSPITAL,
        "medical",
    )
    anonymous = _call(actors, reporter_name="一位村民")
    assert anonymous.reporting_institution_type == "not_given"


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        (
            {"reporting_organisation_name": HOSPITAL},
            "reporting_institution_type",
            "Choose the kind of the caller's institution.",
        ),
        (
            {"reporter_name": "王医生", "reporting_institution_type": "medical"},
            "reporting_organisation_name",
            "Give the name of the caller's institution, or leave its kind empty.",
        ),
        (
            {"reporting_organisation_name": HOSPITAL, "reporting_institution_type": "not_given"},
            "reporting_institution_type",
            "Choose a kind of institution from the list.",
        ),
    ],
)
def test_a_named_caller_needs_the_kind_of_its_institution(
    actors: Actors, given: dict[str, str], field: str, message: str
) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        _call(actors, **given)
    assert refused.value.message_dict == {field: [message]}
    assert not MandatoryReport.objects.exists()


def test_the_database_keeps_the_kind_fixed(actors: Actors) -> None:
    report = file_report(actors)
    with pytest.raises(DatabaseError), transaction.atomic():
        MandatoryReport.objects.filter(pk=report.pk).update(reporting_institution_type="hotel")
    report.refresh_from_db()
    assert report.reporting_institution_type == "school"


# --- the intake page and the API -------------------------------------------------------------


def _call_form(**changes: str) -> dict[str, Any]:
    return {
        "urgency": "urgent",
        "harms": ["sexual_abuse"],
        "child_name": CHILD_NAME,
        "facts": FACTS,
        "channel": "phone",
        "reporter_name": "王医生",
        "reporting_organisation_name": HOSPITAL,
        "reporting_institution_type": "medical",
        **changes,
    }


def test_the_officers_intake_form_asks_the_kind_of_the_callers_institution(
    actors: Actors,
) -> None:
    client = web_client(actors.county_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("reports:report_create")).content.decode()
    assert 'name="reporting_organisation_name"' in page
    assert 'name="reporting_institution_type"' in page
    assert '<option value="not_given"' not in page
    refused = client.post(
        reverse("reports:report_create"), _call_form(reporting_institution_type="")
    )
    assert refused.status_code == 400
    assert refused.context["form"].errors["reporting_institution_type"] == [
        "Choose the kind of the caller's institution."
    ]
    assert "Choose the kind of the caller&#x27;s institution." in refused.content.decode()
    assert not MandatoryReport.objects.exists()

    response = client.post(reverse("reports:report_create"), _call_form())
    report = MandatoryReport.objects.get()
    assert response.status_code == 302
    assert (report.channel, report.reporting_institution_type) == ("phone", "medical")
    detail = client.get(response["Location"]).content.decode()
    assert '<dd id="institution-type">Medical institution</dd>' in detail


def test_a_reporters_form_has_no_kind_to_choose(actors: Actors) -> None:
    page = web_client(actors.reporter).get(reverse("reports:report_create")).content.decode()
    assert 'name="reporting_institution_type"' not in page


def test_the_api_takes_the_kind_of_a_callers_institution(actors: Actors) -> None:
    client = api_client(actors.county_admin)
    url = reverse("api:report_collection")
    data = {
        "urgency": "urgent",
        "harms": ["neglect"],
        "facts": FACTS,
        "child_name": CHILD_NAME,
        "channel": "in_person",
        "reporting_organisation_name": "城关镇如意宾馆",
    }
    refused = client.post(url, data, format="json")
    assert refused.status_code == 400
    assert "reporting_institution_type" in refused.json()
    unknown = client.post(url, {**data, "reporting_institution_type": "bank"}, format="json")
    assert unknown.status_code == 400
    assert "reporting_institution_type" in unknown.json()
    created = client.post(url, {**data, "reporting_institution_type": "hotel"}, format="json")
    assert created.status_code == 201
    report = MandatoryReport.objects.get()
    assert report.reporting_institution_type == "hotel"
    body = client.get(reverse("api:report_detail", args=[report.public_id])).json()
    assert body["reporter"]["institution_type"] == "hotel"


# --- the statistics --------------------------------------------------------------------------


def test_the_statistics_count_the_kind_a_report_was_filed_under(actors: Actors) -> None:
    hotel = _reporter_of(actors, "城关镇如意宾馆", "hotel")
    _file_as(hotel)
    file_report(actors)  # the school
    _call(actors, reporting_organisation_name="某某公司", reporting_institution_type="other")
    _call(actors, reporter_name="一位村民")
    assert _by_institution(actors) == {"hotel": 1, "school": 1, "other": 1, "not_given": 1}
    # The hotel was registered wrongly: its reports keep the kind they were filed under, and
    # the next one counts under the corrected type. The name says nothing any more.
    organisation = hotel.organisation
    assert organisation is not None
    organisation.institution_type = "welfare"
    organisation.save(update_fields=["institution_type"])
    assert _by_institution(actors) == {"hotel": 1, "school": 1, "other": 1, "not_given": 1}
    _file_as(hotel)
    assert _by_institution(actors) == {
        "hotel": 1,
        "welfare": 1,
        "school": 1,
        "other": 1,
        "not_given": 1,
    }


# --- the migration ---------------------------------------------------------------------------


def test_the_backfill_reckons_each_report_as_the_intake_does(actors: Actors) -> None:
    """Run on reports the intake filed, the backfill writes the same kinds (a different one
    would be refused by the trigger)."""
    director = actors.other_village_director
    director.organisation = Organisation.objects.create(
        name="西村村民委员会",
        kind=OrganisationKind.VILLAGE_COMMITTEE,
        division_id=director.division_id or "",
    )
    director.save(update_fields=["organisation"])
    filed = [
        file_report(actors),
        _file_as(_reporter_of(actors, "高台县儿童福利院", "welfare")),
        file_report(actors, actor="county_admin"),
        file_report(actors, actor="town_supervisor"),
        file_report(actors, actor="village_director"),
        file_report(actors, actor="other_village_director"),
        _call(actors, reporting_organisation_name=HOSPITAL, reporting_institution_type="medical"),
        _call(
            actors,
            reporting_organisation_name="宣化镇人民政府",
            reporting_institution_type="government",
        ),
        _call(
            actors,
            reporting_organisation_name="城北社区",
            reporting_institution_type="village_committee",
        ),
        _call(actors, reporter_name="一位村民"),
    ]
    kinds = [r.reporting_institution_type for r in filed]
    assert kinds == [
        "school",
        "welfare",
        "government",
        "government",
        "village_committee",
        "village_committee",
        "medical",
        "government",
        "village_committee",
        "not_given",
    ]
    backfill_migration.backfill(apps, SimpleNamespace(connection=connection))
    assert [MandatoryReport.objects.get(pk=r.pk).reporting_institution_type for r in filed] == kinds
