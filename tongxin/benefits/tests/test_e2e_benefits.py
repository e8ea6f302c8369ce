"""Benefits in a real browser at a phone's size (360×640): the county officer reads the
example standards and adds a version (a bad amount refused on its field first), opens a child
from the list of enrolments, sees the file's benefits, and enrols the child (a missing rate
refused on its field first). Every page fits 360 px. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tongxin.benefits.demo import EXAMPLE_NOTE
from tongxin.e2e import DemoServer, demo_server
from tongxin.protection.tests.e2e_support import check_page, phone

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-benefits")) as s:
        yield s


def _submit(page: Any) -> None:
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_load_state()


def test_a_county_officer_keeps_standards_and_enrols_a_child(
    browser: Any, server: DemoServer
) -> None:
    page, failures = phone(browser, server, "demo_county")

    page.goto(server.url + "/benefits/standards/")
    assert EXAMPLE_NOTE in page.locator("#standards").inner_text()
    check_page(page, "benefit-standards")
    page.select_option("select[name=programme]", "tekun")
    page.fill("input[name=monthly_amount]", "20001")
    page.fill("input[name=effective_from]", "2026-01-01")
    # The browser would stop the amount over its maximum: let the server say it.
    page.evaluate("document.querySelector('main form[method=post]').noValidate = true")
    _submit(page)
    refusal = page.locator("label:has(input[name=monthly_amount]) .field-error")
    assert "20000" in refusal.inner_text()
    check_page(page, "benefit-standards-refused")
    page.fill("input[name=monthly_amount]", "980")
    _submit(page)
    assert "980" in page.locator("#standards").inner_text()

    page.goto(server.url + "/benefits/enrolments/")
    check_page(page, "benefit-enrolments")
    page.locator("#enrolments td a").first.click()
    page.wait_for_load_state()
    section = page.locator("#benefits")
    assert section.locator("tbody tr").count() >= 1
    check_page(page, "benefit-file-section", fits_only=True)

    section.locator("a[href$='/enrolments/new']").click()
    page.wait_for_load_state()
    check_page(page, "benefit-enrol-form")
    page.select_option("select[name=programme]", "temporary_assistance")
    page.select_option("select[name=rate]", "scattered")
    page.fill("input[name=monthly_amount]", "300")
    page.fill("input[name=start_month]", "2026-03")
    _submit(page)
    assert page.locator("label:has(select[name=rate]) .field-error").count() == 1
    check_page(page, "benefit-enrol-form-refused")
    page.select_option("select[name=rate]", "")
    _submit(page)
    assert "#benefits" in page.url or "/children/" in page.url
    assert "临时救助" in page.locator("#benefits").inner_text()
    assert failures == []
