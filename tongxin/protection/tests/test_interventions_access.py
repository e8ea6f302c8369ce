"""Who sees a guardianship intervention, each cell on its own: the county officer, the handling
department of the linked report (the police), another department, the auditor, the child's
village director, another village's director, the reporter — × the child's interventions, one
intervention, its documents. Every read is audited, never with the intervention's content."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tongxin.audit.models import AuditEvent, Result
from tongxin.protection import interventions as iv
from tongxin.protection.models import Intervention, InterventionKind
from tongxin.protection.tests.test_interventions import (
    NOTES,
    TODAY,
    child_with_report,
    fields,
    make_intervention,
)
from tongxin.testing import Actors, web_client

KIND_SHOWN = "临时监护"  # the kind's label: only a full reader sees it
EXISTS_SHOWN = "该儿童有监护干预记录"

# actor → (list: "full" / "exists" / None for 404, detail opens, document opens)
MATRIX: dict[str, tuple[str | None, bool, bool]] = {
    "county_admin": ("full", True, True),
    "department_officer": ("full", True, True),  # the police: the report's handlers
    "other_department_officer": (None, False, False),
    "auditor": ("full", True, True),
    "village_director": ("exists", False, False),
    "other_village_director": (None, False, False),
    "reporter": (None, False, False),
    # Beyond the matrix of the issue: nobody else sees anything either.
    "town_supervisor": (None, False, False),
    "other_town_director": (None, False, False),
    "other_county_admin": (None, False, False),
    "system_admin": (None, False, False),
}


@pytest.fixture
def intervention(actors: Actors) -> Intervention:
    return make_intervention(actors)


def _list(actors: Actors, intervention: Intervention, actor: str) -> str | None:
    url = reverse("reports:intervention_list", args=[intervention.child.public_id])
    response = web_client(getattr(actors, actor)).get(url)
    assert response.status_code in (200, 404)
    if response.status_code == 404:
        return None
    html = response.content.decode()
    if KIND_SHOWN in html:
        assert reverse("reports:intervention_detail", args=[intervention.public_id]) in html
        return "full"
    assert EXISTS_SHOWN in html
    assert "高台县民政局" not in html  # not even the decision maker
    return "exists"


@pytest.mark.parametrize("actor", MATRIX)
def test_the_list_cell(actors: Actors, intervention: Intervention, actor: str) -> None:
    assert _list(actors, intervention, actor) == MATRIX[actor][0]


@pytest.mark.parametrize("actor", MATRIX)
def test_the_detail_cell(actors: Actors, intervention: Intervention, actor: str) -> None:
    url = reverse("reports:intervention_detail", args=[intervention.public_id])
    response = web_client(getattr(actors, actor)).get(url)
    assert response.status_code in (200, 404)
    opened = response.status_code == 200
    assert opened is MATRIX[actor][1]
    if opened:
        html = response.content.decode()
        assert NOTES in html
        assert "外祖母" in html
        assert "高民临监〔2024〕1号" in html


@pytest.mark.parametrize("actor", MATRIX)
def test_the_document_cell(actors: Actors, intervention: Intervention, actor: str) -> None:
    document = intervention.documents.get()
    url = reverse(
        "reports:intervention_document", args=[intervention.public_id, document.public_id]
    )
    response = web_client(getattr(actors, actor)).get(url)
    assert response.status_code in (200, 404)
    opened = response.status_code == 200
    assert opened is MATRIX[actor][2]
    if opened:
        assert response.getvalue().startswith(b"%PDF-")
        assert response["Content-Type"] == "application/pdf"
        assert "no-store" in response["Cache-Control"]


def test_a_handler_sees_only_the_interventions_of_its_reports(actors: Actors) -> None:
    linked = make_intervention(actors)
    # The county records another on the same child, linked to no report.
    unlinked = iv.intervention_record(
        actor=actors.county_admin,
        child=linked.child,
        fields=fields(InterventionKind.GUARDIANSHIP_REVOCATION, decision_maker="高台县人民法院"),
        today=TODAY,
    )
    police = web_client(actors.department_officer)
    page = police.get(reverse("reports:intervention_list", args=[linked.child.public_id]))
    html = page.content.decode()
    assert reverse("reports:intervention_detail", args=[linked.public_id]) in html
    assert reverse("reports:intervention_detail", args=[unlinked.public_id]) not in html
    assert "撤销监护人资格" not in html
    detail = reverse("reports:intervention_detail", args=[unlinked.public_id])
    assert police.get(detail).status_code == 404
    assert web_client(actors.county_admin).get(detail).status_code == 200


def test_a_department_with_no_report_on_the_child_sees_nothing(actors: Actors) -> None:
    child, _report = child_with_report(actors)  # the police's report
    url = reverse("reports:intervention_list", args=[child.public_id])
    assert web_client(actors.other_department_officer).get(url).status_code == 404
    assert web_client(actors.department_officer).get(url).status_code == 200


def test_the_auditor_reads_and_every_read_is_audited(
    actors: Actors, intervention: Intervention
) -> None:
    auditor = web_client(actors.auditor)
    document = intervention.documents.get()
    auditor.get(reverse("reports:intervention_list", args=[intervention.child.public_id]))
    auditor.get(reverse("reports:intervention_detail", args=[intervention.public_id]))
    auditor.get(
        reverse("reports:intervention_document", args=[intervention.public_id, document.public_id])
    )
    events = AuditEvent.objects.filter(actor=actors.auditor).order_by("pk")
    assert [e.action for e in events] == [
        "intervention.list",
        "intervention.view",
        "intervention.document_view",
    ]
    assert events[0].detail == {"view": "full", "count": 1}
    assert events[2].detail["document"] == str(document.public_id)
    for event in AuditEvent.objects.all():
        assert NOTES not in str(event.detail)
        assert "外祖母" not in str(event.detail)
    # Read-only: the writes answer 403.
    create = reverse("reports:intervention_create", args=[intervention.child.public_id])
    assert auditor.post(create, {}).status_code == 403
    end = reverse("reports:intervention_end", args=[intervention.public_id])
    assert auditor.post(end, {}).status_code == 403


def test_the_village_directors_look_is_audited_as_exists(
    actors: Actors, intervention: Intervention
) -> None:
    web_client(actors.village_director).get(
        reverse("reports:intervention_list", args=[intervention.child.public_id])
    )
    event = AuditEvent.objects.get(action="intervention.list", actor=actors.village_director)
    assert event.detail == {"view": "exists", "count": 1}


def test_a_refused_look_is_kept(actors: Actors, intervention: Intervention) -> None:
    url = reverse("reports:intervention_detail", args=[intervention.public_id])
    assert web_client(actors.other_department_officer).get(url).status_code == 404
    event = AuditEvent.objects.get(actor=actors.other_department_officer)
    assert event.result == Result.DENIED
    assert event.object_code == str(intervention.public_id)


def test_the_file_shows_the_county_the_counts_and_the_village_only_that_one_exists(
    actors: Actors, intervention: Intervention
) -> None:
    file_url = reverse("registry:child_detail", args=[intervention.child.public_id])
    county = web_client(actors.county_admin).get(file_url).content.decode()
    assert 'id="interventions"' in county
    assert "已记录 1 项干预" in county
    assert "1 项正在执行" in county
    assert reverse("reports:intervention_list", args=[intervention.child.public_id]) in county
    assert KIND_SHOWN not in county.split('id="interventions"')[1].split("</section>")[0]
    village = web_client(actors.village_director).get(file_url).content.decode()
    assert EXISTS_SHOWN in village
    assert reverse("reports:intervention_list", args=[intervention.child.public_id]) not in village
    town = web_client(actors.town_supervisor).get(file_url).content.decode()
    assert 'id="interventions"' not in town


def test_the_list_reads_in_a_fixed_number_of_queries(actors: Actors) -> None:
    first = make_intervention(actors)
    client = web_client(actors.county_admin)
    url = reverse("reports:intervention_list", args=[first.child.public_id])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for kind in ("police_admonition", "protection_order", "judicial_suggestion"):
        iv.intervention_record(
            actor=actors.county_admin,
            child=first.child,
            report=first.report,
            fields=fields(kind),
            today=TODAY,
        )
    with CaptureQueriesContext(connection) as four:
        assert client.get(url).status_code == 200
    assert len(four) == len(one)
