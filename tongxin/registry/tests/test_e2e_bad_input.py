"""Bad input on a phone (360×640), in a real browser (issue 10): a list address edited by hand
says what is wrong on the filter form; a registration with a birth date in the future, or one
the ID number contradicts, is refused naming the dates, and the 18 characters typed stay in
their field. Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tongxin.e2e import DemoServer, assert_fits, demo_server, screenshot
from tongxin.lib import idcard

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-var")) as s:
        yield s


def _sign_in(browser: Any, server: DemoServer, username: str) -> Any:
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    page = context.new_page()
    page.goto(server.url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_a_hand_edited_list_address_says_what_is_wrong(browser: Any, server: DemoServer) -> None:
    page = _sign_in(browser, server, "demo_county")
    response = page.goto(server.url + "/children/?age_from=%C2%B2&status=AAA")
    assert response is not None
    assert response.status == 400
    alert = page.locator("form.child-filters [role=alert]").inner_text()
    assert "年龄下限" in alert
    assert "档案状态" in alert
    assert page.locator("table.child-list tbody tr").count() >= 1  # the list, without them
    assert_fits(page)
    screenshot(page, "child-list-bad-filter-360", full_page=False)  # the first screen
    page.context.close()


def test_a_registration_keeps_the_id_number_after_a_refusal(
    browser: Any, server: DemoServer
) -> None:
    page = _sign_in(browser, server, "demo_village")
    page.goto(server.url + "/children/new/")
    number = idcard.generate(
        random.Random(2024), region="620724", birth_date=date(2011, 3, 2), gender="female"
    )
    page.select_option("select[name=village]", index=1)
    page.fill("input[name=address]", "三组")
    page.fill("input[name=name]", "阿依古丽·买买提")
    page.select_option("select[name=gender]", "female")
    page.fill("input[name=birth_date]", "2014-05-01")
    page.fill("input[name=id_number]", number)
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_load_state()
    errors = page.locator(".field-error").all_inner_texts()
    assert any("2011年3月2日" in e and "2014年5月1日" in e for e in errors), errors
    # The number and the name stay as typed: nothing to retype on a phone.
    assert page.input_value("input[name=id_number]") == number
    assert page.input_value("input[name=name]") == "阿依古丽·买买提"
    assert number not in page.url
    assert_fits(page)
    screenshot(page, "child-create-id-mismatch-360")

    # A birth date in the future: refused, named.
    page.fill("input[name=birth_date]", "2099-01-01")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_load_state()
    errors = page.locator(".field-error").all_inner_texts()
    assert any("2099年1月1日" in e for e in errors), errors
    assert page.input_value("input[name=id_number]") == number
    assert_fits(page)

    # Corrected, it is saved.
    page.fill("input[name=birth_date]", "2011-03-02")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("main h1").inner_text().startswith("阿依古丽·买买提")
    page.context.close()
