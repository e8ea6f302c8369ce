"""Referrals (转介): the state machine (every allowed and refused transition), the acceptance
clock in working days (over a weekend, over a public holiday with its make-up working day),
sending (who may, to whom, which sections), the escalation (once), and the access matrix: the
receiving department sees only the shared sections, only while the referral is open."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tongxin.accounts.models import Organisation
from tongxin.audit.models import AuditEvent
from tongxin.notices.models import Notification
from tongxin.protection import problems, referrals, rules
from tongxin.protection.models import ActionKind, Concern, ConcernAction, MandatoryReport, Referral
from tongxin.protection.tests.conftest import CHILD_NAME, FACTS, file_report
from tongxin.protection.tests.test_problems import DESCRIPTION, police, raise_problem
from tongxin.registry.models import Child
from tongxin.testing import Actors, api_client, web_client
from tongxin.workdays.rules import WorkCalendar, chinese_calendar_entries, chinese_calendar_years

SH = ZoneInfo("Asia/Shanghai")
REASON = "孩子多次被同学欺凌，需要学校介入。"  # synthetic
OUTCOME = "学校已约谈双方家长并安排心理老师跟进。"  # synthetic


def education(actors: Actors) -> Organisation:
    organisation = actors.other_department_officer.organisation
    assert organisation is not None
    return organisation


def refer(
    actors: Actors,
    concern: Concern | None = None,
    report: MandatoryReport | None = None,
    *,
    actor: str = "county_admin",
    to: Organisation | None = None,
    sections: tuple[str, ...] = ("child", "problem"),
    now: datetime | None = None,
) -> Referral:
    return referrals.referral_send(
        actor=getattr(actors, actor),
        department=to or police(actors),
        reason=REASON,
        sections=list(sections),
        concern=concern,
        report=report,
        now=now,
    )


def move(actors: Actors, referral: Referral, transition: str, **kw: Any) -> Referral:
    return referrals.referral_transition(
        actor=actors.department_officer, referral=referral, transition=transition, **kw
    )


@pytest.fixture
def problem(actors: Actors, child: Child) -> Concern:
    return raise_problem(actors, child, category="psychological")


# --- the state machine --------------------------------------------------------------------------

RS, RT = rules.ReferralStatus, rules.ReferralTransition
ALLOWED = {
    (RS.SENT, RT.ACCEPT): RS.ACCEPTED,
    (RS.SENT, RT.DECLINE): RS.DECLINED,
    (RS.ACCEPTED, RT.COMPLETE): RS.DONE,
}
CELLS = [(s, t) for s in RS for t in RT]


@pytest.mark.parametrize(("status", "transition"), CELLS, ids=[f"{s}-{t}" for s, t in CELLS])
def test_the_rules_allow_exactly_the_referrals_steps(
    status: rules.ReferralStatus, transition: rules.ReferralTransition
) -> None:
    if (status, transition) in ALLOWED:
        assert rules.referral_target(status, transition) == ALLOWED[(status, transition)]
        assert transition in rules.referral_transitions(status)
    else:
        with pytest.raises(ValueError, match="refused"):
            rules.referral_target(status, transition)
        assert transition not in rules.referral_transitions(status)


@pytest.mark.parametrize(("status", "transition"), CELLS, ids=[f"{s}-{t}" for s, t in CELLS])
def test_the_service_follows_the_table(
    actors: Actors,
    problem: Concern,
    status: rules.ReferralStatus,
    transition: rules.ReferralTransition,
) -> None:
    referral = refer(actors, problem)
    Referral.objects.filter(pk=referral.pk).update(status=status)
    referral.refresh_from_db()
    given = {"reason": "不属于本部门职责", "outcome": OUTCOME}
    if (status, transition) in ALLOWED:
        moved = move(actors, referral, transition, **given)
        assert moved.status == ALLOWED[(status, transition)]
        assert AuditEvent.objects.filter(action=f"referral.{transition}").exists()
    elif status in rules.REFERRAL_OPEN:
        with pytest.raises(problems.Conflict):
            move(actors, referral, transition, **given)
    else:
        # Closed: the department no longer holds it at all.
        with pytest.raises(PermissionDenied):
            move(actors, referral, transition, **given)


def test_only_the_receiving_department_moves_a_referral(actors: Actors, problem: Concern) -> None:
    referral = refer(actors, problem)
    for actor in ("county_admin", "other_department_officer", "village_director", "auditor"):
        with pytest.raises(PermissionDenied):
            referrals.referral_transition(
                actor=getattr(actors, actor), referral=referral, transition="accept"
            )
    assert Referral.objects.get(pk=referral.pk).status == "sent"


def test_declining_needs_the_reason_and_completing_the_outcome(
    actors: Actors, problem: Concern
) -> None:
    referral = refer(actors, problem)
    with pytest.raises(ValidationError) as refused:
        move(actors, referral, "decline", reason=" ")
    assert "reason" in refused.value.message_dict
    move(actors, referral, "accept")
    with pytest.raises(ValidationError) as refused:
        move(actors, referral, "complete")
    assert "outcome" in refused.value.message_dict
    done = move(actors, referral, "complete", outcome=OUTCOME)
    assert (done.status, done.outcome, done.done_by) == ("done", OUTCOME, actors.department_officer)
    # The problem's timeline follows the referral; the sender hears of each step.
    steps = ConcernAction.objects.filter(concern=problem, kind=ActionKind.REFERRAL)
    assert [a.to_status for a in steps] == ["sent", "accepted", "done"]
    assert set(
        Notification.objects.filter(recipient=actors.county_admin).values_list("kind", flat=True)
    ) >= {"referral_accepted", "referral_done"}


# --- the acceptance clock -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "due_day"),
    [
        # Thursday → Friday, Monday, Tuesday (the weekend does not count).
        (datetime(2024, 6, 13, 10, 0, tzinfo=SH), datetime(2024, 6, 18, tzinfo=SH)),
        # Friday before National Day 2024: Sunday 29 September is a make-up working day,
        # Monday 30 September the second, 1-7 October the holiday, Tuesday 8 October the third.
        (datetime(2024, 9, 27, 16, 0, tzinfo=SH), datetime(2024, 10, 8, tzinfo=SH)),
        # Sent on a holiday: the days count from the next working days.
        (datetime(2024, 10, 3, 9, 0, tzinfo=SH), datetime(2024, 10, 10, tzinfo=SH)),
    ],
)
def test_the_acceptance_limit_is_three_working_days(sent: datetime, due_day: datetime) -> None:
    years = chinese_calendar_years()
    calendar = WorkCalendar.of(chinese_calendar_entries(years), years)
    due = rules.referral_acceptance_due(sent, calendar=calendar)
    assert due.astimezone(SH).date() == due_day.date()
    assert due.astimezone(SH).hour == 23
    assert not rules.referral_overdue(RS.SENT, due, due)
    assert rules.referral_overdue(RS.SENT, due, due + timedelta(seconds=1))
    assert not rules.referral_overdue(RS.ACCEPTED, due, due + timedelta(seconds=1))


def test_the_limit_is_a_setting(settings: Any, actors: Actors, problem: Concern) -> None:
    settings.TONGXIN_REPORTS = {"REFERRAL_ACCEPTANCE_LIMIT": "1wd"}
    referral = refer(actors, problem, now=datetime(2024, 6, 13, 10, 0, tzinfo=SH))
    assert referral.acceptance_due_at.astimezone(SH).date() == datetime(2024, 6, 14).date()


def test_an_unaccepted_referral_is_escalated_once_to_the_county_and_the_sender(
    actors: Actors, problem: Concern
) -> None:
    sent = datetime(2024, 9, 27, 16, 0, tzinfo=SH)
    late = refer(actors, problem, actor="town_supervisor", now=sent)
    accepted = refer(actors, problem, to=education(actors), now=sent)
    referrals.referral_transition(
        actor=actors.other_department_officer, referral=accepted, transition="accept"
    )
    # The last moment of its third working day: not yet.
    assert referrals.referral_escalations(now=datetime(2024, 10, 8, 23, 59, tzinfo=SH)) == 0
    after = datetime(2024, 10, 9, 0, 1, tzinfo=SH)
    assert referrals.referral_escalations(now=after) == 2
    notes = Notification.objects.filter(kind="referral_overdue")
    assert {n.recipient.username for n in notes} == {"county_admin", "town_supervisor"}
    assert all(REASON not in n.title + n.body for n in notes)
    assert {n.url for n in notes} == {reverse("reports:referral_detail", args=[late.public_id])}
    late.refresh_from_db()
    assert late.escalated_at == after
    # Idempotent: the next run writes nothing.
    assert referrals.referral_escalations(now=after) == 0
    assert AuditEvent.objects.filter(action="referral.escalate").count() == 1


# --- sending -------------------------------------------------------------------------------------


def test_the_hourly_command_escalates(actors: Actors, problem: Concern) -> None:
    refer(actors, problem, now=datetime(2024, 6, 13, 10, 0, tzinfo=SH))
    out = StringIO()
    call_command("report_clocks", stdout=out)
    assert "Referrals: 1 escalations written." in out.getvalue()  # the county officer, the sender
    out = StringIO()
    call_command("report_clocks", stdout=out)
    assert "Referrals:" not in out.getvalue()


def test_sending_tells_the_department_and_keeps_the_reason_out_of_the_audit(
    actors: Actors, problem: Concern
) -> None:
    referral = refer(actors, problem, now=datetime(2024, 6, 13, 10, 0, tzinfo=SH))
    assert referral.acceptance_due_at == datetime(2024, 6, 18, 23, 59, 59, 999999, tzinfo=SH)
    assert (referral.county_code, referral.division_id) == ("620724", problem.child.village_id)
    note = Notification.objects.get(recipient=actors.department_officer, kind="referral_received")
    assert note.url == reverse("reports:referral_detail", args=[referral.public_id])
    assert not Notification.objects.filter(
        recipient=actors.other_department_officer, kind="referral_received"
    ).exists()
    sent = AuditEvent.objects.get(action="referral.send")
    assert sent.detail["sections"] == ["child", "problem"]
    assert REASON not in str(sent.detail)
    assert ConcernAction.objects.filter(concern=problem, kind=ActionKind.REFERRAL).count() == 1


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        ("county_admin", True),
        ("town_supervisor", True),
        ("village_director", False),
        ("department_officer", False),
        ("auditor", False),
        ("other_town_director", False),
    ],
)
def test_who_refers_a_problem(actors: Actors, problem: Concern, actor: str, allowed: bool) -> None:
    if allowed:
        assert refer(actors, problem, actor=actor).status == "sent"
    else:
        with pytest.raises(PermissionDenied):
            refer(actors, problem, actor=actor)


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        ("county_admin", True),
        ("department_officer", True),  # the police handle the report
        ("other_department_officer", False),
        ("village_director", False),
        ("reporter", False),
    ],
)
def test_who_refers_a_report(actors: Actors, actor: str, allowed: bool) -> None:
    report = file_report(actors)
    if allowed:
        referral = refer(
            actors, report=report, actor=actor, to=education(actors), sections=("report",)
        )
        assert referral.report == report
    else:
        with pytest.raises(PermissionDenied):
            refer(actors, report=report, actor=actor, to=education(actors), sections=("report",))


@pytest.mark.parametrize(
    ("sections", "source", "to", "field"),
    [
        ((), "problem", "police", "sections"),
        (("report",), "problem", "police", "sections"),
        (("problem",), "report", "education", "sections"),
        (("family",), "report", "education", "sections"),  # the described child has no file
        (("child",), "problem", "civil_affairs", "department"),  # not a receiving department
        (("child",), "report", "police", "department"),  # the police refer to themselves
    ],
)
def test_it_refuses_a_bad_referral(
    actors: Actors,
    problem: Concern,
    sections: tuple[str, ...],
    source: str,
    to: str,
    field: str,
) -> None:
    department = Organisation.objects.get(department=to, division_id="620724000000")
    kwargs: dict[str, Any] = (
        {"concern": problem}
        if source == "problem"
        else {"report": file_report(actors), "actor": "department_officer"}
    )
    with pytest.raises(ValidationError) as refused:
        refer(actors, to=department, sections=sections, **kwargs)
    assert field in refused.value.message_dict


def test_it_refuses_a_second_open_referral_and_a_closed_problem(
    actors: Actors, problem: Concern
) -> None:
    first = refer(actors, problem)
    with pytest.raises(problems.Conflict):
        refer(actors, problem)
    move(actors, first, "decline", reason="不属于本部门职责")
    assert refer(actors, problem).status == "sent"  # declined: it may be sent again
    problem.refresh_from_db()
    problems.problem_update(
        actor=actors.county_admin,
        concern=problem,
        version=problem.version,
        status="resolved",
        text="已解决",
    )
    problem.refresh_from_db()
    with pytest.raises(problems.Conflict):
        refer(actors, problem, to=education(actors))


# --- the access matrix -------------------------------------------------------------------------

# actor → what it sees of an open referral: None (404), "exists", "record", "shared"
OPEN_MATRIX: dict[str, str | None] = {
    "department_officer": "shared",  # the receiving department (police)
    "other_department_officer": None,
    "county_admin": "shared",
    "auditor": "shared",
    "village_director": "exists",
    "town_supervisor": "exists",
    "other_village_director": None,
    "other_town_director": None,
    "reporter": None,
    "system_admin": None,
    "other_county_admin": None,
}
# After done (or declined): the receiving department sees nothing.
CLOSED_MATRIX = {**OPEN_MATRIX, "department_officer": None}


def _seen(actors: Actors, referral: Referral, actor: str) -> tuple[str | None, str | None]:
    """What the page and the API show ``actor``: None (404) or the view's level, checked
    against the content shown."""
    user = getattr(actors, actor)
    page = web_client(user).get(reverse("reports:referral_detail", args=[referral.public_id]))
    api = api_client(user).get(reverse("api:referral_detail", args=[referral.public_id]))
    assert page.status_code in (200, 404)
    assert api.status_code in (200, 404)
    html = page.content.decode()
    found_page = None
    if page.status_code == 200:
        if DESCRIPTION in html:
            found_page = "shared"
        elif REASON in html:
            found_page = "record"
        else:
            found_page = "exists"
    found_api = None
    if api.status_code == 200:
        body = api.json()
        found_api = body["view"]
        assert ("shared" in body) is (found_api == "shared")
        assert ("reason" in body) is (found_api in ("shared", "record"))
    return found_page, found_api


@pytest.mark.parametrize("actor", list(OPEN_MATRIX))
def test_the_matrix_while_the_referral_is_open(
    actors: Actors, problem: Concern, actor: str
) -> None:
    referral = refer(actors, problem)
    expected = OPEN_MATRIX[actor]
    assert _seen(actors, referral, actor) == (expected, expected)
    move(actors, referral, "accept")
    assert _seen(actors, referral, actor) == (expected, expected)


@pytest.mark.parametrize("actor", list(CLOSED_MATRIX))
@pytest.mark.parametrize("ending", ["complete", "decline"])
def test_the_matrix_once_the_referral_is_closed(
    actors: Actors, problem: Concern, actor: str, ending: str
) -> None:
    referral = refer(actors, problem)
    if ending == "complete":
        move(actors, referral, "accept")
        move(actors, referral, "complete", outcome=OUTCOME)
    else:
        move(actors, referral, "decline", reason="不属于本部门职责")
    expected = CLOSED_MATRIX[actor]
    assert _seen(actors, referral, actor) == (expected, expected)


def test_the_sender_sees_the_referral_not_the_sections(actors: Actors, problem: Concern) -> None:
    referral = refer(actors, problem, actor="town_supervisor")
    assert _seen(actors, referral, "town_supervisor") == ("record", "record")


def test_the_receiver_sees_only_the_shared_sections(actors: Actors, problem: Concern) -> None:
    household = problem.child.household
    household.caregiver_name = "钱奶奶"
    household.save(update_fields=["caregiver_name"])
    referral = refer(actors, problem, sections=("child",))
    officer = actors.department_officer
    body = api_client(officer).get(reverse("api:referral_detail", args=[referral.public_id])).json()
    assert set(body["shared"]) == {"child"}
    assert body["shared"]["child"]["name"] == problem.child.name
    html = (
        web_client(officer)
        .get(reverse("reports:referral_detail", args=[referral.public_id]))
        .content.decode()
    )
    assert problem.child.name in html
    assert DESCRIPTION not in html  # the problem was not shared
    assert "钱奶奶" not in html  # nor the family
    # The county sees every section the referral names, and no more.
    county = api_client(actors.county_admin)
    shared = county.get(reverse("api:referral_detail", args=[referral.public_id])).json()["shared"]
    assert set(shared) == {"child"}
    # Sharing the family shows it.
    both = refer(actors, problem, to=education(actors), sections=("child", "family"))
    family = (
        api_client(actors.other_department_officer)
        .get(reverse("api:referral_detail", args=[both.public_id]))
        .json()["shared"]["family"]
    )
    assert family["caregiver_name"] == "钱奶奶"
    assert [p["role"] for p in family["parents"]]
    # Never the child's file itself.
    assert (
        web_client(officer)
        .get(reverse("registry:child_detail", args=[problem.child.public_id]))
        .status_code
        == 404
    )


def test_a_referred_report_of_sexual_abuse_shows_names_to_its_receivers_only(
    actors: Actors,
) -> None:
    report = file_report(actors, harms=("sexual_abuse",))
    referral = refer(actors, report=report, to=education(actors), sections=("child", "report"))
    url = reverse("api:referral_detail", args=[referral.public_id])
    receiver = api_client(actors.other_department_officer).get(url).json()["shared"]
    assert receiver["child"]["name"] == CHILD_NAME
    assert receiver["report"]["facts"] == FACTS
    county = api_client(actors.county_admin).get(url).json()["shared"]
    assert county["child"]["name"] == "***"
    assert county["report"]["facts"] == FACTS


def test_the_lists_and_the_home_panel_follow_the_matrix(actors: Actors, problem: Concern) -> None:
    referral = refer(actors, problem)
    Referral.objects.filter(pk=referral.pk).update(
        acceptance_due_at=timezone.now() - timedelta(hours=1)
    )
    url = reverse("reports:referral_detail", args=[referral.public_id])
    officer = web_client(actors.department_officer)
    home = officer.get(reverse("home")).content.decode()
    panel = home[home.index('id="panel-referrals_incoming"') :]
    panel = panel[: panel.index("</article>")]
    assert url in panel
    assert "field-error" in panel  # not accepted in time
    assert url in officer.get(reverse("reports:referral_list")).content.decode()
    assert (
        url
        not in web_client(actors.other_department_officer)
        .get(reverse("reports:referral_list"))
        .content.decode()
    )
    move(actors, referral, "decline", reason="不属于本部门职责")
    assert (
        url not in officer.get(reverse("reports:referral_list"), {"show": "all"}).content.decode()
    )
    assert url not in officer.get(reverse("home")).content.decode()


def test_every_read_is_audited_without_the_texts(actors: Actors, problem: Concern) -> None:
    referral = refer(actors, problem)
    for actor in ("department_officer", "village_director"):
        web_client(getattr(actors, actor)).get(
            reverse("reports:referral_detail", args=[referral.public_id])
        )
    views = AuditEvent.objects.filter(action="referral.view", object_code=str(referral.public_id))
    assert {(e.actor_username, e.detail["view"]) for e in views} == {
        ("department_officer", "shared"),
        ("village_director", "exists"),
    }
    assert all(REASON not in str(e.detail) and DESCRIPTION not in str(e.detail) for e in views)
    web_client(actors.other_department_officer).get(
        reverse("reports:referral_detail", args=[referral.public_id])
    )
    assert AuditEvent.objects.filter(
        action="referral.view", result="denied", actor=actors.other_department_officer
    ).exists()


# --- pages and API: sending and moving ------------------------------------------------------------


def test_the_page_refers_a_problem_and_the_department_accepts_it(
    actors: Actors, problem: Concern
) -> None:
    county = web_client(actors.county_admin)
    form_url = reverse("reports:referral_create") + f"?problem={problem.public_id}"
    page = county.get(form_url).content.decode()
    assert 'value="problem"' in page
    assert 'value="report"' not in page  # only a report's referral shares a report
    sent = county.post(
        reverse("reports:referral_create"),
        {
            "problem": str(problem.public_id),
            "department": police(actors).pk,
            "reason": REASON,
            "sections": ["child", "problem"],
        },
    )
    referral = Referral.objects.get(concern=problem)
    assert sent["Location"] == reverse("reports:referral_detail", args=[referral.public_id])
    officer = web_client(actors.department_officer)
    step = reverse("reports:referral_transition", args=[referral.public_id])
    assert officer.post(step, {"transition": "accept"}).status_code == 302
    referral.refresh_from_db()
    assert referral.status == "accepted"
    done = officer.post(step, {"transition": "complete", "outcome": OUTCOME})
    assert done["Location"] == reverse("reports:referral_list")
    assert Referral.objects.get(pk=referral.pk).status == "done"
    assert (
        officer.get(reverse("reports:referral_detail", args=[referral.public_id])).status_code
        == 404
    )
    problem_page = county.get(reverse("reports:problem_detail", args=[problem.public_id]))
    assert OUTCOME in problem_page.content.decode()  # on the problem's timeline


def test_the_api_refers_a_report_and_moves_the_referral(actors: Actors) -> None:
    report = file_report(actors)
    police_api = api_client(actors.department_officer)
    created = police_api.post(
        reverse("api:referral_create"),
        {
            "report": report.receipt_no,
            "department": str(education(actors).public_id),
            "reason": REASON,
            "sections": ["child", "report"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["view"], body["transitions"]) == ("sent", "record", [])
    assert body["source"] == {"type": "report", "id": str(report.public_id)}
    again = police_api.post(
        reverse("api:referral_create"),
        {
            "report": str(report.public_id),
            "department": str(education(actors).public_id),
            "reason": REASON,
            "sections": ["child"],
        },
        format="json",
    )
    assert again.status_code == 409
    url = reverse("api:referral_transitions", args=[body["id"]])
    education_api = api_client(actors.other_department_officer)
    early = education_api.post(url, {"transition": "complete", "outcome": "x"}, format="json")
    assert early.status_code == 409
    assert education_api.post(url, {"transition": "decline"}, format="json").status_code == 400
    accepted = education_api.post(url, {"transition": "accept"}, format="json")
    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")
    assert accepted.json()["shared"]["report"]["facts"] == FACTS
    done = education_api.post(url, {"transition": "complete", "outcome": OUTCOME}, format="json")
    assert done.status_code == 200
    assert "shared" not in done.json()
    assert education_api.get(reverse("api:referral_detail", args=[body["id"]])).status_code == 404
    county = api_client(actors.county_admin)
    assert county.post(url, {"transition": "accept"}, format="json").status_code == 403


def test_the_referral_list_takes_the_same_queries_for_more_referrals(
    actors: Actors, child: Child
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    web = web_client(actors.county_admin)
    url = reverse("reports:referral_list")
    refer(actors, raise_problem(actors, child))
    web.get(url)
    with CaptureQueriesContext(connection) as few:
        assert web.get(url).status_code == 200
    for category in ("health", "schooling", "legal"):
        refer(actors, raise_problem(actors, child, category=category))
    with CaptureQueriesContext(connection) as many:
        html = web.get(url).content.decode()
    assert html.count('<li class="report-row') == 4
    assert len(many) == len(few)


def test_the_report_page_lists_its_referrals_and_offers_to_refer(actors: Actors) -> None:
    report = file_report(actors)
    url = reverse("reports:report_detail", args=[report.public_id])
    refer_link = f"{reverse('reports:referral_create')}?report={report.public_id}"
    page = web_client(actors.county_admin).get(url).content.decode()
    assert refer_link in page
    referral = refer(actors, report=report, to=education(actors), sections=("report",))
    page = web_client(actors.county_admin).get(url).content.decode()
    assert reverse("reports:referral_detail", args=[referral.public_id]) in page
    # The auditor reads the report and its referrals but refers nothing.
    audited = web_client(actors.auditor).get(url).content.decode()
    assert reverse("reports:referral_detail", args=[referral.public_id]) in audited
    assert refer_link not in audited
