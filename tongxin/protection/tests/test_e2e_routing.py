"""Routing and the working-day calendar in a real browser at a phone's size (360×640): the
school files an urgent report of another suspected crime; the police see it on their home page
at once, open it and read whom it went to (the police and civil affairs, at the same minute);
the county officer reads the routing table and enters a holiday of 2027 on the calendar page.
Every page fits 360 px. Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tongxin.e2e import DemoServer, demo_server
from tongxin.protection.tests.e2e_support import check_page, phone

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-routing")) as s:
        yield s


def test_a_crime_report_reaches_the_police_at_once_and_the_settings_fit_a_phone(
    browser: Any, server: DemoServer
) -> None:
    school, school_failures = phone(browser, server, "demo_school")
    school.goto(server.url + "/reports/new/")
    school.check("input[name=urgency][value=urgent]")
    school.check("input[name=harms][value=other_crime]")
    school.fill("input[name=child_name]", "李小梅")
    school.fill("textarea[name=facts]", "有陌生成年人多次在校门口向孩子索要钱物。")
    school.fill("input[name=reporter_phone]", "13900000009")
    school.click("form.report-form button[type=submit]")
    school.wait_for_load_state()
    receipt = school.locator("main h1").inner_text().strip()
    assert receipt.startswith("GT-")
    sent = school.locator("#sent-to").inner_text()
    assert "高台县公安局" in sent
    assert "高台县民政局" in sent
    check_page(school, "routing-school-receipt-360")

    police, police_failures = phone(browser, server, "demo_police")
    flag = police.locator("#panel-urgent_reports a", has_text=receipt)
    assert flag.count() == 1, "the police do not see the report on their home page"
    flag.click()
    police.wait_for_load_state()
    assert "索要钱物" in police.locator("#narrative").inner_text()
    lines = police.locator("#sent-to li")
    assert lines.count() == 2
    times = {line.split(" · ")[1] for line in lines.all_inner_texts()}
    assert len(times) == 1, f"not sent at the same moment: {times}"
    assert police.locator("form.step-accept button").count() == 1
    check_page(police, "routing-police-report-360")

    county, county_failures = phone(browser, server, "demo_county")
    county.goto(server.url + "/reports/routing/")
    assert "高台县公安局" not in county.locator("#route-other_crime").inner_text()  # keys' names
    assert "公安" in county.locator("#route-other_crime").inner_text()
    check_page(county, "routing-table-360")
    county.locator(".routing-form details summary").first.click()
    assert county.locator("input[name=route_physical_abuse][value=police]").is_checked()
    check_page(county, "routing-table-open-360")

    county.goto(server.url + "/settings/workdays/?year=2027")
    county.fill("#add-day input[name=day]", "2027-01-01")
    county.check("#add-day input[name=kind][value=day_off]")
    county.fill("#add-day input[name=name]", "元旦")
    county.click("#add-day button[type=submit]")
    county.wait_for_load_state()
    assert "元旦" in county.locator("#day-2027-01-01").inner_text()
    check_page(county, "workdays-2027-360")
    assert school_failures == police_failures == county_failures == []
