"""The menu on a phone (360×640): one "菜单" button that opens the whole list, even without
JavaScript; on a wide screen the whole list with no button. And the Chinese error pages at the
phone's width. Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tongxin.e2e import DemoServer, assert_fits, demo_server, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-menu")) as s:
        yield s


def _signed_in(browser: Any, server: DemoServer, username: str, **context: Any) -> Any:
    options = {"viewport": {"width": 360, "height": 640}, "locale": "zh-CN", **context}
    page = browser.new_context(**options).new_page()
    page.goto(server.url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_the_county_officers_menu_is_one_button_on_a_phone(
    browser: Any, server: DemoServer, javascript: bool
) -> None:
    page = _signed_in(browser, server, "demo_county", java_script_enabled=javascript)
    menu = page.locator("header .site-menu")
    button = menu.locator("summary")
    links = menu.locator(".nav-links")
    assert button.inner_text().strip() == "菜单"
    assert button.is_visible()
    assert not links.is_visible()
    # The header leaves the first screen to the work: under a sixth of 640 px.
    header = page.locator("header.site-header").bounding_box()
    assert header is not None
    assert header["height"] < 640 / 6, header
    assert_fits(page)
    screenshot(page, f"menu-closed-360-{'js' if javascript else 'nojs'}", full_page=False)

    button.click()
    assert links.is_visible()
    assert links.locator("a", has_text="履职统计").is_visible()
    assert links.locator("button", has_text="退出").is_visible()
    assert_fits(page)
    screenshot(page, f"menu-open-360-{'js' if javascript else 'nojs'}", full_page=False)
    links.locator("a", has_text="履职统计").click()
    page.wait_for_load_state()
    assert page.url.endswith("/visits/compliance/")
    # The chart is SVG drawn on the server (decision 013): there with or without JavaScript.
    chart = page.locator("#compliance-chart svg.bar-chart-svg")
    assert chart.is_visible()
    assert chart.locator("g.bar-row").count() >= 1
    assert_fits(page)
    chart.scroll_into_view_if_needed()
    screenshot(page, f"compliance-chart-360-{'js' if javascript else 'nojs'}", full_page=False)
    page.context.close()


def test_the_menu_is_laid_out_in_full_on_a_wide_screen(browser: Any, server: DemoServer) -> None:
    page = _signed_in(browser, server, "demo_county", viewport={"width": 1280, "height": 800})
    menu = page.locator("header .site-menu")
    assert not menu.locator("summary").is_visible()
    assert menu.locator(".nav-links a", has_text="履职统计").is_visible()
    header = page.locator("header.site-header").bounding_box()
    assert header is not None
    assert header["height"] < 200, header
    screenshot(page, "menu-wide-1280", full_page=False)
    page.context.close()


def test_a_wrong_link_shows_the_chinese_404_with_the_menu(browser: Any, server: DemoServer) -> None:
    page = _signed_in(browser, server, "demo_village")
    response = page.goto(server.url + "/children/no-such-child/")
    assert response is not None
    assert response.status == 404
    assert page.locator("main h1").inner_text().strip() == "页面不存在"
    assert page.locator("header .site-menu summary").is_visible()
    assert_fits(page)
    screenshot(page, "error-404-360")
    page.context.close()


def test_the_audit_log_reads_in_chinese_at_360px(browser: Any, server: DemoServer) -> None:
    page = _signed_in(browser, server, "demo_county")
    page.goto(server.url + "/audit/")
    first = page.locator("#results tbody tr").first
    assert first.locator("td[data-label=操作]").inner_text().strip() == "登录系统"  # just now
    assert "auth.login" not in page.locator("#results").inner_text()
    assert_fits(page)
    screenshot(page, "audit-log-360")
    page.context.close()
