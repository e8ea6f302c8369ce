"""Reports reach the right people at once (强制报告: 立即向公安机关报案): a school's urgent report
of a suspected crime goes to the police and civil affairs at the same moment, both read it at
once and the police accept it; the report's page and the API say whom it went to and when; the
routing table is a setting the county officer changes on a page (each version kept, audited),
refused when it would keep a crime from the police."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from tongxin.accounts.models import Organisation
from tongxin.audit.models import AuditEvent
from tongxin.protection import policy, services
from tongxin.protection.models import MandatoryReport, RecipientHow, ReportRecipient
from tongxin.protection.rules import DEFAULT_ROUTING, ROUTE_KEYS
from tongxin.protection.tests.conftest import CHILD_NAME, FACTS, file_report
from tongxin.testing import Actors, api_client, web_client

TZ = ZoneInfo("Asia/Shanghai")
FILED = datetime(2026, 11, 9, 10, 30, tzinfo=TZ)


def _org(actors: Actors, key: str) -> Organisation:
    found = Organisation.objects.get(department=key, division_id="620724000000")
    return found


def _went_to(report: MandatoryReport) -> list[tuple[str, datetime, str, bool]]:
    return [
        (r.department.department, r.sent_at, r.how, r.passed_on_at is None)
        for r in ReportRecipient.objects.filter(report=report)
        .select_related("department")
        .order_by("sent_at", "pk")
    ]


def change_routing(actors: Actors, **rows: tuple[str, ...]) -> None:
    table = {key: list(DEFAULT_ROUTING[key]) for key in ROUTE_KEYS}
    table.update({key: list(row) for key, row in rows.items()})
    services.routing_version_add(actor=actors.county_admin, table=table, reason="县里决定")


@pytest.mark.parametrize("harm", ["physical_abuse", "domestic_violence", "other_crime"])
def test_a_schools_urgent_report_of_a_crime_reaches_police_and_civil_affairs_at_once(
    actors: Actors, harm: str
) -> None:
    report = file_report(actors, harms=(harm,), urgency="urgent", now=FILED)
    assert _went_to(report) == [
        ("police", FILED, RecipientHow.ROUTED, True),
        ("civil_affairs", FILED, RecipientHow.ROUTED, True),
    ]
    assert report.handling_department == _org(actors, "police")
    police = api_client(actors.department_officer)
    listed = police.get(reverse("api:report_collection")).json()
    assert [r["receipt_no"] for r in listed["results"]] == [report.receipt_no]
    body = police.get(reverse("api:report_detail", args=[report.public_id])).json()
    assert body["facts"] == FACTS
    assert "accept" in body["transitions"]
    accepted = police.post(
        reverse("api:report_transitions", args=[report.public_id]),
        {"transition": "accept"},
        format="json",
    )
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"


def test_the_report_page_and_the_api_say_whom_it_went_to_and_when(actors: Actors) -> None:
    report = file_report(actors, now=FILED)
    detail = reverse("reports:report_detail", args=[report.public_id])
    html = web_client(actors.county_admin).get(detail).content.decode()
    section = html.split('id="sent-to"')[1].split("</section>")[0]
    assert "高台县公安局" in section
    assert "高台县民政局" in section
    assert section.count("2026年11月9日 10:30") == 2
    assert "负责办理" in section.split('id="sent-to-police"')[1].split("</li>")[0]
    body = (
        api_client(actors.county_admin)
        .get(reverse("api:report_detail", args=[report.public_id]))
        .json()
    )
    assert [(r["name"], r["how"], r["handling"]) for r in body["sent_to"]] == [
        ("高台县公安局", "routed", True),
        ("高台县民政局", "routed", False),
    ]
    assert {datetime.fromisoformat(r["sent_at"]) for r in body["sent_to"]} == {FILED}
    # The school that reported sees that the police have it, not the handling record.
    school = web_client(actors.reporter).get(detail).content.decode()
    assert "高台县公安局" in school.split('id="sent-to"')[1]
    assert FACTS not in school
    mine = api_client(actors.reporter).get(reverse("api:report_detail", args=[report.public_id]))
    assert [r["name"] for r in mine.json()["sent_to"]] == ["高台县公安局", "高台县民政局"]
    # The village director knows only that it exists.
    village = api_client(actors.village_director).get(
        reverse("api:report_detail", args=[report.public_id])
    )
    assert "sent_to" not in village.json()


def test_education_reads_a_crime_report_when_the_routing_says_so_but_does_not_move_it(
    actors: Actors,
) -> None:
    change_routing(actors, physical_abuse=("police", "civil_affairs", "education"))
    report = file_report(actors, now=FILED)
    assert [d for d, *_ in _went_to(report)] == ["police", "education", "civil_affairs"]
    education = api_client(actors.other_department_officer)
    body = education.get(reverse("api:report_detail", args=[report.public_id])).json()
    assert body["facts"] == FACTS
    assert body["transitions"] == []
    refused = education.post(
        reverse("api:report_transitions", args=[report.public_id]),
        {"transition": "accept"},
        format="json",
    )
    assert refused.status_code == 403
    added = education.post(
        reverse("api:report_addenda", args=[report.public_id]), {"text": "学校已联系家长"}
    )
    assert added.status_code == 201
    assert (
        report.receipt_no
        in web_client(actors.other_department_officer).get(reverse("home")).content.decode()
    )


def test_names_in_a_sexual_abuse_report_stay_masked_to_a_department_that_only_reads_it(
    actors: Actors,
) -> None:
    change_routing(actors, sexual_abuse=("police", "civil_affairs", "education"))
    report = file_report(actors, harms=("sexual_abuse",), now=FILED)
    body = (
        api_client(actors.other_department_officer)
        .get(reverse("api:report_detail", args=[report.public_id]))
        .json()
    )
    assert body["child_name"] == "***"
    police = api_client(actors.department_officer)
    assert (
        police.get(reverse("api:report_detail", args=[report.public_id])).json()["child_name"]
        == CHILD_NAME
    )


def test_a_transfer_passes_the_report_on_and_the_other_departments_keep_it(
    actors: Actors,
) -> None:
    report = file_report(actors, now=FILED)
    later = FILED + timedelta(hours=2)
    services.report_transition(
        actor=actors.department_officer,
        report=report,
        transition="transfer",
        department=_org(actors, "education"),
        reason="校园欺凌，由教育局处理",
        now=later,
    )
    assert _went_to(report) == [
        ("police", FILED, RecipientHow.ROUTED, False),
        ("civil_affairs", FILED, RecipientHow.ROUTED, True),
        ("education", later, RecipientHow.TRANSFERRED, True),
    ]
    detail = reverse("reports:report_detail", args=[report.public_id])
    assert web_client(actors.department_officer).get(detail).status_code == 404
    assert web_client(actors.other_department_officer).get(detail).status_code == 200
    html = web_client(actors.county_admin).get(detail).content.decode()
    police_line = html.split('id="sent-to-police"')[1].split("</li>")[0]
    assert "转交" in police_line


def test_an_officer_recording_a_call_may_choose_who_handles_it_the_police_still_receive_it(
    actors: Actors,
) -> None:
    report = file_report(
        actors,
        actor="county_admin",
        channel="phone",
        reporter_name="王老师",
        handling_department=_org(actors, "education"),
        now=FILED,
    )
    assert [(d, how) for d, _at, how, _active in _went_to(report)] == [
        ("education", RecipientHow.CHOSEN),
        ("police", RecipientHow.ROUTED),
        ("civil_affairs", RecipientHow.ROUTED),
    ]
    assert report.handling_department == _org(actors, "education")
    body = (
        api_client(actors.department_officer)
        .get(reverse("api:report_detail", args=[report.public_id]))
        .json()
    )
    assert body["facts"] == FACTS


def test_a_new_version_of_the_table_routes_new_reports_and_keeps_the_old_ones(
    actors: Actors,
) -> None:
    before = file_report(actors, harms=("neglect",), now=FILED)
    change_routing(actors, neglect=("civil_affairs", "womens_federation"))
    assert policy.routing_table()["neglect"] == ("civil_affairs", "womens_federation")
    after = file_report(actors, harms=("neglect",), now=FILED + timedelta(days=1))
    assert [d for d, *_ in _went_to(before)] == ["civil_affairs"]
    # The women's federation has no office in the stock county: civil affairs alone.
    assert [d for d, *_ in _went_to(after)] == ["civil_affairs"]
    event = AuditEvent.objects.get(action="report.routing_change")
    assert event.actor == actors.county_admin
    assert event.detail["changed"] == {
        "neglect": {"from": ["civil_affairs"], "to": ["civil_affairs", "womens_federation"]}
    }


def test_the_routing_table_is_a_setting_with_the_laws_defaults(
    actors: Actors, settings: Any
) -> None:
    settings.TONGXIN_REPORTS = {"ROUTING": {"neglect": ["civil_affairs", "police"]}}
    assert policy.routing_table()["physical_abuse"] == ("police", "civil_affairs")
    report = file_report(actors, harms=("neglect",), now=FILED)
    assert [d for d, *_ in _went_to(report)] == ["police", "civil_affairs"]


# --- the routing page --------------------------------------------------------------------------


def _form(**rows: Any) -> dict[str, Any]:
    data: dict[str, Any] = {f"route_{k}": list(v) for k, v in DEFAULT_ROUTING.items()}
    data["reason"] = "按县委政法委要求调整"
    data.update(rows)
    return data


def test_the_county_officer_changes_the_routing_on_its_page(actors: Actors) -> None:
    web = web_client(actors.county_admin)
    url = reverse("reports:routing")
    page = web.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "公安局" in html.split('id="route-physical_abuse"')[1].split("</dd>")[0]
    saved = web.post(url, _form(route_bullying=["education", "civil_affairs", "police"]))
    assert saved.status_code == 302
    assert policy.routing_table()["bullying"] == ("education", "civil_affairs", "police")
    report = file_report(actors, harms=("bullying",), now=FILED)
    assert {d for d, *_ in _went_to(report)} == {"education", "civil_affairs", "police"}
    assert "按县委政法委要求调整" in web.get(url).content.decode()


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        ({"route_physical_abuse": ["civil_affairs"]}, "route_physical_abuse", "公安"),
        ({"route_imminent": ["education"]}, "route_imminent", "公安"),
        ({"route_neglect": []}, "route_neglect", "至少"),
        ({"route_neglect": ["nobody"]}, "route_neglect", ""),
        ({"reason": ""}, "reason", ""),
    ],
)
def test_a_table_that_cannot_be_used_is_refused_with_the_row_named_and_the_input_kept(
    actors: Actors, rows: dict[str, Any], field: str, message: str
) -> None:
    response = web_client(actors.county_admin).post(reverse("reports:routing"), _form(**rows))
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field])
    # What was typed stays: the rows as ticked, and the reason.
    html = response.content.decode()
    assert re.search(r'name="route_sexual_abuse" value="police"[^>]*checked', html)
    assert ("按县委政法委要求调整" in html) is (field != "reason")
    assert policy.routing_table() == {k: tuple(v) for k, v in DEFAULT_ROUTING.items()}
    assert not AuditEvent.objects.filter(action="report.routing_change").exists()


@pytest.mark.parametrize(
    ("actor", "get", "post"),
    [
        ("auditor", 200, 403),
        ("department_officer", 404, 404),
        ("village_director", 404, 404),
        ("reporter", 404, 404),
        ("system_admin", 404, 404),
    ],
)
def test_only_the_county_officer_changes_the_routing(
    actors: Actors, actor: str, get: int, post: int
) -> None:
    web = web_client(getattr(actors, actor))
    assert web.get(reverse("reports:routing")).status_code == get
    assert web.post(reverse("reports:routing"), _form()).status_code == post
    with pytest.raises(PermissionDenied):
        services.routing_version_add(
            actor=getattr(actors, actor),
            table={k: list(v) for k, v in DEFAULT_ROUTING.items()},
            reason="x",
        )


def test_a_departments_list_reads_whom_each_report_went_to_in_one_query(actors: Actors) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    file_report(actors, now=FILED)
    police = actors.department_officer
    web, api = web_client(police), api_client(police)
    web.get(reverse("reports:report_list"))  # the session's first use
    api.get(reverse("api:report_collection"))  # the token's first use
    with CaptureQueriesContext(connection) as one_page:
        web.get(reverse("reports:report_list"))
    with CaptureQueriesContext(connection) as one_api:
        api.get(reverse("api:report_collection"))
    for day in range(1, 6):
        file_report(actors, harms=("other_crime",), now=FILED + timedelta(days=day))
    with CaptureQueriesContext(connection) as six_page:
        web.get(reverse("reports:report_list"))
    with CaptureQueriesContext(connection) as six_api:
        body = api.get(reverse("api:report_collection")).json()
    assert body["count"] == 6
    assert len(six_page) == len(one_page)
    assert len(six_api) == len(one_api)
