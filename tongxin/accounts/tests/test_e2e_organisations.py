"""The organisation pages in a real browser at a phone's width (360×640): from the user list to
the organisations, a school registered with its type, a missing type explained, the edit page.
Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tongxin.e2e import DemoServer, assert_fits, demo_server, screenshot

pytestmark = pytest.mark.e2e

TOWN = "620724100000"  # 城关镇


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-var")) as s:
        yield s


def test_a_county_registers_a_school_on_a_phone(browser: Any, server: DemoServer) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    page = context.new_page()
    page.goto(server.url + "/")
    page.fill("input[name=username]", "demo_county")
    page.fill("input[name=password]", server.passwords["demo_county"])
    page.click("button[type=submit]")
    page.wait_for_load_state()

    page.goto(server.url + "/accounts/users/")
    page.click("main a[href='/accounts/organisations/']")
    page.wait_for_url("**/accounts/organisations/")
    assert page.locator("main table tbody tr").count() >= 3
    assert "城关镇中心小学" in page.locator("main table").inner_text()
    assert_fits(page)
    screenshot(page, "organisation-list-360")

    page.select_option("select[name=kind]", "institution")
    page.click("main form.filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("main table tbody tr").count() == 3  # the demo's three institutions
    assert_fits(page)

    page.click("main a[href='/accounts/organisations/new/']")
    page.wait_for_url("**/accounts/organisations/new/")
    page.fill("input[name=name]", "城关镇第二小学")
    page.select_option("select[name=kind]", "institution")
    page.select_option("select[name=division]", TOWN)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    # No type chosen: said next to the field.
    assert page.locator("#id_institution_type ~ .field-error, .field-error").count() >= 1
    assert_fits(page)
    screenshot(page, "organisation-form-error-360")

    page.select_option("select[name=institution_type]", "school")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("main h1").inner_text() == "城关镇第二小学"
    assert page.locator("select[name=institution_type]").input_value() == "school"
    assert_fits(page)
    screenshot(page, "organisation-edit-360")
    context.close()
