"""Problems found (问题和解决方案): the status workflow (every move allowed and refused), owners
(a person or a department), the timeline, stale edits, the child's risk on closing and
reopening, overdue problems on the home panels, the pages and the API (If-Match/ETag)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tongxin.accounts.models import Organisation
from tongxin.audit.models import AuditEvent
from tongxin.core.versions import StaleEdit
from tongxin.notices.models import Notification
from tongxin.protection import problems, rules
from tongxin.protection.models import ActionKind, Concern, ConcernAction
from tongxin.protection.tests.conftest import file_report
from tongxin.registry.models import Child
from tongxin.testing import Actors, api_client, web_client
from tongxin.visits.models import ChildRisk

DESCRIPTION = "屋后水塘没有护栏，孩子常去玩水。"  # synthetic
SOLUTION = "村委会已加装护栏并设警示牌。"  # synthetic


def police(actors: Actors) -> Organisation:
    organisation = actors.department_officer.organisation
    assert organisation is not None
    return organisation


def raise_problem(actors: Actors, child: Child, **fields: Any) -> Concern:
    given: dict[str, Any] = {"category": "safety", "description": DESCRIPTION, **fields}
    return problems.problem_raise(actor=actors.village_director, child=child, fields=given)


def _update(
    actors: Actors, concern: Concern, actor: str = "village_director", **kw: Any
) -> Concern:
    concern.refresh_from_db()
    return problems.problem_update(
        actor=getattr(actors, actor), concern=concern, version=concern.version, **kw
    )


# --- the workflow, as a table ------------------------------------------------------------------

S = rules.ProblemStatus
ALLOWED = {
    (S.OPEN, S.IN_PROGRESS),
    (S.OPEN, S.RESOLVED),
    (S.OPEN, S.NOT_RESOLVABLE),
    (S.IN_PROGRESS, S.RESOLVED),
    (S.IN_PROGRESS, S.NOT_RESOLVABLE),
    (S.RESOLVED, S.OPEN),
    (S.NOT_RESOLVABLE, S.OPEN),
}
PAIRS = [(a, b) for a in S for b in S if a != b]


@pytest.mark.parametrize(("before", "after"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_the_rules_allow_exactly_the_moves_of_the_workflow(
    before: rules.ProblemStatus, after: rules.ProblemStatus
) -> None:
    assert rules.problem_move_allowed(before, after) is ((before, after) in ALLOWED)


def test_closing_and_reopening_need_a_text_starting_does_not() -> None:
    assert not rules.problem_move_needs_text(S.OPEN, S.IN_PROGRESS)
    assert rules.problem_move_needs_text(S.IN_PROGRESS, S.RESOLVED)
    assert rules.problem_move_needs_text(S.OPEN, S.NOT_RESOLVABLE)
    assert rules.problem_move_needs_text(S.RESOLVED, S.OPEN)


def test_a_problem_is_overdue_the_day_after_its_due_date_while_open() -> None:
    due = date(2024, 6, 30)
    assert not rules.problem_overdue(S.OPEN, due, due)
    assert rules.problem_overdue(S.IN_PROGRESS, due, due + timedelta(days=1))
    assert not rules.problem_overdue(S.RESOLVED, due, due + timedelta(days=1))
    assert not rules.problem_overdue(S.OPEN, None, due)


@pytest.mark.parametrize(("before", "after"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_the_service_follows_the_table(
    actors: Actors, child: Child, before: rules.ProblemStatus, after: rules.ProblemStatus
) -> None:
    concern = raise_problem(actors, child)
    Concern.objects.filter(pk=concern.pk).update(status=before)
    concern.refresh_from_db()
    if (before, after) in ALLOWED:
        moved = _update(actors, concern, status=after, text="原因或解决办法")
        assert moved.status == after
        assert moved.version == concern.version + 1
    else:
        with pytest.raises(problems.Conflict):
            _update(actors, concern, status=after, text="原因或解决办法")
        concern.refresh_from_db()
        assert concern.status == before


# --- raising, owners, the timeline ---------------------------------------------------------------


def test_it_records_a_problem_owned_by_a_department_and_tells_its_officers(
    actors: Actors, child: Child
) -> None:
    due = timezone.localdate() + timedelta(days=10)
    concern = raise_problem(actors, child, owner_department=police(actors), due_on=due)
    assert (concern.owner_department, concern.due_on, concern.status) == (
        police(actors),
        due,
        "open",
    )
    note = Notification.objects.get(recipient=actors.department_officer, kind="problem_assigned")
    assert note.url == reverse("reports:problem_detail", args=[concern.public_id])
    assert DESCRIPTION not in note.title + note.body
    assert not Notification.objects.filter(recipient=actors.other_department_officer).exists()
    raised = AuditEvent.objects.get(action="concern.raise", object_code=str(concern.public_id))
    assert DESCRIPTION not in str(raised.detail)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"owner": "village_director", "owner_department": True}, "owner"),
        ({"owner": "other_village_director"}, "owner"),  # does not keep this file
        ({"owner": "department_officer"}, "owner"),  # a person who keeps no file
        ({"owner_department": "other_county"}, "owner_department"),
        ({"due_on": "yesterday"}, "due_on"),
        ({"description": "  "}, "description"),
        ({"category": "weather"}, "category"),
    ],
)
def test_it_refuses_a_bad_problem(
    actors: Actors, child: Child, fields: dict[str, Any], field: str
) -> None:
    given: dict[str, Any] = dict(fields)
    if isinstance(given.get("owner"), str):
        given["owner"] = getattr(actors, given["owner"])
    if given.get("owner_department") is True:
        given["owner_department"] = police(actors)
    elif given.get("owner_department") == "other_county":
        given["owner_department"] = Organisation.objects.get(name="甘州区民政局")
    if given.get("due_on") == "yesterday":
        given["due_on"] = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        raise_problem(actors, child, **given)
    assert field in refused.value.message_dict


def test_roles_that_do_not_keep_the_file_may_not_raise_one(actors: Actors, child: Child) -> None:
    for actor in ("auditor", "department_officer", "other_village_director"):
        with pytest.raises(PermissionDenied):
            problems.problem_raise(
                actor=getattr(actors, actor),
                child=child,
                fields={"category": "safety", "description": DESCRIPTION},
            )


def test_the_timeline_keeps_who_did_what_and_when(actors: Actors, child: Child) -> None:
    concern = raise_problem(actors, child)
    problems.problem_action_add(actor=actors.village_director, concern=concern, text="已家访")
    _update(actors, concern, status="in_progress")
    _update(actors, concern, changes={"owner": actors.town_supervisor}, actor="county_admin")
    _update(actors, concern, status="resolved", text=SOLUTION, actor="town_supervisor")
    concern.refresh_from_db()
    assert (concern.status, concern.outcome) == ("resolved", SOLUTION)
    assert concern.closed_on == timezone.localdate()
    timeline = list(ConcernAction.objects.filter(concern=concern))
    assert [(a.kind, a.actor.username) for a in timeline] == [
        (ActionKind.ACTION, "village_director"),
        (ActionKind.STATUS, "village_director"),
        (ActionKind.ASSIGN, "county_admin"),
        (ActionKind.STATUS, "town_supervisor"),
    ]
    assert (timeline[1].from_status, timeline[1].to_status) == ("open", "in_progress")
    assert timeline[2].owner == actors.town_supervisor
    assert timeline[3].text == SOLUTION
    assert Notification.objects.filter(recipient=actors.town_supervisor, kind="problem_assigned")


def test_closing_needs_the_solution_and_reopening_the_reason(actors: Actors, child: Child) -> None:
    concern = raise_problem(actors, child)
    with pytest.raises(ValidationError) as refused:
        _update(actors, concern, status="not_resolvable")
    assert "text" in refused.value.message_dict
    _update(actors, concern, status="resolved", text=SOLUTION)
    with pytest.raises(ValidationError):
        _update(actors, concern, status="open")
    reopened = _update(actors, concern, status="open", text="护栏又被破坏")
    assert (reopened.status, reopened.closed_on) == ("open", None)


def test_a_stale_version_is_refused_with_what_changed(actors: Actors, child: Child) -> None:
    concern = raise_problem(actors, child)
    seen = concern.version
    problems.problem_update(
        actor=actors.county_admin, concern=concern, version=seen, changes={"severity": "high"}
    )
    with pytest.raises(StaleEdit) as stale:
        problems.problem_update(
            actor=actors.village_director, concern=concern, version=seen, status="in_progress"
        )
    assert stale.value.current_version == seen + 1
    assert [c.field for c in stale.value.changes] == ["severity"]
    concern.refresh_from_db()
    assert concern.status == "open"


def test_the_owner_department_acts_but_does_not_reassign(actors: Actors, child: Child) -> None:
    concern = raise_problem(actors, child, owner_department=police(actors))
    officer = actors.department_officer
    problems.problem_action_add(actor=officer, concern=concern, text="民警已约谈监护人")
    moved = _update(actors, concern, actor="department_officer", status="in_progress")
    assert moved.status == "in_progress"
    with pytest.raises(PermissionDenied):
        _update(actors, concern, actor="department_officer", changes={"due_on": None})
    with pytest.raises(PermissionDenied):
        problems.problem_action_add(
            actor=actors.other_department_officer, concern=concern, text="x"
        )


def test_a_problem_a_report_holds_open_is_not_closed_by_hand(actors: Actors, child: Child) -> None:
    report = file_report(actors, actor="county_admin", child=child)
    concern = Concern.objects.get(report=report)
    with pytest.raises(problems.Conflict):
        _update(actors, concern, actor="county_admin", status="resolved", text=SOLUTION)


def test_closing_and_reopening_a_high_problem_refreshes_the_risk(
    actors: Actors, child: Child
) -> None:
    concern = raise_problem(actors, child, severity="high")
    assert ChildRisk.objects.get(pk=child.pk).level == "high"
    _update(actors, concern, status="resolved", text=SOLUTION)
    assert ChildRisk.objects.get(pk=child.pk).level == "low"
    _update(actors, concern, status="open", text="又发生了")
    assert ChildRisk.objects.get(pk=child.pk).level == "high"
    _update(actors, concern, changes={"severity": "low"})
    assert ChildRisk.objects.get(pk=child.pk).level == "low"


# --- overdue on the home panels -----------------------------------------------------------------


def _overdue(concern: Concern) -> None:
    Concern.objects.filter(pk=concern.pk).update(due_on=timezone.localdate() - timedelta(days=2))


def _panel_html(user: Any, key: str) -> str:
    html = web_client(user).get(reverse("home")).content.decode()
    start = html.index(f'id="panel-{key}"')
    return html[start : html.index("</article>", start)]


def test_an_overdue_problem_is_on_its_owners_and_the_supervisors_home(
    actors: Actors, child: Child
) -> None:
    late = raise_problem(actors, child, owner_department=police(actors))
    _overdue(late)
    on_time = raise_problem(
        actors,
        child,
        category="health",
        owner_department=police(actors),
        due_on=timezone.localdate() + timedelta(days=5),
    )
    mine = _panel_html(actors.department_officer, "problems_mine")
    assert reverse("reports:problem_detail", args=[late.public_id]) in mine
    assert reverse("reports:problem_detail", args=[on_time.public_id]) in mine
    assert mine.count("field-error") == 1  # the late one, marked
    supervisor = _panel_html(actors.town_supervisor, "problems_overdue")
    assert reverse("reports:problem_detail", args=[late.public_id]) in supervisor
    assert reverse("reports:problem_detail", args=[on_time.public_id]) not in supervisor
    assert "高台县公安局" in supervisor  # with its owner
    director = _panel_html(actors.village_director, "problems_open")
    assert director.count("逾期") == 1
    # Another town's supervisor and another department see none of it.
    assert "钱小军" not in _panel_html(actors.other_department_officer, "problems_mine")


# --- pages ---------------------------------------------------------------------------------------


def test_the_childs_problems_page_lists_them_and_records_one(actors: Actors, child: Child) -> None:
    closed = raise_problem(actors, child, category="health")
    _update(actors, closed, status="resolved", text=SOLUTION)
    open_ = raise_problem(actors, child)
    web = web_client(actors.village_director)
    url = reverse("reports:child_problems", args=[child.public_id])
    html = web.get(url).content.decode()
    assert html.index(str(open_.public_id)) < html.index(str(closed.public_id))  # open first
    response = web.post(
        url,
        {"category": "schooling", "severity": "medium", "description": "连续一周未到校"},
    )
    assert response.status_code == 302
    created = Concern.objects.get(description="连续一周未到校")
    assert response["Location"] == reverse("reports:problem_detail", args=[created.public_id])
    bad = web.post(url, {"category": "schooling", "severity": "medium", "description": ""})
    assert bad.status_code == 400
    assert AuditEvent.objects.filter(
        actor=actors.village_director, action="concern.list", object_code=str(child.public_id)
    ).exists()


def test_the_childs_problems_page_takes_the_same_queries_for_more_problems(
    actors: Actors, child: Child
) -> None:
    web = web_client(actors.county_admin)
    url = reverse("reports:child_problems", args=[child.public_id])
    raise_problem(actors, child, owner=actors.village_director)
    web.get(url)
    with CaptureQueriesContext(connection) as few:
        web.get(url)
    for _ in range(5):
        raise_problem(actors, child, owner_department=police(actors))
    with CaptureQueriesContext(connection) as many:
        web.get(url)
    assert len(many) == len(few)


def test_the_detail_page_shows_the_timeline_and_refuses_a_stale_form(
    actors: Actors, child: Child
) -> None:
    concern = raise_problem(actors, child)
    web = web_client(actors.village_director)
    detail = reverse("reports:problem_detail", args=[concern.public_id])
    status_url = reverse("reports:problem_status", args=[concern.public_id])
    seen = concern.version
    assert web.post(status_url, {"version": seen, "status": "in_progress"}).status_code == 302
    response = web.post(
        status_url, {"version": seen, "status": "resolved", "text": SOLUTION}, follow=True
    )
    concern.refresh_from_db()
    assert concern.status == "in_progress"
    assert "nothing was saved" in response.content.decode() or "未保存" in (
        response.content.decode()
    )
    web.post(
        reverse("reports:problem_action", args=[concern.public_id]), {"text": "联系了学校老师"}
    )
    html = web.get(detail).content.decode()
    assert 'id="timeline"' in html
    assert "联系了学校老师" in html
    assert AuditEvent.objects.filter(action="concern.view", object_code=str(concern.public_id))


def test_my_problems_lists_the_departments_problems_only(actors: Actors, child: Child) -> None:
    ours = raise_problem(actors, child, owner_department=police(actors))
    theirs = raise_problem(actors, child, category="health", owner=actors.village_director)
    html = (
        web_client(actors.department_officer).get(reverse("reports:problem_mine")).content.decode()
    )
    assert str(ours.public_id) in html
    assert str(theirs.public_id) not in html
    # The owning department sees the problem, not the child's file.
    officer = web_client(actors.department_officer)
    assert officer.get(reverse("registry:child_detail", args=[child.public_id])).status_code == 404
    page = officer.get(reverse("reports:problem_detail", args=[ours.public_id]))
    assert page.status_code == 200
    assert 'id="reassign"' not in page.content.decode()


# --- the API -------------------------------------------------------------------------------------


def test_the_api_lists_and_records_a_childs_problems(actors: Actors, child: Child) -> None:
    client = api_client(actors.town_supervisor)
    url = reverse("api:child_problems", args=[child.public_id])
    created = client.post(
        url,
        {
            "category": "psychological",
            "severity": "high",
            "description": "情绪低落",
            "owner_department": str(police(actors).public_id),
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert created["ETag"] == '"1"'
    assert body["owner_department"]["name"] == "高台县公安局"
    assert body["timeline"] == []
    listed = client.get(url).json()
    assert [p["id"] for p in listed["results"]] == [body["id"]]
    assert api_client(actors.other_village_director).get(url).status_code == 404


def test_the_api_patch_needs_the_current_version(actors: Actors, child: Child) -> None:
    concern = raise_problem(actors, child)
    client = api_client(actors.village_director)
    url = reverse("api:problem_detail", args=[concern.public_id])
    got = client.get(url)
    assert got["ETag"] == '"1"'
    missing = client.patch(url, {"status": "in_progress"}, format="json")
    assert missing.status_code == 428
    moved = client.patch(url, {"status": "in_progress"}, format="json", HTTP_IF_MATCH='"1"')
    assert moved.status_code == 200, moved.content
    assert moved["ETag"] == '"2"'
    assert [a["kind"] for a in moved.json()["timeline"]] == ["status"]
    stale = client.patch(url, {"severity": "high"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert [c["field"] for c in stale.json()["changes"]] == ["status"]
    illegal = client.patch(url, {"status": "open"}, format="json", HTTP_IF_MATCH='"2"')
    assert illegal.status_code == 409
    closed = client.patch(
        url, {"status": "resolved", "text": SOLUTION}, format="json", HTTP_IF_MATCH='"2"'
    )
    assert (closed.status_code, closed.json()["outcome"]) == (200, SOLUTION)


def test_the_api_refuses_the_owner_a_change_of_owner(actors: Actors, child: Child) -> None:
    concern = raise_problem(actors, child, owner_department=police(actors))
    client = api_client(actors.department_officer)
    url = reverse("api:problem_detail", args=[concern.public_id])
    assert client.get(url).status_code == 200
    refused = client.patch(url, {"owner_department": None}, format="json", HTTP_IF_MATCH='"1"')
    assert refused.status_code == 403
    assert api_client(actors.other_department_officer).get(url).status_code == 404
    assert api_client(actors.auditor).patch(url, {}, format="json").status_code == 403


def test_my_problems_takes_the_same_queries_for_more_problems(actors: Actors, child: Child) -> None:
    web = web_client(actors.department_officer)
    url = reverse("reports:problem_mine")
    raise_problem(actors, child, owner_department=police(actors))
    web.get(url)
    with CaptureQueriesContext(connection) as few:
        web.get(url)
    for _ in range(4):
        raise_problem(actors, child, owner_department=police(actors))
    with CaptureQueriesContext(connection) as many:
        html = web.get(url).content.decode()
    assert html.count('<li class="problem-row') == 5
    assert len(many) == len(few)
