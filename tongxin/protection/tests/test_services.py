"""Writes of mandatory reports: intake with a receipt number, routing and notifications, the
problem and risk a report gives its child, transitions with their checks, immutability, addenda,
the village's registration task, records of cases unreported, and clock alerts. No narrative in
any audit entry, notification, e-mail or log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from tongxin.accounts.models import Organisation
from tongxin.audit.models import AuditEvent
from tongxin.geo.models import Division
from tongxin.notices.models import Notification
from tongxin.protection import services
from tongxin.protection.models import (
    Concern,
    FailureToReport,
    MandatoryReport,
    ReportAddendum,
    ReportCounter,
    ReportEvent,
    ReportHarm,
    ReportTask,
)
from tongxin.protection.rules import ConcernStatus, Severity
from tongxin.protection.tests.conftest import FACTS, file_report, pdf
from tongxin.registry.models import Child
from tongxin.testing import Actors
from tongxin.visits.models import ChildRisk

TZ = ZoneInfo("Asia/Shanghai")


def _org(key: str) -> Organisation:
    names = {"police": "高台县公安局", "education": "高台县教育局", "civil": "高台县民政局"}
    return Organisation.objects.get(name=names[key])


def _walk(actors: Actors, report: MandatoryReport, *, actor: str = "department_officer") -> None:
    """From received to closed."""
    user = getattr(actors, actor)
    steps: list[tuple[str, dict[str, Any]]] = [
        ("accept", {}),
        ("start_verification", {}),
        ("record_result", {"result": "已核实，已处置。"}),
        ("inform_reporter", {"result_for_reporter": "已受理并处置，谢谢报告。"}),
        ("close", {}),
    ]
    for step, extra in steps:
        report = services.report_transition(actor=user, report=report, transition=step, **extra)


# --- intake ----------------------------------------------------------------------------------


def test_it_gives_a_receipt_number_at_once_counting_per_county_and_year(actors: Actors) -> None:
    first = file_report(actors, now=datetime(2024, 12, 31, 23, 0, tzinfo=TZ))
    second = file_report(actors, now=datetime(2024, 12, 31, 23, 30, tzinfo=TZ))
    # Shanghai's new year, though UTC is still in 2024.
    third = file_report(actors, now=datetime(2025, 1, 1, 0, 30, tzinfo=TZ))
    assert [first.receipt_no, second.receipt_no, third.receipt_no] == [
        "GT-2024-000001",
        "GT-2024-000002",
        "GT-2025-000001",
    ]
    assert ReportCounter.objects.get(county_code="620724", year=2024).last == 2


def test_a_county_without_a_prefix_uses_its_code(actors: Actors, settings: Any) -> None:
    settings.TONGXIN_REPORTS = {"RECEIPT_PREFIXES": {}}
    report = file_report(actors, now=datetime(2024, 5, 2, 9, tzinfo=TZ))
    assert report.receipt_no == "620724-2024-000001"


def test_it_records_the_report_as_the_reporter_filed_it(actors: Actors) -> None:
    report = file_report(actors, harms=("neglect", "physical_abuse"), attachments=[pdf()])
    assert report.status == "received"
    assert report.reporting_organisation == actors.reporter.organisation
    assert report.reporter_name == actors.reporter.name
    assert report.reporter_phone == "13900000000"
    assert report.child is None
    assert report.child_name == "赵小花"
    assert report.division_id == "620724100201"  # the described child's village
    assert report.county_code == "620724"
    assert report.harm_values == ["physical_abuse", "neglect"]
    assert report.handling_department == _org("police")
    assert report.acceptance_due_at == report.submitted_at + timedelta(hours=24)
    assert report.attachments.count() == 1
    event = ReportEvent.objects.get(report=report)
    assert (event.action, event.to_status, event.actor) == ("submit", "received", actors.reporter)


@pytest.mark.parametrize(
    ("harms", "urgency", "department"),
    [
        (("bullying",), "urgent", "education"),
        (("neglect",), "normal", "civil"),
        (("bullying",), "imminent", "police"),
    ],
)
def test_it_routes_the_report_to_a_department(
    actors: Actors, harms: tuple[str, ...], urgency: str, department: str
) -> None:
    report = file_report(actors, harms=harms, urgency=urgency)
    assert report.handling_department == _org(department)


def test_an_officer_records_a_phone_report_and_chooses_the_department(actors: Actors) -> None:
    report = services.report_submit(
        actor=actors.county_admin,
        harms=["neglect"],
        facts=FACTS,
        urgency="normal",
        described=services.ChildDescription(name="不详"),
        channel="phone",
        reporter_name="",
        reporting_organisation_name="某幼儿园",
        reporting_institution_type="kindergarten",
        handling_department=_org("education"),
    )
    assert report.channel == "phone"
    assert report.reporting_organisation is None
    assert report.reporting_organisation_name == "某幼儿园"
    assert report.reporting_institution_type == "kindergarten"
    assert report.handling_department == _org("education")
    assert report.division_id == "620724000000"  # no village known: the officer's county
    task = ReportTask.objects.get(report=report)
    assert task.division_id == "620724000000"


def test_a_reporter_must_leave_a_phone_number(actors: Actors) -> None:
    with pytest.raises(ValidationError) as refused:
        services.report_submit(
            actor=actors.reporter,
            harms=["neglect"],
            facts=FACTS,
            urgency="normal",
            described=services.ChildDescription(name="不详"),
        )
    assert "reporter_phone" in refused.value.message_dict


def test_a_reporter_may_not_record_for_others_or_choose_the_department(actors: Actors) -> None:
    with pytest.raises(PermissionDenied):
        file_report(actors, channel="phone")
    with pytest.raises(PermissionDenied):
        file_report(actors, handling_department=_org("education"))


@pytest.mark.parametrize("actor", ["auditor", "system_admin"])
def test_roles_that_do_not_report_cannot_file(actors: Actors, actor: str) -> None:
    with pytest.raises(PermissionDenied):
        file_report(actors, actor=actor)


def test_a_reporter_cannot_name_a_registered_child(actors: Actors, child: Child) -> None:
    with pytest.raises(PermissionDenied):
        file_report(actors, child=child)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"harms": ()}, "harms"),
        ({"harms": ("beating",)}, "harms"),
        ({"urgency": "soon"}, "urgency"),
        ({"name": " "}, "child_name"),
        ({"village": "620702100000"}, "child_village"),  # a town of another county
        ({"discovered_at": timezone.now() + timedelta(hours=2)}, "discovered_at"),
        ({"attachments": [pdf(size=5 * 1024 * 1024 + 1)]}, "attachments"),
        ({"attachments": [pdf()] * 6}, "attachments"),
    ],
)
def test_it_refuses_an_incomplete_report(
    actors: Actors, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        file_report(actors, **changes)
    assert field in refused.value.message_dict
    assert not MandatoryReport.objects.exists()


def test_it_refuses_a_file_that_is_no_pdf_or_photo(actors: Actors) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as refused:
        file_report(actors, attachments=[fake])
    assert "attachments" in refused.value.message_dict


def test_it_notifies_the_departments_it_went_to_in_app_and_by_email(
    actors: Actors, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    for key in ("department_officer", "other_department_officer", "county_admin"):
        user = getattr(actors, key)
        user.email = f"{key}@example.org"
        user.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        report = file_report(actors, urgency="imminent")
    notified = set(
        Notification.objects.filter(key=f"report:{report.public_id}:received").values_list(
            "recipient__username", flat=True
        )
    )
    # Imminent physical abuse goes to the police and civil affairs; education, not routed,
    # would find the report closed to it, and hears nothing.
    assert notified == {"department_officer", "county_admin"}
    assert {m.to[0] for m in mail.outbox} == {
        "department_officer@example.org",
        "county_admin@example.org",
    }
    bullying = file_report(actors, harms=("bullying",))
    assert set(
        Notification.objects.filter(key=f"report:{bullying.public_id}:received").values_list(
            "recipient__username", flat=True
        )
    ) == {"other_department_officer", "county_admin"}
    note = Notification.objects.filter(recipient=actors.department_officer).get()
    assert report.receipt_no in note.title
    assert "紧急" in note.title or "危险" in note.title
    for text in [note.title, note.body, *(m.body for m in mail.outbox)]:
        assert FACTS not in text
        assert "赵小花" not in text


# --- the child's problem and risk ------------------------------------------------------------


def test_a_linked_child_gets_a_high_problem_and_high_risk_until_the_report_closes(
    actors: Actors, child: Child
) -> None:
    before = ChildRisk.objects.filter(child=child).values_list("computed_level", flat=True).first()
    report = file_report(
        actors, actor="county_admin", child=child, harms=("physical_abuse", "neglect")
    )
    concerns = Concern.objects.filter(child=child, report=report)
    assert sorted(concerns.values_list("category", flat=True)) == ["guardianship", "safety"]
    assert set(concerns.values_list("severity", flat=True)) == {Severity.HIGH}
    assert all(FACTS not in c.description for c in concerns)
    assert ChildRisk.objects.get(child=child).level == "high"
    _walk(actors, report, actor="county_admin")
    assert set(concerns.values_list("status", flat=True)) == {ConcernStatus.RESOLVED}
    assert before in (None, "low")
    assert ChildRisk.objects.get(child=child).level == "low"


def test_a_rejected_report_ends_the_childs_problem(actors: Actors, child: Child) -> None:
    report = file_report(actors, actor="county_admin", child=child)
    services.report_transition(
        actor=actors.county_admin, report=report, transition="reject", reason="重复报告"
    )
    assert not Concern.objects.filter(report=report, status="open").exists()


def test_the_village_registers_a_described_child_and_links_the_file(
    actors: Actors, child: Child
) -> None:
    report = file_report(actors)
    task = ReportTask.objects.get(report=report)
    assert (task.division_id, task.status) == ("620724100201", "open")
    with pytest.raises(PermissionDenied):
        services.report_task_complete(actor=actors.other_village_director, task=task, child=child)
    services.report_task_complete(actor=actors.village_director, task=task, child=child)
    report.refresh_from_db()
    assert report.child == child
    assert Concern.objects.filter(report=report, child=child, severity="high").exists()
    assert ReportEvent.objects.filter(report=report, action="child_linked").exists()
    task.refresh_from_db()
    assert task.status == "done"
    with pytest.raises(services.ReportConflict):
        services.report_task_complete(actor=actors.village_director, task=task, child=child)


# --- transitions -----------------------------------------------------------------------------


def test_the_handler_walks_the_report_to_closed_with_a_timeline(
    actors: Actors, report: MandatoryReport
) -> None:
    _walk(actors, report)
    report.refresh_from_db()
    assert report.status == "closed"
    assert report.result == "已核实，已处置。"
    assert report.result_for_reporter == "已受理并处置，谢谢报告。"
    assert report.accepted_at is not None
    assert report.result_due_at is not None
    assert report.ended_at is not None
    actions = list(ReportEvent.objects.filter(report=report).values_list("action", flat=True))
    assert actions == [
        "submit",
        "accept",
        "start_verification",
        "record_result",
        "inform_reporter",
        "close",
    ]
    audited = AuditEvent.objects.filter(object_code=str(report.public_id))
    assert "report.close" in set(audited.values_list("action", flat=True))


@pytest.mark.parametrize(
    "actor", ["reporter", "village_director", "other_department_officer", "town_supervisor"]
)
def test_those_who_do_not_handle_cannot_move_the_report(
    actors: Actors, report: MandatoryReport, actor: str
) -> None:
    with pytest.raises(PermissionDenied):
        services.report_transition(actor=getattr(actors, actor), report=report, transition="accept")
    report.refresh_from_db()
    assert report.status == "received"


def test_the_auditor_is_read_only(actors: Actors, report: MandatoryReport) -> None:
    with pytest.raises(PermissionDenied):
        services.report_transition(actor=actors.auditor, report=report, transition="accept")


def test_a_step_from_the_wrong_status_is_a_conflict(
    actors: Actors, report: MandatoryReport
) -> None:
    with pytest.raises(services.ReportConflict):
        services.report_transition(actor=actors.county_admin, report=report, transition="close")


@pytest.mark.parametrize(
    ("transition", "field"),
    [("reject", "reason"), ("transfer", "department"), ("transfer", "reason")],
)
def test_a_step_needs_its_reason_or_department(
    actors: Actors, report: MandatoryReport, transition: str, field: str
) -> None:
    given: dict[str, Any] = {"reason": "不属本部门职责", "department": _org("education")}
    given.pop(field)
    with pytest.raises(ValidationError) as refused:
        services.report_transition(
            actor=actors.department_officer, report=report, transition=transition, **given
        )
    assert field in refused.value.message_dict


def test_a_transfer_hands_the_report_to_the_new_department_and_restarts_its_clock(
    actors: Actors, report: MandatoryReport
) -> None:
    services.report_transition(actor=actors.department_officer, report=report, transition="accept")
    later = timezone.now() + timedelta(hours=5)
    moved = services.report_transition(
        actor=actors.department_officer,
        report=report,
        transition="transfer",
        department=_org("education"),
        reason="校园欺凌，由教育局处理",
        now=later,
    )
    assert moved.status == "transferred"
    assert moved.handling_department == _org("education")
    assert moved.received_at == later
    assert moved.accepted_at is None
    assert moved.acceptance_due_at == later + timedelta(hours=24)
    # The police no longer handle it; education does, and was told.
    with pytest.raises(PermissionDenied):
        services.report_transition(
            actor=actors.department_officer, report=moved, transition="accept"
        )
    assert Notification.objects.filter(
        recipient=actors.other_department_officer, kind="report_transferred"
    ).exists()
    accepted = services.report_transition(
        actor=actors.other_department_officer, report=moved, transition="accept"
    )
    assert accepted.status == "accepted"
    event = ReportEvent.objects.get(report=report, action="transfer")
    assert event.department == _org("education")


def test_the_acceptance_limit_is_a_setting(actors: Actors, settings: Any) -> None:
    settings.TONGXIN_REPORTS = {"ACCEPTANCE_LIMIT": "1wd"}
    friday = datetime(2024, 9, 27, 15, tzinfo=TZ)
    report = file_report(actors, now=friday)
    # The Sunday after works (National Day): one working day ends with it.
    assert report.acceptance_due_at is not None
    assert timezone.localtime(report.acceptance_due_at).date().isoformat() == "2024-09-29"


# --- immutability ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"facts": "改过的内容"},
        {"child_name": "别人"},
        {"urgency": "normal"},
        {"submitted_at": timezone.now()},
        {"receipt_no": "GT-1999-000001"},
    ],
)
def test_the_database_refuses_to_change_a_submitted_report(
    actors: Actors, report: MandatoryReport, change: dict[str, Any]
) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        MandatoryReport.objects.filter(pk=report.pk).update(**change)
    report.refresh_from_db()
    assert report.facts == FACTS


def test_the_database_refuses_to_delete_a_report_or_its_records(
    actors: Actors, report: MandatoryReport
) -> None:
    services.report_addendum_add(actor=actors.reporter, report=report, text="补充：孩子已回家。")
    for queryset in [
        MandatoryReport.objects.filter(pk=report.pk),
        ReportHarm.objects.filter(report=report),
        ReportEvent.objects.filter(report=report),
        ReportAddendum.objects.filter(report=report),
    ]:
        with pytest.raises(DatabaseError), transaction.atomic():
            queryset._raw_delete(queryset.db)
    assert MandatoryReport.objects.filter(pk=report.pk).exists()


def test_the_workflow_columns_stay_writable_and_the_child_is_linked_once(
    actors: Actors, report: MandatoryReport, child: Child
) -> None:
    MandatoryReport.objects.filter(pk=report.pk).update(status="accepted", child=child)
    other = make_other_child(actors)
    with pytest.raises(DatabaseError), transaction.atomic():
        MandatoryReport.objects.filter(pk=report.pk).update(child=other)


def make_other_child(actors: Actors) -> Child:
    from tongxin.registry.tests.conftest import make_family

    return make_family(actors, name="孙小亮")


def test_an_addendum_is_kept_beside_the_unchanged_report(
    actors: Actors, report: MandatoryReport
) -> None:
    addendum = services.report_addendum_add(
        actor=actors.reporter, report=report, text="更正：发现时间是上午。", attachments=[pdf()]
    )
    report.refresh_from_db()
    assert report.facts == FACTS
    assert addendum.text == "更正：发现时间是上午。"
    assert report.attachments.filter(addendum=addendum).count() == 1
    for actor in ("village_director", "auditor", "other_department_officer"):
        with pytest.raises(PermissionDenied):
            services.report_addendum_add(actor=getattr(actors, actor), report=report, text="x")


# --- no narrative anywhere it does not belong ------------------------------------------------


def test_no_narrative_reaches_the_audit_trail_or_the_log(
    actors: Actors, caplog: pytest.LogCaptureFixture, child: Child
) -> None:
    caplog.set_level(logging.DEBUG)
    report = file_report(actors, actor="county_admin", child=child)
    services.report_addendum_add(actor=actors.county_admin, report=report, text="补充叙述甲乙丙")
    services.report_transition(
        actor=actors.county_admin, report=report, transition="reject", reason="理由叙述丁戊己"
    )
    details = " ".join(
        str(e.detail) for e in AuditEvent.objects.filter(action__startswith="report.")
    )
    assert "report.submit" in set(AuditEvent.objects.values_list("action", flat=True))
    for secret in (FACTS, "补充叙述甲乙丙", "理由叙述丁戊己"):
        assert secret not in details
        assert secret not in caplog.text
        assert not Notification.objects.filter(body__contains=secret).exists()


# --- failures to report ----------------------------------------------------------------------


def test_the_county_records_a_case_that_went_unreported(
    actors: Actors, report: MandatoryReport
) -> None:
    fields = {
        "division": Division.objects.get(code="620724100201"),
        "report": report,
        "organisation_name": "东村幼儿园",
        "person": "某教师",
        "found_on": timezone.localdate(),
        "summary": "教师发现伤痕未报告",
        "follow_up": "criticism",
    }
    failure = services.failure_record(actor=actors.county_admin, fields=fields)
    assert failure.county_code == "620724"
    assert list(FailureToReport.objects.visible_to(actors.auditor)) == [failure]
    assert not FailureToReport.objects.visible_to(actors.village_director).exists()
    assert not FailureToReport.objects.visible_to(actors.other_county_admin).exists()
    with pytest.raises(PermissionDenied):
        services.failure_record(actor=actors.department_officer, fields=fields)
    with pytest.raises(ValidationError) as refused:
        services.failure_record(
            actor=actors.county_admin,
            fields={**fields, "organisation_name": "", "person": "", "follow_up": "x"},
        )
    assert set(refused.value.message_dict) == {"organisation_name", "follow_up"}


# --- clock alerts ----------------------------------------------------------------------------


def test_a_breached_clock_alerts_the_handler_and_the_county_once(
    actors: Actors, report: MandatoryReport
) -> None:
    assert report.acceptance_due_at is not None
    assert services.report_clock_alerts(now=report.acceptance_due_at - timedelta(minutes=1)) == 0
    written = services.report_clock_alerts(now=report.acceptance_due_at + timedelta(minutes=1))
    recipients = set(
        Notification.objects.filter(kind="report_clock").values_list(
            "recipient__username", flat=True
        )
    )
    assert recipients == {"department_officer", "county_admin"}
    assert written == 2
    assert services.report_clock_alerts(now=report.acceptance_due_at + timedelta(hours=2)) == 0
    # Accepted: the result clock is now the one that may run out, in 15 days.
    accepted = services.report_transition(
        actor=actors.department_officer, report=report, transition="accept"
    )
    assert accepted.result_due_at is not None
    assert services.report_clock_alerts(now=accepted.result_due_at + timedelta(seconds=1)) == 2


def test_the_command_alerts_once(actors: Actors, report: MandatoryReport) -> None:
    from io import StringIO

    import time_machine
    from django.core.management import call_command

    assert report.acceptance_due_at is not None
    out = StringIO()
    with time_machine.travel(report.acceptance_due_at + timedelta(minutes=1)):
        call_command("report_clocks", stdout=out)
        call_command("report_clocks", stdout=out)
    assert out.getvalue().splitlines() == [
        "Report clocks: 2 alerts written.",
        "Report clocks: 0 alerts written.",
    ]
