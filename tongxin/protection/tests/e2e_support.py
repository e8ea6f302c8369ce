"""Support of the protection e2e tests (problems, referrals, interventions at 360×640).

The browser side: a signed-in phone (``phone``) that notes script errors and failed pages, and
``check_page``: nothing scrolls sideways, no id twice on the page (a label would point at
another form's field), every control at least 24 px tall (WCAG 2.5.8), and a screenshot.

The database side: the demo server runs in its own process on its own database (tongxin/e2e.py),
so a test does not reach it through the ORM: ``call(server, "problem_overdue")`` runs the
function of that name in a ``manage.py shell`` with the server's environment and returns what it
returns (as JSON): the data a test starts from, written through the services, and the outcomes
read back. Every person is synthetic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from tongxin.accounts.models import Organisation, User
from tongxin.accounts.roles import Role
from tongxin.accounts.services import user_create
from tongxin.audit.models import AuditEvent
from tongxin.e2e import BASE_DIR, DemoServer, assert_fits, screenshot
from tongxin.protection import problems
from tongxin.protection.models import (
    Concern,
    ConcernAction,
    Intervention,
    InterventionAssessment,
    InterventionDocument,
    Referral,
)
from tongxin.registry.models import Child, ChildStatus

ENV_KEY = "TONGXIN_E2E_CALL"
# The education department's officer the referral test signs in as (a demo account: no
# second factor on a demo installation).
EDUCATION_OFFICER = "demo_education"
EDUCATION_PASSWORD = "Jiaoyu-E2e-2024!"  # synthetic, for a throw-away test database

WIDTH, HEIGHT = 360, 640
MIN_TARGET = 24  # px: WCAG 2.5.8, target size (minimum)

# The ids used more than once on the page.
DUPLICATE_IDS = """Object.entries(Array.from(document.querySelectorAll('[id]')).reduce(
    (n, e) => (n[e.id] = (n[e.id] || 0) + 1, n), {})).filter(([, c]) => c > 1).map(([k]) => k)"""
# The controls of the page's content shorter than ``min`` px: [tag, text, height].
SMALL_TARGETS = """min => Array.from(document.querySelectorAll(
    'main button, main select, main textarea, main summary, main a[role=button], main a.row-link,'
    + ' main p.back a, main input:not([type=hidden]):not([type=checkbox]):not([type=radio])'))
    .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < min)
    .map(e => [e.tagName, (e.innerText || e.name || '').slice(0, 30),
               Math.round(e.getBoundingClientRect().height)])"""


def phone(
    browser: Any, server: DemoServer, username: str, password: str | None = None
) -> tuple[Any, list[str]]:
    """A phone signed in as ``username``, and the list where its failures go: script errors
    (a CSP refusal included) and pages or resources that fail — not a form sent back with its
    errors (400), nor the browser's own favicon request."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN")
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda e: failures.append(str(e)))
    page.on(
        "response",
        lambda r: (
            failures.append(f"{r.status} {r.url}")
            if r.status >= 400
            and "favicon" not in r.url
            and not (r.status == 400 and r.request.method == "POST")
            else None
        ),
    )
    page.goto(server.url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or server.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("input[name=password]").count() == 0, f"{username} is not signed in"
    return page, failures


def check_page(page: Any, name: str, *, fits_only: bool = False) -> None:
    """The phone checks of the page shown, and its screenshot (test-artifacts/). ``fits_only``
    for a page of another area (the child's file, the home page): only that it fits."""
    assert_fits(page)
    if not fits_only:
        assert page.evaluate(DUPLICATE_IDS) == [], f"ids used twice on {page.url}"
        small = page.evaluate(SMALL_TARGETS, MIN_TARGET)
        assert small == [], f"targets under {MIN_TARGET} px on {page.url}: {small}"
    screenshot(page, f"{name}-360")


def height(page: Any, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["height"])


def on_screen(page: Any, selector: str) -> bool:
    """Whether the element's top is on the screen the phone shows (no scrolling needed)."""
    box = page.locator(selector).first.bounding_box()
    return box is not None and 0 <= box["y"] < HEIGHT


def call(server: DemoServer, name: str, **kwargs: Any) -> Any:
    """Run ``name`` (a function of this module) against the server's database."""
    given = json.dumps({"name": name, "kwargs": kwargs})
    done = subprocess.run(
        [
            sys.executable,
            str(BASE_DIR / "manage.py"),
            "shell",
            "--no-imports",
            "-c",
            "from tongxin.protection.tests import e2e_support; e2e_support.main()",
        ],
        env={**server.env, ENV_KEY: given},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """In the server's environment: run the function named in the environment, print JSON."""
    given = json.loads(os.environ[ENV_KEY])
    function: Callable[..., Any] = FUNCTIONS[given["name"]]
    print(json.dumps(function(**given["kwargs"]), default=str))


def _user(username: str) -> User:
    return User.objects.select_related("division", "organisation").get(username=username)


def _child_of(village: str, skip: int = 0) -> Child:
    return (
        Child.objects.filter(village_id=village, status=ChildStatus.ACTIVE)
        .select_related("household")
        .order_by("pk")[skip]
    )


# --- problems --------------------------------------------------------------------------------

PROBLEM_TEXT = "孩子放学后独自去水库边玩耍，家中无人看护。"  # synthetic
PROBLEM_SOLUTION = "联系祖母下午接孩子，村委会在水库边立警示牌。"


def problem_overdue() -> dict[str, Any]:
    """A problem of a child of the demo director's village, raised by the county officer ten
    days ago, given to the director and due three days later: a week overdue today."""
    import time_machine

    county, director = _user("demo_county"), _user("demo_village")
    assert director.division_id is not None
    child = _child_of(director.division_id)
    today = timezone.localdate()
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=True):
        concern = problems.problem_raise(
            actor=county,
            child=child,
            fields={
                "category": "safety",
                "severity": "high",
                "description": PROBLEM_TEXT,
                "solution": PROBLEM_SOLUTION,
                "owner": director,
                "owner_department": None,
                "due_on": today - timedelta(days=7),
            },
        )
    return {
        "problem": str(concern.public_id),
        "child": str(child.public_id),
        "child_name": child.name,
        "due_on": concern.due_on,
    }


def problem_state(problem: str) -> dict[str, Any]:
    concern = Concern.objects.get(public_id=problem)
    return {
        "status": concern.status,
        "outcome": concern.outcome,
        "closed_on": concern.closed_on,
        "version": concern.version,
        "overdue": concern.is_overdue(timezone.localdate()),
        "timeline": [
            {
                "kind": a.kind,
                "actor": a.actor.username,
                "text": a.text,
                "from": a.from_status,
                "to": a.to_status,
            }
            for a in ConcernAction.objects.filter(concern=concern)
            .select_related("actor")
            .order_by("at", "pk")
        ],
        "views": _audited("concern.view", problem),
    }


def _audited(action: str, code: str) -> list[dict[str, Any]]:
    """The audit entries of ``action`` on the object ``code``: who, with which detail."""
    return [
        {"actor": e.actor_username, "result": e.result, "detail": e.detail}
        for e in AuditEvent.objects.filter(action=action, object_code=code).order_by("at", "pk")
    ]


# --- referrals -------------------------------------------------------------------------------

REFERRED_TEXT = "孩子连续两周未到校，家长外出务工，祖父母无力督促上学。"  # synthetic
REFERRED_SOLUTION = "请学校与班主任家访，落实劝返复学。"


def referral_world() -> dict[str, Any]:
    """An officer of the education department (高台县教育局), and a problem of a child of the
    county's first village, raised by the county officer, not referred yet."""
    education = Organisation.objects.get(name="高台县教育局")
    county_division = _user("demo_county").division
    assert county_division is not None
    if not User.objects.filter(username=EDUCATION_OFFICER).exists():
        user_create(
            actor=None,
            username=EDUCATION_OFFICER,
            role=Role.DEPARTMENT_OFFICER,
            name="孙老师",
            division=county_division,
            organisation=education,
            password=EDUCATION_PASSWORD,
            is_demo=True,
        )
    director = _user("demo_village")
    assert director.division_id is not None
    child = _child_of(director.division_id, skip=1)
    concern = problems.problem_raise(
        actor=_user("demo_county"),
        child=child,
        fields={
            "category": "schooling",
            "severity": "medium",
            "description": REFERRED_TEXT,
            "solution": REFERRED_SOLUTION,
            "owner": None,
            "owner_department": None,
            "due_on": timezone.localdate() + timedelta(days=14),
        },
    )
    household = child.household
    return {
        "problem": str(concern.public_id),
        "child_name": child.name,
        # What the family section would show: it must not reach the department unshared.
        "caregiver_name": household.caregiver_name,
        "address": household.address,
        "department": education.name,
    }


def referral_state(problem: str) -> dict[str, Any]:
    found = list(
        Referral.objects.filter(concern__public_id=problem)
        .select_related("department", "sent_by", "decided_by", "done_by")
        .order_by("sent_at")
    )
    return {
        "referrals": [
            {
                "code": str(r.public_id),
                "department": r.department.name,
                "status": r.status,
                "sections": list(r.sections),
                "reason": r.reason,
                "outcome": r.outcome,
                "sent_by": r.sent_by.username,
                "decided_by": r.decided_by.username if r.decided_by else "",
                "done_by": r.done_by.username if r.done_by else "",
                "views": _audited("referral.view", str(r.public_id)),
            }
            for r in found
        ],
        "timeline": [
            {"kind": a.kind, "to": a.to_status, "text": a.text}
            for a in ConcernAction.objects.filter(concern__public_id=problem).order_by("at", "pk")
        ],
    }


# --- interventions ---------------------------------------------------------------------------


def intervention_world() -> dict[str, Any]:
    """A child of the county's first village with no intervention on record."""
    director = _user("demo_village")
    assert director.division_id is not None
    child = (
        Child.objects.filter(
            village_id=director.division_id, status=ChildStatus.ACTIVE, interventions__isnull=True
        )
        .order_by("pk")
        .first()
    )
    assert child is not None
    return {"child": str(child.public_id), "child_name": child.name}


def intervention_state(child: str) -> dict[str, Any]:
    found = (
        Intervention.objects.filter(child__public_id=child)
        .select_related("recorded_by", "ended_by")
        .order_by("pk")
    )
    return {
        "interventions": [
            {
                "code": str(i.public_id),
                "kind": i.kind,
                "placement": i.placement,
                "placed_with": i.placed_with,
                "decision_maker": i.decision_maker,
                "document_number": i.document_number,
                "recorded_by": i.recorded_by.username,
                "ended_on": i.ended_on,
                "end_reason": i.end_reason,
                "ended_by": i.ended_by.username if i.ended_by else "",
                "assessments": [
                    {"conclusion": a.conclusion, "assessor": a.assessor}
                    for a in InterventionAssessment.objects.filter(intervention=i)
                ],
                "documents": [
                    {
                        "kind": d.kind,
                        "size": d.size,
                        "stored": bool(d.file.name) and d.file.storage.exists(d.file.name or ""),
                    }
                    for d in InterventionDocument.objects.filter(intervention=i)
                ],
                "ends": _audited("intervention.end", str(i.public_id)),
            }
            for i in found
        ]
    }


FUNCTIONS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        problem_overdue,
        problem_state,
        referral_world,
        referral_state,
        intervention_world,
        intervention_state,
    )
}
