"""The access matrix of a mandatory report, each cell on its own: reporter, village director,
another village's director, the handling department, another department, the county officer
and the auditor × the list, the report's page, its narrative and its attachments — in the pages
and in the API. Names in reports of suspected sexual abuse show as *** to all but the handlers.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tongxin.audit.models import AuditEvent
from tongxin.protection.access import ReportView, view_for
from tongxin.protection.models import MandatoryReport
from tongxin.protection.rules import Party, Status, Transition
from tongxin.protection.tests.conftest import CHILD_NAME, FACTS, file_report, pdf
from tongxin.testing import Actors, api_client, web_client

# actor → (listed, detail opens, narrative shown, attachments open)
MATRIX: dict[str, tuple[bool, bool, bool, bool]] = {
    "reporter": (True, True, False, False),
    "village_director": (True, True, False, False),
    "other_village_director": (False, False, False, False),
    "department_officer": (True, True, True, True),  # the police: the handling department
    "other_department_officer": (False, False, False, False),  # education
    "county_admin": (True, True, True, True),
    "auditor": (True, True, True, True),
    # Beyond the matrix of the issue: nobody else sees anything either.
    "town_supervisor": (False, False, False, False),
    "other_town_director": (False, False, False, False),
    "other_county_admin": (False, False, False, False),
}
CELLS = [(actor, cell) for actor in MATRIX for cell in range(4)]
CELL_NAMES = ["list", "detail", "narrative", "attachments"]


@pytest.fixture
def report(actors: Actors) -> MandatoryReport:
    return file_report(actors, attachments=[pdf()])


def _cell(actors: Actors, report: MandatoryReport, actor: str, cell: int, *, api: bool) -> bool:
    user = getattr(actors, actor)
    attachment = report.attachments.get()
    if api:
        client = api_client(user)
        if cell == 0:
            response = client.get(reverse("api:report_collection"), {"status": "all"})
            return response.status_code == 200 and report.receipt_no in response.content.decode()
        if cell == 3:
            # The file opens exactly for those the report's answer lists the attachment to.
            url = reverse("api:report_attachment", args=[report.public_id, attachment.public_id])
            served = client.get(url)
            assert served.status_code in (200, 404)
            if served.status_code == 200:
                assert served.getvalue().startswith(b"%PDF-")
            answer = client.get(reverse("api:report_detail", args=[report.public_id]))
            shown = answer.status_code == 200 and [
                a["id"] for a in answer.json().get("attachments", [])
            ] == [str(attachment.public_id)]
            assert shown is (served.status_code == 200)
            return shown
        response = client.get(reverse("api:report_detail", args=[report.public_id]))
        if response.status_code == 404:
            return False
        assert response.status_code == 200
        body = response.json()
        if cell == 1:
            return bool(body["receipt_no"] == report.receipt_no)
        return bool(body.get("facts") == FACTS)
    web = web_client(user)
    detail = reverse("reports:report_detail", args=[report.public_id])
    if cell == 0:
        listed = web.get(reverse("reports:report_list"), {"status": "all"})
        assert listed.status_code in (200, 404)
        return listed.status_code == 200 and report.receipt_no in listed.content.decode()
    if cell == 3:
        url = reverse("reports:report_attachment", args=[report.public_id, attachment.public_id])
        opened = web.get(url)
        assert opened.status_code in (200, 404)
        if opened.status_code == 200:
            assert opened.getvalue().startswith(b"%PDF-")
        return opened.status_code == 200
    page = web.get(detail)
    assert page.status_code in (200, 404)
    if cell == 1:
        return page.status_code == 200
    return FACTS in page.content.decode()


@pytest.mark.parametrize(("actor", "cell"), CELLS, ids=[f"{a}-{CELL_NAMES[c]}" for a, c in CELLS])
def test_the_page_cell(actors: Actors, report: MandatoryReport, actor: str, cell: int) -> None:
    assert _cell(actors, report, actor, cell, api=False) is MATRIX[actor][cell]


@pytest.mark.parametrize(("actor", "cell"), CELLS, ids=[f"{a}-{CELL_NAMES[c]}" for a, c in CELLS])
def test_the_api_cell(actors: Actors, report: MandatoryReport, actor: str, cell: int) -> None:
    assert _cell(actors, report, actor, cell, api=True) is MATRIX[actor][cell]


# --- routing: which departments receive a school's urgent report at once (issue 10) -------------
#
# A department the report went to reads it all at once (the list, its page, its facts, in the
# pages and in the API); one it did not go to gets 404. Written out by hand from the law:
# a suspected crime, or imminent danger, goes to the police and civil affairs.

# id → (harm, urgency, the harm's row of the routing table when the county changed it, actor,
# whether the actor reads the report)
ROUTED: dict[str, tuple[str, str, tuple[str, ...] | None, str, bool]] = {
    "violence-police": ("physical_abuse", "urgent", None, "department_officer", True),
    "violence-education-not-routed": (
        "physical_abuse",
        "urgent",
        None,
        "other_department_officer",
        False,
    ),
    "violence-education-routed": (
        "physical_abuse",
        "urgent",
        ("police", "civil_affairs", "education"),
        "other_department_officer",
        True,
    ),
    "domestic-violence-police": ("domestic_violence", "urgent", None, "department_officer", True),
    "trafficking-police": ("trafficking", "normal", None, "department_officer", True),
    "other-crime-police": ("other_crime", "urgent", None, "department_officer", True),
    "other-crime-education": ("other_crime", "urgent", None, "other_department_officer", False),
    "bullying-education": ("bullying", "urgent", None, "other_department_officer", True),
    "bullying-police-not-routed": ("bullying", "urgent", None, "department_officer", False),
    "neglect-police-not-routed": ("neglect", "urgent", None, "department_officer", False),
    "neglect-imminent-police": ("neglect", "imminent", None, "department_officer", True),
    "neglect-routed-to-police": (
        "neglect",
        "normal",
        ("civil_affairs", "police"),
        "department_officer",
        True,
    ),
}


@pytest.mark.parametrize("case", list(ROUTED))
def test_a_department_reads_a_report_exactly_when_it_went_there(actors: Actors, case: str) -> None:
    harm, urgency, row, actor, reads = ROUTED[case]
    if row is not None:
        from tongxin.protection import services
        from tongxin.protection.rules import DEFAULT_ROUTING

        table = {key: list(v) for key, v in DEFAULT_ROUTING.items()}
        table[harm] = list(row)
        services.routing_version_add(actor=actors.county_admin, table=table, reason="县里决定")
    report = file_report(actors, harms=(harm,), urgency=urgency)
    user = getattr(actors, actor)
    web, api = web_client(user), api_client(user)
    listed = web.get(reverse("reports:report_list")).content.decode()
    api_listed = api.get(reverse("api:report_collection")).json()
    page = web.get(reverse("reports:report_detail", args=[report.public_id]))
    answer = api.get(reverse("api:report_detail", args=[report.public_id]))
    assert (report.receipt_no in listed) is reads
    assert (report.receipt_no in [r["receipt_no"] for r in api_listed["results"]]) is reads
    assert page.status_code == (200 if reads else 404)
    assert answer.status_code == (200 if reads else 404)
    if reads:
        assert FACTS in page.content.decode()
        assert answer.json()["facts"] == FACTS


def test_the_system_administrator_has_no_report_pages(
    actors: Actors, report: MandatoryReport
) -> None:
    web = web_client(actors.system_admin)
    assert web.get(reverse("reports:report_list")).status_code == 404
    assert web.get(reverse("reports:report_detail", args=[report.public_id])).status_code == 404


# --- what the partial views show ---------------------------------------------------------------


def test_the_reporter_sees_the_status_and_the_result_told_never_the_handling_record(
    actors: Actors, report: MandatoryReport
) -> None:
    from tongxin.protection import services

    police = actors.department_officer
    steps: list[tuple[str, dict[str, Any]]] = [
        ("accept", {}),
        ("start_verification", {}),
        ("record_result", {"result": "内部处理记录：已立案侦查"}),
        ("inform_reporter", {"result_for_reporter": "已依法处理，感谢您的报告。"}),
    ]
    for step, extra in steps:
        services.report_transition(actor=police, report=report, transition=step, **extra)
    page = web_client(actors.reporter).get(
        reverse("reports:report_detail", args=[report.public_id])
    )
    html = page.content.decode()
    assert "已依法处理，感谢您的报告。" in html
    assert "内部处理记录" not in html
    assert 'id="timeline"' not in html
    body = (
        api_client(actors.reporter)
        .get(reverse("api:report_detail", args=[report.receipt_no]))
        .json()
    )
    assert body["view"] == "status"
    assert body["status"] == "reporter_informed"
    assert body["result_for_reporter"] == "已依法处理，感谢您的报告。"
    assert "result" not in body
    assert "timeline" not in body
    assert body["transitions"] == []


def test_the_village_director_sees_that_it_exists_and_the_villages_task(
    actors: Actors, report: MandatoryReport
) -> None:
    body = (
        api_client(actors.village_director)
        .get(reverse("api:report_detail", args=[report.public_id]))
        .json()
    )
    assert body["view"] == "exists"
    assert [t["kind"] for t in body["tasks"]] == ["register_child"]
    assert "facts" not in body
    assert "harms" not in body
    html = web_client(actors.village_director).get(reverse("reports:report_list")).content.decode()
    assert reverse("reports:task_done", args=[report.tasks.get().public_id]) in html


def test_a_confidential_reporter_is_known_to_those_who_act_not_to_the_auditor(
    actors: Actors,
) -> None:
    report = file_report(actors, keep_identity_confidential=True)
    phone = "13900000000"
    for actor, shown in [("county_admin", True), ("department_officer", True), ("auditor", False)]:
        html = (
            web_client(getattr(actors, actor))
            .get(reverse("reports:report_detail", args=[report.public_id]))
            .content.decode()
        )
        assert (phone in html) is shown, actor


@pytest.mark.parametrize(
    ("actor", "sees_name"),
    [
        ("department_officer", True),  # the handlers (police)
        ("county_admin", False),
        ("auditor", False),
        ("village_director", False),
        ("reporter", False),
    ],
)
def test_names_in_a_report_of_sexual_abuse_show_only_to_its_handlers(
    actors: Actors, actor: str, sees_name: bool
) -> None:
    report = file_report(actors, harms=("sexual_abuse",))
    user = getattr(actors, actor)
    html = (
        web_client(user)
        .get(reverse("reports:report_detail", args=[report.public_id]))
        .content.decode()
    )
    assert (CHILD_NAME in html) is sees_name
    assert ("***" in html) is not sees_name
    listed = web_client(user).get(reverse("reports:report_list")).content.decode()
    assert (CHILD_NAME in listed) is sees_name
    body = api_client(user).get(reverse("api:report_detail", args=[report.public_id])).json()
    assert body["child_name"] == (CHILD_NAME if sees_name else "***")


def test_a_report_without_sexual_abuse_shows_the_name(
    actors: Actors, report: MandatoryReport
) -> None:
    html = (
        web_client(actors.county_admin)
        .get(reverse("reports:report_detail", args=[report.public_id]))
        .content.decode()
    )
    assert CHILD_NAME in html


# --- every read audited ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "level"),
    [("auditor", "full"), ("reporter", "status"), ("village_director", "exists")],
)
def test_every_opening_is_audited_without_the_content(
    actors: Actors, report: MandatoryReport, actor: str, level: str
) -> None:
    user = getattr(actors, actor)
    web_client(user).get(reverse("reports:report_detail", args=[report.public_id]))
    api_client(user).get(reverse("api:report_detail", args=[report.public_id]))
    opened = AuditEvent.objects.filter(
        actor=user, action="report.view", object_code=str(report.public_id)
    )
    assert opened.count() == 2
    assert {e.detail["view"] for e in opened} == {level}
    assert all(FACTS not in str(e.detail) for e in opened)


def test_an_attachment_read_is_audited(actors: Actors, report: MandatoryReport) -> None:
    attachment = report.attachments.get()
    web_client(actors.auditor).get(
        reverse("reports:report_attachment", args=[report.public_id, attachment.public_id])
    )
    assert AuditEvent.objects.filter(
        actor=actors.auditor, action="report.attachment_view", object_code=str(report.public_id)
    ).exists()


def test_a_refused_opening_is_audited_as_denied(actors: Actors, report: MandatoryReport) -> None:
    response = web_client(actors.other_village_director).get(
        reverse("reports:report_detail", args=[report.public_id])
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        actor=actors.other_village_director,
        action="report.view",
        result="denied",
        object_code=str(report.public_id),
    ).exists()


# --- the pure table --------------------------------------------------------------------------


def test_the_table_gives_each_party_its_view() -> None:
    def view(*parties: Party, read_only: bool = False, masked: bool = True) -> ReportView:
        return view_for(
            frozenset(parties),
            status=Status.RECEIVED,
            names_masked=masked,
            identity_confidential=True,
            read_only=read_only,
        )

    handler = view(Party.HANDLER)
    assert handler.narrative
    assert not handler.names_masked
    assert handler.transitions == (
        Transition.ACCEPT,
        Transition.REJECT,
        Transition.TRANSFER,
    )
    auditor = view(Party.AUDITOR, read_only=True)
    assert auditor.narrative
    assert auditor.names_masked
    assert auditor.transitions == ()
    assert not auditor.reporter_identity
    village = view(Party.VILLAGE)
    assert not village.narrative
    assert village.tasks
    assert not village.adds_addenda
    # A department it went to at once: reads it all, knows the reporter, adds to it; the
    # handling department alone moves it and sees the names of a sexual-abuse report.
    recipient = view(Party.RECIPIENT)
    assert recipient.narrative
    assert recipient.attachments
    assert recipient.reporter_identity
    assert recipient.adds_addenda
    assert recipient.transitions == ()
    assert recipient.names_masked
    reporter = view(Party.REPORTER)
    assert reporter.result_told
    assert not reporter.tasks
    assert reporter.adds_addenda
    assert not view().visible
