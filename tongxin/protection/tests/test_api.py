"""The reports API: intake with a receipt, status as the caller may see it, transitions with
their refusals (403, 409), the immutability of a submitted report (409, the addendum kept), and
the OpenAPI document."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from tongxin.protection.models import MandatoryReport, ReportAddendum
from tongxin.protection.tests.conftest import CHILD_NAME, FACTS, file_report
from tongxin.testing import Actors, api_client

INTAKE = {
    "urgency": "urgent",
    "harms": ["neglect", "abandonment"],
    "facts": FACTS,
    "child_name": CHILD_NAME,
    "child_village": "620724100201",
    "reporter_phone": "13900000002",
}


def test_a_reporter_files_a_report_and_gets_its_receipt(actors: Actors) -> None:
    response = api_client(actors.reporter).post(
        reverse("api:report_collection"), INTAKE, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    report = MandatoryReport.objects.get()
    assert body["receipt_no"] == report.receipt_no
    assert body["id"] == str(report.public_id)
    assert body["status"] == "received"
    assert report.harm_values == ["neglect", "abandonment"]
    assert report.handling_department is not None
    assert report.handling_department.department == "civil_affairs"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"harms": []}, "harms"),
        ({"harms": ["beating"]}, "harms"),
        ({"facts": ""}, "facts"),
        ({"child_name": ""}, "child_name"),
        ({"child_village": "999999999999"}, "child_village"),
        ({"child_age": 19}, "child_age"),
    ],
)
def test_intake_names_the_bad_field(actors: Actors, changes: dict[str, object], field: str) -> None:
    response = api_client(actors.reporter).post(
        reverse("api:report_collection"), {**INTAKE, **changes}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not MandatoryReport.objects.exists()


@pytest.mark.parametrize(("actor", "code"), [("auditor", 403), ("system_admin", 404)])
def test_roles_that_do_not_report_are_refused(actors: Actors, actor: str, code: int) -> None:
    response = api_client(getattr(actors, actor)).post(
        reverse("api:report_collection"), INTAKE, format="json"
    )
    assert response.status_code == code


def test_an_officer_links_a_registered_child_but_a_reporter_cannot(actors: Actors) -> None:
    from tongxin.protection.tests.conftest import make_family

    child = make_family(actors, name="钱小军", father_left=None, mother_left=None)
    data = {
        "urgency": "normal",
        "harms": ["neglect"],
        "facts": FACTS,
        "child": str(child.public_id),
    }
    refused = api_client(actors.reporter).post(
        reverse("api:report_collection"), data, format="json"
    )
    assert refused.status_code == 400
    assert "child" in refused.json()
    linked = api_client(actors.county_admin).post(
        reverse("api:report_collection"), data, format="json"
    )
    assert linked.status_code == 201
    assert MandatoryReport.objects.get().child == child


def test_the_status_by_receipt_number_or_code(actors: Actors) -> None:
    report = file_report(actors)
    client = api_client(actors.department_officer)
    for code in (report.receipt_no, report.receipt_no.lower(), str(report.public_id)):
        body = client.get(reverse("api:report_detail", args=[code])).json()
        assert body["receipt_no"] == report.receipt_no
    body = client.get(reverse("api:report_detail", args=[report.public_id])).json()
    assert body["view"] == "full"
    assert body["facts"] == FACTS
    assert [c["name"] for c in body["clocks"]] == ["acceptance", "result"]
    assert body["clocks"][0]["state"] == "running"
    assert body["transitions"] == ["accept", "reject", "transfer"]
    assert client.get(reverse("api:report_detail", args=["GT-2024-999999"])).status_code == 404


def test_an_outsider_gets_404_everywhere(actors: Actors) -> None:
    report = file_report(actors)
    client = api_client(actors.other_department_officer)
    code = str(report.public_id)
    assert client.get(reverse("api:report_detail", args=[code])).status_code == 404
    assert (
        client.post(
            reverse("api:report_transitions", args=[code]), {"transition": "accept"}, format="json"
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("api:report_addenda", args=[code]), {"text": "x"}, format="json"
        ).status_code
        == 404
    )
    assert (
        client.patch(reverse("api:report_detail", args=[code]), {}, format="json").status_code
        == 404
    )


def test_the_handler_walks_the_report_through_the_api(actors: Actors) -> None:
    report = file_report(actors)
    client = api_client(actors.department_officer)
    url = reverse("api:report_transitions", args=[report.receipt_no])
    for step, extra in [
        ("accept", {}),
        ("start_verification", {}),
        ("record_result", {"result": "已核实"}),
        ("inform_reporter", {"result_for_reporter": "已处理"}),
        ("close", {}),
    ]:
        response = client.post(url, {"transition": step, **extra}, format="json")
        assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"
    assert [e["action"] for e in response.json()["timeline"]][-1] == "close"
    reporter = api_client(actors.reporter).get(
        reverse("api:report_detail", args=[report.public_id])
    )
    assert reporter.json()["status"] == "closed"
    assert reporter.json()["result_for_reporter"] == "已处理"


def test_transitions_refused_say_why(actors: Actors) -> None:
    report = file_report(actors)
    url = reverse("api:report_transitions", args=[report.public_id])
    police = api_client(actors.department_officer)
    conflict = police.post(url, {"transition": "close"}, format="json")
    assert conflict.status_code == 409
    assert "detail" in conflict.json()
    missing = police.post(url, {"transition": "reject"}, format="json")
    assert missing.status_code == 400
    assert "reason" in missing.json()
    unknown = police.post(url, {"transition": "approve"}, format="json")
    assert unknown.status_code == 400
    transfer = police.post(
        url,
        {"transition": "transfer", "reason": "x", "department": str(report.public_id)},
        format="json",
    )
    assert transfer.status_code == 400
    assert "department" in transfer.json()
    reporter = api_client(actors.reporter).post(url, {"transition": "accept"}, format="json")
    assert reporter.status_code == 403
    auditor = api_client(actors.auditor).post(url, {"transition": "accept"}, format="json")
    assert auditor.status_code == 403
    report.refresh_from_db()
    assert report.status == "received"


@pytest.mark.parametrize("method", ["patch", "put"])
def test_an_edit_of_a_submitted_report_answers_409_and_the_addendum_is_kept(
    actors: Actors, method: str
) -> None:
    report = file_report(actors)
    client = api_client(actors.reporter)
    url = reverse("api:report_detail", args=[report.public_id])
    response = getattr(client, method)(url, {"facts": "改写的内容"}, format="json")
    assert response.status_code == 409
    assert "addenda" in response.json()["detail"]
    added = client.post(
        reverse("api:report_addenda", args=[report.public_id]),
        {"text": "补充：孩子已被奶奶接走。"},
        format="json",
    )
    assert added.status_code == 201
    report.refresh_from_db()
    assert report.facts == FACTS
    assert ReportAddendum.objects.get(report=report).text == "补充：孩子已被奶奶接走。"
    body = api_client(actors.county_admin).get(url).json()
    assert [a["text"] for a in body["addenda"]] == ["补充：孩子已被奶奶接走。"]
    assert api_client(actors.auditor).patch(url, {}, format="json").status_code == 403


def test_the_list_shows_what_each_caller_may_see(actors: Actors) -> None:
    report = file_report(actors)
    police = api_client(actors.department_officer).get(reverse("api:report_collection")).json()
    assert police["count"] == 1
    assert police["results"][0]["receipt_no"] == report.receipt_no
    assert "harms" in police["results"][0]
    assert "facts" not in police["results"][0]  # the list carries no narrative
    village = api_client(actors.village_director).get(reverse("api:report_collection")).json()
    assert village["results"][0]["view"] == "exists"
    assert "harms" not in village["results"][0]
    other = api_client(actors.other_department_officer).get(reverse("api:report_collection"))
    assert other.json()["count"] == 0


def test_the_endpoints_are_documented(db: None) -> None:
    schema = json.loads(Client().get(reverse("schema"), {"format": "json"}).content)
    paths = schema["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/reports"])
    assert {"get", "patch", "put"} <= set(paths["/api/v1/reports/{code}"])
    assert "post" in paths["/api/v1/reports/{code}/transitions"]
    assert "post" in paths["/api/v1/reports/{code}/addenda"]
    assert "409" in paths["/api/v1/reports/{code}"]["patch"]["responses"]
