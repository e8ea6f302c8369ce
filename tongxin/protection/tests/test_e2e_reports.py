"""A mandatory report in a real browser at a phone's size (360×640): the school's reporter files
an urgent report on one screen, the police officer sees it flagged on the home page and
accepts it, the county officer sees it in the statistics, the reporter sees "accepted".
Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tongxin.e2e import DemoServer, assert_fits, click_menu, demo_server, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-reports")) as s:
        yield s


def _signed_in(browser: Any, server: DemoServer, username: str) -> Any:
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    page = context.new_page()
    page.goto(server.url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_a_reporter_files_an_urgent_report_the_police_accept_it(
    browser: Any, server: DemoServer
) -> None:
    school = _signed_in(browser, server, "demo_school")
    started = time.monotonic()
    click_menu(school, "nav >> text=填报强制报告")
    school.wait_for_selector("input[name=urgency]")
    assert_fits(school)
    screenshot(school, "report-form-360")
    # Four answers, all on the first screen but the phone (the account may have none).
    school.check("input[name=urgency][value=imminent]")
    school.check("input[name=harms][value=physical_abuse]")
    school.fill("input[name=child_name]", "李小梅")
    school.fill("textarea[name=facts]", "孩子脸上有新伤，说昨晚被打。")
    school.fill("input[name=reporter_phone]", "13900000009")
    school.click("form.report-form button[type=submit]")
    school.wait_for_load_state()
    filed_in = time.monotonic() - started
    receipt = school.locator("main h1").inner_text().strip()
    assert receipt.startswith("GT-")
    assert receipt in school.locator(".flash").inner_text()
    assert "status-received" in (school.locator("#report-status").get_attribute("class") or "")
    assert_fits(school)
    screenshot(school, "report-receipt-360")
    assert filed_in < 120, f"filing took {filed_in:.1f} s"

    police = _signed_in(browser, server, "demo_police")
    flag = police.locator("#panel-urgent_reports a", has_text=receipt)
    assert flag.count() == 1, "the urgent report is not flagged on the police's home page"
    assert_fits(police)
    flag.click()
    police.wait_for_load_state()
    assert "孩子脸上有新伤" in police.locator("#narrative").inner_text()
    police.click("form.step-accept button")
    police.wait_for_load_state()
    assert "status-accepted" in (police.locator("#report-status").get_attribute("class") or "")
    police.goto(server.url + "/")
    assert police.locator("#panel-urgent_reports a", has_text=receipt).count() == 0

    # The county officer sees it in this year's statistics: one report of physical abuse,
    # from a school, accepted within the limit.
    county = _signed_in(browser, server, "demo_county")
    click_menu(county, "nav >> text=强制报告统计")
    county.wait_for_load_state()
    assert county.locator("#stats-total").inner_text().strip() == "1"
    assert county.locator("#harm-physical_abuse td").inner_text().strip() == "1"
    assert county.locator("#institution-school td").inner_text().strip() == "1"
    assert county.locator("#outcome-accepted td").inner_text().strip() == "1"
    assert county.locator("#stats-acceptance .figure").inner_text().strip() == "100.0%"
    # Reports by month, SVG drawn on the server: this month's bar, the only one.
    months = county.locator("#stats-month-chart rect.bar")
    assert months.count() == 1
    assert (months.locator("title").text_content() or "").endswith(" 1")
    assert_fits(county)
    screenshot(county, "report-stats-360")

    school.goto(server.url + "/")
    school.locator("#panel-my_reports a", has_text=receipt).click()
    school.wait_for_load_state()
    assert school.locator("#report-status").inner_text().strip() == "已受理"
    assert school.locator("#narrative").count() == 0  # the reporter never sees the record
    screenshot(school, "report-accepted-360")
