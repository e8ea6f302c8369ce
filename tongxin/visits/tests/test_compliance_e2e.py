"""The compliance page on a 360×640 phone, in headless Chromium, on the demo: an auditor opens
it from the navigation, the chart is drawn (SVG from the server, decision 013; no script error
under the CSP), the period picker works without JavaScript, and the rows drill down county →
town → village. Nothing may scroll sideways. Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tongxin.e2e import (
    ARTIFACTS,
    DemoServer,
    assert_fits,
    click_menu,
    demo_server,
    screenshot,
)

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 360, 640


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-compliance")) as s:
        yield s


def _shot(page: Any, name: str) -> None:
    screenshot(page, f"compliance-{name}-360")
    page.screenshot(path=str(ARTIFACTS / f"compliance-{name}-360-top.png"))


def _chart_drawn(page: Any) -> None:
    """A bar chart with a row per division one level down (the table's rows), or one for a
    village, that fits the phone's width."""
    chart = page.locator("#compliance-chart svg.bar-chart-svg")
    assert chart.is_visible()
    divisions = page.locator("#compliance-by-division th[scope=row]").count()
    assert chart.locator("g.bar-row").count() == max(divisions, 1)
    box = chart.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= WIDTH


def test_an_auditor_reads_compliance_and_drills_down(browser: Any, server: DemoServer) -> None:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    # Script errors (a CSP refusal included); a missing resource shows in ``missing`` (the
    # browser's own favicon request, which the app does not serve, is not one).
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    missing: list[str] = []
    page.on(
        "response",
        lambda r: missing.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.goto(server.url + "/")
    page.fill("input[name=username]", "demo_auditor")
    page.fill("input[name=password]", server.passwords["demo_auditor"])
    page.click("button[type=submit]")
    page.wait_for_load_state()

    click_menu(page, "nav a[href='/visits/compliance/']")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("履职统计")
    _chart_drawn(page)
    assert_fits(page)
    _shot(page, "county")
    page.locator("#compliance-chart").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "compliance-county-360-chart.png"))

    # The period picker is a plain form: a year.
    year = page.locator("select[name=period] optgroup").first.get_attribute("label")
    page.select_option("select[name=period]", year)
    page.click(".compliance-filters button[type=submit]")
    page.wait_for_load_state()
    assert f"period={year}" in page.url
    _chart_drawn(page)

    # County → town → village, by the rows' links.
    page.locator(".compliance-table th[scope=row] a").first.click()
    page.wait_for_load_state()
    assert "division=" in page.url
    _chart_drawn(page)
    assert_fits(page)
    _shot(page, "town")
    page.locator(".compliance-table th[scope=row] a").first.click()
    page.wait_for_load_state()
    _chart_drawn(page)
    assert_fits(page)
    _shot(page, "village")

    assert not missing, missing
    assert not errors, errors
    context.close()
