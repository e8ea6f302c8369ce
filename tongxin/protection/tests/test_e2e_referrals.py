"""A referral (转介) in a real browser at a phone's size (360×640): the county officer refers a
child's problem to the education department, sharing the child's basic information and the
problem but not the family; the department's officer sees those two sections only, accepts,
records the outcome; once it is done the officer no longer sees the referral nor its sections
("only for as long as the referral is open"). The county officer reads the outcome. Every page
fits 360 px. The problem and the officer's account are made through the services
(tongxin/protection/tests/e2e_support.py). Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tongxin.e2e import DemoServer, demo_server
from tongxin.protection.tests.e2e_support import (
    EDUCATION_OFFICER,
    EDUCATION_PASSWORD,
    REFERRED_SOLUTION,
    REFERRED_TEXT,
    call,
    check_page,
    height,
    phone,
)

pytestmark = pytest.mark.e2e

REASON = "孩子连续两周未到校，请教育局协调学校落实劝返复学。"  # synthetic
OUTCOME = "班主任已两次家访，孩子已于本周一返校上课，学校安排每日点名。"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-referrals")) as s:
        yield s


def test_a_department_sees_the_shared_sections_only_while_the_referral_is_open(
    browser: Any, server: DemoServer
) -> None:
    world = call(server, "referral_world")
    code, child = world["problem"], world["child_name"]

    # The county officer finds the child's file, opens the problem, refers it.
    county, county_failures = phone(browser, server, "demo_county")
    county.goto(server.url + "/children/")
    county.fill("input[name=q]", child)
    county.press("input[name=q]", "Enter")
    county.wait_for_load_state()
    county.click(f".child-list td.name a >> text={child}")
    county.wait_for_load_state()
    county.click(f"#problems a[href='/reports/problems/{code}/']")
    county.wait_for_load_state()
    check_page(county, "referrals-problem")
    county.click("#referrals a[href*='/referrals/new/']")
    county.wait_for_load_state()
    assert county.locator("h1").inner_text().strip() == "转介至部门"
    # The child's basic information is preselected; nothing else is shared unless chosen.
    assert county.is_checked("input[name=sections][value=child]")
    assert not county.is_checked("input[name=sections][value=family]")
    assert not county.is_checked("input[name=sections][value=problem]")
    assert county.locator("input[name=sections][value=report]").count() == 0
    assert height(county, "fieldset.choices label:has(input[value=problem])") >= 40
    check_page(county, "referrals-form")
    county.select_option("select[name=department]", label=world["department"])
    county.fill("textarea[name=reason]", REASON)
    county.click("fieldset.choices label:has(input[value=problem])")
    assert county.is_checked("input[name=sections][value=problem]")
    check_page(county, "referrals-form-filled")
    county.click("form.referral-form button[type=submit]")
    county.wait_for_load_state()
    assert "/reports/referrals/" in county.url
    referral_url = county.url
    assert county.locator("#referral-status").inner_text().strip() == "已发送，待接收"
    assert county.locator(".flash").count() >= 1
    check_page(county, "referrals-sent")

    state = call(server, "referral_state", problem=code)
    [referral] = state["referrals"]
    assert referral["status"] == "sent"
    assert referral["department"] == world["department"]
    assert referral["sections"] == ["child", "problem"]
    assert referral["reason"] == REASON
    assert referral["sent_by"] == "demo_county"
    assert referral_url.endswith(f"/reports/referrals/{referral['code']}/")

    # The education officer: the referral waits on the home page.
    officer, failures = phone(browser, server, EDUCATION_OFFICER, EDUCATION_PASSWORD)
    waiting = officer.locator(
        f"#panel-referrals_incoming a[href='/reports/referrals/{referral['code']}/']"
    )
    assert waiting.count() == 1, "the referral does not wait on the department's home page"
    check_page(officer, "referrals-officer-home")
    waiting.click()
    officer.wait_for_load_state()
    shared = officer.locator("#shared")
    assert officer.locator("#shared-child").is_visible()
    assert officer.locator("#shared-problem").is_visible()
    assert officer.locator("#shared-family").count() == 0
    assert child in officer.locator("#shared-child").inner_text()
    assert REFERRED_TEXT in officer.locator("#shared-problem").inner_text()
    assert REFERRED_SOLUTION in officer.locator("#shared-problem").inner_text()
    page_text = officer.locator("main").inner_text()
    for unshared in (world["caregiver_name"], world["address"]):
        if unshared:
            assert unshared not in page_text, "an unshared section reached the department"
    # Nothing leads to the child's file or the problem's own page.
    assert officer.locator("main a[href^='/children/']").count() == 0
    assert officer.locator(f"main a[href='/reports/problems/{code}/']").count() == 0
    assert shared.is_visible()
    assert height(officer, "form.step-accept button") >= 44
    check_page(officer, "referrals-received")

    officer.click("form.step-accept button")
    officer.wait_for_load_state()
    assert officer.locator("#referral-status").inner_text().strip() == "已接收"
    assert officer.locator("#shared-problem").is_visible()  # still open: still shared
    # The outcome is needed to complete it: the phone says so at the field ...
    outcome = officer.locator("form.step-complete textarea[name=outcome]")
    officer.click("form.step-complete button")
    assert outcome.evaluate("e => e.validity.valueMissing")
    assert officer.locator(".flash-error").count() == 0  # not sent
    # ... and the server refuses it too, with a clear message (a browser that does not check).
    officer.locator("form.step-complete").evaluate("f => { f.noValidate = true; }")
    officer.click("form.step-complete button")
    officer.wait_for_load_state()
    assert "请填写办理结果" in officer.locator(".flash-error").inner_text()
    assert officer.locator("#referral-status").inner_text().strip() == "已接收"
    check_page(officer, "referrals-accepted")
    officer.fill("form.step-complete textarea[name=outcome]", OUTCOME)
    officer.click("form.step-complete button")
    officer.wait_for_load_state()
    # Done: back on the list, which no longer holds it.
    assert officer.url.split("?")[0].endswith("/reports/referrals/")
    assert officer.locator(".flash").count() >= 1
    assert officer.locator(f"a[href='/reports/referrals/{referral['code']}/']").count() == 0
    check_page(officer, "referrals-list-after")
    officer.goto(server.url + "/reports/referrals/?show=all")
    assert officer.locator(f"a[href='/reports/referrals/{referral['code']}/']").count() == 0
    officer.goto(server.url + "/")
    assert officer.locator(f"#panel-referrals_incoming a[href*='{referral['code']}']").count() == 0
    # The referral's page itself: gone for the department, as for one never sent.
    gone = officer.goto(referral_url)
    assert gone is not None
    assert gone.status == 404
    assert REFERRED_TEXT not in officer.content()
    assert child not in officer.content()
    failures.remove(f"404 {referral_url}")

    state = call(server, "referral_state", problem=code)
    [referral] = state["referrals"]
    assert referral["status"] == "done"
    assert referral["outcome"] == OUTCOME
    assert referral["decided_by"] == EDUCATION_OFFICER
    assert referral["done_by"] == EDUCATION_OFFICER
    # Every look was audited: the officer's with the sections shown, and the refusal after.
    looks = [v for v in referral["views"] if v["actor"] == EDUCATION_OFFICER]
    assert [v["result"] for v in looks] == ["ok", "ok", "ok", "denied"]
    assert {tuple(v["detail"]["sections"]) for v in looks[:3]} == {("child", "problem")}
    # The problem's timeline follows the referral.
    assert [(a["kind"], a["to"]) for a in state["timeline"]] == [
        ("referral", "sent"),
        ("referral", "accepted"),
        ("referral", "done"),
    ]

    # The county officer reads the outcome.
    county.goto(referral_url)
    assert county.locator("#referral-status").inner_text().strip() == "已办结"
    assert OUTCOME in county.locator("#referral-outcome").inner_text()
    check_page(county, "referrals-done")
    assert not county_failures, county_failures
    assert not failures, failures
    county.context.close()
    officer.context.close()
