"""ID numbers on a phone (360×640), in a real browser (issue 12): a number typed into the list's
search box never reaches the address bar (htmx and the redirect carry a token); the full-number
export is a form that asks a reason and the password again, says a wrong one on its field, and
then downloads the list with full numbers. Screenshots go to test-artifacts/."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tongxin.e2e import DemoServer, assert_fits, demo_server, screenshot
from tongxin.lib import idcard
from tongxin.privacy_guard import full_id_numbers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-id-privacy")) as s:
        yield s


def _sign_in(browser: Any, server: DemoServer, username: str) -> Any:
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.goto(server.url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_a_number_typed_into_the_search_stays_out_of_the_address(
    browser: Any, server: DemoServer
) -> None:
    page = _sign_in(browser, server, "demo_county")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    addresses: list[str] = []
    page.on("request", lambda r: addresses.append(r.url))
    page.goto(server.url + "/children/")
    number = idcard.generate(
        random.Random(12), region="620724", birth_date=date(2015, 4, 4), gender="male"
    )
    page.fill("input[name=q]", number)
    with page.expect_response(lambda r: "/children/?" in r.url and "idq=" in r.url):
        page.press("input[name=q]", "Enter")
    page.wait_for_function("location.search.includes('idq=')")
    assert number not in page.url
    assert page.locator("#results").inner_text().count(idcard.mask(number)) == 1
    page.reload()  # the address htmx pushed works as a whole page too
    assert idcard.mask(number) in page.locator("#results").inner_text()
    for address in addresses:
        assert number not in address, address
    assert not errors, errors
    page.context.close()


def test_the_full_number_export_asks_a_reason_and_the_password(
    browser: Any, server: DemoServer, tmp_path: Path
) -> None:
    page = _sign_in(browser, server, "demo_village")
    page.goto(server.url + "/children/")
    page.click("text=导出完整身份证号码（记入审计）")
    page.wait_for_load_state()
    assert "/children/export-full/" in page.url
    assert_fits(page)
    screenshot(page, "export-full-ids-form-360")

    page.locator("input[name=reason]").first.check()
    page.fill("input[name=secret]", "not-the-password")
    page.click("form.full-id-export button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("label:has(input[name=secret]) .field-error").count() == 1
    assert_fits(page)
    screenshot(page, "export-full-ids-wrong-password-360")

    page.locator("input[name=reason]").first.check()
    page.fill("input[name=secret]", server.passwords["demo_village"])
    with page.expect_download() as download:
        page.click("form.full-id-export button[type=submit]")
    saved = tmp_path / "children.xlsx"
    download.value.save_as(saved)
    sheet = load_workbook(saved, read_only=True).active
    assert sheet is not None
    cells = [str(v) for row in sheet.iter_rows(min_row=2, values_only=True) for v in row if v]
    assert full_id_numbers("\n".join(cells))
    page.context.close()
