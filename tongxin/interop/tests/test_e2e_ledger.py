"""The ledger import in a real browser at a phone's width (360×640): download the template,
upload a ledger, read the preview, apply, see the result. Screenshots go to test-artifacts/."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tongxin.e2e import ARTIFACTS, DemoServer, assert_fits, demo_server, screenshot
from tongxin.interop.tests.conftest import build_ledger
from tongxin.lib import idcard

pytestmark = pytest.mark.e2e

HEADERS = [
    "序号",
    "姓名",
    "性别",
    "出生日期",
    "公民身份证号码",
    "现居住地",
    "父亲当前务工地点",
    "母亲当前务工地点",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-ledger")) as s:
        yield s


def test_it_imports_a_ledger_on_a_phone(browser: Any, server: DemoServer, tmp_path: Path) -> None:
    rng = random.Random(2024)  # synthetic people
    rows = [
        [
            i,
            name,
            "男" if i % 2 else "女",
            f"2013年{i}月{i + 3}日",
            idcard.generate(
                rng,
                region="620724",
                birth_date=date(2013, i, i + 3),
                gender="male" if i % 2 else "female",
            ),
            home,
            "浙江省宁波市",
            "新疆乌鲁木齐",
        ]
        for i, (name, home) in enumerate(
            [("韩小雨", "城关镇东关村"), ("韩小雪", "城关东关"), ("吕小山", "宣化镇幸福村")],
            start=1,
        )
    ]
    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(build_ledger(HEADERS, rows))

    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    page = context.new_page()
    page.goto(server.url + "/")
    page.fill("input[name=username]", "demo_county")
    page.fill("input[name=password]", server.passwords["demo_county"])
    page.click("button[type=submit]")
    page.wait_for_load_state()

    page.goto(server.url + "/ledger/")
    assert_fits(page)
    with page.expect_download() as download:
        page.click("a[href$='template.xlsx']")
    assert download.value.suggested_filename.endswith(".xlsx")

    page.set_input_files("input[type=file]", str(ledger))
    page.click("form[enctype] button[type=submit]")
    _wait_done(page)
    assert "/ledger/" in page.url
    assert_fits(page)
    screenshot(page, "ledger-preview-error-360")
    assert "宣化镇幸福村" in page.locator("table").inner_text()  # the unmatched village, quoted
    assert page.locator("form[action$='/apply/']").count() == 0  # an error blocks the import

    # Without the bad row, the ledger imports.
    ledger.write_bytes(build_ledger(HEADERS, rows[:2]))
    page.goto(server.url + "/ledger/")
    page.set_input_files("input[type=file]", str(ledger))
    page.click("form[enctype] button[type=submit]")
    _wait_done(page)
    screenshot(page, "ledger-preview-360")
    page.click("form[action$='/apply/'] button[type=submit]")
    _wait_done(page)
    assert page.locator("form[action$='/apply/']").count() == 0
    assert_fits(page)
    screenshot(page, "ledger-result-360")
    context.close()


def _wait_done(page: Any) -> None:
    """Wait for the background worker to check or import the ledger: the page polls, then
    reloads itself when the work is done."""
    page.wait_for_load_state()
    page.wait_for_selector("#progress", state="detached", timeout=60_000)
    page.wait_for_load_state()


def _sign_in(browser: Any, server: DemoServer) -> Any:
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    page = context.new_page()
    page.goto(server.url + "/")
    page.fill("input[name=username]", "demo_county")
    page.fill("input[name=password]", server.passwords["demo_county"])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _upload(page: Any, server: DemoServer, path: Path) -> None:
    page.goto(server.url + "/ledger/")
    page.set_input_files("input[type=file]", str(path))
    page.click("form[enctype] button[type=submit]")
    _wait_done(page)


def test_a_ledger_with_errors_says_so_and_shows_every_error_on_a_phone(
    browser: Any, server: DemoServer, tmp_path: Path
) -> None:
    rng = random.Random(2025)  # synthetic people
    rows = []
    for i, name in enumerate(["韩小雨", "韩小雪", "吕小山", "吕小河", "周小林", "周小森"], start=1):
        birth = date(2014, i, 10 + i)
        number = idcard.generate(rng, region="620724", birth_date=birth, gender="male")
        # Only the first row is right: the others name a village the county does not have.
        home = "城关镇东关村" if i == 1 else f"幸福{i}村"
        rows.append([i, name, "男", birth.isoformat(), number, home, "浙江省宁波市", ""])
    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(build_ledger(HEADERS, rows))
    page = _sign_in(browser, server)

    _upload(page, server, ledger)

    assert "/ledger/" in page.url
    status = page.locator("#status")
    assert "6 行中有 5 行有错误" in status.inner_text()
    assert "不能导入任何一行" in status.inner_text()
    assert "可以导入" not in page.locator("main").inner_text()
    assert page.locator("form[action$='/apply/']").count() == 0
    assert_fits(page)
    errors = page.locator("td.details p.form-error")
    assert errors.count() == 5
    for i in range(5):
        error = errors.nth(i)
        error.scroll_into_view_if_needed()
        box = error.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 360, box
        assert "幸福" in error.inner_text()
    screenshot(page, "ledger-errors-360")
    page.context.close()


def test_a_hostile_workbook_is_refused_and_the_server_goes_on(
    browser: Any, server: DemoServer, tmp_path: Path
) -> None:
    from tongxin.interop.tests.conftest import rezip, sheet_xml

    rng = random.Random(7)
    number = idcard.generate(rng, region="620724", birth_date=date(2014, 1, 2), gender="female")
    data = build_ledger(
        HEADERS, [[1, "韩小雨", "女", "2014-01-02", number, "城关镇东关村", "", ""]]
    )
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    hostile = tmp_path / "台账.xlsx"
    hostile.write_bytes(
        rezip(data, sheet_xml(data).replace(b"</sheetData>", far + b"</sheetData>"))
    )
    page = _sign_in(browser, server)

    _upload(page, server, hostile)

    assert "XFD1048576" in page.locator("form[enctype]").inner_text()
    assert_fits(page)
    screenshot(page, "ledger-hostile-360")
    # The server is still there: the next page opens.
    response = page.goto(server.url + "/ledger/")
    assert response is not None
    assert response.status == 200
    page.context.close()
