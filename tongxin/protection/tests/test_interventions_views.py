"""The intervention pages: recording one from the child's file (with its documents), the
handling department linking its report, ending a temporary guardianship — refused in Chinese
without an assessment, done with one — and an order ending without."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tongxin.protection.models import Intervention, InterventionAssessment
from tongxin.protection.tests.conftest import pdf
from tongxin.protection.tests.test_interventions import child_with_report, make_intervention
from tongxin.testing import Actors, web_client


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "temporary_guardianship",
        "placement": "foster_family",
        "placed_with": "城关镇 刘家",
        "decided_on": "2024-03-01",
        "decision_maker": "高台县民政局",
        "document_number": "",
        "starts_on": "",
        "ends_on": "",
        "notes": "",
    }
    data.update(changes)
    return data


def test_a_county_officer_records_an_intervention_with_its_decision(actors: Actors) -> None:
    child, report = child_with_report(actors)
    web = web_client(actors.county_admin)
    url = reverse("reports:intervention_create", args=[child.public_id])
    page = web.get(url)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.content.decode()
    response = web.post(url, {**_form(report=report.pk), "documents": [pdf()]})
    intervention = Intervention.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "reports:intervention_detail", args=[intervention.public_id]
    )
    assert intervention.placement == "foster_family"
    assert intervention.report == report
    assert intervention.starts_on.isoformat() == "2024-03-01"
    assert intervention.documents.count() == 1
    detail = web.get(response["Location"]).content.decode()
    assert "家庭寄养" in detail
    assert "城关镇 刘家" in detail


def test_the_form_names_what_is_wrong(actors: Actors) -> None:
    child, _report = child_with_report(actors)
    web = web_client(actors.county_admin)
    url = reverse("reports:intervention_create", args=[child.public_id])
    response = web.post(url, _form(placement=""))
    assert response.status_code == 400
    assert "placement" in response.context["form"].errors
    response = web.post(url, {**_form(), "documents": [pdf(size=6 * 1024 * 1024)]})
    assert response.status_code == 400
    assert "documents" in response.context["form"].errors
    assert not Intervention.objects.exists()


def test_the_handling_department_must_link_its_report(actors: Actors) -> None:
    child, report = child_with_report(actors)
    web = web_client(actors.department_officer)
    url = reverse("reports:intervention_create", args=[child.public_id])
    admonition = _form(kind="police_admonition", placement="", decision_maker="城关派出所")
    response = web.post(url, admonition)
    assert response.status_code == 400
    assert "report" in response.context["form"].errors
    response = web.post(url, {**admonition, "report": report.pk})
    assert response.status_code == 302
    assert Intervention.objects.get().report == report


def test_ending_a_temporary_guardianship_needs_an_assessment(actors: Actors) -> None:
    intervention = make_intervention(actors)
    web = web_client(actors.county_admin)
    url = reverse("reports:intervention_end", args=[intervention.public_id])
    page = web.get(url).content.decode()
    assert "临时监护须经评估后才能结束" in page
    response = web.post(url, {"ended_on": "2024-06-30", "reason": "监护人恢复监护能力"})
    assert response.status_code == 400
    assert "临时监护结束前必须先记录评估" in response.content.decode()
    intervention.refresh_from_db()
    assert intervention.ended_on is None
    response = web.post(
        url,
        {
            "ended_on": "2024-06-30",
            "reason": "监护人恢复监护能力",
            "assessed_on": "2024-06-28",
            "assessor": "县民政局 社工",
            "conclusion": "return_to_guardian",
            "summary": "父亲具备监护条件。",
        },
    )
    assert response.status_code == 302
    intervention.refresh_from_db()
    assert intervention.ended_on is not None
    assert InterventionAssessment.objects.filter(intervention=intervention).count() == 1
    detail = web.get(response["Location"]).content.decode()
    assert "已结束" in detail
    assert "监护人可重新履行监护职责" in detail


def test_an_assessment_recorded_first_lets_it_end(actors: Actors) -> None:
    intervention = make_intervention(actors)
    web = web_client(actors.department_officer)  # the linked report's handlers
    assess = reverse("reports:intervention_assess", args=[intervention.public_id])
    response = web.post(
        assess,
        {
            "assessed_on": "2024-06-28",
            "assessor": "第三方评估机构",
            "conclusion": "long_term_guardianship",
            "summary": "父母均无监护能力。",
            "documents": [pdf()],
        },
    )
    assert response.status_code == 302
    end = reverse("reports:intervention_end", args=[intervention.public_id])
    assert "临时监护须经评估后才能结束" not in web.get(end).content.decode()
    response = web.post(end, {"ended_on": "2024-06-30", "reason": "转为长期监护"})
    assert response.status_code == 302
    intervention.refresh_from_db()
    assert intervention.ended_on is not None
    assert intervention.documents.count() == 2


def test_an_order_ends_without_assessment_fields(actors: Actors) -> None:
    intervention = make_intervention(actors, kind="protection_order", placement="")
    web = web_client(actors.county_admin)
    url = reverse("reports:intervention_end", args=[intervention.public_id])
    assert 'name="assessed_on"' not in web.get(url).content.decode()
    response = web.post(url, {"ended_on": "2024-06-30", "reason": "期满"})
    assert response.status_code == 302
    intervention.refresh_from_db()
    assert intervention.ended_on is not None
    # Ended: the end page sends back with a message.
    again = web.get(url)
    assert again.status_code == 302


def test_a_single_act_offers_no_end(actors: Actors) -> None:
    intervention = make_intervention(actors, kind="police_admonition", placement="")
    web = web_client(actors.county_admin)
    detail = web.get(reverse("reports:intervention_detail", args=[intervention.public_id]))
    assert 'id="end-intervention"' not in detail.content.decode()
    response = web.post(
        reverse("reports:intervention_end", args=[intervention.public_id]),
        {"ended_on": "2024-06-30", "reason": "x"},
    )
    assert response.status_code == 302
    intervention.refresh_from_db()
    assert intervention.ended_on is None
