"""The report pages: a reporter files an urgent report on one short screen, the handler's list
shows the clocks (a breached one in red), the page shows the steps the user may take, urgent
reports are flagged on the handlers' home pages until accepted, and the list's query count
does not grow with the reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tongxin.audit.models import AuditEvent
from tongxin.protection.models import MandatoryReport, ReportAddendum
from tongxin.protection.tests.conftest import CHILD_NAME, FACTS, file_report
from tongxin.testing import Actors, web_client


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "urgency": "imminent",
        "harms": ["physical_abuse"],
        "child_name": CHILD_NAME,
        "facts": FACTS,
        "reporter_phone": "13900000001",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_reporter_files_an_urgent_report_with_four_answers(actors: Actors) -> None:
    web = web_client(actors.reporter)
    page = web.get(reverse("reports:report_create"))
    assert page.status_code == 200
    html = page.content.decode()
    # One screen: the optional fields are folded away, the officers' fields absent.
    assert "<details" in html
    assert 'name="handling_department"' not in html
    assert 'name="channel"' not in html
    response = web.post(reverse("reports:report_create"), _form())
    report = MandatoryReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:report_detail", args=[report.public_id])
    assert report.urgency == "imminent"
    assert report.reporter_phone == "13900000001"
    receipt = web.get(response["Location"]).content.decode()
    assert report.receipt_no in receipt
    assert "已接收" in receipt


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"harms": None}, "harms"),
        ({"facts": ""}, "facts"),
        ({"child_name": ""}, "child_name"),
        ({"urgency": None}, "urgency"),
    ],
)
def test_the_form_says_what_is_missing(
    actors: Actors, changes: dict[str, Any], message: str
) -> None:
    response = web_client(actors.reporter).post(reverse("reports:report_create"), _form(**changes))
    assert response.status_code == 400
    assert message in response.context["form"].errors
    assert not MandatoryReport.objects.exists()


def test_an_officer_files_from_a_childs_file(actors: Actors) -> None:
    from tongxin.protection.tests.conftest import make_family

    child = make_family(actors, name="钱小军", father_left=None, mother_left=None)
    web = web_client(actors.county_admin)
    url = reverse("reports:report_create") + f"?child={child.public_id}"
    page = web.get(url)
    assert page.status_code == 200
    assert 'name="child_name"' not in page.content.decode()
    response = web.post(url, _form(child_name=None, child=str(child.public_id)))
    assert response.status_code == 302
    assert MandatoryReport.objects.get().child == child
    # A child outside the officer's reach: 404.
    other = web_client(actors.other_village_director)
    assert other.get(url).status_code == 404


def test_the_auditor_may_not_file(actors: Actors) -> None:
    assert web_client(actors.auditor).get(reverse("reports:report_create")).status_code == 403


def test_the_handlers_list_shows_the_clock_and_a_breached_one_in_red(actors: Actors) -> None:
    report = file_report(actors)
    web = web_client(actors.department_officer)
    html = web.get(reverse("reports:report_list")).content.decode()
    assert report.receipt_no in html
    assert "clock-running" in html
    assert "flagged" in html
    assert report.acceptance_due_at is not None
    with time_machine.travel(report.acceptance_due_at + timedelta(minutes=5)):
        web = web_client(actors.department_officer)  # a day later: a new session
        late = web.get(reverse("reports:report_list")).content.decode()
        breached = web.get(reverse("reports:report_list"), {"status": "breached"})
    assert "clock-breached" in late
    assert "is-breached" in late
    assert report.receipt_no in breached.content.decode()
    assert AuditEvent.objects.filter(actor=actors.department_officer, action="report.list").exists()


def test_the_list_costs_the_same_queries_for_one_report_or_many(actors: Actors) -> None:
    web = web_client(actors.county_admin)
    file_report(actors)
    web.get(reverse("reports:report_list"))
    with CaptureQueriesContext(connection) as one:
        web.get(reverse("reports:report_list"))
    for _ in range(5):
        file_report(actors, harms=("neglect", "sexual_abuse"))
    with CaptureQueriesContext(connection) as six:
        response = web.get(reverse("reports:report_list"))
    assert len(response.context["rows"]) == 6
    assert len(six) == len(one)


def test_the_page_offers_the_steps_the_user_may_take(actors: Actors) -> None:
    report = file_report(actors)
    url = reverse("reports:report_detail", args=[report.public_id])
    police = web_client(actors.department_officer).get(url).content.decode()
    assert "step-accept" in police
    assert "step-reject" in police
    assert "step-transfer" in police
    for actor in ("auditor", "reporter", "village_director"):
        html = web_client(getattr(actors, actor)).get(url).content.decode()
        assert "step-accept" not in html


def test_the_handler_moves_the_report_from_its_page(actors: Actors) -> None:
    report = file_report(actors)
    web = web_client(actors.department_officer)
    url = reverse("reports:report_transition", args=[report.public_id])
    assert web.post(url, {"transition": "accept"}).status_code == 302
    report.refresh_from_db()
    assert report.status == "accepted"
    # A step from the wrong status changes nothing and says why.
    response = web.post(url, {"transition": "close"}, follow=True)
    report.refresh_from_db()
    assert report.status == "accepted"
    assert any("“" in str(m) for m in response.context["messages"])
    # The reporter cannot move it: 403.
    assert (
        web_client(actors.reporter).post(url, {"transition": "start_verification"}).status_code
        == 403
    )
    page = web.get(reverse("reports:report_detail", args=[report.public_id])).content.decode()
    assert 'id="timeline"' in page


def test_the_reporter_adds_a_correction_and_the_report_stays(actors: Actors) -> None:
    report = file_report(actors)
    web = web_client(actors.reporter)
    response = web.post(
        reverse("reports:report_addendum", args=[report.public_id]), {"text": "更正：是左臂。"}
    )
    assert response.status_code == 302
    assert ReportAddendum.objects.get(report=report).text == "更正：是左臂。"
    report.refresh_from_db()
    assert report.facts == FACTS
    html = web.get(reverse("reports:report_detail", args=[report.public_id])).content.decode()
    assert "更正：是左臂。" in html


@pytest.mark.parametrize(
    ("actor", "flagged"),
    [
        ("county_admin", True),
        ("department_officer", True),  # the police handle it
        # Education, which the report did not go to: nothing, not even a line it cannot open.
        ("other_department_officer", False),
    ],
)
def test_urgent_reports_are_flagged_on_every_handlers_home_until_accepted(
    actors: Actors, actor: str, flagged: bool
) -> None:
    report = file_report(actors, urgency="imminent")
    web = web_client(getattr(actors, actor))
    html = web.get(reverse("home")).content.decode()
    assert 'id="panel-urgent_reports"' in html
    assert (report.receipt_no in html) is flagged
    assert (reverse("reports:report_detail", args=[report.public_id]) in html) is flagged
    assert CHILD_NAME not in html
    if not flagged:
        return
    from tongxin.protection import services

    services.report_transition(actor=actors.department_officer, report=report, transition="accept")
    assert report.receipt_no not in web.get(reverse("home")).content.decode()


def test_a_normal_report_is_not_flagged(actors: Actors) -> None:
    report = file_report(actors, urgency="normal")
    html = web_client(actors.county_admin).get(reverse("home")).content.decode()
    assert report.receipt_no not in html


def test_the_reporters_home_lists_its_reports(actors: Actors) -> None:
    report = file_report(actors)
    html = web_client(actors.reporter).get(reverse("home")).content.decode()
    assert report.receipt_no in html
    assert reverse("reports:report_detail", args=[report.public_id]) in html


def test_the_village_director_links_the_registered_child(actors: Actors) -> None:
    from tongxin.protection.tests.conftest import make_family

    report = file_report(actors)
    child = make_family(actors, name=CHILD_NAME, father_left=None, mother_left=None)
    task = report.tasks.get()
    web = web_client(actors.village_director)
    url = reverse("reports:task_done", args=[task.public_id])
    page = web.get(url)
    assert page.status_code == 200
    assert CHILD_NAME in page.content.decode()
    assert web.post(url, {"child": str(child.public_id)}).status_code == 302
    report.refresh_from_db()
    assert report.child == child
    assert web_client(actors.other_village_director).get(url).status_code == 404


def test_the_county_records_a_failure_to_report(actors: Actors) -> None:
    web = web_client(actors.county_admin)
    response = web.post(
        reverse("reports:failure_create"),
        {
            "division": "620724100201",
            "organisation_name": "东村小学",
            "found_on": "2024-06-01",
            "summary": "班主任发现未报告",
            "follow_up": "talk",
        },
    )
    assert response.status_code == 302
    html = web_client(actors.auditor).get(reverse("reports:failure_list")).content.decode()
    assert "东村小学" in html
