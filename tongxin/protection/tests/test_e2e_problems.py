"""A problem found (发现的问题) in a real browser at a phone's size (360×640): the county officer
sees it overdue on the home page; the village director who owns it finds it on the child's
file and among "my problems", records what was done on its timeline, moves it to in progress,
then resolves it with the solution; it leaves the county's overdue panel. Every page fits 360
px. The problem is raised through the services (tongxin/protection/tests/e2e_support.py), ten
days ago, due a week ago. Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tongxin.e2e import DemoServer, demo_server
from tongxin.protection.tests.e2e_support import (
    PROBLEM_SOLUTION,
    PROBLEM_TEXT,
    call,
    check_page,
    height,
    on_screen,
    phone,
)

pytestmark = pytest.mark.e2e

ACTION = "已与祖母通话，约定每天下午五点前接孩子回家。"  # synthetic
SOLUTION = "祖母每天接送孩子；村委会已在水库边立警示牌并配救生圈。"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-problems")) as s:
        yield s


def test_a_director_works_an_overdue_problem_to_its_solution(
    browser: Any, server: DemoServer
) -> None:
    world = call(server, "problem_overdue")
    code, child = world["problem"], world["child_name"]

    # The county officer: the problem is on the home page's overdue panel, in red, with its
    # owner.
    county, county_failures = phone(browser, server, "demo_county")
    line = county.locator(f"#panel-problems_overdue a[href='/reports/problems/{code}/']")
    assert line.count() == 1, "the overdue problem is not on the county officer's home page"
    assert "逾期" in line.inner_text()
    assert "张秀英" in line.inner_text()  # its owner, the demo director
    assert "field-error" in (line.locator("strong").get_attribute("class") or "")
    check_page(county, "problems-county-home")
    line.click()
    county.wait_for_load_state()
    assert county.locator("#problem-overdue").is_visible()
    check_page(county, "problems-county-detail")

    # The director: the home page lists the open problem, overdue; it leads to the file.
    director, failures = phone(browser, server, "demo_village")
    open_line = director.locator("#panel-problems_open li", has_text=child)
    assert open_line.count() >= 1
    assert "逾期" in open_line.first.inner_text()
    check_page(director, "problems-director-home")
    open_line.first.locator("a").click()
    director.wait_for_load_state()
    assert PROBLEM_TEXT in director.locator("#problems").inner_text()
    director.click("#problems a[href$='/problems/']")  # all the child's problems
    director.wait_for_load_state()
    row = director.locator(f"#problems li.problem-row:has(a[href='/reports/problems/{code}/'])")
    assert row.count() == 1
    assert "is-overdue" in (row.get_attribute("class") or "")
    check_page(director, "problems-child-list")

    # "My problems": the problems the director owns, the overdue first.
    director.goto(server.url + "/reports/problems/")
    mine = director.locator(f"li.problem-row:has(a[href='/reports/problems/{code}/'])")
    assert mine.count() == 1
    assert mine.locator(".badge.overdue").is_visible()
    assert "is-overdue" in (mine.get_attribute("class") or "")
    check_page(director, "problems-mine")
    mine.locator("a").click()
    director.wait_for_load_state()
    assert director.url.endswith(f"/reports/problems/{code}/")
    assert director.locator("#problem-status").inner_text().strip() == "待处理"
    assert PROBLEM_SOLUTION in director.locator("dl.facts").inner_text()
    # Buttons big enough for a thumb.
    assert height(director, "#add-action button[type=submit]") >= 44
    assert height(director, "#change-status button[type=submit]") >= 44
    assert height(director, "#change-status select[name=status]") >= 40
    check_page(director, "problems-detail")

    # What was done, on the timeline.
    director.fill("#add-action textarea[name=text]", ACTION)
    director.click("#add-action button[type=submit]")
    director.wait_for_load_state()
    assert director.locator(".flash").count() >= 1
    assert ACTION in director.locator("#timeline").inner_text()
    check_page(director, "problems-after-action")

    # A label points at its own form's field.
    director.click("#change-status label:has(textarea)")
    assert director.evaluate("document.activeElement.closest('form').parentElement.id") == (
        "change-status"
    )

    # In progress, then resolved: closing needs the solution (refused without one).
    director.select_option("#change-status select[name=status]", "in_progress")
    director.click("#change-status button[type=submit]")
    director.wait_for_load_state()
    assert director.locator("#problem-status").inner_text().strip() == "处理中"
    assert on_screen(director, "#problem-status")
    assert director.locator("#problem-overdue").is_visible()  # still open, still late
    director.select_option("#change-status select[name=status]", "resolved")
    director.click("#change-status button[type=submit]")
    director.wait_for_load_state()
    refusal = director.locator("#change-status .field-error")
    assert "请填写解决办法" in refusal.inner_text(), refusal.all_inner_texts()
    assert on_screen(director, "#change-status .field-error")  # the phone lands on it
    check_page(director, "problems-resolve-refused")
    director.select_option("#change-status select[name=status]", "resolved")
    director.fill("#change-status textarea[name=text]", SOLUTION)
    director.click("#change-status button[type=submit]")
    director.wait_for_load_state()
    assert director.locator("#problem-status").inner_text().strip() == "已解决"
    assert on_screen(director, ".flash")  # saved: the page opens at its top
    assert director.locator("#problem-overdue").count() == 0
    assert SOLUTION in director.locator("dl.facts").inner_text()
    assert director.locator("#change-status option[value=open]").count() == 1  # may reopen
    check_page(director, "problems-resolved")

    # In the database: the action, both moves with their text, the solution kept, the
    # problem closed; every look at it audited.
    state = call(server, "problem_state", problem=code)
    assert state["status"] == "resolved"
    assert state["outcome"] == SOLUTION
    assert state["closed_on"] is not None
    assert not state["overdue"]
    assert [(a["kind"], a["actor"], a["from"], a["to"]) for a in state["timeline"]] == [
        ("action", "demo_village", "", ""),
        ("status", "demo_village", "open", "in_progress"),
        ("status", "demo_village", "in_progress", "resolved"),
    ]
    assert state["timeline"][0]["text"] == ACTION
    assert state["timeline"][2]["text"] == SOLUTION
    viewers = {v["actor"] for v in state["views"]}
    assert viewers == {"demo_county", "demo_village"}

    # The county officer's overdue panel no longer holds it.
    county.goto(server.url + "/")
    assert (
        county.locator(f"#panel-problems_overdue a[href='/reports/problems/{code}/']").count() == 0
    )
    check_page(county, "problems-county-home-after")
    assert not county_failures, county_failures
    assert not failures, failures
    county.context.close()
    director.context.close()
